"""Each AWS behaviour that moto does not show (shared/aws-facts.md), simulated beside moto,
and authdemo's answer to it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from conftest import aws_error, free_port, leftovers, run, run_json

from authdemo import paths
from authdemo.checks import Prober
from authdemo.errors import UnreachableError
from authdemo.units import awslambda, base

ROLE_MSG = "The role defined for the function cannot be assumed by Lambda."


def test_create_function_retries_while_role_propagates(moto, faults, monkeypatch):
    """CreateFunction is retried on the role-not-ready message, an attempt at most every 0.2 s (the
    round trip counts toward it), never after a fixed long sleep."""
    sleeps: list[float] = []
    monkeypatch.setattr(base, "sleep", sleeps.append)
    faults.fail("lambda", "CreateFunction", "InvalidParameterValueException", ROLE_MSG, times=4)
    result = run("up", "--no-rest")
    assert result.exit_code == 0, result.output
    assert faults.count("CreateFunction") == 6  # 4 refusals (shared by both functions) + 2 creations
    assert len(sleeps) == 4 and all(0 < s <= awslambda.ROLE_RETRY_SECONDS for s in sleeps), sleeps


def test_a_slow_refusal_is_retried_at_once(moto, faults, monkeypatch):
    """A refusal that took longer than the retry period is retried without sleeping: on a slow
    network the next attempt leaves as soon as the last answer is in (bench_up.py's retry phase)."""
    sleeps: list[float] = []
    monkeypatch.setattr(base, "sleep", sleeps.append)
    monkeypatch.setattr(awslambda, "ROLE_RETRY_SECONDS", 0.02)
    faults.fail("lambda", "CreateFunction", "InvalidParameterValueException", ROLE_MSG, times=2)
    faults.on("lambda", "before-call.lambda.CreateFunction", lambda **_: time.sleep(0.03), first=True)
    assert run("up", "--no-rest").exit_code == 0
    assert faults.count("CreateFunction") == 4 and sleeps == []


def test_role_message_about_permissions_is_retried_too(moto, faults, monkeypatch):
    """The other propagation message ('role ... does not have permissions') is retried as well."""
    monkeypatch.setattr(base, "sleep", lambda s: None)
    faults.fail(
        "lambda",
        "CreateFunction",
        "InvalidParameterValueException",
        "The provided execution role does not have permissions to call CreateNetworkInterface on EC2",
        times=2,
    )
    assert run("up", "--no-rest").exit_code == 0
    assert faults.count("CreateFunction") == 4  # 2 refusals + the demo and authorizer functions


def test_role_never_ready_gives_up_with_resume_hint(moto, faults, monkeypatch):
    """A role that never propagates ends in one sentence, exit 7, and everything else recorded."""
    monkeypatch.setattr(awslambda, "ROLE_WAIT_SECONDS", 0.5)
    faults.fail("lambda", "CreateFunction", "InvalidParameterValueException", ROLE_MSG, times=10**6)
    result = run("up", "--no-rest")
    assert result.exit_code == 7
    assert "run `authdemo up` again to resume" in " ".join(result.stderr.split())
    state = json.loads((paths.home() / "authdemo.json").read_text())
    assert {"role", "user_pool", "app_client", "user", "api"} <= set(state["resources"])
    faults.clear()  # IAM caught up
    again = run("up", "--no-rest")
    assert again.exit_code == 0, again.output
    assert len(boto3.client("lambda").list_functions()["Functions"]) == 2  # demo + authorizer


def test_other_create_function_errors_are_not_retried(moto, faults):
    """Only the propagation messages are retried; any other invalid parameter fails at once."""
    faults.fail("lambda", "CreateFunction", "InvalidParameterValueException", "Runtime is wrong", times=5)
    tried: list[str] = []
    faults.on(
        "lambda",
        "provide-client-params.lambda.CreateFunction",
        lambda params, **_: tried.append(params["FunctionName"]),
    )
    result = run("up", "--no-rest")
    # Both functions may be on their way when the first refusal stops the run; neither is retried.
    assert result.exit_code == 1 and tried and len(tried) == len(set(tried))
    assert "Runtime is wrong" in result.stderr


def _state_after(parsed: dict[str, Any], states: list[str]) -> None:
    if states:
        parsed["State"] = states.pop(0)


def test_up_waits_for_pending_function_to_become_active(moto, faults, monkeypatch):
    """A new function is Pending at first: up polls GetFunctionConfiguration until Active."""
    monkeypatch.setattr(base, "sleep", lambda s: None)
    states = ["Pending", "Pending", "Pending"]
    faults.on(
        "lambda",
        "after-call.lambda.GetFunctionConfiguration",
        lambda parsed, **_: _state_after(parsed, states),
    )
    result = run("up", "--no-rest")
    assert result.exit_code == 0, result.output
    assert states == [] and faults.count("GetFunctionConfiguration") >= 4


def test_failed_function_state_is_reported(moto, faults):
    """A function that lands in State=Failed stops up with its StateReason."""

    def failed(parsed: dict[str, Any], **_: Any) -> None:
        parsed.update(State="Failed", StateReason="Lambda was unable to configure your function")

    faults.on("lambda", "after-call.lambda.GetFunctionConfiguration", failed)
    result = run("up", "--no-rest")
    assert result.exit_code == 1
    assert "unable to configure your function" in " ".join(result.stderr.split())


def _throttle_response(count: list[int], times: int):
    def handler(request: Any, **_: Any) -> AWSResponse | None:
        count[0] += 1
        if count[0] <= times:
            body = json.dumps({"__type": "TooManyRequestsException", "message": "Rate exceeded"}).encode()
            return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body))
        return None

    return handler


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any):
        yield self.body

    def read(self, *_: Any) -> bytes:
        return self.body


def test_cognito_throttling_http_400_is_retried(server, server_env, faults):
    """TooManyRequestsException arrives with HTTP 400; standard retry mode retries it.

    Over real HTTP (the embedded server): in-process moto would still run the throttled sends.
    """
    count = [0]
    faults.on(
        "cognito-idp", "before-send.cognito-idp.CreateUserPool", _throttle_response(count, 2), first=True
    )
    e = ("--endpoint-url", server.url, "--stack", "throttle")
    result = run("up", "--no-rest", *e)
    assert result.exit_code == 0, result.output
    assert count[0] == 3  # two throttled sends, then success, all inside one API call
    assert faults.count("CreateUserPool") == 1
    pools = leftovers(endpoint_url=server.url)["user_pools"]
    assert pools.count("authdemo-throttle-pool") == 1
    assert run("down", *e).exit_code == 0


def test_legacy_retry_mode_would_not_retry_throttling(moto):
    """Why authdemo uses standard mode: the legacy default gives up on a 400 throttle."""
    client = boto3.client("cognito-idp", config=Config(retries={"mode": "legacy"}))
    count = [0]
    client.meta.events.register_first("before-send.cognito-idp.CreateUserPool", _throttle_response(count, 1))
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.create_user_pool(PoolName="p")
    assert count[0] == 1


def test_repeated_permission_conflict_counts_as_present(moto, faults):
    """AWS answers a repeated StatementId with ResourceConflictException (moto accepts it)."""
    faults.fail(
        "lambda",
        "AddPermission",
        "ResourceConflictException",
        "The statement id (authdemo-authdemo-invoke) provided already exists.",
    )
    result = run("up", "--no-rest")
    assert result.exit_code == 0, result.output
    state = json.loads((paths.home() / "authdemo.json").read_text())
    assert state["resources"]["permission"]["sid"] == "authdemo-authdemo-invoke"


def test_permission_names_this_api_only(moto):
    """The invoke permission's source ARN names this API's id and GET (its routes); the REST API's
    (issue 21), a statement of its own, names the REST API's id and GET the same way."""
    assert run("up").exit_code == 0
    info = run_json("status")
    policy = json.loads(boto3.client("lambda").get_policy(FunctionName=info["function_name"])["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {"authdemo-authdemo-invoke", "authdemo-authdemo-rest-invoke"}
    rest_id = info["rest_api_url"].split("//")[1].split(".")[0]
    assert statements["authdemo-authdemo-rest-invoke"]["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:us-west-2:123456789012:{rest_id}/*/GET/*"
    )
    statement = statements["authdemo-authdemo-invoke"]
    api_id = (
        info["api_url"].rstrip("/").split("/")[-1]
        if info["endpoint_url"]
        else info["api_url"].split("//")[1].split(".")[0]
    )
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:us-west-2:123456789012:{api_id}/*/GET/*"
    )
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}


def test_role_policy_is_least_privilege(moto):
    """The role may only write its own log group: no wildcard resource, no managed policy."""
    assert run("up", "--no-rest").exit_code == 0
    iam = boto3.client("iam")
    role = "authdemo-authdemo-fn-role"
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    (statement,) = doc["Statement"]
    assert set(statement["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert all(
        r.startswith("arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/authdemo-authdemo-hello:")
        for r in statement["Resource"]
    )
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_log_group_that_outlives_the_function_is_deleted(moto):
    """Lambda's log group survives DeleteFunction; down deletes it, even one Lambda made itself."""
    assert run("up", "--no-rest").exit_code == 0
    logs = boto3.client("logs")
    state_file = paths.home() / "authdemo.json"
    state = json.loads(state_file.read_text())
    del state["resources"]["log_group"]  # as if Lambda had created it on first invoke
    state_file.write_text(json.dumps(state))
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/authdemo-authdemo-hello")["logGroups"]
    assert run("down").exit_code == 0
    assert logs.describe_log_groups()["logGroups"] == []


def test_role_with_policies_is_emptied_before_delete(moto, faults):
    """IAM answers DeleteConflict while a role has policies; down removes them first, even foreign ones."""
    assert run("up", "--no-rest").exit_code == 0
    iam = boto3.client("iam")
    policy = iam.create_policy(
        PolicyName="extra",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
            }
        ),
    )
    iam.attach_role_policy(RoleName="authdemo-authdemo-fn-role", PolicyArn=policy["Policy"]["Arn"])

    def conflict_if_not_empty(params: dict[str, Any], **_: Any) -> Any:
        name = params["body"]["RoleName"]  # the role this DeleteRole names (query protocol)
        if (
            iam.list_role_policies(RoleName=name)["PolicyNames"]
            or iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        ):
            return aws_error("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
        return None

    faults.on("iam", "before-call.iam.DeleteRole", conflict_if_not_empty)
    result = run("down")
    assert result.exit_code == 0, result.output
    assert "roles" not in leftovers()


@pytest.mark.parametrize("remove", ["api", "function", "log_group", "user_pool", "role", "all"])
def test_already_deleted_counts_as_deleted(moto, remove):
    """Whatever was deleted behind authdemo's back, down succeeds and removes the state file."""
    assert run("up", "--no-rest").exit_code == 0
    info = run_json("status")
    api_id = json.loads((paths.home() / "authdemo.json").read_text())["resources"]["api"]["id"]
    deleters = {
        "api": lambda: boto3.client("apigatewayv2").delete_api(ApiId=api_id),
        "function": lambda: boto3.client("lambda").delete_function(FunctionName=info["function_name"]),
        "log_group": lambda: boto3.client("logs").delete_log_group(logGroupName=info["log_group"]),
        "user_pool": lambda: boto3.client("cognito-idp").delete_user_pool(UserPoolId=info["user_pool_id"]),
        "role": lambda: (
            boto3.client("iam").delete_role_policy(RoleName=info["role_name"], PolicyName="write-own-logs"),
            boto3.client("iam").delete_role(RoleName=info["role_name"]),
        ),
    }
    for key in deleters if remove == "all" else [remove]:
        deleters[key]()
    status = run_json("status")
    if remove != "all":
        assert status["resources"][remove]["exists"] is False
    result = run("down")
    assert result.exit_code == 0, result.output
    assert leftovers() == {}
    assert not (paths.home() / "authdemo.json").exists()


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("apigatewayv2", "DeleteApi", "NotFoundException"),
        ("lambda", "DeleteFunction", "ResourceNotFoundException"),
        ("logs", "DeleteLogGroup", "ResourceNotFoundException"),
        ("iam", "DeleteRole", "NoSuchEntity"),
        ("cognito-idp", "DeleteUserPool", "ResourceNotFoundException"),
    ],
)
def test_each_services_not_found_is_success(moto, faults, service, operation, code):
    """Each service's own 'already gone' error code (AWS's, where moto differs) ends down cleanly."""
    assert run("up", "--no-rest").exit_code == 0
    faults.fail(service, operation, code, "gone")
    result = run("down")
    assert result.exit_code == 0, result.output
    assert not (paths.home() / "authdemo.json").exists()


def test_pool_with_domain_and_protection_is_deleted(moto, cognito_rules):
    """AWS refuses DeleteUserPool while a domain or deletion protection exists (moto enforces
    neither: `cognito_rules` and the hook below do, through botocore): down clears both, here a
    domain a killed run never recorded and protection turned on by hand."""
    assert run("up", "--no-rest").exit_code == 0
    cognito = boto3.client("cognito-idp")
    pool_id = run_json("status")["user_pool_id"]
    recorded = json.loads((paths.home() / "authdemo.json").read_text())
    cognito.delete_user_pool_domain(Domain=recorded["resources"]["domain"]["id"], UserPoolId=pool_id)
    cognito.create_user_pool_domain(Domain="authdemo-test-domain", UserPoolId=pool_id)
    cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="ACTIVE")
    protected = [True]

    def protection(model: Any, params: Any, **_: Any) -> Any:
        body = json.loads(params.get("body") or b"{}")
        if model.name == "UpdateUserPool" and body.get("DeletionProtection") == "INACTIVE":
            protected[0] = False
        if model.name == "DeleteUserPool" and protected[0]:
            return aws_error("InvalidParameterException", "Deletion protection is active on the user pool")
        return None

    cognito_rules.on("cognito-idp", "before-call", protection)
    before = len(cognito_rules.calls)
    assert run("down").exit_code == 0
    pool_calls = ("DeleteUserPool", "DescribeUserPool", "DeleteUserPoolDomain", "UpdateUserPool")
    calls = [c for c in cognito_rules.calls[before:] if c in pool_calls]
    # The recorded domain (already gone) first; the optimistic delete is refused; the pool is
    # read, cleared (the unrecorded domain, the protection) and deleted.
    assert calls == [
        "DeleteUserPoolDomain",
        "DeleteUserPool",
        "DescribeUserPool",
        "DeleteUserPoolDomain",
        "UpdateUserPool",
        "DeleteUserPool",
    ]
    assert cognito.list_user_pools(MaxResults=60)["UserPools"] == []
    assert cognito.describe_user_pool_domain(Domain="authdemo-test-domain")["DomainDescription"] == {}


# ------------------------------------------------------------------- endpoint warm-up (real HTTP)
def _send_json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    """A stand-in API's answer: `body` as JSON with `status`, as API Gateway sends its own."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class _Scripted(BaseHTTPRequestHandler):
    """Answers GETs from a script: e.g. 404, 503, 500, then 401 forever."""

    script: ClassVar[list[int]] = []
    authorized: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        script = self.authorized if self.headers.get("Authorization") else self.script
        status = script.pop(0) if len(script) > 1 else script[0]
        body = {
            401: {"message": "Unauthorized"},
            200: {"message": "Hello from protected API!", "user": "u"},
        }.get(status, {"message": "Not Found" if status == 404 else "Internal Server Error"})
        _send_json(self, status, body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def scripted(monkeypatch):
    """The scripted server; each test writes its own script (the class's lists are put back after)."""
    monkeypatch.setattr(_Scripted, "script", [401])
    monkeypatch.setattr(_Scripted, "authorized", [200])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}/protected"
    httpd.shutdown()


def test_warm_up_polls_until_401(scripted):
    """404, 503, 500 mean 'not ready yet': the prober backs off and returns at the first 401."""
    _, url = scripted
    _Scripted.script = [404, 503, 500, 401]
    sleeps: list[float] = []
    notes: list[str] = []
    Prober(url, sleep=sleeps.append).wait_ready(60, notes.append)
    assert len(sleeps) == 3 and sleeps == sorted(sleeps) and sleeps[0] <= 0.5
    assert "HTTP 404" in notes[0] and "HTTP 503" in notes[1]


def test_warm_up_treats_connection_errors_as_not_ready():
    """An endpoint that does not resolve or accept yet is waited for, then reported in one sentence."""
    port = free_port()
    prober = Prober(f"http://127.0.0.1:{port}/protected", timeout=1, sleep=lambda s: None)
    began = time.monotonic()
    with pytest.raises(UnreachableError, match="still answers ConnectionError"):
        prober.wait_ready(1.0, lambda note: None)
    assert time.monotonic() - began < 10


def test_authorized_call_retries_500_then_succeeds(scripted):
    """A 500 right after deployment (permission race) is retried briefly for authorized calls."""
    _, url = scripted
    _Scripted.authorized = [500, 503, 200]
    sleeps: list[float] = []
    response = Prober(url, sleep=sleeps.append).get_settled("token")
    assert response.status_code == 200 and len(sleeps) == 2


def test_test_command_fails_with_exit_3_when_a_check_fails(server, server_env, monkeypatch):
    """If the authorizer let a tampered token through, test says which checks failed (exit 3)."""
    e = ("--endpoint-url", server.url, "--stack", "badcheck")
    assert run("up", "--no-rest", *e).exit_code == 0
    import authdemo.tokens as tokens

    monkeypatch.setattr(tokens, "tamper", lambda token: token)  # the 'tampered' token is valid
    result = run("test", *e, "--output", "json", "--route", "protected")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert not report["passed"]
    failed = [c for c in report["checks"] if c["result"] == "fail"]
    assert [c["credential"] for c in failed] == ["tampered"] and failed[0]["status"] == 200
    assert failed[0]["reason"].startswith("expected 401 (") and "got 200" in failed[0]["reason"]
    assert run("down", *e).exit_code == 0


def test_up_takes_over_a_log_group_lambda_already_made(moto):
    """A log group of the function's name made earlier (untagged, by Lambda) does not stop up."""
    boto3.client("logs").create_log_group(logGroupName="/aws/lambda/authdemo-authdemo-hello")
    result = run("up", "--no-rest")
    assert result.exit_code == 0, result.output
    state = json.loads((paths.home() / "authdemo.json").read_text())
    assert state["resources"]["log_group"]["name"] == "/aws/lambda/authdemo-authdemo-hello"
    assert run("down").exit_code == 0
    assert "log_groups" not in leftovers()


# ------------------------------------------- routes deploy one by one (issue 19, real HTTP)
class _Routes(BaseHTTPRequestHandler):
    """A new HTTP API whose routes go live one by one: per path, a script of statuses for
    token-less requests and one for authorized ones (the last status repeats); every request is
    logged as (path, authorized)."""

    scripts: ClassVar[dict[tuple[str, bool], list[int]]] = {}
    seen: ClassVar[list[tuple[str, bool]]] = []

    def do_GET(self) -> None:
        key = (self.path, bool(self.headers.get("Authorization")))
        self.seen.append(key)
        script = self.scripts.get(key, [401] if not key[1] else [200])
        status = script.pop(0) if len(script) > 1 else script[0]
        body = {
            401: {"message": "Unauthorized"},
            404: {"message": "Not Found"},
            200: {"message": "Hello from protected API!", "user": "demo@example.com"},
        }[status]
        _send_json(self, status, body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def routes_api(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The stand-in API on 127.0.0.1; yields its base URL (each test writes its scripts)."""
    monkeypatch.setattr(_Routes, "scripts", {})
    monkeypatch.setattr(_Routes, "seen", [])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Routes)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join(timeout=5)


class _Clock:
    """Time that moves only when slept (no test asserts timings)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_warm_up_waits_for_every_route_test_calls(routes_api: str) -> None:
    """/protected is live but /scoped still answers 404: the warm-up polls /scoped too until it
    answers, so its cell passes (before, only /protected was warmed up and /scoped failed)."""
    from authdemo.matrix import Credential, run_matrix

    _Routes.scripts[("/scoped", False)] = [404, 404, 404, 401]
    clock = _Clock()
    notes: list[str] = []
    urls = {"protected": f"{routes_api}/protected", "scoped": f"{routes_api}/scoped"}
    prober = Prober(urls["protected"], sleep=clock.sleep, clock=clock)
    cells, _ = run_matrix(prober, [Credential("none")], urls, notes.append, 120.0)
    assert [(c.route, c.status, c.passed) for c in cells] == [("protected", 401, True), ("scoped", 401, True)]
    assert _Routes.seen.count(("/scoped", False)) == 5  # 4 in the warm-up, then the cell
    assert any("/scoped: HTTP 404" in note for note in notes)


def test_a_404_on_a_cell_is_retried_within_wait(routes_api: str) -> None:
    """An authorized request that meets a 404 (its route not live yet) is asked again within what
    is left of --wait and passes; with nothing left of --wait, the 404 is the cell's answer."""
    from authdemo.matrix import Credential, run_matrix

    url = f"{routes_api}/protected"
    _Routes.scripts[("/protected", True)] = [404, 404, 200]
    clock = _Clock()
    prober = Prober(url, sleep=clock.sleep, clock=clock)
    user = Credential("id", "a.b.c", "demo@example.com")
    cells, _ = run_matrix(prober, [user], {"protected": url}, lambda _: None, 120.0)
    assert (cells[0].status, cells[0].passed) == (200, True)
    assert _Routes.seen.count(("/protected", True)) == 3
    _Routes.scripts[("/protected", True)] = [404, 200]
    cells, _ = run_matrix(prober, [user], {"protected": url}, lambda _: None, 0.0)
    assert cells[0].status == 404 and not cells[0].passed and "got 404" in cells[0].reason


ARM64_REFUSED = (
    'Architecture "arm64" is not supported in us-west-2. Please select "x86_64" or remove the '
    "Architectures value from your request and try again"
)


def test_a_region_without_arm64_gets_x86_64_functions_and_the_row_says_so(moto, faults):
    """Lambda refuses arm64 where Graviton is not offered (InvalidParameterValueException): both
    functions are created with x86_64 at once, and each function's row says why."""

    def refuse_arm64(params: dict[str, Any], **_: Any) -> Any:
        if json.loads(params["body"]).get("Architectures") == ["arm64"]:
            return aws_error("InvalidParameterValueException", ARM64_REFUSED)
        return None

    faults.on("lambda", "before-call.lambda.CreateFunction", refuse_arm64)
    result = run("up", "--no-rest")
    assert result.exit_code == 0, result.output
    assert faults.count("CreateFunction") == 4  # one refusal each, then created
    lam = boto3.client("lambda", region_name="us-west-2")
    for name in ("authdemo-authdemo-hello", "authdemo-authdemo-authorizer"):
        assert lam.get_function_configuration(FunctionName=name)["Architectures"] == ["x86_64"]
    said = "x86_64: arm64 is not offered in us-west-2"
    rows = [line for line in result.stderr.splitlines() if said in line]
    assert len(rows) == 2 and all("created" in row for row in rows), result.stderr
