"""Never leak, never lose: `up` and `down` killed right after any single AWS call, and in the
middle of a state write, are finished by a rerun with no duplicate and nothing left behind.

The kill is a `Killed(BaseException)` raised from a botocore `after-call` handler: AWS has
done the call, authdemo never sees the answer, and no later call leaves the process (like
`kill -9` the moment the response arrives). Each scenario runs on a fresh in-process moto.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    CHANGING,
    FAULTS,
    Faults,
    cognito_domain_rules,
    leftovers,
    plain_client,
    rest_rules,
    run,
)
from moto import mock_aws

from authdemo import app, state
from authdemo.engine import NullObserver
from authdemo.units import REST_DOORS, ROUTES, Names
from authdemo.units.cognito_oauth import domain_prefix

STACK = "crash"
NAMES = Names(STACK)


class Killed(BaseException):
    """The process died: nothing after this point runs (not an Exception: nothing catches it)."""


def observer() -> contextlib.AbstractContextManager[NullObserver]:
    return contextlib.nullcontext(NullObserver())


def opts(rest: bool = False) -> app.Options:
    """The HTTP half's scenarios run `up --no-rest` (their number follows its calls); the REST
    half's kill points are covered by the grouped runs at the end (issue 21)."""
    return app.Options(stack=STACK, rest=rest)


def state_file() -> Path:
    return app.state_path(opts())


def new_faults() -> Faults:
    """Fault hooks for one scenario of a loop (the previous scenario's hooks are dropped)."""
    FAULTS.clear()
    return rest_rules(cognito_domain_rules(Faults()))


class KillSwitch:
    """Kills the run at the n-th AWS answer (or at the first answer to `op`); once dead, no
    further call reaches AWS."""

    def __init__(
        self, faults: Faults, n: int = 0, op: str | None = None, counts: Callable[[Any], bool] | None = None
    ) -> None:
        self.n = n
        self.op = op
        self.counts = counts  # which answers count towards n (None: every one)
        self.answers = 0
        self.armed = True
        self.dead = False
        self.calls: list[str] = []
        self._lock = threading.Lock()
        faults.on("*", "before-call", self._before, first=True)
        faults.on("*", "after-call", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        if self.armed and self.dead:
            raise Killed(f"call after death: {model.name}")

    def _after(self, model: Any, **_: Any) -> None:
        if not self.armed or (self.counts is not None and not self.counts(model)):
            return
        with self._lock:
            self.answers += 1
            self.calls.append(model.name)
            if (self.op is None and self.answers >= self.n) or model.name == self.op:
                self.dead = True
        if self.dead:
            raise Killed(f"killed after answer {self.answers} ({model.name})")

    def run(self, fn: Callable[[], Any]) -> bool:
        """Run `fn` with the switch armed; True if it was killed. Disarms afterwards."""
        try:
            fn()
            return False
        except Killed:
            return True
        finally:
            self.armed = False


def up(rest: bool = False) -> Any:
    return app.up(opts(rest), observer)


def down() -> Any:
    return app.down(opts(), observer)


def client(service: str) -> Any:
    return plain_client(service)


@dataclass
class Census:
    """One read of everything with the stack's names (straight from moto): `counts` of each
    kind, and what `assert_recorded_match_aws` compares with the state file."""

    counts: dict[str, int]
    pool_ids: list[str]
    api_ids: list[str]
    client_ids: list[str] = field(default_factory=list)
    domain: str | None = None
    authorizer_ids: list[str] = field(default_factory=list)
    routes: list[dict[str, Any]] = field(default_factory=list)


def stack_census() -> Census:
    cognito = client("cognito-idp")
    gateway = client("apigatewayv2")
    lam = client("lambda")
    all_pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    all_apis = gateway.get_apis()["Items"]
    pools = [p for p in all_pools if p["Name"] == NAMES.user_pool]
    apis = [a for a in all_apis if a["Name"] == NAMES.api]
    fn_names = (NAMES.function, NAMES.authorizer_function)
    functions = [f for f in lam.list_functions()["Functions"] if f["FunctionName"] in fn_names]
    roles = client("iam").list_roles()["Roles"]
    census = Census(
        counts={
            "pools": len(pools),
            "apis": len(apis),
            "functions": len(functions),
            "roles": sum(r["RoleName"] in (NAMES.role, NAMES.authorizer_role) for r in roles),
            "log_groups": sum(
                g["logGroupName"] in (NAMES.log_group, NAMES.authorizer_log_group)
                for g in client("logs").describe_log_groups()["logGroups"]
            ),
        },
        pool_ids=[p["Id"] for p in all_pools],
        api_ids=[a["ApiId"] for a in all_apis],
    )
    counts = census.counts
    if len(pools) == 1:
        pool_id = pools[0]["Id"]
        clients = cognito.list_user_pool_clients(UserPoolId=pool_id)["UserPoolClients"]
        census.client_ids = [c["ClientId"] for c in clients]
        counts["clients"] = len(clients)
        census.domain = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("Domain")
        counts["domains"] = int(bool(census.domain))
        counts["resource_servers"] = len(
            cognito.list_resource_servers(UserPoolId=pool_id, MaxResults=50)["ResourceServers"]
        )
        counts["users"] = len(cognito.list_users(UserPoolId=pool_id)["Users"])
        counts["groups"] = len(cognito.list_groups(UserPoolId=pool_id)["Groups"])
        counts["members"] = len(
            cognito.list_users_in_group(UserPoolId=pool_id, GroupName=NAMES.group)["Users"]
            if counts["groups"]
            else []
        )
    if len(apis) == 1:
        api_id = apis[0]["ApiId"]
        census.authorizer_ids = [a["AuthorizerId"] for a in gateway.get_authorizers(ApiId=api_id)["Items"]]
        counts["authorizers"] = len(census.authorizer_ids)
        counts["integrations"] = len(gateway.get_integrations(ApiId=api_id)["Items"])
        census.routes = gateway.get_routes(ApiId=api_id)["Items"]
        counts["routes"] = sum(r["RouteKey"] in {cls.route_key for cls in ROUTES} for r in census.routes)
        counts["stages"] = len(gateway.get_stages(ApiId=api_id)["Items"])
    if len(functions) == 2:
        for name in fn_names:
            policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
            counts["permissions"] = counts.get("permissions", 0) + len(policy["Statement"])
    return census


ONE_OF_EACH = {  # one of each kind of resource: two functions (demo + authorizer), each with its
    "pools": 1,  # role, log group and invoke permission; two users, two clients (user, M2M),
    # three authorizers (JWT, M2M JWT, Lambda), five routes, the pool's domain, one resource server
    "apis": 1,
    "functions": 2,
    "roles": 2,
    "log_groups": 2,
    "clients": 2,
    "domains": 1,
    "resource_servers": 1,
    "users": 2,
    "groups": 1,
    "members": 1,
    "authorizers": 3,
    "integrations": 1,
    "routes": 5,
    "stages": 1,
    "permissions": 2,
}


def assert_nothing_left() -> None:
    """Nothing of the stack exists, its pool domain included (moto keeps a domain whose pool
    was deleted), and no state file is left."""
    assert leftovers() == {}
    assert not state_file().exists()
    prefix = domain_prefix(STACK, "123456789012", "us-west-2")
    assert client("cognito-idp").describe_user_pool_domain(Domain=prefix)["DomainDescription"] == {}


def assert_recorded_match_aws(census: Census) -> None:
    """The state file names exactly the resources that exist (as `census` read them)."""
    res = json.loads(state_file().read_text())["resources"]
    assert census.pool_ids == [res["user_pool"]["id"]]
    assert census.api_ids == [res["api"]["id"]]
    assert sorted(census.authorizer_ids) == sorted(
        [res["authorizer"]["id"], res["lambda_authorizer"]["id"], res["m2m_authorizer"]["id"]]
    )
    routes = {r["RouteKey"]: r for r in census.routes}
    for cls in ROUTES:
        route = routes[cls.route_key]
        assert route["RouteId"] == res[cls.key]["id"]
        assert route.get("AuthorizerId") == (res[cls.authorizer_key]["id"] if cls.authorizer_key else None)
        assert route["Target"] == f"integrations/{res['integration']['id']}"
    assert sorted(census.client_ids) == sorted([res["app_client"]["id"], res["m2m_client"]["id"]])
    assert census.domain == res["domain"]["id"]
    assert "ClientSecret" not in json.dumps(res) and "secret" not in json.dumps(res["m2m_client"])


@contextlib.contextmanager
def fresh_aws() -> Iterator[None]:
    with mock_aws():
        yield
    state_file().unlink(missing_ok=True)


def test_the_kill_points_cover_every_call_that_changes_aws(aws_rules: Faults) -> None:
    """The lists of changing calls below are exactly those a clean up and down make: the HTTP
    half's (`up --no-rest`), and with the REST half (the default) those plus REST_UP_CHANGES."""
    faults = aws_rules
    with fresh_aws():
        up(rest=False)
        up_calls = list(faults.calls)
        down()
        down_calls = faults.calls[len(up_calls) :]
        assert leftovers() == {}
        del faults.calls[:]
        up(rest=True)
        rest_up_calls = list(faults.calls)
        down()
        rest_down_calls = faults.calls[len(rest_up_calls) :]
        assert leftovers() == {}
    # Each kill point below is a test of its own: their number must follow the code.
    assert len(up_calls) == UP_CALLS and len(down_calls) == DOWN_CALLS, (
        "update UP_CALLS / DOWN_CALLS so that a kill after every call stays covered",
        up_calls,
        down_calls,
    )
    assert len(rest_up_calls) == UP_CALLS + REST_UP_CALLS, rest_up_calls
    assert len(rest_down_calls) == DOWN_CALLS + REST_DOWN_CALLS, rest_down_calls
    assert sorted(c for c in up_calls if c.startswith(CHANGING)) == sorted(UP_CHANGES)
    assert sorted(c for c in down_calls if c.startswith(CHANGING)) == sorted(DOWN_CHANGES)
    assert sorted(c for c in rest_up_calls if c.startswith(CHANGING)) == sorted(UP_CHANGES + REST_UP_CHANGES)
    assert sorted(c for c in rest_down_calls if c.startswith(CHANGING)) == sorted(
        DOWN_CHANGES + REST_DOWN_CHANGES
    )


# How many AWS calls a clean up and a clean down make (checked against a clean run above).
UP_CALLS = 42  # 37 before issue 11: + domain, resource server, M2M client, its authorizer, /m2m
# The recorded domain is deleted on the way to DeleteUserPool, which goes at once on moto; since
# issue 21, down also looks for a REST API (GetRestApis) a killed `up` may have left unrecorded.
DOWN_CALLS = 15
# Every call of a clean run that changes AWS (checked against a clean run above).
UP_CHANGES = (
    *("CreateRole", "PutRolePolicy", "CreateLogGroup", "PutRetentionPolicy") * 2,  # per function
    "CreateUserPool",
    *("CreateUserPoolClient",) * 2,  # the user app client and the M2M client
    "CreateUserPoolDomain",
    "CreateResourceServer",
    *("AdminCreateUser", "AdminSetUserPassword") * 2,  # the demo user and the student
    "CreateGroup",
    "AdminAddUserToGroup",
    "CreateApi",
    "CreateStage",
    *("CreateAuthorizer", "CreateFunction", "AddPermission") * 2,  # JWT/demo, Lambda/authorizer
    "CreateAuthorizer",  # the M2M JWT authorizer
    "CreateIntegration",
    *("CreateRoute",) * 5,
)
DOWN_CHANGES = (
    "DeleteApi",
    "DeleteUserPoolDomain",
    "DeleteUserPool",
    *("DeleteFunction", "DeleteLogGroup", "DeleteRolePolicy", "DeleteRole") * 2,
)
# The REST half's (issue 21), on top of the above: GetRestApis (discovery) and these changes.
REST_UP_CALLS = 22
REST_UP_CHANGES = (
    "CreateRestApi",
    *("CreateAuthorizer",) * 2,  # cognito-pool, presenters-token
    *("CreateResource", "PutMethod", "PutIntegration") * 5,  # five doors
    "CreateDeployment",  # with stageName: the deployment and the stage demo
    *("AddPermission",) * 2,  # the backend's and the TOKEN authorizer's
)
REST_DOWN_CALLS = 1  # DeleteRestApi
REST_DOWN_CHANGES = ("DeleteRestApi",)


def killed_down_is_finished_by_a_rerun(n: int = 0, op: str | None = None) -> None:
    """down killed after its n-th answer (or its first answer to `op`): the state file stays
    whole until everything is deleted; down again deletes the rest; a third down finds nothing."""
    switch = KillSwitch(new_faults(), n, op)
    try:
        assert switch.run(down), "the kill of down never happened"
        assert state_file().exists(), "the state file went before everything was deleted"
        json.loads(state_file().read_text())
        down()
        assert_nothing_left()
        again = down()
        assert again[0] == [] and again[1] is None
    except AssertionError as exc:
        raise AssertionError(f"down killed after {switch.calls}: {exc}") from exc


@pytest.mark.parametrize("n", range(1, UP_CALLS + 1))
def test_up_killed_after_each_call_is_completed_by_a_rerun_without_duplicates(n: int) -> None:
    """For every N, up killed after the N-th AWS answer, then up: one of each, all recorded.
    Then this stack's down is killed after its M-th answer (M = N mod DOWN_CALLS, so every M is
    met at least twice) and finished by a rerun: nothing left."""
    m = (n - 1) % DOWN_CALLS + 1
    switch = KillSwitch(new_faults(), n)
    with fresh_aws():
        try:
            assert switch.run(up), "the kill never happened"
            state_before = state_file().read_bytes() if state_file().exists() else None
            if state_before is not None:
                assert json.loads(state_before)["schema_version"] == state.SCHEMA_VERSION
            up()
            census = stack_census()
            assert census.counts == ONE_OF_EACH, census.counts
            assert_recorded_match_aws(census)
        except AssertionError as exc:
            raise AssertionError(f"N={n} after {switch.calls}: {exc}") from exc
        killed_down_is_finished_by_a_rerun(m)


#: Each kill of up right after one of its changes is followed by a kill of down right after one
#: of its own, in turn (so each of down's changes is met at least twice).
AFTER_EACH_CHANGE = [(op, DOWN_CHANGES[i % len(DOWN_CHANGES)]) for i, op in enumerate(UP_CHANGES)]


@pytest.mark.parametrize(("op", "down_op"), AFTER_EACH_CHANGE, ids=[f"{a}-{b}" for a, b in AFTER_EACH_CHANGE])
def test_up_killed_right_after_each_change_is_completed_without_duplicates(op: str, down_op: str) -> None:
    """up killed the moment `op` answered (whatever ran beside it), then up: one of each; then
    down killed the moment `down_op` answered, then down: nothing left."""
    switch = KillSwitch(new_faults(), op=op)
    with fresh_aws():
        assert switch.run(up)
        assert op in switch.calls
        up()
        census = stack_census()
        assert census.counts == ONE_OF_EACH
        assert_recorded_match_aws(census)
        killed_down_is_finished_by_a_rerun(op=down_op)


@pytest.mark.parametrize("op", UP_CHANGES)
def test_up_killed_right_after_each_change_then_down_leaves_nothing(op: str) -> None:
    """up killed the moment `op` answered, then down straight away (no second up): down finds
    everything the killed run made, by state or by name and tag, and deletes it."""
    switch = KillSwitch(new_faults(), op=op)
    with fresh_aws():
        assert switch.run(up)
        new_faults()
        down()
        try:
            assert_nothing_left()
        except AssertionError as exc:
            raise AssertionError(f"after {switch.calls}: {exc}") from exc


def test_up_killed_twice_in_a_row_still_converges() -> None:
    """Two consecutive kills (after the 12th, then the 5th answer) and a third up: one of each."""
    with fresh_aws():
        assert KillSwitch(new_faults(), 12).run(up)
        assert KillSwitch(new_faults(), 5).run(up)
        up()
        assert stack_census().counts == ONE_OF_EACH
        down()
        assert leftovers() == {}


class _ReplaceKiller:
    """Wraps os.replace: the k-th replace of the state file dies before it happens."""

    def __init__(self, target: Path, k: int) -> None:
        self.target = target
        self.k = k
        self.seen = 0
        self.before: bytes | None = None
        self.real = os.replace

    def __call__(self, src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if Path(dst) == self.target:
            self.seen += 1
            if self.seen == self.k:
                self.before = self.target.read_bytes() if self.target.exists() else None
            if self.seen >= self.k:  # dead: no later write (from another thread) lands either
                raise Killed("killed while writing the state file")
        self.real(src, dst, *args, **kwargs)


@pytest.mark.parametrize("k", [2, 7, 15])
def test_kill_during_a_state_write_in_up_keeps_the_previous_file(moto: None, monkeypatch, k: int) -> None:
    """up killed in its k-th state write: the file is the previous one, intact; a rerun finishes."""
    killer = _ReplaceKiller(state_file(), k)
    monkeypatch.setattr(state.os, "replace", killer)
    with pytest.raises(Killed):
        up()
    monkeypatch.setattr(state.os, "replace", killer.real)
    assert killer.before is not None
    assert state_file().read_bytes() == killer.before
    assert json.loads(killer.before)["schema_version"] == state.SCHEMA_VERSION
    assert not [p.name for p in state_file().parent.iterdir() if p.name.endswith(".tmp")]
    up()
    assert stack_census().counts == ONE_OF_EACH
    down()
    assert leftovers() == {}


def test_kill_during_a_state_write_in_down_keeps_the_previous_file(moto: None, monkeypatch) -> None:
    """down killed in its first state write: the previous file stays whole; down again finishes."""
    up()
    before = state_file().read_bytes()
    killer = _ReplaceKiller(state_file(), 1)
    monkeypatch.setattr(state.os, "replace", killer)
    with pytest.raises(Killed):
        down()
    monkeypatch.setattr(state.os, "replace", killer.real)
    assert state_file().read_bytes() == before == killer.before
    assert set(json.loads(before)["resources"]) >= {"api", "function", "role", "user_pool", "log_group"}
    down()
    assert leftovers() == {}
    assert not state_file().exists()


def test_ctrl_c_in_a_worker_is_one_line_exit_130_and_up_resumes(moto: None, faults: Faults) -> None:
    """Ctrl-C arriving right after CreateUserPool answered: exit 130, one-line hint, rerun completes."""
    fired = []

    def interrupt(**_: Any) -> None:
        if not fired:
            fired.append(1)
            raise KeyboardInterrupt

    faults.on("cognito-idp", "after-call.cognito-idp.CreateUserPool", interrupt)
    result = run("up", "--stack", STACK, "--no-rest")
    assert result.exit_code == 130, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"rerun `authdemo up --stack {STACK}`" in " ".join(result.stderr.split())
    again = run("up", "--stack", STACK)
    assert again.exit_code == 0, again.output
    assert stack_census().counts == ONE_OF_EACH
    assert run("down", "--stack", STACK).exit_code == 0
    assert leftovers() == {}


def test_real_ctrl_c_lets_running_calls_land_and_up_resumes(moto: None, faults: Faults) -> None:
    """SIGINT to the main thread right after CreateRole answered: exit 130, the role recorded."""
    sent = []

    def sigint(**_: Any) -> None:
        if not sent:
            sent.append(1)
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    faults.on("iam", "after-call.iam.CreateRole", sigint)
    # A shell starts background jobs with SIGINT ignored, and Python then keeps it ignored:
    # give this test the handler a terminal's Ctrl-C meets.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = run("up", "--stack", STACK, "--no-rest")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert sent and result.exit_code == 130, result.output
    assert "Traceback" not in result.output
    assert result.stderr.count("Error:") == 1 and "Interrupted." in result.stderr
    recorded = json.loads(state_file().read_text())["resources"]
    assert recorded["role"]["name"] == NAMES.role
    again = run("up", "--stack", STACK)
    assert again.exit_code == 0, again.output
    assert stack_census().counts == ONE_OF_EACH
    assert run("down", "--stack", STACK).exit_code == 0
    assert leftovers() == {}


# ----------------------------------------------------------------------- the REST half (issue 21)
def rest_call(model: Any) -> bool:
    """An answer of the REST half's: API Gateway v1, or the Lambda permissions' calls."""
    return model.service_model.service_name == "apigateway" or model.name in ("AddPermission", "GetPolicy")


def rest_census() -> dict[str, int]:
    """How many of each REST resource the stack has (straight from moto)."""
    gateway = client("apigateway")
    apis = [a for a in gateway.get_rest_apis()["items"] if a["name"] == NAMES.rest_api]
    counts = {"rest_apis": len(apis)}
    if len(apis) == 1:
        api_id = apis[0]["id"]
        resources = gateway.get_resources(restApiId=api_id)["items"]
        methods = [r for r in resources if "GET" in (r.get("resourceMethods") or {})]
        counts["authorizers"] = len(gateway.get_authorizers(restApiId=api_id)["items"])
        counts["resources"] = len(resources) - 1  # the root
        counts["methods"] = len(methods)
        counts["integrations"] = sum(
            bool(
                gateway.get_method(restApiId=api_id, resourceId=r["id"], httpMethod="GET").get(
                    "methodIntegration"
                )
            )
            for r in methods
        )
        counts["stages"] = len(gateway.get_stages(restApiId=api_id)["item"])
    lam = client("lambda")
    statements = [
        s["Sid"]
        for name in (NAMES.function, NAMES.authorizer_function)
        for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    ]
    counts["permissions"] = sum(
        sid in (NAMES.rest_statement_id, NAMES.rest_authorizer_statement_id) for sid in statements
    )
    return counts


REST_ONE_OF_EACH = {
    "rest_apis": 1,
    "authorizers": 2,
    "resources": 5,
    "methods": 5,
    "integrations": 5,
    "stages": 1,
    "permissions": 2,
}
REST_NONE = {"rest_apis": 0, "permissions": 0}


def assert_rest_recorded_match_aws() -> None:
    """The state names the REST API, both authorizers, the resources and the stage's deployment
    as they are in AWS."""
    res = json.loads(state_file().read_text())["resources"]
    gateway = client("apigateway")
    (api,) = [a for a in gateway.get_rest_apis()["items"] if a["name"] == NAMES.rest_api]
    assert res["rest_api"]["id"] == api["id"]
    authorizers = {a["name"]: a["id"] for a in gateway.get_authorizers(restApiId=api["id"])["items"]}
    assert authorizers == {
        NAMES.rest_authorizer: res["rest_authorizer"]["id"],
        NAMES.rest_token_authorizer: res["rest_token_authorizer"]["id"],
    }
    paths = {r["path"]: r["id"] for r in gateway.get_resources(restApiId=api["id"])["items"]}
    for door in REST_DOORS:
        assert res[f"rest_resource_{door.name}"]["id"] == paths[door.path]
        method = gateway.get_method(restApiId=api["id"], resourceId=paths[door.path], httpMethod="GET")
        wanted = res[door.authorizer_key]["id"] if door.authorizer_key else None
        assert method.get("authorizerId") == wanted
    stage = gateway.get_stage(restApiId=api["id"], stageName=NAMES.rest_stage)
    assert stage["deploymentId"] == res["rest_stage"]["deployment"]
    deployment = gateway.get_deployment(restApiId=api["id"], deploymentId=stage["deploymentId"])
    assert deployment["description"].endswith(res["rest_stage"]["digest"])


def rest_change(model: Any) -> bool:
    return rest_call(model) and model.name.startswith(CHANGING)


def test_up_killed_after_each_rest_change_in_turn_converges() -> None:
    """The REST half, in one AWS: on a stack with the HTTP half, every `up` is killed right after
    its first REST change, so that the REST changes of a build are kill points in turn and each
    rerun resumes from what the killed one left (recorded, or found by name, tag or path), until
    an `up` finishes: one of each REST resource, all recorded; every change made exactly once."""
    with fresh_aws():
        up(rest=False)
        kills: list[str] = []
        made: list[str] = []  # every REST change AWS answered, in every run (killed or not)
        while True:
            switch = KillSwitch(new_faults(), 1, counts=rest_change)
            killed = switch.run(lambda: up(rest=True))
            made += switch.calls
            if not killed:
                break
            kills.append(switch.calls[0])
            assert len(kills) <= len(REST_UP_CHANGES), " ".join(kills)
        try:
            assert sorted(made) == sorted(REST_UP_CHANGES)  # nothing made twice
            assert len(kills) > len(REST_UP_CHANGES) // 2  # (steps running beside a kill land)
            assert rest_census() == REST_ONE_OF_EACH
            assert_rest_recorded_match_aws()
        except AssertionError as exc:
            raise AssertionError(f"after kills {kills}: {exc}") from exc
        new_faults()
        down()
        assert leftovers() == {}


@pytest.mark.parametrize("op", ["CreateRestApi", "CreateDeployment"])
def test_up_killed_after_a_rest_change_then_down_leaves_nothing(op: str) -> None:
    """up killed the moment `op` answered (the REST API not yet recorded, or its deployment
    not), then down straight away: the REST API is found by name and tag and deleted."""
    switch = KillSwitch(new_faults(), op=op)
    with fresh_aws():
        assert switch.run(lambda: up(rest=True))
        new_faults()
        down()
        assert_nothing_left()
