"""`authdemo policy` allows every AWS operation authdemo makes: a botocore hook records each
call of up (and --dry-run --explain), test, token (--m2m, --refresh, --sign-out), status (and the
M2M secret), logout, down (and --dry-run --explain, and --explain), up again, down --sweep,
export (every format), and an `up --issuer` stack's up, update, `test --token` and down, maps it
to its IAM action(s), and every one must be allowed by the printed policy (issue 8, section 6);
export and the dry runs make no call that changes AWS (issue 22)."""

from __future__ import annotations

import fcntl
import fnmatch
import functools
import json
import os
from typing import Any

import pytest
from conftest import CHANGING, Faults, aws_error, leftovers, plain_client, run

from authdemo import app, aws
from authdemo.policy import policy

#: A call that needs a second permission (see authdemo/policy.py's docstring and docs/aws-notes.md).
IMPLIED = {
    "lambda:CreateFunction": ["iam:PassRole", "lambda:TagResource"],
    "lambda:GetFunction": ["lambda:ListTags"],  # else no Tags in the answer: discovery never matches
    "iam:CreateRole": ["iam:TagRole"],
    "logs:CreateLogGroup": ["logs:TagResource"],
    "cognito-idp:CreateUserPool": ["cognito-idp:TagResource"],
    # CreateApi / CreateStage with Tags; an account's first CreateApi creates API Gateway's
    # service-linked role with the caller's permission (moto never asks for it).
    "apigateway:POST": ["apigateway:TagResource", "iam:CreateServiceLinkedRole"],
}


class Recorder:
    """Every AWS operation of every client authdemo builds: (IAM prefix, operation, method, URI)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str]] = []

    def hook(self, service: str, client: Any) -> None:
        client.meta.events.register("provide-client-params", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        """A call the model says is sent unsigned (auth: smithy.api#noAuth: InitiateAuth, GetUser,
        GlobalSignOut...) is authorized by its token, not by IAM ("Amazon Cognito doesn't evaluate
        IAM policies in requests for this API operation"): it needs no permission, and is skipped."""
        if model.auth_type == "none":
            return
        prefix = model.service_model.endpoint_prefix  # apigatewayv2 -> apigateway
        self.calls.append(
            (prefix, model.name, model.http.get("method", ""), model.http.get("requestUri", ""))
        )

    def actions(self) -> set[str]:
        """The IAM actions the recorded calls need."""
        needed: set[str] = set()
        for prefix, name, method, _ in self.calls:
            action = f"apigateway:{method}" if prefix == "apigateway" else f"{prefix}:{name}"
            needed.add(action)
            needed.update(IMPLIED.get(action, []))
        return needed


def allowed(document: dict[str, Any], action: str) -> bool:
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and any(
            fnmatch.fnmatch(action.lower(), a.lower()) for a in actions
        ):
            return True
    return False


_RECORDED: list[Recorder] = []


@pytest.fixture
def recorded(server_env: Any, tmp_path_factory: pytest.TempPathFactory) -> Recorder:
    """The whole life of a stack against the embedded AWS over HTTP, every call recorded once per
    run (~5 s): the first xdist worker to need it records it into the run's shared temporary
    folder, under a lock; the others, and the later tests, reuse the record (xdist's documented
    way to run a session fixture once; `--dist loadgroup` is broken under pytest 9)."""
    if _RECORDED:
        return _RECORDED[0]
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # not distributed: nothing to share
        _RECORDED.append(_record(server_env))
        return _RECORDED[0]
    shared = tmp_path_factory.getbasetemp().parent / "policy-record.json"  # this run's, all workers'
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shared.exists():
            recorder = Recorder()
            recorder.calls = [(a, b, c, d) for a, b, c, d in json.loads(shared.read_text())]
        else:
            recorder = _record(server_env)
            shared.write_text(json.dumps(recorder.calls))
    _RECORDED.append(recorder)
    return recorder


def _record(server_env: Any) -> Recorder:
    recorder = Recorder()
    aws.CLIENT_HOOKS.append(recorder.hook)
    from authdemo.local.issuer import LocalIssuer

    e = ("--endpoint-url", server_env.url, "--stack", "policyrec")
    issuer = f"{server_env.url}/_authdemo/issuer/"  # the embedded AWS's own, Auth0-like
    i = ("--endpoint-url", server_env.url, "--stack", "policyiss", "--issuer", issuer)
    token = LocalIssuer(server_env.port, server_env.issuer_keys).mint("https://api.policy.test")

    def lose_the_state_file() -> None:
        app.state_path(app.Options(stack="policyrec")).unlink()

    exports = [
        ("export", "--format", f, "--stack", "policyrec")
        for f in ("sam", "cloudformation", "serverless", "aws-cli")
    ]
    for args in (
        ("up", "--dry-run", "--explain", *e),
        ("up", *e),
        *exports,  # from the state file alone: no AWS call
        ("test", *e),  # the M2M row reads the M2M client's secret
        ("token", *e),
        ("token", "--m2m", *e),
        ("token", "--refresh", *e),
        ("token", "--sign-out", *e),
        ("status", *e),
        ("status", "--field", "m2m_client_secret", *e),
        ("logout", *e),
        ("up", "--callback-port", "8411", *e),  # the app client updated in place
        ("up", "--sign-up", *e),  # the pool updated in place (issue 20)
        ("up", "--no-rest", *e),  # the REST half deleted (issue 21): RemovePermission, DeleteRestApi
        ("up", "--rest", *e),  # and built again
        lose_the_state_file,
        ("up", *e),  # adopted by name and tag
        ("down", "--dry-run", "--explain", *e),  # the deleting calls found with reads only
        ("down", "--explain", *e),
        ("up", *e),
        ("down", "--sweep", "--yes", *e),
        ("up", *i, "--audience", "https://api.policy.test"),
        ("up", *i, "--audience", "https://api.policy.test", "--audience", "b"),  # updates in place
        ("test", *i[:4], "--token", token),
        ("down", *i[:4]),
    ):
        if callable(args):
            args()
            continue
        before = len(recorder.calls)
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
        if args[0] == "export":  # issue 22: from the state file alone
            assert recorder.calls[before:] == [], args
        if "--dry-run" in args:  # reads only, --explain's too
            changing = [name for _, name, _, _ in recorder.calls[before:] if name.startswith(CHANGING)]
            assert changing == [], (args, changing)
    aws.CLIENT_HOOKS.remove(recorder.hook)
    return recorder


def test_policy_allows_every_call_of_a_stacks_life(recorded: Recorder) -> None:
    document = policy()
    needed = recorded.actions()
    assert {"logs:ListTagsForResource", "lambda:ListTags", "lambda:AddPermission"} <= needed
    issue_11 = {  # the domain, resource server, M2M client (and its secret), client updates
        f"cognito-idp:{name}"
        for name in (
            "CreateUserPoolDomain",
            "DescribeUserPoolDomain",
            "DeleteUserPoolDomain",
            "CreateResourceServer",
            "DescribeResourceServer",
            "CreateUserPoolClient",
            "DescribeUserPoolClient",
            "UpdateUserPoolClient",
            "ListUserPoolClients",
        )
    }
    assert issue_11 | {"apigateway:PATCH"} <= needed, sorted(issue_11 - needed)
    assert {"apigateway:PUT", "lambda:RemovePermission"} <= needed  # the REST half's (issue 21)
    missing = sorted(a for a in needed if not allowed(document, a))
    assert missing == [], f"`authdemo policy` does not allow {missing}"


def test_stack_policy_allows_them_too(recorded: Recorder) -> None:
    document = policy("policyrec", "aws", "us-west-2", "123456789012")
    assert [a for a in recorded.actions() if not allowed(document, a)] == []


def test_api_gateway_calls_stay_under_the_apis_resources(recorded: Recorder) -> None:
    """apigateway actions are allowed on /apis, /restapis (and below) and /tags/* only: every call
    of the HTTP API (v2) and of the REST API (v1, issue 21) is there."""
    uris = {uri for prefix, _, _, uri in recorded.calls if prefix == "apigateway"}
    assert any(u.startswith("/restapis") for u in uris) and any(u.startswith("/v2/apis") for u in uris)
    assert all(u.startswith(("/v2/apis", "/v2/tags", "/restapis", "/tags/")) for u in uris), uris
    resources = next(s for s in policy()["Statement"] if "apigateway:PUT" in s["Action"])["Resource"]
    assert {"arn:aws:apigateway:*::/restapis", "arn:aws:apigateway:*::/restapis/*"} <= set(resources)


@pytest.mark.parametrize(
    "action", ["logs:ListTagsForResource", "lambda:ListTags", "iam:PassRole", "apigateway:PUT"]
)
def test_the_check_fails_when_the_policy_misses_an_action(recorded: Recorder, action: str) -> None:
    """What the README once forgot is caught: drop one action and the check names it."""
    document = policy()
    for statement in document["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    assert [a for a in recorded.actions() if not allowed(document, a)] == [action]


def test_policy_command_prints_json_narrowed_to_a_stack() -> None:
    result = run("policy", "--stack", "class-42", "--region", "us-gov-west-1", "--account", "123456789012")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    resources = json.dumps(document)
    assert "arn:aws-us-gov:iam::123456789012:role/authdemo/class-42/authdemo-class-42-fn-role" in resources
    assert "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:authdemo-class-42-hello" in resources
    assert "arn:aws:" not in resources
    passrole = next(s for s in document["Statement"] if s["Action"] == ["iam:PassRole"])
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_policy_command_refuses_bad_input() -> None:
    assert run("policy", "--region", "us-wst-2").exit_code == 2
    assert run("policy", "--account", "12").exit_code == 2
    assert run("policy", "--stack", "bad name").exit_code == 2


def test_the_service_linked_role_is_allowed_for_api_gateway_only() -> None:
    """iam:CreateServiceLinkedRole: API Gateway's own role, on IAM's service-role path, and only
    when the service is ops.apigateway.amazonaws.com (the role a fresh account's first CreateApi makes)."""
    document = policy("class-42", "aws", "us-west-2", "123456789012")
    linked = [s for s in document["Statement"] if "iam:CreateServiceLinkedRole" in s["Action"]]
    assert len(linked) == 1 and linked[0]["Action"] == ["iam:CreateServiceLinkedRole"]
    assert linked[0]["Resource"] == (
        "arn:aws:iam::123456789012:role/aws-service-role/ops.apigateway.amazonaws.com/AWSServiceRoleForAPIGateway"
    )
    assert linked[0]["Condition"] == {"StringEquals": {"iam:AWSServiceName": "ops.apigateway.amazonaws.com"}}


ACCOUNT = "123456789012"  # moto's


@functools.cache
def role_calls() -> frozenset[str]:
    """IAM's operations that name a role (a RoleName in their input), from botocore's model:
    IAM authorizes each against that role's ARN."""
    model = plain_client("iam").meta.service_model
    inputs = {o: model.operation_model(o).input_shape for o in model.operation_names}
    return frozenset(o for o, shape in inputs.items() if shape is not None and "RoleName" in shape.members)


def allows(document: dict[str, Any], action: str, resource: str) -> bool:
    """Whether an Allow statement names the action and the resource (conditions aside)."""
    for statement in document["Statement"]:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if allowed({"Statement": [statement]}, action) and any(
            fnmatch.fnmatchcase(resource, r) for r in resources
        ):
            return True
    return False


class PrintedPolicyIam:
    """IAM deciding each call naming a role as AWS does under exactly `document`: the request's
    resource is the role's ARN, path included when the role exists, `role/<name>` when it does
    not (the path is the role's, and a missing role has none); CreateRole's is the path it asks
    for. A call no statement allows is AccessDenied (403), before moto sees it."""

    def __init__(self, faults: Faults, document: dict[str, Any]) -> None:
        self.document, self.denied = document, []
        faults.on("iam", "before-call.iam", self._decide)

    def _decide(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        if model.name not in role_calls():
            return None
        name = params["body"]["RoleName"]
        path = params["body"].get("Path", "/") if model.name == "CreateRole" else self._path(name)
        arn = f"arn:aws:iam::{ACCOUNT}:role{path}{name}"
        if allows(self.document, f"iam:{model.name}", arn):
            return None
        self.denied.append(f"iam:{model.name} on {arn}")
        said = f"User: arn:aws:iam::{ACCOUNT}:user/presenter is not authorized to perform: iam:{model.name}"
        return aws_error("AccessDenied", f"{said} on resource: {arn}", 403)

    @staticmethod
    def _path(name: str) -> str:
        try:
            return str(plain_client("iam").get_role(RoleName=name)["Role"]["Path"])
        except plain_client("iam").exceptions.NoSuchEntityException:
            return "/"  # no role, no path: IAM sees arn:...:role/<name>


@pytest.mark.parametrize("stack_policy", [False, True], ids=["policy", "policy --stack"])
def test_a_clean_account_works_with_exactly_the_printed_policy(
    faults: Faults, moto: None, stack_policy: bool
) -> None:
    """Asking about a role that does not exist is not denied (IAM answers NoSuchEntity), and
    deleting one is denied but then seen gone: up --dry-run and down --sweep on a clean account,
    up, and down after the roles were deleted by hand all finish under the printed policy."""
    document = policy("authdemo", "aws", "us-west-2", ACCOUNT) if stack_policy else policy()
    iam = PrintedPolicyIam(faults, document)
    for args in (("up", "--dry-run"), ("down", "--sweep", "--yes"), ("up",)):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
    for role in ("authdemo-authdemo-fn-role", "authdemo-authdemo-authz-role"):  # gone by hand
        plain_client("iam").delete_role_policy(RoleName=role, PolicyName="write-own-logs")
        plain_client("iam").delete_role(RoleName=role)
    result = run("down")
    assert result.exit_code == 0, result.output
    assert leftovers() == {}
    gone = [f"arn:aws:iam::{ACCOUNT}:role/authdemo-authdemo-{r}" for r in ("fn-role", "authz-role")]
    assert sorted(iam.denied) == sorted(
        f"iam:{a} on {arn}" for a in ("DeleteRole", "DeleteRolePolicy") for arn in gone
    )
