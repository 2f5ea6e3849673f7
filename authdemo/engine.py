"""Runs a stack's units: `up` forwards as a dependency graph, `down` in reverse.

Planner and executor are apart (chalice's split): planner.py says what would happen to each
unit without changing anything; the executor here makes it so, and is the one place that
records and forgets IDs: a unit's `create`, `discover` and `configure` return IDs, and the executor
writes them the moment they come back (one atomic replace of the state file each).

Each step starts as soon as what it needs is done, on a small thread pool, so the slow parts
overlap: the IAM role is created first and, while it propagates, the user pool, client,
user, API, authorizer and stage are built; the critical path is
CreateRole -> (propagation) -> CreateFunction -> CreateIntegration -> CreateRoute.
`down` deletes only top-level units (children go with their parent) and starts each as soon
as everything that depended on it is gone.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .errors import AuthdemoError, NotFound
from .planner import children, decide, down_order, profile_units, removed_keys, units_by_key, up_order
from .state import StateStore
from .units import Context, Rec, Unit

MAX_WORKERS = 8
T = TypeVar("T")
_STEP = threading.local()  # .key: the step the thread runs (see current_step)


def current_step() -> str | None:
    """The key of the step the calling thread runs, None outside any: `--explain` shows each
    AWS call under the row of the step that made it."""
    return getattr(_STEP, "key", None)


def in_step(key: str | None, fn: Callable[..., T]) -> Callable[..., T]:
    """`fn`, run on another thread as part of step `key` (a unit's discovery beside its delete)."""

    def run(*args: object) -> T:
        _STEP.key = key
        try:
            return fn(*args)
        finally:
            _STEP.key = None

    return run


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
class Step:
    """One node of a run: a unit's ensure or delete, or a wait or preparation beside it."""

    key: str
    label: str
    run: Callable[[], str]
    needs: set[str] = field(default_factory=set)
    priority: int = 0


@dataclass
class RunResult:
    outcomes: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: `--explain`: each step's AWS calls as `aws` commands, in the order sent ("": in no step).
    calls: dict[str, list[str]] = field(default_factory=dict)
    total: float = 0.0
    peak_concurrency: int = 0


def run_graph(steps: Mapping[str, Step], observer: Observer, max_workers: int = MAX_WORKERS) -> RunResult:
    """Run every step once all of its `needs` have finished.

    On the first failure nothing new starts; running steps finish (so their IDs are
    recorded) and the first error is raised. Ctrl-C does the same, then re-raises.
    """
    result = RunResult()
    pending = {k: set(s.needs) for k, s in steps.items()}
    done: set[str] = set()
    running: dict[Future[str], tuple[str, float]] = {}
    lock = threading.Condition()
    active = 0
    stopping = False  # Ctrl-C: a step not yet started never starts
    error: BaseException | None = None
    start = time.monotonic()

    def work(step: Step) -> str:
        nonlocal active
        with lock:
            if stopping:
                raise KeyboardInterrupt
            active += 1
            result.peak_concurrency = max(result.peak_concurrency, active)
        _STEP.key = step.key
        try:
            return step.run()
        finally:
            _STEP.key = None
            with lock:
                active -= 1
                lock.notify_all()

    def land_running_steps() -> None:
        """Wait for every started step, including one whose `submit` Ctrl-C interrupted (its
        future is not in `running`, and the pool may not even know its thread)."""
        nonlocal stopping
        with lock:
            stopping = True
            while active:
                lock.wait()

    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="authdemo")
    try:
        while pending or running:
            if error is None:
                ready = sorted(
                    (k for k, d in pending.items() if d <= done), key=lambda k: (-steps[k].priority, k)
                )
                for key in ready:
                    del pending[key]
                    observer.started(key, steps[key].label)
                    running[pool.submit(work, steps[key])] = (key, time.monotonic())
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
        land_running_steps()
        raise
    finally:
        pool.shutdown(wait=True)
        result.total = time.monotonic() - start
    if error is not None:
        raise error
    return result


# ------------------------------------------------------------------------------ executing
class Executor:
    """Makes a plan so, and is the one writer of resource records: what a unit's call returns
    is recorded the moment it returns; what `down` deleted is forgotten."""

    def __init__(self, ctx: Context, store: StateStore) -> None:
        self.ctx = ctx
        self.store = store
        self.units = units_by_key()

    def record(self, key: str, ids: Rec) -> None:
        self.store.record(key, **ids)
        if not self.store.get("account_id"):
            arn = next((str(v) for v in ids.values() if str(v).startswith("arn:")), "")
            if arn.count(":") >= 5 and arn.split(":")[4]:  # arn:partition:service:region:ACCOUNT:...
                self.store.set(account_id=arn.split(":")[4])

    def ensure(self, unit: Unit) -> str:
        """Make one resource exist as `up` wants it; returns 'created', 'adopted' or 'exists'."""
        ctx = self.ctx
        if unit.create_conflict and not ctx.records.resource(unit.key):
            outcome, rec = self._create_first(unit)
        else:
            action, found = decide(unit, ctx)
            if action == "create":
                outcome, rec = "created", self._create(unit)
            else:
                rec = found or {}
                if action == "adopt":
                    self.record(unit.key, rec)
                outcome = "adopted" if action == "adopt" else "exists"
        more = unit.configure(ctx, rec)
        if more:
            self.record(unit.key, more)
        return outcome

    def _create(self, unit: Unit) -> Rec:
        self.store.before_create()
        rec = unit.create(self.ctx)
        self.record(unit.key, rec)
        self.ctx.fresh.add(unit.key)
        return rec

    def _create_first(self, unit: Unit) -> tuple[str, Rec]:
        """Create before looking (see Unit.create_conflict); a taken name is adopted if ours."""
        try:
            return "created", self._create(unit)
        except AuthdemoError as exc:
            if exc.aws_code != unit.create_conflict:
                raise
        found = unit.discover(self.ctx)
        if not found:
            raise unit.taken(self.ctx)
        self.record(unit.key, found[0])
        return "adopted", found[0]

    def wait_ready(self, unit: Unit) -> str:
        rec = self.ctx.rec(unit.key)
        unit.wait_ready(self.ctx, rec)
        return "ready"

    def delete(self, unit: Unit) -> str:
        """Delete the recorded copy and any discovered one; forget it and its children.

        The recorded copy goes at once, while discovery looks for copies a killed run created
        but never recorded (a `named` unit has none: its recorded copy is the only one)."""
        ctx = self.ctx
        rec = ctx.records.resource(unit.key)
        deleted = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="authdemo-discover") as pool:
            discover = in_step(current_step(), unit.discover)
            found = pool.submit(discover, ctx) if not (rec and unit.named) else None
            if rec:
                self._delete_one(unit, rec)
                deleted.append(unit.describe(rec))
            for other in found.result() if found else []:
                if unit.describe(other) not in deleted:
                    self._delete_one(unit, other)
                    deleted.append(unit.describe(other))
        self.store.forget(unit.key, *children(self.units, unit.key))
        return "deleted" if deleted else "gone"

    def _delete_one(self, unit: Unit, rec: Rec) -> None:
        with contextlib.suppress(NotFound):  # already gone is deleted
            unit.delete(self.ctx, rec)

    def prepare(self, unit: Unit) -> str:
        return "deleted" if unit.prepare_teardown(self.ctx) else "gone"

    def remove(self, unit: Unit) -> str:
        """Delete what the stack no longer builds (see planner.removed_keys): a top-level unit as
        `down` deletes it; a child of a unit that stays, on its own."""
        if unit.parent is None:
            return self.delete(unit)
        rec = self.ctx.records.resource(unit.key)
        if rec:
            self._delete_one(unit, rec)
        self.store.forget(unit.key)
        return "deleted" if rec else "gone"

    def forget(self, unit: Unit) -> str:
        """Drop the records of a resource that cannot exist (its region does not): no AWS call."""
        self.store.forget(unit.key, *children(self.units, unit.key))
        return "gone"


def up_steps(executor: Executor) -> dict[str, Step]:
    units = profile_units(executor.ctx)
    steps: dict[str, Step] = {}
    for key, needs in up_order(units).items():
        unit = units[key]
        steps[key] = Step(key, unit.label, functools.partial(executor.ensure, unit), needs, unit.priority)
        if unit.ready_label:
            steps[f"{key}:ready"] = Step(
                f"{key}:ready", unit.ready_label, functools.partial(executor.wait_ready, unit), {key}
            )
    for key in removed_keys(executor.ctx):  # e.g. `up --no-rest` on a stack with the REST half
        unit = executor.units[key]
        steps[key] = Step(key, f"{unit.label} (no longer wanted)", functools.partial(executor.remove, unit))
    return steps


def down_steps(executor: Executor, forget_only: frozenset[str] = frozenset()) -> dict[str, Step]:
    """A unit's preparation (Role: detach and delete its policies) needs nothing and runs at once.
    Units in `forget_only` are not looked for, only forgotten (see Unit.regional)."""
    units = executor.units
    steps: dict[str, Step] = {}
    for key, needs in down_order(units).items():
        unit = units[key]
        if key in forget_only:
            steps[key] = Step(key, unit.label, functools.partial(executor.forget, unit), set(needs))
            continue
        steps[key] = Step(key, unit.label, functools.partial(executor.delete, unit), set(needs))
        if unit.prepare_label:
            steps[f"{key}:prepare"] = Step(
                f"{key}:prepare", unit.prepare_label, functools.partial(executor.prepare, unit)
            )
            steps[key].needs.add(f"{key}:prepare")
    return steps


class Relay:
    """`--explain`'s observer of calls for a whole command: a call made before its step display
    exists (the account proved, a sweep's search) goes to the factory's `early(text)` at once
    (or waits for the display, when the factory has none); then every call goes to the display."""

    def __init__(self) -> None:
        self.target: Any = None
        self.early: Callable[[str], None] | None = None
        self.kept: list[str] = []

    def attach(self, factory: Callable[[], Any]) -> Callable[[], Any]:
        self.early = getattr(factory, "early", None)

        def make() -> Any:
            self.target = factory()
            for text in self.kept:
                self.target.call("", text)
            return self.target

        return make

    def call(self, key: str, text: str) -> None:
        if self.target is not None:
            self.target.call(key, text)
        elif self.early is not None:
            self.early(text)
        else:
            self.kept.append(text)


@contextlib.contextmanager
def explaining(observer: Any, on: bool, public: Collection[str] = ()) -> Iterator[dict[str, list[str]]]:
    """`--explain`: every AWS call made inside, as the `aws` command a person would type (secrets
    and what the model marks sensitive as ***, but for the `public` literals: the stack's
    usernames), kept per step ("": in none) and handed to the observer's `call(key, text)` as it
    leaves, to be shown under that step's row."""
    calls: dict[str, list[str]] = {}
    if not on:
        yield calls
        return
    from . import awscli
    from .aws import explaining as listening
    from .units import Call

    show = getattr(observer, "call", None)
    lock = threading.Lock()

    def told(service: str, operation: str, params: Mapping[str, object]) -> None:
        key = current_step() or ""
        try:
            text = awscli.command(Call(service, operation, params), public=public)
        except ValueError as exc:  # a parameter the model lacks: the call fails, say what it was
            text = f"# aws {service} {operation}: {exc}"
        with lock:
            calls.setdefault(key, []).append(text)
        if show is not None:
            show(key, text)

    with listening(told):
        yield calls


def up(ctx: Context, store: StateStore, observer: Observer, max_workers: int = MAX_WORKERS) -> RunResult:
    ctx.notify = observer.note
    ctx.remark = getattr(observer, "remark", observer.note)  # e.g. the architecture Lambda took
    return run_graph(up_steps(Executor(ctx, store)), observer, max_workers)


def down(
    ctx: Context,
    store: StateStore,
    observer: Observer,
    max_workers: int = MAX_WORKERS,
    forget_only: frozenset[str] = frozenset(),
) -> RunResult:
    ctx.notify = observer.note
    return run_graph(down_steps(Executor(ctx, store), forget_only), observer, max_workers)
