"""Run the processes of a Procfile together in one terminal, and stop them cleanly on Ctrl-C.

`make run` starts the demo's fakes, web, worker and beat with this (it replaced honcho, whose
stop broke the worker: honcho sends SIGTERM to each process *group*, so the worker's pool
processes died under it and it logged errors, and it sends SIGKILL after 5 seconds, less than
the worker's warm shutdown takes). Here:

- each process runs in a session of its own, so the terminal's Ctrl-C never reaches it
  directly; the script owns the terminal's foreground instead (when it has one), so `make`
  above it is not interrupted either and exits with this script's status;
- on Ctrl-C (SIGINT), SIGTERM or SIGHUP, each process's main process gets one SIGTERM (the
  Celery worker then shuts down warmly, finishing its task), and once a main process has
  exited, whatever it left in its group (runserver's auto-reloaded child) gets SIGTERM too;
- a process still running after STOP_SECONDS, or at a second Ctrl-C, is killed, and says so;
- the exit status is 0 when everything stopped on request, 1 if something had to be killed,
  else that of the first process that ended on its own (the others are then stopped).

Usage: python scripts/run_all.py [Procfile]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO

STOP_SECONDS = 30.0
COLOURS = ("36", "33", "32", "35", "34", "31")  # cyan, yellow, green, magenta, blue, red


@dataclass
class Child:
    name: str
    command: str
    colour: str
    process: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None


def parse_procfile(text: str) -> list[tuple[str, str]]:
    """``name: command`` lines; blank lines and ``#`` comments are skipped."""
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, command = line.partition(":")
        if not separator or not name.strip() or not command.strip():
            raise ValueError(f"not a Procfile line (name: command): {line!r}")
        entries.append((name.strip(), command.strip()))
    return entries


class Printer:
    """Prefixes each line with the time and the process name, like honcho and foreman."""

    def __init__(self, out: IO[str], width: int) -> None:
        self.out = out
        self.width = width
        self.colour = out.isatty()
        self.lock = threading.Lock()

    def line(self, name: str, text: str, colour: str = "") -> None:
        prefix = f"{datetime.now():%H:%M:%S} {name:<{self.width}} |"
        if self.colour and colour:
            prefix = f"\x1b[{colour}m{prefix}\x1b[0m"
        with self.lock:
            self.out.write(f"{prefix} {text.rstrip()}\n")
            self.out.flush()


@contextmanager
def terminal_foreground() -> Iterator[None]:
    """Make this process alone the terminal's foreground group while it runs.

    Ctrl-C sends SIGINT to the foreground group: otherwise `make` (in the same group) would
    get it too and exit 130 however cleanly everything stopped. Without a terminal, or when
    started in the background, nothing changes.
    """
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield
        return
    try:
        original = os.getpgrp()
        if os.tcgetpgrp(fd) != original:
            yield  # started in the background: the terminal is not ours to take
            return
        # Taking and giving back the foreground from a group that is not (or no longer) in
        # the foreground raises SIGTTOU, which would stop this process.
        previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        try:
            os.setpgid(0, 0)
            os.tcsetpgrp(fd, os.getpgrp())
        except OSError:
            signal.signal(signal.SIGTTOU, previous)
            yield
            return
        try:
            yield
        finally:
            try:
                os.tcsetpgrp(fd, original)
                os.setpgid(0, original)
            except OSError:
                pass
            signal.signal(signal.SIGTTOU, previous)
    finally:
        os.close(fd)


class Runner:
    def __init__(self, entries: list[tuple[str, str]], printer: Printer) -> None:
        self.children = [
            Child(f"{name}.1", command, COLOURS[index % len(COLOURS)])
            for index, (name, command) in enumerate(entries)
        ]
        self.printer = printer
        self.stop_requested = threading.Event()
        self.kill_requested = threading.Event()  # a second Ctrl-C while stopping
        self.something_ended = threading.Event()

    def say(self, text: str) -> None:
        self.printer.line("system", text)

    def start(self) -> None:
        for child in self.children:
            # `exec`: the shell becomes the command, so its pid is the program's main process.
            child.process = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {child.command}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            child.reader = threading.Thread(target=self._relay, args=(child,), daemon=True)
            child.reader.start()
            self.say(f"{child.name} started (pid {child.process.pid})")

    def _relay(self, child: Child) -> None:
        assert child.process is not None and child.process.stdout is not None
        for raw in child.process.stdout:
            self.printer.line(child.name, raw.decode(errors="replace"), child.colour)
        child.process.wait()
        self.something_ended.set()

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested.is_set():
            self.kill_requested.set()
        self.stop_requested.set()
        self.something_ended.set()

    def wait(self) -> int:
        """Until a stop is requested or a process ends; then stop all. The exit status."""
        while not self.something_ended.wait(0.2):
            pass
        first_failure: int | None = None
        if not self.stop_requested.is_set():
            ended = next(c for c in self.children if c.process and c.process.poll() is not None)
            assert ended.process is not None
            code = ended.process.returncode
            # A process killed by a signal has a negative status; a shell says 128 + signal.
            first_failure = 128 - code if code < 0 else code or 1
            self.say(f"{ended.name} ended (status {ended.process.returncode}); stopping the rest")
        else:
            names = ", ".join(child.name.split(".")[0] for child in self.children)
            self.say(f"stopping {names}")
        killed = self.stop()
        if first_failure is not None:
            return first_failure
        return 1 if killed else 0

    def stop(self) -> bool:
        """Stop every process; whether any had to be killed."""
        running = [c for c in self.children if c.process and c.process.poll() is None]
        for child in running:
            _signal(child, os.kill, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        swept: set[str] = set()
        killed = False
        while time.monotonic() < deadline and not self.kill_requested.is_set():
            for child in self.children:
                assert child.process is not None
                if child.process.poll() is not None and child.name not in swept:
                    # The main process is gone; end what it left in its group.
                    _signal(child, os.killpg, signal.SIGTERM)
                    swept.add(child.name)
            if all(c.reader is None or not c.reader.is_alive() for c in self.children):
                break
            time.sleep(0.1)
        else:
            why = "on request" if self.kill_requested.is_set() else f"after {STOP_SECONDS:.0f} s"
            for child in self.children:
                if child.reader is not None and child.reader.is_alive():
                    self.say(f"{child.name} still running {why}; killing it")
                    _signal(child, os.killpg, signal.SIGKILL)
                    killed = True
        for child in self.children:
            if child.reader is not None:
                child.reader.join(timeout=5)
        self.say("stopped")
        return killed


def _signal(child: Child, send: Callable[[int, int], None], signum: int) -> None:
    assert child.process is not None
    try:
        send(child.process.pid, signum)  # the pid is also the group id (own session)
    except ProcessLookupError:
        pass


def main(argv: list[str]) -> int:
    procfile = Path(argv[1] if len(argv) > 1 else "Procfile")
    entries = parse_procfile(procfile.read_text())
    printer = Printer(sys.stdout, max(len("system"), *(len(name) + 2 for name, _ in entries)))
    runner = Runner(entries, printer)
    with terminal_foreground():
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, runner.request_stop)
        runner.start()
        return runner.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
