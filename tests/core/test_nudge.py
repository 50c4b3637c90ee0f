"""Nudges: best effort, in the background, never failing or slowing the caller."""

from __future__ import annotations

import os
import time

import pytest

from ads.core import nudge


def test_a_nudge_returns_at_once_and_the_thread_publishes_each_name_once_per_burst(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[str] = []

    def slow_publish(name: str) -> bool:
        time.sleep(0.2)  # a broker that takes its time
        sent.append(name)
        return True

    monkeypatch.setattr(nudge, "publish", slow_publish)
    began = time.monotonic()
    for _ in range(50):
        nudge.request("ads.deliver_alerts")
    nudge.request("ads.push_platform_status")
    elapsed = time.monotonic() - began
    nudge.drain(timeout=5)

    assert elapsed < 0.1
    assert sorted(set(sent)) == ["ads.deliver_alerts", "ads.push_platform_status"]
    assert len(sent) <= 3  # coalesced: not one publish per request


def test_a_failed_publish_pauses_nudges_and_raises_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Down:
        def send_task(self, name: str, **options: object) -> None:
            calls.append(name)
            raise ConnectionError("broker down")

    monkeypatch.setattr(nudge, "current_app", Down())
    monkeypatch.setattr(nudge, "_paused_until", 0.0)

    assert nudge.publish("ads.deliver_alerts") is False
    assert nudge.publish("ads.deliver_alerts") is False  # paused: not even tried
    assert calls == ["ads.deliver_alerts"]


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_starts_without_its_parents_thread_or_lock() -> None:
    nudge.request("ads.deliver_alerts")
    with nudge._lock:  # held by the parent at the fork
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            ok = nudge._worker is None and nudge._lock.acquire(timeout=1)
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
