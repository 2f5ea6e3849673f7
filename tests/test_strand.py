"""Issue 8 section 4, "no input strands a stack": a bad region is refused before anything is
created (in --local too), a state file belongs to one stack, an unusable AUTHDEMO_HOME is one
sentence, a stack whose state records a region AWS does not have can still be deleted, any
stack can be forgotten, and a --local stack whose server stopped says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import Faults, leftovers, one_error, run

from authdemo import app, paths
from authdemo.local import daemon
from authdemo.state import StateStore


def state_file(stack: str = "authdemo", local: bool = False) -> Path:
    return app.state_path(app.Options(stack=stack, local=local))


def test_up_local_with_a_region_typo_exits_2_and_creates_nothing(faults: Faults) -> None:
    """`up --local --region us-wst-2`: refused before the embedded AWS even starts."""
    result = run("up", "--local", "--region", "us-wst-2")
    assert result.exit_code == 2, result.output
    assert "Unknown AWS region 'us-wst-2'" in one_error(result)
    assert faults.calls == []
    assert daemon.status() is None  # no server was started for it
    assert not list(paths.home().glob("*.json"))


def test_a_foreign_endpoint_keeps_the_lenient_region_check(moto: None) -> None:
    """LocalStack or a moto server accept any well-formed region: only nonsense is refused."""
    result = run("up", "--endpoint-url", "http://127.0.0.1:1", "--region", "xx-test-9")
    assert "region" not in result.stderr  # got past the region check (to the unreachable endpoint)
    assert result.exit_code == 7


def test_state_file_of_another_stack_is_refused(moto: None) -> None:
    """`--state-file <stack a's file>` without `--stack a`: exit 5, naming both; a's file untouched."""
    assert run("up", "--stack", "alpha").exit_code == 0
    path = state_file("alpha")
    before = path.read_text()
    result = run("up", "--stack", "beta", "--state-file", str(path))
    assert result.exit_code == 5, result.output
    message = one_error(result)
    assert "belongs to stack 'alpha', not 'beta'" in message and "--stack alpha" in message
    assert path.read_text() == before
    assert sorted(leftovers()["roles"]) == ["authdemo-alpha-authz-role", "authdemo-alpha-fn-role"]
    for command in ("down", "status"):
        assert run(command, "--stack", "beta", "--state-file", str(path)).exit_code == 5
    assert run("down", "--stack", "alpha", "--state-file", str(path)).exit_code == 0


@pytest.mark.parametrize("command", [["up", "--local"], ["status"], ["down"]])
def test_authdemo_home_that_cannot_be_created_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """AUTHDEMO_HOME under a file: exit 2, one sentence naming the directory and the fix."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("AUTHDEMO_HOME", str(blocker / "home"))
    result = run(*command)
    assert result.exit_code == 2, result.output
    message = one_error(result)
    assert str(blocker / "home") in message and "set AUTHDEMO_HOME" in message
    assert "Unexpected error" not in message


# ------------------------------------------------------------------ a region AWS does not have
def _stranded_stack() -> Path:
    """What `up --local --region us-wst-2` left before regions were checked: the (global) role
    and its policy created, the state file recording them and the bad region."""
    iam = boto3.client("iam", region_name="us-east-1")
    doc = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
    )
    iam.create_role(
        RoleName="authdemo-authdemo-fn-role", Path="/authdemo/authdemo/", AssumeRolePolicyDocument=doc
    )
    iam.put_role_policy(RoleName="authdemo-authdemo-fn-role", PolicyName="write-own-logs", PolicyDocument=doc)
    path = state_file()
    store = StateStore.new(path, stack="authdemo", region="us-wst-2", endpoint_url=None, local=False)
    store.set(account_id="123456789012", username="demo@example.com", password="Demo-Pass-1!")
    store.record("role", name="authdemo-authdemo-fn-role", arn="arn:aws:iam::123456789012:role/x")
    store.record("role_policy", name="write-own-logs")
    store.record("log_group", name="/aws/lambda/authdemo-authdemo-hello")
    return path


def test_down_deletes_a_stack_recorded_in_a_region_aws_does_not_have(moto: None, faults: Faults) -> None:
    """Only the global role can exist there: `down` deletes it and forgets the rest, calling no
    regional service."""
    path = _stranded_stack()
    result = run("down")
    assert result.exit_code == 0, result.output
    assert "not an AWS region" in result.stderr
    assert not path.exists()
    assert "roles" not in leftovers()
    assert {c for c in faults.calls if c not in ("DeleteRole", "GetRole")} <= {
        "ListRolePolicies",
        "ListAttachedRolePolicies",
        "DeleteRolePolicy",
        "DetachRolePolicy",
        "GetCallerIdentity",
    }


def test_sweep_deletes_a_stack_recorded_in_a_region_aws_does_not_have(moto: None) -> None:
    _stranded_stack()
    result = run("down", "--sweep", "--yes")
    assert result.exit_code == 0, result.output
    assert "roles" not in leftovers()
    assert not state_file().exists()


@pytest.mark.parametrize("command", ["up", "status", "test", "token"])
def test_other_commands_on_a_bad_recorded_region_name_down_and_forget(moto: None, command: str) -> None:
    _stranded_stack()
    result = run(command)
    assert result.exit_code == 2, result.output
    message = one_error(result)
    assert "'us-wst-2', which is not an AWS region" in message
    assert "`authdemo down`" in message and "`authdemo forget`" in message


# ------------------------------------------------------------------------------------ forget
def test_forget_keeps_a_copy_and_says_how_to_find_what_remains(moto: None) -> None:
    """Whatever state a stack is in, `forget --yes` sets the file aside and deletes nothing."""
    _stranded_stack()
    original = state_file().read_text()
    result = run("forget", "--yes")
    assert result.exit_code == 0, result.output
    assert not state_file().exists()
    kept = list(paths.home().glob("authdemo.json.forgotten-*"))
    assert len(kept) == 1 and kept[0].read_text() == original
    said = " ".join(result.stderr.split())
    assert "remain in AWS" in said and "authdemo down --sweep" in said
    assert leftovers()["roles"] == ["authdemo-authdemo-fn-role"]  # nothing deleted


def test_forget_asks_first_and_refuses_without_a_terminal(tmp_path: Path) -> None:
    state_file().parent.mkdir(parents=True, exist_ok=True)
    state_file().write_text("{not json")  # corrupt: forget still works
    result = run("forget")
    assert result.exit_code == 2 and "add --yes" in one_error(result)
    assert state_file().exists()
    assert run("forget", "--yes").exit_code == 0
    assert not state_file().exists()
    nothing = run("forget", "--yes")
    assert nothing.exit_code == 0 and "nothing to forget" in nothing.stderr


# ------------------------------------------------------------------ after `local stop`
def _local_stack(stack: str = "authdemo", pid: int = 4242) -> Path:
    path = state_file(stack, local=True)
    store = StateStore.new(path, stack=stack, region="us-west-2", endpoint_url=None, local=True)
    store.set(username="demo@example.com", password="Demo-Pass-1!", server_pid=pid)
    store.record("api", id="abc123", endpoint="https://abc123.execute-api.us-west-2.amazonaws.com")
    store.record("app_client", id="client")
    store.record("user", username="demo@example.com")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["test"],
        ["status"],
        ["token"],
        ["token", "--compare"],
        ["token", "--refresh"],
        ["token", "--sign-out"],
    ],
)
def test_after_local_stop_commands_say_the_server_stopped(command: list[str]) -> None:
    """Exit 8, one sentence, no real-AWS api_url, and no server started for it."""
    _local_stack()
    result = run(*command, "--local", "--output", "json")
    assert result.exit_code == 8, result.output
    message = one_error(result)
    assert "The embedded AWS was stopped" in message and "authdemo up --local" in message
    assert "amazonaws.com" not in result.output
    assert daemon.status() is None


@pytest.mark.parametrize("command", ["test", "status", "token"])
def test_after_a_server_restart_commands_say_so(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    _local_stack(pid=4242)
    from authdemo.local import credentials

    other = daemon.ServerInfo(pid=999999, port=1, url="http://127.0.0.1:1", started_by="start", started_at="")
    credentials.save(credentials.Credentials.generate(), port=1, pid=999999)  # a server always has its key
    monkeypatch.setattr(daemon, "status", lambda: other)
    result = run(command, "--local")
    assert result.exit_code == 8, result.output
    assert "The embedded AWS was restarted" in one_error(result)


def test_local_stop_names_the_stacks_that_go_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _local_stack("one")
    _local_stack("two")
    state_file("real").parent.mkdir(parents=True, exist_ok=True)
    state_file("real").write_text(json.dumps({"schema_version": 1, "resources": {}}))
    running = daemon.ServerInfo(
        pid=999999, port=1, url="http://127.0.0.1:1", started_by="start", started_at=""
    )
    monkeypatch.setattr(daemon, "status", lambda: running)
    monkeypatch.setattr(daemon, "stop", lambda: True)
    result = run("local", "stop")
    assert result.exit_code == 0
    said = " ".join(result.stderr.split())
    assert "one, two;" in said and "their resources go with it" in said and "real" not in said
    assert said.index("one, two") < said.index("Stopped the embedded AWS")
    assert state_file("one", local=True).exists()  # removes nothing else


# ------------------------------------------------------------- a failing authorized check
class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _always_500(clock: _FakeClock) -> Any:
    from authdemo.checks import Prober

    class Answer:
        text = "Internal Server Error"

        def __init__(self, status: int) -> None:
            self.status_code = status
            self.headers: dict[str, str] = {}

        def json(self) -> Any:
            return (
                {"message": "Unauthorized"}
                if self.status_code == 401
                else {"message": "Internal Server Error"}
            )

    class Always500(Prober):
        def get(self, token: str | None, url: str | None = None, headers: Any = None) -> Any:
            return Answer(500 if token else 401)

    return Always500("http://127.0.0.1:1/protected", sleep=clock.sleep, clock=lambda: clock.now)


@pytest.mark.parametrize(("wait", "most"), [(120.0, 3 * 5.0), (4.0, 4.0), (0.0, 0.0)])
def test_failing_authorized_checks_retry_within_wait_and_a_small_cap(wait: float, most: float) -> None:
    """A 500 on every authorized call: retries stop at 5 s per check and within `--wait` in all,
    and the failed check says what to do."""
    import base64

    from authdemo.matrix import Credential, run_matrix

    def part(obj: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    token = f"{part({'alg': 'RS256'})}.{part({'cognito:username': 'demo'})}.sig"
    clock = _FakeClock()
    rows = [Credential("none"), *(Credential(key, token) for key in ("id", "access", "tampered"))]
    url = {"protected": "http://127.0.0.1:1/protected"}
    cells, _ = run_matrix(_always_500(clock), rows, url, lambda note: None, wait)
    assert sum(clock.slept) <= most
    failed = [c for c in cells if not c.passed]
    assert [c.credential.key for c in failed] == ["id", "access", "tampered"]
    for check in failed:
        assert "got 500" in check.reason and "rerun `authdemo test`" in check.reason


# ------------------------------------------------------------------------ --password -
def test_password_dash_reads_a_hidden_prompt_twice_on_up(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`up --password -` asks twice without echo; the password never reaches argv or output."""
    from conftest import TtySys

    from authdemo.cli import base

    monkeypatch.setattr(base, "sys", TtySys(stdin=True))
    result = run("up", "--password", "-", input="Typed-Pass-12!\nTyped-Pass-12!\n")
    assert result.exit_code == 0, result.output
    assert "Typed-Pass-12!" not in result.output
    assert json.loads(state_file().read_text())["password"] == "Typed-Pass-12!"
    token = run("token", "--password", "-", input="Typed-Pass-12!\n")  # asked once: no confirmation
    assert token.exit_code == 0, token.output


def test_password_dash_without_a_terminal_needs_the_environment(
    moto: None, monkeypatch: pytest.MonkeyPatch, faults: Faults
) -> None:
    result = run("up", "--password", "-")
    assert result.exit_code == 2
    assert "set AUTHDEMO_PASSWORD" in one_error(result)
    assert faults.calls == []
    monkeypatch.setenv("AUTHDEMO_PASSWORD", "From-Env-Pass-1!")
    assert run("up", "--password", "-").exit_code == 0
    assert json.loads(state_file().read_text())["password"] == "From-Env-Pass-1!"


def test_help_says_why_not_to_type_the_password() -> None:
    said = " ".join(run("up", "--help").output.split())
    assert "AUTHDEMO_PASSWORD" in said and "--password -" in said and "shell history" in said


def test_forget_hint_reaches_the_forgotten_stack() -> None:
    """The printed `down --sweep` carries the stack and the region its state recorded."""
    store = StateStore.new(state_file("class-1"), stack="class-1", region="eu-west-1")
    store.record("role", name="authdemo-class-1-fn-role")
    result = run("forget", "--stack", "class-1", "--yes")
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert "`authdemo down --sweep --region eu-west-1 --stack class-1`" in said


def test_hints_after_local_stop_say_local_once() -> None:
    """After `local stop`, stack class-1 is told `authdemo up --local --stack class-1`, once --local."""
    _local_stack("class-1")
    result = run("test", "--local", "--stack", "class-1")
    assert result.exit_code == 8, result.output
    message = one_error(result)
    assert "`authdemo up --local --stack class-1`" in message
    assert "--local --local" not in message
