"""The dependency graph: independent steps overlap (the role's propagation hides the rest),
failures stop new work without losing running work, and down runs in reverse order."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from conftest import aws_error, run

from authdemo import engine, planner
from authdemo.app import Options
from authdemo.app import up as app_up
from authdemo.units import base


class Recorder:
    """An observer that keeps the timeline."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, float]] = []
        self.notes: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _add(self, kind: str, key: str) -> None:
        with self._lock:
            self.events.append((kind, key, time.monotonic()))

    def started(self, key: str, label: str) -> None:
        self._add("start", key)

    def note(self, key: str, message: str) -> None:
        self.notes.append((key, message))

    def finished(self, key: str, outcome: str, seconds: float) -> None:
        self._add("end", key)

    def failed(self, key: str, error: BaseException, seconds: float) -> None:
        self._add("fail", key)

    def at(self, kind: str, key: str) -> float:
        return next(t for k, name, t in self.events if k == kind and name == key)


def test_everything_else_proceeds_while_the_role_propagates(moto, faults, monkeypatch):
    """Pool, client, user, API, stage and authorizer finish while CreateFunction still waits on IAM.

    IAM refuses CreateFunction until the rest is done (at most 30 s): were anything else to wait
    for the function, it would finish after it and the test would fail, whatever the machine's load."""
    monkeypatch.setattr(base, "sleep", lambda s: time.sleep(min(s, 0.05)))
    others = ("user_pool", "app_client", "user", "api", "stage", "authorizer", "log_group", "role_policy")
    rec = Recorder()
    began = time.monotonic()

    def not_yet(**_: Any) -> Any:
        done = {name for kind, name, _ in rec.events if kind == "end"}
        if time.monotonic() - began < 30.0 and not done.issuperset(others):
            return aws_error(
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
            )
        return None

    faults.on("lambda", "before-call.lambda.CreateFunction", not_yet)
    _, result, _ = app_up(Options(), lambda: rec)
    assert faults.count("CreateFunction") >= 2  # it did have to wait
    function_done = rec.at("end", "function")
    for key in others:
        assert rec.at("end", key) < function_done, key
    assert rec.at("start", "role") <= min(t for k, _, t in rec.events if k == "start")
    assert result.peak_concurrency >= 3
    assert any("role not assumable yet" in m for _, m in rec.notes)


def test_critical_path_orders_function_integration_route():
    """The graph's edges: function after role; integration after function; route after both."""
    deps = planner.up_order(planner.units_by_key())
    assert {"role", "log_group"} <= deps["function"]
    assert {"api", "function"} <= deps["integration"]
    assert {"authorizer", "integration"} <= deps["route"]
    assert deps["role"] == set() and deps["user_pool"] == set() and deps["api"] == set()


def test_down_order_follows_aws_facts():
    """What AWS requires: the function's log group and role only after the function (so it cannot
    log or run meanwhile), the role's policies before the role (DeleteConflict); the API, the
    function and the pool reference each other only by ARN or URL, so they go at once."""
    steps = engine.down_steps(engine.Executor(None, None))  # type: ignore[arg-type]
    deps = {k: s.needs for k, s in steps.items()}
    assert deps == {
        "api": set(),
        "function": set(),
        "log_group": {"function"},
        "role": {"function", "role:prepare"},
        "role:prepare": set(),
        "user_pool": set(),
        # The Lambda authorizer's function: the same rules for its own log group and role.
        "authorizer_function": set(),
        "authorizer_log_group": {"authorizer_function"},
        "authorizer_role": {"authorizer_function", "authorizer_role:prepare"},
        "authorizer_role:prepare": set(),
        "rest_api": set(),  # names the functions by ARN only, as the HTTP API does
    }


def _steps(action: Any, deps: dict[str, set[str]]) -> dict[str, engine.Step]:
    return {k: engine.Step(k, k, lambda k=k: action(k), needs) for k, needs in deps.items()}


def test_first_failure_stops_new_work_but_lets_running_work_land():
    """A failure: nothing new starts, steps already running finish (their IDs get recorded)."""
    deps = {"a": set(), "slow": set(), "after_a": {"a"}}
    finished: list[str] = []

    def action(key: str) -> str:
        if key == "a":
            raise RuntimeError("boom")
        time.sleep(0.2)
        finished.append(key)
        return "created"

    with pytest.raises(RuntimeError, match="boom"):
        engine.run_graph(_steps(action, deps), engine.NullObserver())
    assert finished == ["slow"]  # ran to completion; after_a never started


def test_independent_steps_run_concurrently():
    """Eight independent 0.2 s steps take about 0.2 s, not 1.6 s."""
    began = time.monotonic()
    steps = _steps(lambda k: time.sleep(0.2) or "created", {k: set() for k in "abcdefgh"})
    result = engine.run_graph(steps, engine.NullObserver())
    assert time.monotonic() - began < 1.0
    assert result.peak_concurrency == 8


def test_dependency_cycle_is_reported():
    """A cycle among units is a programming error, reported rather than hanging."""
    with pytest.raises(RuntimeError, match="cycle"):
        engine.run_graph(_steps(lambda k: "created", {"a": {"b"}, "b": {"a"}}), engine.NullObserver())


def test_progress_lines_when_stderr_is_not_a_terminal(moto):
    """Without a terminal each step is one plain line on stderr with its time; stdout has the data."""
    result = run("up")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[0].startswith("authdemo up: stack authdemo")
    assert any(
        line.strip().startswith("IAM role") and "created" in line and line.endswith("s") for line in lines
    )
    assert "in all" in result.stderr
    assert "curl" in result.stdout and "curl" not in result.stderr


@pytest.mark.parametrize("argv", [["--help"], ["up", "--help"], ["status", "--stack", "nothing-here"]])
def test_cli_start_does_not_import_heavy_modules(argv, tmp_path):
    """`--help` and a status with nothing recorded load neither boto3, moto nor rich."""
    code = (
        "import sys\n"
        "from authdemo.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('boto3', 'botocore', 'moto', 'rich.live', 'rich.table', 'requests', 'jwt')\n"
        "heavy = sorted(m for m in heavy if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    env = {"AUTHDEMO_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    heavy_line = [line for line in proc.stderr.splitlines() if line.startswith("HEAVY")]
    assert heavy_line == ["HEAVY []"], proc.stderr
