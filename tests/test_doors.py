"""Issue #10, the AWS side: `up` builds the three new doors (/scoped, /lambda, /iam) and what they
need, tagged where AWS can tag; `down` and `down --sweep` remove all of it; `status` names the
four routes. Runs on in-process moto (the embedded gateway's enforcement is tested elsewhere)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from conftest import Faults, leftovers, run, run_json

from authdemo import paths
from authdemo.units import TAG_KEY, Names, function_zip

NAMES = Names("authdemo")
REGION = "us-west-2"


def resources() -> dict[str, Any]:
    return dict(json.loads((paths.home() / "authdemo.json").read_text())["resources"])


@pytest.fixture
def stack(moto: None) -> dict[str, Any]:
    result = run("up")
    assert result.exit_code == 0, result.output
    return resources()


def test_routes_have_their_doors(stack: dict[str, Any]) -> None:
    """Five GET routes on one integration: JWT, JWT + scope, CUSTOM (Lambda authorizer), AWS_IAM,
    and the M2M JWT authorizer + authdemo/read (issue 11)."""
    gateway = boto3.client("apigatewayv2", region_name=REGION)
    routes = {r["RouteKey"]: r for r in gateway.get_routes(ApiId=stack["api"]["id"])["Items"]}
    target = f"integrations/{stack['integration']['id']}"
    assert set(routes) == {"GET /protected", "GET /scoped", "GET /lambda", "GET /iam", "GET /m2m"}
    assert all(r["Target"] == target for r in routes.values())
    protected, scoped = routes["GET /protected"], routes["GET /scoped"]
    assert (protected["AuthorizationType"], protected["AuthorizerId"]) == ("JWT", stack["authorizer"]["id"])
    assert not protected.get("AuthorizationScopes")
    assert (scoped["AuthorizationType"], scoped["AuthorizerId"]) == ("JWT", stack["authorizer"]["id"])
    assert scoped["AuthorizationScopes"] == ["aws.cognito.signin.user.admin"]
    lam = routes["GET /lambda"]
    assert (lam["AuthorizationType"], lam["AuthorizerId"]) == ("CUSTOM", stack["lambda_authorizer"]["id"])
    assert routes["GET /iam"]["AuthorizationType"] == "AWS_IAM"
    assert not routes["GET /iam"].get("AuthorizerId")
    m2m = routes["GET /m2m"]
    assert (m2m["AuthorizationType"], m2m["AuthorizerId"]) == ("JWT", stack["m2m_authorizer"]["id"])
    assert m2m["AuthorizationScopes"] == ["authdemo/read"]


def test_lambda_authorizer_is_a_simple_request_authorizer_without_cache(stack: dict[str, Any]) -> None:
    """REQUEST, payload 2.0, simple responses, Authorization header, TTL 0, URI of the function."""
    gateway = boto3.client("apigatewayv2", region_name=REGION)
    found = gateway.get_authorizer(ApiId=stack["api"]["id"], AuthorizerId=stack["lambda_authorizer"]["id"])
    fn_arn = stack["authorizer_function"]["arn"]
    assert found["AuthorizerType"] == "REQUEST"
    assert found["AuthorizerPayloadFormatVersion"] == "2.0"
    assert found["EnableSimpleResponses"] is True
    assert found["IdentitySource"] == ["$request.header.Authorization"]
    assert found["AuthorizerResultTtlInSeconds"] == 0
    assert found["AuthorizerUri"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn}/invocations"
    )


def test_authorizer_function_is_small_tagged_and_names_no_secret(stack: dict[str, Any]) -> None:
    """python3.13 arm64 128 MB 5 s, its own role, the pool/client/group in its environment only."""
    lam = boto3.client("lambda", region_name=REGION)
    fn = lam.get_function(FunctionName=NAMES.authorizer_function)
    config = fn["Configuration"]
    assert (config["Runtime"], config["Architectures"], config["MemorySize"], config["Timeout"]) == (
        "python3.13",
        ["arm64"],
        128,
        5,
    )
    assert config["Handler"] == "authorizer.handler"
    assert config["Role"].endswith(f"role/authdemo/authdemo/{NAMES.authorizer_role}")
    assert config["Environment"]["Variables"] == {
        "USER_POOL_ID": stack["user_pool"]["id"],
        "CLIENT_ID": stack["app_client"]["id"],
        "GROUP": "presenters",
    }
    assert fn["Tags"][TAG_KEY] == "authdemo"


def test_authorizer_permission_names_this_authorizer_only(stack: dict[str, Any]) -> None:
    """apigateway.amazonaws.com may invoke it for <apiId>/authorizers/<authorizerId> only."""
    lam = boto3.client("lambda", region_name=REGION)
    policy = json.loads(lam.get_policy(FunctionName=NAMES.authorizer_function)["Policy"])
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == NAMES.authorizer_statement_id]
    assert statement["Sid"] == NAMES.authorizer_statement_id
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    api, authorizer = stack["api"]["id"], stack["lambda_authorizer"]["id"]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:{REGION}:123456789012:{api}/authorizers/{authorizer}"
    )


def test_authorizer_role_writes_only_its_own_logs(stack: dict[str, Any]) -> None:
    """Its own role under the stack's path; one inline policy: its own log group, nothing else."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.get_role(RoleName=NAMES.authorizer_role)["Role"]
    assert role["Path"] == "/authdemo/authdemo/"
    assert iam.list_attached_role_policies(RoleName=NAMES.authorizer_role)["AttachedPolicies"] == []
    (name,) = iam.list_role_policies(RoleName=NAMES.authorizer_role)["PolicyNames"]
    doc = iam.get_role_policy(RoleName=NAMES.authorizer_role, PolicyName=name)["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    (statement,) = doc["Statement"]
    assert set(statement["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    group_arn = f"arn:aws:logs:{REGION}:123456789012:log-group:{NAMES.authorizer_log_group}"
    assert all(r.startswith(group_arn + ":") for r in statement["Resource"])


def test_authorizer_log_group_is_tagged_with_one_day_retention(stack: dict[str, Any]) -> None:
    logs = boto3.client("logs", region_name=REGION)
    (group,) = logs.describe_log_groups(logGroupNamePrefix=NAMES.authorizer_log_group)["logGroups"]
    assert group["retentionInDays"] == 1
    arn = group["arn"].removesuffix(":*")
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"][TAG_KEY] == "authdemo"


def test_presenter_and_student(stack: dict[str, Any]) -> None:
    """demo@example.com is in presenters; student@example.com exists, confirmed, in no group."""
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = stack["user_pool"]["id"]
    assert cognito.get_group(UserPoolId=pool, GroupName="presenters")["Group"]["GroupName"] == "presenters"
    demo = cognito.admin_list_groups_for_user(UserPoolId=pool, Username="demo@example.com")["Groups"]
    assert [g["GroupName"] for g in demo] == ["presenters"]
    student = cognito.admin_get_user(UserPoolId=pool, Username=NAMES.student)
    assert student["UserStatus"] == "CONFIRMED"
    assert cognito.admin_list_groups_for_user(UserPoolId=pool, Username=NAMES.student)["Groups"] == []


def test_student_password_is_generated_kept_and_never_printed(moto: None) -> None:
    """Kept in the 0600 state file like the first user's; shown only with --show-password."""
    result = run("up", "--output", "json")
    assert result.exit_code == 0, result.output
    state = json.loads((paths.home() / "authdemo.json").read_text())
    secret = state["student_password"]
    assert secret and secret != state["password"]
    assert (paths.home() / "authdemo.json").stat().st_mode & 0o777 == 0o600
    assert secret not in result.stdout + result.stderr
    assert secret not in run("status").stdout
    assert run_json("status", "--show-password")["student_password"] == secret
    again = run("up")  # a rerun keeps it (the student can still sign in)
    assert again.exit_code == 0
    assert json.loads((paths.home() / "authdemo.json").read_text())["student_password"] == secret


def test_status_json_names_the_five_routes(stack: dict[str, Any]) -> None:
    info = run_json("status")
    base = info["api_url"]
    assert info["routes"] == {
        "protected": f"{base}/protected",
        "scoped": f"{base}/scoped",
        "lambda": f"{base}/lambda",
        "iam": f"{base}/iam",
        "m2m": f"{base}/m2m",
    }
    assert all(r["exists"] for r in info["resources"].values())
    assert {"group", "membership", "student", "lambda_authorizer", "route_iam"} <= set(info["resources"])
    issue_11 = {"domain", "resource_server", "m2m_client", "m2m_authorizer", "route_m2m"}
    assert issue_11 <= set(info["resources"])


def test_up_again_changes_nothing(stack: dict[str, Any], faults: Faults) -> None:
    """A second up only reads: every new unit knows it exists."""
    assert run("up").exit_code == 0
    changing = ("Create", "Put", "Add", "Delete", "Update", "Remove", "Tag", "AdminCreate", "AdminAdd")
    assert [c for c in faults.calls if c.startswith(changing)] == []


def test_a_moto_without_get_authorizers_is_read_through_the_routes(
    moto: None, faults: Faults, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto lacks GetAuthorizers (the suite adds it, as the embedded AWS does): against a plain
    moto, up, a second up and down still find the three authorizers through the routes."""
    from moto.apigatewayv2.responses import ApiGatewayV2Response

    monkeypatch.delattr(ApiGatewayV2Response, "get_authorizers")
    assert run("up").exit_code == 0
    first = resources()
    start = len(faults.calls)
    again = run_json("up")
    calls = faults.calls[start:]
    assert "GetAuthorizers" in calls and "GetAuthorizer" in calls  # refused, then one by one
    assert not [c for c in calls if c.startswith(("Create", "Update", "Delete"))]
    keys = ("authorizer", "m2m_authorizer", "lambda_authorizer")
    assert {k: again["steps"][k] for k in keys} == dict.fromkeys(keys, "exists")
    assert resources() == first
    assert run("down").exit_code == 0
    assert leftovers() == {}


def test_a_recreated_pool_is_followed_by_the_authorizer_function(stack: dict[str, Any]) -> None:
    """Pool deleted by hand: up makes a new one, and the kept authorizer function names it (the
    HTTP half: moto cannot patch a REST authorizer's pool, see test_rest_units.py)."""
    boto3.client("cognito-idp", region_name=REGION).delete_user_pool(UserPoolId=stack["user_pool"]["id"])
    assert run("up", "--no-rest").exit_code == 0
    now = resources()
    assert now["user_pool"]["id"] != stack["user_pool"]["id"]
    env = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=NAMES.authorizer_function
    )["Environment"]["Variables"]
    assert env["USER_POOL_ID"] == now["user_pool"]["id"]
    assert env["CLIENT_ID"] == now["app_client"]["id"]


def test_down_deletes_every_new_resource(stack: dict[str, Any], faults: Faults) -> None:
    """down: both functions, both roles (policies first), both log groups, the API, the pool."""
    result = run("down", "--output", "json")
    assert result.exit_code == 0, result.output
    assert leftovers() == {}
    deletes = [c for c in faults.calls if c.startswith("Delete")]
    assert deletes.count("DeleteFunction") == 2 and deletes.count("DeleteRole") == 2
    assert deletes.count("DeleteRolePolicy") == 2 and deletes.count("DeleteLogGroup") == 2
    assert not (paths.home() / "authdemo.json").exists()


def test_sweep_finds_the_authorizer_resources_without_state(stack: dict[str, Any]) -> None:
    (paths.home() / "authdemo.json").unlink()
    report = run_json("down", "--sweep", "--yes")
    found = {f["type"]: f["id"] for f in report["found"]}
    assert found["authorizer_function"] == NAMES.authorizer_function
    assert found["authorizer_role"] == NAMES.authorizer_role
    assert found["authorizer_log_group"] == NAMES.authorizer_log_group
    assert leftovers() == {}


def test_one_zip_carries_both_handlers() -> None:
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(function_zip())).namelist()
    assert names == ["handler.py", "authorizer.py"]
    assert function_zip() == function_zip()  # same bytes each run
