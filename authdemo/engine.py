"""Runs a stack's units as a dependency graph: `up` forwards, `down` in reverse.

Each unit starts as soon as what it needs is done, on a small thread pool, so the slow
parts overlap: the IAM role is created first and, while it propagates, the user pool,
client, user, API, authorizer and stage are built; the critical path is
CreateRole -> (propagation) -> CreateFunction -> CreateIntegration -> CreateRoute.
`down` deletes only top-level units (children go with their parent) and starts each as
soon as everything that depended on it is gone.

The engine only schedules; units do the AWS calls and record IDs; an observer draws.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from .resources import Context, Unit, all_units

MAX_WORKERS = 8


class Observer(Protocol):
    """Receives progress; implementations draw it (console.py) or collect it (tests)."""

    def started(self, key: str, label: str) -> None: ...
    def note(self, key: str, message: str) -> None: ...
    def finished(self, key: str, outcome: str, seconds: float) -> None: ...
    def failed(self, key: str, error: BaseException, seconds: float) -> None: ...


class NullObserver:
    def started(self, key: str, label: str) -> None: ...
    def note(self, key: str, message: str) -> None: ...
    def finished(self, key: str, outcome: str, seconds: float) -> None: ...
    def failed(self, key: str, error: BaseException, seconds: float) -> None: ...


@dataclass
class RunResult:
    outcomes: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    peak_concurrency: int = 0


def run_graph(
    units: dict[str, Unit],
    deps: dict[str, set[str]],
    action: Callable[[Unit], str],
    observer: Observer,
    max_workers: int = MAX_WORKERS,
) -> RunResult:
    """Run `action` on every unit once all of its `deps` have finished.

    On the first failure nothing new starts; running units finish (so their IDs are
    recorded) and the first error is raised. Ctrl-C does the same, then re-raises.
    """
    result = RunResult()
    pending = dict(deps)
    done: set[str] = set()
    running: dict[Future[str], tuple[str, float]] = {}
    lock = threading.Lock()
    active = 0
    error: BaseException | None = None
    start = time.monotonic()

    def work(unit: Unit) -> str:
        nonlocal active
        with lock:
            active += 1
            result.peak_concurrency = max(result.peak_concurrency, active)
        try:
            return action(unit)
        finally:
            with lock:
                active -= 1

    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="authdemo")
    try:
        while pending or running:
            if error is None:
                ready = sorted(
                    (k for k, d in pending.items() if d <= done), key=lambda k: (-units[k].priority, k)
                )
                for key in ready:
                    del pending[key]
                    observer.started(key, units[key].label)
                    running[pool.submit(work, units[key])] = (key, time.monotonic())
            if not running:
                if pending and error is None:
                    raise RuntimeError(f"dependency cycle among {sorted(pending)}")
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                key, began = running.pop(future)
                seconds = time.monotonic() - began
                result.seconds[key] = seconds
                exc = future.exception()
                if exc is None:
                    outcome = future.result()
                    result.outcomes[key] = outcome
                    done.add(key)
                    observer.finished(key, outcome, seconds)
                else:
                    observer.failed(key, exc, seconds)
                    error = error or exc
    except BaseException:
        # Ctrl-C (or an observer failure): start nothing more, let running calls land.
        pending.clear()
        wait(list(running))
        raise
    finally:
        pool.shutdown(wait=True)
        result.total = time.monotonic() - start
    if error is not None:
        raise error
    return result


def up_graph() -> tuple[dict[str, Unit], dict[str, set[str]]]:
    units = {u.key: u for u in all_units()}
    return units, {k: set(u.needs) for k, u in units.items()}


class Prepare(Unit):
    """A unit's teardown preparation as a graph step of its own (e.g. emptying the role)."""

    def __init__(self, inner: Unit) -> None:
        super().__init__()
        self.inner = inner
        self.label = inner.prepare_label or inner.label  # type: ignore[misc]


def down_graph() -> tuple[dict[str, Unit], dict[str, set[str]]]:
    """Top-level units only; X waits for every top-level unit whose subtree needs X.

    A unit's preparation (Role: detach and delete its policies) needs nothing and runs at once.
    """
    units = {u.key: u for u in all_units()}

    def top(key: str) -> str:
        while units[key].parent:
            key = units[key].parent  # type: ignore[assignment]
        return key

    tops = {k: u for k, u in units.items() if u.parent is None}
    deps: dict[str, set[str]] = {k: set() for k in tops}
    for key, unit in units.items():
        for need in set(unit.needs) - set(unit.create_only_needs):
            a, b = top(key), top(need)
            if a != b:
                deps[b].add(a)  # delete the dependant (a) before what it needs (b)
    nodes: dict[str, Unit] = dict(tops)
    for key, unit in tops.items():
        if unit.prepare_label:
            nodes[f"{key}:prepare"] = Prepare(unit)
            deps[f"{key}:prepare"] = set()
            deps[key].add(f"{key}:prepare")
    return nodes, deps


def children(key: str) -> list[str]:
    """Units deleted together with `key` (transitively)."""
    units = {u.key: u for u in all_units()}
    out = []
    for k, u in units.items():
        parent = u.parent
        while parent:
            if parent == key:
                out.append(k)
                break
            parent = units[parent].parent
    return out


def up(ctx: Context, observer: Observer, max_workers: int = MAX_WORKERS) -> RunResult:
    units, deps = up_graph()
    ctx.notify = observer.note

    def ensure(unit: Unit) -> str:
        outcome = unit.ensure(ctx)
        if outcome == "created":
            ctx.fresh.add(unit.key)
        return outcome

    return run_graph(units, deps, ensure, observer, max_workers)


def down(ctx: Context, observer: Observer, max_workers: int = MAX_WORKERS) -> RunResult:
    units, deps = down_graph()
    ctx.notify = observer.note

    def delete(unit: Unit) -> str:
        if isinstance(unit, Prepare):
            return "deleted" if unit.inner.prepare_teardown(ctx) else "gone"
        deleted = unit.teardown(ctx)
        ctx.state.forget(unit.key, *children(unit.key))
        return "deleted" if deleted else "gone"

    return run_graph(units, deps, delete, observer, max_workers)
