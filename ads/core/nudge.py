"""Best-effort nudges: ask a worker to run a delivery job now instead of at its next beat.

Side effects leave the database through outbox rows (platform pushes, alert deliveries) that
a beat job delivers whatever happens; the nudge after commit only makes that sooner. So it
must never fail or slow the request that caused it: with the broker down, publishing a task
takes seconds (the Redis client's own reconnect attempts) and then raises. A nudge is
therefore handed to one background thread per process and the caller returns at once; the
thread publishes each task name once per burst (a hundred spend requests crossing
thresholds together make one message), and after a failed publish it stops trying for
``PAUSE_AFTER_FAILURE_SECONDS``: the beat job delivers meanwhile.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import current_app

logger = logging.getLogger(__name__)

PAUSE_AFTER_FAILURE_SECONDS = 30.0

_lock = threading.Lock()
_wanted: set[str] = set()
_wake = threading.Event()
_worker: tuple[int, threading.Thread] | None = None
_paused_until = 0.0
_busy = False


def _forget_in_child() -> None:
    # A forked child (the bench's processes, a pool replacing a worker) starts with no nudge
    # thread and must not inherit a lock its parent's thread held at the fork.
    global _lock, _wake, _worker, _wanted, _busy
    _lock, _wake, _worker, _wanted, _busy = threading.Lock(), threading.Event(), None, set(), False


os.register_at_fork(after_in_child=_forget_in_child)


def request(task_name: str) -> None:
    """Ask for ``task_name`` to run soon. Returns at once; never raises."""
    global _worker
    try:
        with _lock:
            _wanted.add(task_name)
            pid = os.getpid()
            # A forked process (gunicorn, Celery's pool) has no thread of its parent's.
            if _worker is None or _worker[0] != pid or not _worker[1].is_alive():
                thread = threading.Thread(target=_run, name="ads-nudge", daemon=True)
                _worker = (pid, thread)
                thread.start()
        _wake.set()
    except Exception:  # a nudge is an optimisation; the beat job delivers regardless
        logger.warning("could not queue a nudge for %s", task_name, exc_info=True)


def _run() -> None:
    global _busy
    while True:
        _wake.wait()
        _wake.clear()
        with _lock:
            names = sorted(_wanted)
            _wanted.clear()
            _busy = True
        try:
            for name in names:
                publish(name)
        finally:
            with _lock:
                _busy = False


def publish(task_name: str) -> bool:
    """Publish ``task_name`` once, unless a recent failure paused nudges. Whether it went."""
    global _paused_until
    if time.monotonic() < _paused_until:
        return False
    try:
        current_app.send_task(task_name, retry=False)
    except Exception as exc:
        _paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_SECONDS
        logger.warning(
            "could not nudge %s (%s: %s); beat delivers it, nudges paused for %.0fs",
            task_name,
            type(exc).__name__,
            exc,
            PAUSE_AFTER_FAILURE_SECONDS,
            extra={"task": task_name},
        )
        return False
    return True


def drain(timeout: float = 5.0) -> None:
    """Wait until the nudges asked for so far were handled (for tests and shutdown)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _lock:
            idle = not _wanted and not _busy
        if idle and not _wake.is_set():
            return
        time.sleep(0.01)
