"""scripts/run_all.py, the runner of `make run`: Ctrl-C in a real terminal stops every process
cleanly, `make` above it exits 0, and nothing is left running."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "scripts" / "run_all.py"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX terminals and signals")

# Like the Celery worker: SIGTERM starts a warm shutdown in which the main process stops its
# own pool child; the child must not be signalled by anyone else (it would die mid-task).
WORKER = """
import os, signal, sys, time
child = os.fork()
if child == 0:
    def killed(*args):
        print("pool child got SIGTERM", flush=True)
        os._exit(1)
    signal.signal(signal.SIGTERM, killed)
    signal.signal(signal.SIGUSR1, lambda *a: os._exit(0))
    while True:
        time.sleep(1)
def warm_shutdown(signum, frame):
    print(f"worker got {signal.Signals(signum).name}", flush=True)
    time.sleep(1)  # finishing its task
    os.kill(child, signal.SIGUSR1)
    os.waitpid(child, 0)
    print("worker: warm shutdown done", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, warm_shutdown)
signal.signal(signal.SIGINT, warm_shutdown)
print("worker ready", flush=True)
while True:
    time.sleep(1)
"""

# Like runserver's auto-reloader: the main process dies at once on SIGTERM and leaves the
# process that serves behind in its group.
WEB = """
import os, sys, time
pid_file = sys.argv[1]
if os.fork() == 0:
    with open(pid_file, "w") as f:
        f.write(str(os.getpid()))
    while True:
        time.sleep(1)
print("web ready", flush=True)
while True:
    time.sleep(1)
"""

FAILS = """
import time
time.sleep(1)
print("giving up", flush=True)
raise SystemExit(3)
"""


def write_procfile(tmp_path: Path, **programs: str) -> Path:
    lines = []
    for name, source in programs.items():
        script = tmp_path / f"{name}.py"
        script.write_text(textwrap.dedent(source))
        lines.append(f"{name}: {sys.executable} {script} {tmp_path / (name + '.pid')}")
    procfile = tmp_path / "Procfile"
    procfile.write_text("# processes for the test\n" + "\n".join(lines) + "\n")
    return procfile


def run_in_terminal(
    command: list[str],
    *,
    ready: list[str],
    press_ctrl_c: bool,
    again_after: str | None = None,
    timeout: float = 30,
) -> tuple[str, int]:
    """Run ``command`` on a new pseudo-terminal; once every ``ready`` text was printed, type
    Ctrl-C if asked (the kernel then signals the terminal's foreground process group, as
    for a person at the keyboard), and again once ``again_after`` follows. Return the output
    and the exit status."""
    pid, master = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes the command
        os.execvp(command[0], command)
    output = b""
    deadline = time.monotonic() + timeout
    pressed = False
    pressed_at = 0
    status = None
    while time.monotonic() < deadline:
        readable, _, _ = select.select([master], [], [], 0.1)
        if readable:
            try:
                output += os.read(master, 65536)
            except OSError:  # the terminal closed: everything on it ended
                pass
        text = output.decode(errors="replace")
        if press_ctrl_c and not pressed and all(marker in text for marker in ready):
            os.write(master, b"\x03")
            pressed = True
            pressed_at = len(text)
        if pressed and again_after and again_after in text[pressed_at:]:
            os.write(master, b"\x03")
            again_after = None
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(raw)
            break
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail(f"still running after {timeout} s:\n{output.decode(errors='replace')}")
    os.close(master)
    return output.decode(errors="replace").replace("\r\n", "\n"), status


def ends_soon(pid: int, within: float = 5) -> bool:
    """Whether ``pid`` is gone (or a zombie waiting to be reaped) within a few seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        except OSError:  # no /proc: ask the kernel instead
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            state = "?"
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make, as `make run` does")
def test_ctrl_c_under_make_stops_every_process_cleanly_and_make_exits_0(tmp_path: Path) -> None:
    procfile = write_procfile(tmp_path, worker=WORKER, web=WEB)
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"run:\n\t@{sys.executable} {RUNNER} {procfile}\n")

    output, status = run_in_terminal(
        ["make", "-s", "-f", str(makefile), "run"],
        ready=["worker ready", "web ready"],
        press_ctrl_c=True,
    )

    assert status == 0, output
    after = output[output.index("^C") :] if "^C" in output else output
    # The worker heard one SIGTERM (never the terminal's SIGINT), and stopped its own child.
    assert "worker got SIGTERM" in after
    assert "worker got SIGINT" not in output
    assert "worker: warm shutdown done" in after
    assert "pool child got SIGTERM" not in output
    assert "stopping worker, web" in after and "stopped" in after
    assert "killing" not in output and "Error" not in output
    # What web's main process left behind was stopped too.
    assert ends_soon(int((tmp_path / "web.pid").read_text()))


SLOW = """
import signal, sys, time
def slow_shutdown(signum, frame):
    print("slow: finishing a long task", flush=True)
    time.sleep(60)
    sys.exit(0)
signal.signal(signal.SIGTERM, slow_shutdown)
print("slow ready", flush=True)
while True:
    time.sleep(1)
"""


def test_a_second_ctrl_c_kills_what_is_still_stopping_and_exits_1(tmp_path: Path) -> None:
    procfile = write_procfile(tmp_path, slow=SLOW, web=WEB)
    started = time.monotonic()

    output, status = run_in_terminal(
        [sys.executable, str(RUNNER), str(procfile)],
        ready=["slow ready", "web ready"],
        press_ctrl_c=True,
        again_after="slow: finishing a long task",
    )

    assert status == 1, output
    assert "slow.1 still running on request; killing it" in output
    assert time.monotonic() - started < 20
    assert ends_soon(int((tmp_path / "web.pid").read_text()))


def test_a_process_that_ends_on_its_own_stops_the_others_with_its_status(
    tmp_path: Path,
) -> None:
    procfile = write_procfile(tmp_path, worker=WORKER, fails=FAILS)

    output, status = run_in_terminal(
        [sys.executable, str(RUNNER), str(procfile)], ready=[], press_ctrl_c=False
    )

    assert status == 3, output
    assert "fails.1 ended (status 3); stopping the rest" in output
    assert "worker: warm shutdown done" in output
    assert "pool child got SIGTERM" not in output


def test_a_malformed_procfile_line_is_refused(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("web python manage.py runserver\n")

    output, status = run_in_terminal(
        [sys.executable, str(RUNNER), str(procfile)], ready=[], press_ctrl_c=False
    )

    assert status != 0
    assert "not a Procfile line (name: command): 'web python manage.py runserver'" in output
