"""Never leak, never lose: `down --sweep` finds a stack without its state file and touches
nothing else; one writer per stack (the lock); and a state file is never used against another
account, region or endpoint."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import CHANGING, Faults, TtySys, leftovers, run, run_json

from authdemo import app
from authdemo.cli import build
from authdemo.errors import BusyError
from authdemo.state import StackLock
from authdemo.units import TAG_KEY, Names

REGION = "us-west-2"


def flat(text: str) -> str:
    """Output with rich's line wrapping undone (all whitespace runs become one space)."""
    return " ".join(text.split())


def one_error(result: Any, alone: bool = True) -> str:
    """The single `Error:` line of a failed command (wrapping undone), the last thing on stderr
    (and the only one when `alone`); no traceback anywhere."""
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.count("Error:") == 1, result.stderr
    message = result.stderr[result.stderr.index("Error:") :]
    if alone:
        assert result.stderr.lstrip().startswith("Error:"), result.stderr
    return flat(message)


def state_file(stack: str) -> Path:
    return app.state_path(app.Options(stack=stack))


def changing_calls(faults: Faults) -> list[str]:
    return [c for c in faults.calls if c.startswith(CHANGING)]


def up(stack: str) -> dict[str, Any]:
    return run_json("up", "--stack", stack)


# ------------------------------------------------------------------------------------ sweep
def test_sweep_without_state_finds_lists_and_deletes_everything(moto: None) -> None:
    """State file gone: `down --sweep --yes` lists the stack's resources on stderr, then deletes them."""
    info = up("sw")
    state_file("sw").unlink()
    result = run("down", "--sweep", "--yes", "--stack", "sw")
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "Found for stack sw" in err
    for value in (info["user_pool_id"], info["function_name"], info["role_name"], info["log_group"]):
        assert value in err
    # listed before anything is deleted
    assert err.index("Found for stack sw") < err.index("authdemo down: stack sw")
    assert leftovers() == {}
    assert not state_file("sw").exists()


def test_sweep_json_reports_found_and_deleted(moto: None) -> None:
    """`--output json` gives every found resource by type and id, and deleted: true."""
    info = up("swj")
    report_state = state_file("swj").read_text()
    api_id = json.loads(report_state)["resources"]["api"]["id"]
    state_file("swj").unlink()
    report = run_json("down", "--sweep", "--yes", "--stack", "swj")
    assert report["deleted"] is True
    found = {f["type"]: f["id"] for f in report["found"]}
    assert found == {
        "api": api_id,
        "function": info["function_name"],
        "log_group": info["log_group"],
        "role": info["role_name"],
        "user_pool": info["user_pool_id"],
        "authorizer_function": Names("swj").authorizer_function,
        "authorizer_log_group": Names("swj").authorizer_log_group,
        "authorizer_role": Names("swj").authorizer_role,
        "rest_api": json.loads(report_state)["resources"]["rest_api"]["id"],
    }
    assert leftovers() == {}


def test_sweep_without_yes_and_without_tty_refuses(moto: None, faults: Faults) -> None:
    """No --yes and stdin is not a terminal: exit 2, nothing deleted, the state file stays."""
    up("swn")
    before = leftovers()
    saved = state_file("swn").read_bytes()
    result = run("down", "--sweep", "--stack", "swn")
    assert result.exit_code == 2
    assert "Found for stack swn" in result.stderr
    assert one_error(result, alone=False) == "Error: Refusing to delete without confirmation; add --yes."
    assert "Found for stack swn" not in result.stdout  # the list goes to stderr, data to stdout
    assert not [c for c in changing_calls(faults) if c.startswith("Delete")]
    assert leftovers() == before
    assert state_file("swn").read_bytes() == saved


@pytest.mark.parametrize(("answer", "deleted"), [("n\n", False), ("\n", False), ("y\n", True)])
def test_sweep_asks_on_a_terminal(moto: None, monkeypatch, answer: str, deleted: bool) -> None:
    """On a terminal sweep asks first: "n" (or Enter) deletes nothing, "y" deletes it all."""
    up("swq")
    before = leftovers()
    monkeypatch.setattr(build, "sys", TtySys(stdin=True))
    result = run("down", "--sweep", "--stack", "swq", input=answer)
    assert result.exit_code == 0, result.output
    assert "Delete all of these?" in result.stderr
    if deleted:
        assert leftovers() == {}
    else:
        assert "Nothing deleted." in result.stderr
        assert leftovers() == before


def test_sweep_reports_only_what_still_exists(moto: None) -> None:
    """Recorded resources deleted outside authdemo are neither found nor "deleted" by sweep; the
    rest is, and the state file goes."""
    info = up("swg")
    api_id = json.loads(state_file("swg").read_text())["resources"]["api"]["id"]
    boto3.client("lambda", region_name=REGION).delete_function(FunctionName=info["function_name"])
    boto3.client("apigatewayv2", region_name=REGION).delete_api(ApiId=api_id)
    result = run("down", "--sweep", "--yes", "--stack", "swg", "--output", "json")
    assert result.exit_code == 0, result.output
    found = {f["type"]: f["id"] for f in json.loads(result.stdout)["found"]}
    assert "function" not in found and "api" not in found
    assert set(found) == {
        "role",
        "authorizer_role",
        "log_group",
        "authorizer_log_group",
        "user_pool",
        "authorizer_function",
        "rest_api",
    }
    assert api_id not in result.stderr and "HTTP API" not in result.stderr.split("authdemo down:")[0]
    assert leftovers() == {}
    assert not state_file("swg").exists()


def test_sweep_that_finds_nothing_forgets_records_of_what_is_gone(moto: None) -> None:
    """Every recorded resource already gone: sweep finds nothing, deletes nothing, and drops the
    state file that only recorded what no longer exists."""
    up("swz")
    assert run("down", "--stack", "swz").exit_code == 0
    # A state file of a stack whose resources went meanwhile (a restarted embedded AWS does that).
    gone = {"schema_version": 1, "stack": "swz", "region": REGION, "resources": {"api": {"id": "gone1"}}}
    state_file("swz").write_text(json.dumps(gone))
    result = run("down", "--sweep", "--yes", "--stack", "swz", "--output", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"found": [], "deleted": False}
    assert not state_file("swz").exists()


def make_look_alikes(stack: str, *, same_names: bool) -> dict[str, str]:
    """Resources that look like the stack's but are not: no tag, another tag value, or another
    IAM path. With same_names, also those whose names AWS keeps unique (function, role, log group)."""
    names = Names(stack)
    cognito = boto3.client("cognito-idp", region_name=REGION)
    gateway = boto3.client("apigatewayv2", region_name=REGION)
    made = {
        "pool": cognito.create_user_pool(PoolName=names.user_pool)["UserPool"]["Id"],
        "api": gateway.create_api(Name=names.api, ProtocolType="HTTP", Tags={TAG_KEY: stack + "-x"})["ApiId"],
    }
    if same_names:
        iam = boto3.client("iam", region_name=REGION)
        statement = {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": "lambda.amazonaws.com"},
        }
        trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        iam.create_role(RoleName=names.role, Path="/", AssumeRolePolicyDocument=trust)  # not our path
        other = iam.create_role(RoleName="someone-elses-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        from authdemo.units import function_zip

        boto3.client("lambda", region_name=REGION).create_function(
            FunctionName=names.function,
            Runtime="python3.12",
            Role=other,
            Handler="handler.handler",
            Code={"ZipFile": function_zip()},
        )  # untagged
        # Lambda's own log group for that function (it makes one, untagged, on first invoke)
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName=names.log_group)
        made.update(function=names.function, role=names.role, log_group=names.log_group)
    return made


def test_sweep_never_touches_look_alikes_or_other_stacks(moto: None) -> None:
    """A same-named untagged pool, a same-named API of another tag value and another stack survive."""
    fakes = make_look_alikes("sw", same_names=False)
    up("sw")
    other = up("neighbour")
    state_file("sw").unlink()
    report = run_json("down", "--sweep", "--yes", "--stack", "sw")
    assert report["deleted"] is True
    assert fakes["pool"] not in {f["id"] for f in report["found"]}
    assert fakes["api"] not in {f["id"] for f in report["found"]}
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pools = {p["Id"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"]}
    assert pools == {fakes["pool"], other["user_pool_id"]}
    apis = {a["ApiId"] for a in boto3.client("apigatewayv2", region_name=REGION).get_apis()["Items"]}
    assert fakes["api"] in apis and len(apis) == 2
    left = leftovers()
    n = Names("neighbour")
    assert sorted(left["functions"]) == sorted([n.function, n.authorizer_function])
    assert sorted(left["roles"]) == sorted([n.role, n.authorizer_role])
    assert sorted(left["log_groups"]) == sorted([n.log_group, n.authorizer_log_group])
    assert run("down", "--stack", "neighbour").exit_code == 0


def test_sweep_of_a_stack_made_only_of_look_alikes_deletes_nothing(moto: None, faults: Faults) -> None:
    """Untagged function + its log group, a role on another path, untagged pool, foreign-tagged
    API, all with the stack's exact names: sweep finds nothing and deletes nothing."""
    fakes = make_look_alikes("ghost", same_names=True)
    before = leftovers()
    result = run("down", "--sweep", "--yes", "--stack", "ghost", "--output", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"found": [], "deleted": False}
    assert leftovers() == before
    assert fakes["log_group"] in before["log_groups"]
    assert not [c for c in faults.calls if c.startswith("Delete")]


# ------------------------------------------------------------------------------------ lock
HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from authdemo.state import StackLock
    lock = StackLock(Path(sys.argv[1]), sys.argv[2]).acquire()
    print("holding", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def holder() -> Iterator[Any]:
    """Start a process that holds a stack's lock (as `authdemo <command>`) and sleeps."""
    procs: list[subprocess.Popen[str]] = []

    def start(stack: str, command: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(state_file(stack)), command],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def test_lock_held_by_another_process_makes_up_and_down_exit_6(moto: None, holder, faults: Faults) -> None:
    """While another process holds the lock, up and down exit 6 naming its command and pid."""
    proc = holder("busy", "up")
    for command in ("up", "down"):
        result = run(command, "--stack", "busy")
        assert result.exit_code == 6, result.output
        assert f"in use by `authdemo up` (pid {proc.pid}," in one_error(result)
    sweep = run("down", "--sweep", "--yes", "--stack", "busy")
    assert sweep.exit_code == 6
    assert faults.calls == []  # refused before building a single client
    assert not state_file("busy").exists()


def test_lock_of_a_killed_process_is_taken_over(moto: None, holder) -> None:
    """kill -9 of the holder frees the lock at once: the next up succeeds and says it took over."""
    proc = holder("killed", "down")
    assert run("up", "--stack", "killed").exit_code == 6
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    result = run("up", "--stack", "killed")
    assert result.exit_code == 0, result.output
    assert f"Took over the lock of a stopped `authdemo down` (pid {proc.pid})" in flat(result.stderr)
    assert run("down", "--stack", "killed").exit_code == 0
    assert leftovers() == {}


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=10)
    return proc.pid


def test_stale_lock_file_of_a_dead_pid_is_taken_over(moto: None) -> None:
    """A lock file naming a dead pid (no flock held) does not block: up runs and prints the note."""
    pid = dead_pid()
    lock_path = state_file("stale").with_name("stale.json.lock")
    lock_path.write_text(
        json.dumps({"pid": pid, "command": "up", "started": "2024-01-01T00:00:00+00:00", "host": "elsewhere"})
    )
    result = run("up", "--stack", "stale")
    assert result.exit_code == 0, result.output
    assert f"Took over the lock of a stopped `authdemo up` (pid {pid})" in flat(result.stderr)
    assert not lock_path.exists()  # released: removed, no holder named any more
    again = run("up", "--stack", "stale")
    assert again.exit_code == 0 and "Took over" not in again.stderr
    assert run("down", "--stack", "stale").exit_code == 0


def test_lock_held_in_this_process_blocks_too(moto: None) -> None:
    """The lock is per open file, so even this process cannot run down while holding it."""
    with StackLock(state_file("self"), "test-holder"):
        result = run("down", "--stack", "self")
    assert result.exit_code == 6
    assert f"`authdemo test-holder` (pid {os.getpid()}," in one_error(result)
    assert run("down", "--stack", "self").exit_code == 0  # released on exit


def test_readers_do_not_take_the_lock(moto: None, holder) -> None:
    """status (a reader) works while up/down is running elsewhere."""
    up("readers")
    holder("readers", "down")
    result = run("status", "--stack", "readers")
    assert result.exit_code == 0, result.output
    assert run("down", "--stack", "readers").exit_code == 6


# ------------------------------------------------------------------------------------ guard
GUARD = "authdemo"  # the stack conftest's `deployed` fixture makes


def edit_state(path: Path, **changes: Any) -> bytes:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))
    return path.read_bytes()


@pytest.mark.parametrize("args", [("up",), ("down",), ("down", "--sweep", "--yes")])
def test_state_of_another_account_is_refused_before_any_change(
    deployed: Path, faults: Faults, args: tuple[str, ...]
) -> None:
    """A state file of account 999999999999: up/down/sweep exit 5 after only asking who we are."""
    saved = edit_state(deployed, account_id="999999999999")
    before = leftovers()
    result = run(*args, "--stack", GUARD)
    assert result.exit_code == 5, result.output
    message = one_error(result)
    assert "999999999999" in message and "123456789012" in message
    assert changing_calls(faults) == []
    assert faults.calls == ["GetCallerIdentity"]
    assert deployed.read_bytes() == saved
    assert leftovers() == before


@pytest.mark.parametrize("command", ["up", "down", "status"])
def test_another_region_is_refused(deployed: Path, faults: Faults, command: str) -> None:
    """--region other than the recorded one: exit 5 before any AWS call, state untouched."""
    saved = deployed.read_bytes()
    result = run(command, "--stack", GUARD, "--region", "eu-west-1")
    assert result.exit_code == 5, result.output
    message = one_error(result)
    assert "created in us-west-2, not eu-west-1" in message
    assert faults.calls == []
    assert deployed.read_bytes() == saved


def test_same_region_given_explicitly_is_fine(deployed: Path) -> None:
    """--region equal to the recorded one is accepted (only a different one is refused)."""
    assert run("status", "--stack", GUARD, "--region", REGION).exit_code == 0


def test_another_endpoint_is_refused(deployed: Path, faults: Faults) -> None:
    """A stack made on real AWS (no endpoint) used with --endpoint-url: exit 5, no call."""
    saved = deployed.read_bytes()
    for command in ("up", "down"):
        result = run(command, "--stack", GUARD, "--endpoint-url", "http://127.0.0.1:4566")
        assert result.exit_code == 5, result.output
        assert "was created against real AWS (no endpoint)" in one_error(result)
    assert faults.calls == []
    assert deployed.read_bytes() == saved


def test_recorded_endpoint_without_endpoint_url_is_refused(deployed: Path, faults: Faults) -> None:
    """A stack recorded against an endpoint, used without --endpoint-url (real AWS): exit 5."""
    saved = edit_state(deployed, endpoint_url="http://127.0.0.1:4566")
    result = run("down", "--stack", GUARD)
    assert result.exit_code == 5
    assert re.search(r"created against http://127\.0\.0\.1:4566", one_error(result))
    assert faults.calls == []
    assert deployed.read_bytes() == saved


def test_guards_hold_for_the_app_layer_too(deployed: Path, faults: Faults) -> None:
    """app.down (not only the CLI) refuses another account with StateError before deleting."""
    from authdemo.errors import ExitCode, StateError

    edit_state(deployed, account_id="111111111111")
    with pytest.raises(StateError) as exc:
        app.down(app.Options(stack=GUARD), lambda: None)  # never reaches the observer
    assert exc.value.code == ExitCode.STATE
    assert changing_calls(faults) == []


def test_lock_files_do_not_pile_up(moto: None) -> None:
    """Every stack name used leaves no `<stack>.json.lock` behind once its commands end."""
    for stack in ("one", "two"):
        up(stack)
        assert run("status", "--stack", stack).exit_code == 0
        assert run("down", "--stack", stack).exit_code == 0
    assert run("down", "--stack", "never-made").exit_code == 0
    assert run("forget", "--yes", "--stack", "forgotten").exit_code == 0
    assert sorted(p.name for p in state_file("one").parent.glob("*.lock")) == []


def test_a_lock_removed_at_release_never_lets_two_holders_in(tmp_path: Path) -> None:
    """Threads taking and releasing one stack's lock, whose file each release removes, never
    hold it at the same time, and no lock file is left."""
    state = tmp_path / "race.json"
    holders: list[int] = []
    overlaps: list[list[int]] = []
    taken: list[int] = []

    together = threading.Barrier(4)

    def contend(n: int) -> None:
        together.wait()
        for _ in range(100):
            while True:
                try:
                    lock = StackLock(state, f"worker {n}").acquire()
                    break
                except BusyError:
                    time.sleep(0)
            holders.append(n)
            if len(holders) > 1:
                overlaps.append(list(holders))
            time.sleep(0.0005)
            holders.remove(n)
            taken.append(n)
            lock.release()

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert overlaps == []
    assert sorted(taken) == sorted(list(range(4)) * 100)
    assert not state.with_name("race.json.lock").exists()


@pytest.mark.parametrize("dangling", [False, True])
def test_a_lock_file_that_is_a_symlink_is_never_followed(moto: None, tmp_path: Path, dangling: bool) -> None:
    """A `<stack>.json.lock` that is a symlink: exit 2, one sentence naming it and the fix; its
    target is neither written nor created."""
    target = tmp_path / "elsewhere.txt"
    if not dangling:
        target.write_text("precious")
    lock_path = state_file("ln").with_name("ln.json.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path.symlink_to(target)
    result = run("up", "--stack", "ln")
    assert result.exit_code == 2, result.output
    message = one_error(result)
    assert f"lock file {lock_path} is a symbolic link" in message and f"rm {lock_path}" in message
    assert lock_path.is_symlink()
    if dangling:
        assert not target.exists()
    else:
        assert target.read_text() == "precious"
    assert not state_file("ln").exists()
