"""The REST API half's resources (issue 21): `up --rest/--no-rest`, the dry run, sweep by tag,
status's REST URLs, API Gateway's 429 quotas waited out, and a kept REST API brought to what
`up` wants (its authorizer patched, the stage redeployed) without redeploying an unchanged one."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from conftest import CHANGING, Faults, aws_error, leftovers, one_error, plain_client, run, run_json

from authdemo import app, invoke_url
from authdemo.units import REST_DOORS, base

STACK = "r1"


def state(stack: str = STACK) -> dict[str, Any]:
    return json.loads(app.state_path(app.Options(stack=stack)).read_text())


def rest_keys(stack: str = STACK) -> list[str]:
    return sorted(k for k in state(stack)["resources"] if k.startswith("rest_"))


def changes(faults: Faults) -> list[str]:
    """The calls that change AWS (Cognito's AdminGetUser and AdminList... only read)."""
    return [c for c in faults.calls if c.startswith(CHANGING) and not c.startswith(("AdminGet", "AdminList"))]


def statements() -> list[str]:
    lam = plain_client("lambda")
    return [
        s["Sid"]
        for fn in (f"authdemo-{STACK}-hello", f"authdemo-{STACK}-authorizer")
        for s in json.loads(lam.get_policy(FunctionName=fn)["Policy"])["Statement"]
    ]


def test_rest_is_built_by_default_kept_by_later_runs_and_no_rest_removes_it(
    moto: None, faults: Faults
) -> None:
    """`up` builds the REST half (state `rest: true`); a second `up` changes nothing (no new
    deployment); `up --no-rest` deletes the REST API and both invoke permissions and records
    `rest: false`, which a later `up` keeps; `up --rest` builds it again."""
    assert run("up", "--stack", STACK).exit_code == 0
    assert state()["rest"] is True and "rest_stage" in rest_keys()
    assert {f"authdemo-{STACK}-rest-invoke", f"authdemo-{STACK}-rest-authorizer-invoke"} <= set(statements())
    del faults.calls[:]
    assert run("up", "--stack", STACK).exit_code == 0
    # nothing redeployed, nothing re-put (the users' passwords are set again by design: cognito.py)
    assert [c for c in changes(faults) if c != "AdminSetUserPassword"] == []

    assert run("up", "--stack", STACK, "--no-rest").exit_code == 0
    assert state()["rest"] is False and rest_keys() == []
    assert plain_client("apigateway").get_rest_apis()["items"] == []
    assert not {f"authdemo-{STACK}-rest-invoke", f"authdemo-{STACK}-rest-authorizer-invoke"} & set(
        statements()
    )
    assert run("up", "--stack", STACK).exit_code == 0  # the recorded choice is kept
    assert rest_keys() == [] and state()["rest"] is False

    assert run("up", "--stack", STACK, "--rest").exit_code == 0
    assert "rest_api" in rest_keys() and state()["rest"] is True
    assert run("down", "--stack", STACK).exit_code == 0
    assert leftovers() == {}


def test_a_new_no_rest_stack_builds_none_of_it_and_issuer_stacks_refuse_rest(
    moto: None, faults: Faults
) -> None:
    """`up --no-rest` calls no REST API operation; `--rest` with `--issuer` is one clear sentence."""
    assert run("up", "--stack", STACK, "--no-rest").exit_code == 0
    assert not [c for c in faults.calls if "Rest" in c or c in ("PutMethod", "PutIntegration")]
    assert rest_keys() == []
    result = run("up", "--stack", "iss", "--issuer", "https://issuer.example/", "--audience", "a", "--rest")
    assert result.exit_code == 2 and "--rest" in one_error(result) and "user pool" in one_error(result)
    assert run("down", "--stack", STACK).exit_code == 0


def test_dry_runs_list_the_rest_steps_and_change_nothing(moto: None, faults: Faults) -> None:
    """`up --dry-run` lists every REST unit (create); on a stack with it, `up --no-rest --dry-run`
    says the REST API and the permissions would be deleted, and `down --dry-run` names the REST
    API; none of them calls anything that changes AWS."""
    plan = run_json("up", "--dry-run", "--stack", STACK)["plan"]
    planned = {p["key"]: p["action"] for p in plan}
    assert planned["rest_api"] == planned["rest_stage"] == planned["rest_method_lambda_again"] == "create"
    assert planned["rest_integration_iam"] == planned["rest_token_authorizer"] == "create"
    assert planned["rest_authorizer_permission"] == "create"
    assert changes(faults) == []
    assert run("up", "--stack", STACK).exit_code == 0
    del faults.calls[:]
    plan = run_json("up", "--dry-run", "--no-rest", "--stack", STACK)["plan"]
    deleted = {p["key"] for p in plan if p["action"] == "delete"}
    assert deleted == {"rest_api", "rest_permission", "rest_authorizer_permission"}
    down_plan = run_json("down", "--dry-run", "--stack", STACK)["plan"]
    assert any(p["key"] == "rest_api" and p["action"] == "delete" for p in down_plan)
    assert changes(faults) == []
    assert state()["rest"] is True  # a dry run records nothing
    assert run("down", "--stack", STACK).exit_code == 0


def test_sweep_finds_the_rest_api_by_tag_when_the_state_is_lost(moto: None) -> None:
    """State file gone: `down --sweep` finds the REST API by its name and the stack's tag."""
    assert run("up", "--stack", STACK).exit_code == 0
    rest_id = state()["resources"]["rest_api"]["id"]
    app.state_path(app.Options(stack=STACK)).unlink()
    result = run("down", "--sweep", "--yes", "--stack", STACK)
    assert result.exit_code == 0, result.output
    assert rest_id in result.stderr
    assert leftovers() == {}


def test_status_gives_the_rest_urls(moto: None) -> None:
    """`status --output json`: rest_api_url (AWS's hostname form, stage demo) and rest_routes;
    the text status shows the REST API URL, and so does `up`'s summary. At an endpoint: the path
    form with the stage."""
    up = run("up", "--stack", STACK)
    assert up.exit_code == 0
    info = run_json("status", "--stack", STACK)
    rest_id = state()["resources"]["rest_api"]["id"]
    base_url = f"https://{rest_id}.execute-api.us-west-2.amazonaws.com/demo"
    assert f"REST API (the lesson's other column): {base_url}" in " ".join(up.stderr.split())
    assert info["rest_api_url"] == base_url
    assert info["rest_routes"] == {
        "protected": f"{base_url}/protected",
        "scoped": f"{base_url}/scoped",
        "lambda": f"{base_url}/lambda",
        "lambda_again": f"{base_url}/lambda/again",
        "iam": f"{base_url}/iam",
    }
    assert f"rest_api_url: {base_url}" in run("status", "--stack", STACK).stdout
    assert run("status", "--stack", STACK, "--field", "rest_api_url").stdout == f"{base_url}\n"
    at = invoke_url.of_rest_api("abc123", "demo", "http://127.0.0.1:4566/", "us-west-2", "amazonaws.com")
    assert at == "http://127.0.0.1:4566/_aws/execute-api/abc123/demo"
    assert run("up", "--stack", STACK, "--no-rest").exit_code == 0
    info = run_json("status", "--stack", STACK)
    assert info["rest_api_url"] is None and info["rest_routes"] is None
    assert run("down", "--stack", STACK).exit_code == 0


def throttled(retry_after: str | None = None) -> tuple[AWSResponse, dict[str, Any]]:
    """API Gateway's 429 (its model's TooManyRequestsException, Retry-After when it sends one)."""
    parsed: dict[str, Any] = {
        "Error": {"Code": "TooManyRequestsException", "Message": "Too Many Requests"},
        "ResponseMetadata": {"HTTPStatusCode": 429},
    }
    if retry_after is not None:
        parsed["retryAfterSeconds"] = retry_after
    return AWSResponse("https://aws.invalid", 429, {}, None), parsed


class Notes:
    """An observer that keeps the progress notes (the engine's retry notes)."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Notes:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def started(self, key: str, label: str) -> None: ...
    def finished(self, key: str, outcome: str, seconds: float) -> None: ...
    def failed(self, key: str, error: BaseException, seconds: float) -> None: ...

    def note(self, key: str, message: str) -> None:
        with self._lock:
            self.notes.append((key, message))


def refuse(faults: Faults, operation: str, times: int, retry_after: str | None = None) -> list[int]:
    seen = [0]

    def handler(**_: Any) -> Any:
        seen[0] += 1
        return throttled(retry_after) if seen[0] <= times else None

    faults.on("apigateway", f"before-call.apigateway.{operation}", handler)
    return seen


def test_api_gateways_quotas_are_waited_out_with_a_note(moto: None, faults: Faults, monkeypatch) -> None:
    """429 TooManyRequestsException: CreateDeployment (one per 5 s) is asked again after 5 s,
    a Retry-After is obeyed, and `down`'s DeleteRestApi (one per 30 s per account: two stacks'
    downs back to back) waits 30 s; each wait is a progress note, and the call then succeeds."""
    waits: list[float] = []
    monkeypatch.setattr(base, "sleep", waits.append)
    refuse(faults, "CreateDeployment", 1)
    refuse(faults, "CreateResource", 1, retry_after="7")
    observer = Notes()
    app.up(app.Options(stack=STACK), lambda: observer)
    assert 5.0 in waits and 7.0 in waits
    assert ("rest_stage", "API Gateway throttles CreateDeployment (429): waiting 5 s") in observer.notes
    waits.clear()
    refuse(faults, "DeleteRestApi", 2)
    observer = Notes()
    app.down(app.Options(stack=STACK), lambda: observer)
    assert waits == [30.0, 30.0]
    assert [m for k, m in observer.notes if k == "rest_api"] == [
        "API Gateway throttles DeleteRestApi (429): waiting 30 s"
    ] * 2
    assert leftovers() == {}


def test_a_quota_that_never_clears_is_one_sentence(moto: None, faults: Faults, monkeypatch) -> None:
    """API Gateway refusing DeleteRestApi for longer than the bounded wait: exit 7, one sentence
    that says to run the command again, no traceback; the rerun finishes."""
    assert run("up", "--stack", STACK).exit_code == 0
    monkeypatch.setattr(base, "sleep", lambda s: None)
    monkeypatch.setattr("authdemo.units.apigateway_rest.THROTTLE_WAIT_SECONDS", 45.0)
    monkeypatch.setattr("authdemo.units.apigateway_rest.time.monotonic", iter(range(0, 10**6, 20)).__next__)
    refuse(faults, "DeleteRestApi", 10**6)
    result = run("down", "--stack", STACK)
    assert result.exit_code == 7, result.output
    assert "kept refusing DeleteRestApi" in one_error(result) and "run the command again" in one_error(result)
    faults.clear()
    assert run("down", "--stack", STACK).exit_code == 0
    assert leftovers() == {}


def test_a_recreated_pool_patches_the_cognito_authorizer_and_redeploys(moto: None, faults: Faults) -> None:
    """The pool deleted by hand: `up` makes a new one, UpdateAuthorizer swaps its ARN into the
    kept `cognito-pool` authorizer (add the new, remove the old: moto cannot patch providerARNs,
    so the answer is AWS's shape, simulated), a new deployment is made and the stage points at it."""
    assert run("up", "--stack", STACK).exit_code == 0
    before = state()["resources"]
    old_arn = before["user_pool"]["arn"]
    plain_client("cognito-idp").delete_user_pool_domain(
        Domain=before["domain"]["id"], UserPoolId=before["user_pool"]["id"]
    )
    plain_client("cognito-idp").delete_user_pool(UserPoolId=before["user_pool"]["id"])
    patches: list[Any] = []

    def update_authorizer(params: Any, **_: Any) -> Any:
        patches.append(json.loads(params["body"])["patchOperations"])
        return AWSResponse("https://aws.invalid", 200, {}, None), {
            "ResponseMetadata": {"HTTPStatusCode": 200}
        }

    faults.on("apigateway", "before-call.apigateway.UpdateAuthorizer", update_authorizer)
    assert run("up", "--stack", STACK).exit_code == 0
    after = state()["resources"]
    new_arn = after["user_pool"]["arn"]
    assert new_arn != old_arn
    assert patches == [
        [
            {"op": "add", "path": "/providerARNs", "value": new_arn},
            {"op": "remove", "path": "/providerARNs", "value": old_arn},
        ]
    ]
    assert after["rest_stage"]["deployment"] != before["rest_stage"]["deployment"]
    stage = plain_client("apigateway").get_stage(restApiId=after["rest_api"]["id"], stageName="demo")
    assert stage["deploymentId"] == after["rest_stage"]["deployment"]

    # An endpoint that cannot patch it (an error UpdateAuthorizer's model does not list): one
    # sentence naming the rebuild, which then works.
    faults.clear()
    faults.fail("apigateway", "UpdateAuthorizer", "InternalFailure", "not implemented", status=500, times=9)
    plain_client("cognito-idp").delete_user_pool_domain(
        Domain=after["domain"]["id"], UserPoolId=after["user_pool"]["id"]
    )
    plain_client("cognito-idp").delete_user_pool(UserPoolId=after["user_pool"]["id"])
    result = run("up", "--stack", STACK)
    assert (
        result.exit_code == 1
        and "`authdemo up --no-rest --stack r1`, then `authdemo up --rest --stack r1`" in one_error(result)
    )
    assert run("up", "--stack", STACK, "--no-rest").exit_code == 0
    assert run("up", "--stack", STACK, "--rest").exit_code == 0
    assert run("down", "--stack", STACK).exit_code == 0


@pytest.mark.parametrize("drift", ["authorizationType", "authorizationScopes"])
def test_a_method_changed_by_hand_is_patched_back(moto: None, faults: Faults, drift: str) -> None:
    """A method's authorization changed outside authdemo: `up` sends UpdateMethod with the patch
    operations that restore it (moto lacks UpdateMethod: the answer is simulated), never a second
    PutMethod (AWS refuses it with ConflictException)."""
    from moto.apigateway.models import apigateway_backends

    assert run("up", "--stack", STACK).exit_code == 0
    res = state()["resources"]
    api = apigateway_backends["123456789012"]["us-west-2"].apis[res["rest_api"]["id"]]
    method = api.resources[res["rest_method_scoped"]["resource"]].resource_methods["GET"]
    if drift == "authorizationType":
        method.authorization_type = "NONE"
    else:
        method.authorization_scopes = ["email"]
    sent: list[Any] = []

    def update_method(params: Any, **_: Any) -> Any:
        sent.append(json.loads(params["body"])["patchOperations"])
        return AWSResponse("https://aws.invalid", 200, {}, None), {
            "ResponseMetadata": {"HTTPStatusCode": 200}
        }

    faults.on("apigateway", "before-call.apigateway.UpdateMethod", update_method)
    del faults.calls[:]
    assert run("up", "--stack", STACK).exit_code == 0
    expected = {
        "authorizationType": [{"op": "replace", "path": "/authorizationType", "value": "COGNITO_USER_POOLS"}],
        "authorizationScopes": [
            {"op": "add", "path": "/authorizationScopes", "value": "aws.cognito.signin.user.admin"},
            {"op": "remove", "path": "/authorizationScopes", "value": "email"},
        ],
    }[drift]
    assert sent == [expected]
    assert "PutMethod" not in faults.calls
    assert run("down", "--stack", STACK).exit_code == 0


def test_rest_parts_naming_a_function_wait_for_it_if_api_gateway_refuses(
    moto: None, faults: Faults, monkeypatch
) -> None:
    """The TOKEN authorizer and the integrations name their function by ARN while the role still
    propagates; were API Gateway to refuse a function that does not exist yet (BadRequestException:
    AWS documents no such check), each waits for the function, with a note, and succeeds."""
    monkeypatch.setattr(base, "sleep", lambda s: __import__("time").sleep(0.01))
    lam = plain_client("lambda")

    def refuse_missing(model: Any, params: Any, **_: Any) -> Any:
        body = json.loads(params.get("body") or b"{}")
        uri = body.get("uri") or body.get("authorizerUri") or ""
        name = uri.split(":function:")[-1].split("/")[0]
        if name and name not in {f["FunctionName"] for f in lam.list_functions()["Functions"]}:
            refused.set()
            return aws_error("BadRequestException", "Invalid function ARN or invalid uri")
        return None

    # The functions are created only once API Gateway has refused one (at most 10 s): however
    # busy the machine, the refusal this test is about happens.
    refused = threading.Event()
    faults.on("lambda", "before-call.lambda.CreateFunction", lambda **_: refused.wait(10) and None)
    faults.on("apigateway", "before-call.apigateway.PutIntegration", refuse_missing)
    faults.on("apigateway", "before-call.apigateway.CreateAuthorizer", refuse_missing)
    observer = Notes()
    app.up(app.Options(stack=STACK), lambda: observer)
    assert rest_keys()  # everything recorded
    waited = {k for k, m in observer.notes if "waiting for the function" in m}
    assert waited and waited <= {"rest_token_authorizer", *(f"rest_integration_{d.name}" for d in REST_DOORS)}
    assert run("down", "--stack", STACK).exit_code == 0
    assert leftovers() == {}
