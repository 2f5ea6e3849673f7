"""Ctrl-C can land anywhere in the main thread, even inside `ThreadPoolExecutor.submit` after the
step's thread started but before `submit` returned (seen under load in
test_crash_safety::test_real_ctrl_c_lets_running_calls_land_and_up_resumes): the step's future is
then unknown to run_graph and its thread unknown to the pool. The step must still land (its ID
recorded) before run_graph re-raises, and no step may start afterwards."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from authdemo import engine


def test_ctrl_c_inside_submit_still_lets_the_started_step_land(monkeypatch: pytest.MonkeyPatch) -> None:
    started = threading.Event()
    landed: list[str] = []
    ran: list[str] = []

    def slow(key: str) -> str:
        ran.append(key)
        started.set()
        time.sleep(0.3)  # AWS answering, then the state write
        landed.append(key)
        return "created"

    real_submit = ThreadPoolExecutor.submit

    def interrupted_submit(self: ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        real_submit(self, fn, *args, **kwargs)
        started.wait(2)
        # The signal landed inside `t.start()` in `_adjust_thread_count`: the pool never added
        # the new thread to the set `shutdown(wait=True)` joins, and submit never returned.
        self._threads.clear()  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(ThreadPoolExecutor, "submit", interrupted_submit)
    steps = {
        "role": engine.Step("role", "role", lambda: slow("role"), set(), priority=10),
        "later": engine.Step("later", "later", lambda: slow("later"), {"role"}),
    }
    with pytest.raises(KeyboardInterrupt):
        engine.run_graph(steps, engine.NullObserver())
    assert landed == ["role"]  # it finished before run_graph gave up
    assert ran == ["role"]  # nothing else started
