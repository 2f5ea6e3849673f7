"""Issue 11 on the AWS side: the pool's domain, the resource server, the M2M client, its JWT
authorizer and `GET /m2m`, the app client's OAuth settings, `token --m2m` and the M2M secret;
Cognito's domain rules (moto enforces none) are simulated through botocore (conftest)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from conftest import TOKEN_URL, Faults, aws_error, plain_client, run, run_json

from authdemo import app
from authdemo.errors import AuthdemoError, UnreachableError
from authdemo.oauth import client_credentials
from authdemo.units import base, cognito_oauth
from authdemo.units.cognito_oauth import domain_prefix

ACCOUNT, REGION = "123456789012", "us-west-2"
PREFIX = domain_prefix("authdemo", ACCOUNT, REGION)


def cognito() -> Any:
    return plain_client("cognito-idp")


def recorded() -> dict[str, Any]:
    return json.loads(app.state_path(app.Options()).read_text())


@pytest.mark.parametrize("stack", ["authdemo", "AWS-Amazon-Cognito", "a" * 32, "x-1"])
def test_domain_prefix_is_valid_and_deterministic(stack: str) -> None:
    """Lowercase, digits and hyphens, at most 63, no reserved word; one per account and region."""
    prefix = domain_prefix(stack, ACCOUNT, REGION)
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", prefix), prefix
    assert not any(word in prefix for word in ("aws", "amazon", "cognito"))
    assert prefix.startswith("authdemo-") and prefix == domain_prefix(stack, ACCOUNT, REGION)
    assert (
        prefix != domain_prefix(stack, "210987654321", REGION) != domain_prefix(stack, ACCOUNT, "eu-west-1")
    )


def test_up_builds_the_oauth_pieces_as_the_contract_says(cognito_rules: Faults, moto: None) -> None:
    """Domain on the pool (classic hosted UI), app client with the code flow to localhost:8400,
    resource server authdemo/read, the M2M client (secret never recorded), the second authorizer
    with both audiences and GET /m2m wanting authdemo/read."""
    assert run("up", "--no-rest").exit_code == 0
    res = recorded()["resources"]
    pool = res["user_pool"]["id"]
    assert res["domain"] == {"id": PREFIX, "url": f"https://{PREFIX}.auth.{REGION}.amazoncognito.com"}
    assert cognito().describe_user_pool(UserPoolId=pool)["UserPool"]["Domain"] == PREFIX
    app_client = cognito().describe_user_pool_client(UserPoolId=pool, ClientId=res["app_client"]["id"])
    c = app_client["UserPoolClient"]
    assert c["AllowedOAuthFlows"] == ["code"] and c["AllowedOAuthFlowsUserPoolClient"] is True
    assert c["CallbackURLs"] == ["http://localhost:8400/callback"]
    assert c["LogoutURLs"] == ["http://localhost:8400/signed-out"]
    assert set(c["AllowedOAuthScopes"]) == {"openid", "email", "profile", "aws.cognito.signin.user.admin"}
    assert c["SupportedIdentityProviders"] == ["COGNITO"] and "ClientSecret" not in c
    m2m = cognito().describe_user_pool_client(UserPoolId=pool, ClientId=res["m2m_client"]["id"])[
        "UserPoolClient"
    ]
    assert m2m["AllowedOAuthFlows"] == ["client_credentials"] and m2m["AllowedOAuthScopes"] == [
        "authdemo/read"
    ]
    assert m2m["ClientName"] == "authdemo-authdemo-m2m" and m2m["ClientSecret"]
    assert m2m["ClientSecret"] not in app.state_path(app.Options()).read_text()
    server = cognito().describe_resource_server(UserPoolId=pool, Identifier="authdemo")["ResourceServer"]
    assert [s["ScopeName"] for s in server["Scopes"]] == ["read"]
    gateway = plain_client("apigatewayv2")
    api = res["api"]["id"]
    authorizer = gateway.get_authorizer(ApiId=api, AuthorizerId=res["m2m_authorizer"]["id"])
    assert authorizer["Name"] == "cognito-m2m"
    assert authorizer["JwtConfiguration"]["Audience"] == [res["app_client"]["id"], res["m2m_client"]["id"]]
    route = next(r for r in gateway.get_routes(ApiId=api)["Items"] if r["RouteKey"] == "GET /m2m")
    assert route["AuthorizerId"] == res["m2m_authorizer"]["id"]
    assert route["AuthorizationScopes"] == ["authdemo/read"]
    assert recorded()["callback_port"] == 8400


def test_status_shows_login_url_and_the_secret_only_when_asked(moto: None) -> None:
    """status: login_url, callback_port, m2m_client_id, /m2m; the secret only via --field."""
    assert run("up", "--no-rest").exit_code == 0
    info = run_json("status")
    assert info["login_url"] == f"https://{PREFIX}.auth.{REGION}.amazoncognito.com"
    assert info["callback_port"] == 8400 and info["routes"]["m2m"].endswith("/m2m")
    res = recorded()["resources"]
    secret = cognito().describe_user_pool_client(
        UserPoolId=res["user_pool"]["id"], ClientId=res["m2m_client"]["id"]
    )["UserPoolClient"]["ClientSecret"]
    assert info["m2m_client_id"] == res["m2m_client"]["id"] and "m2m_client_secret" not in info
    assert secret not in run("status").output and secret not in json.dumps(info)
    assert run("status", "--field", "m2m_client_secret").stdout == secret + "\n"
    assert run("status", "--field", "login_url").stdout.strip() == info["login_url"]


def test_status_field_reads_the_state_and_only_resources_asks_aws(moto: None, faults: Faults) -> None:
    """`$(authdemo status --field password)` answers from the state file: one call (the check
    that the state is this account's), not ~30; plain status still asks AWS about every
    recorded resource."""
    assert run("up", "--no-rest").exit_code == 0
    start = len(faults.calls)
    assert run("status", "--field", "password").stdout.strip() == recorded()["password"]
    assert run("status", "--field", "login_url").exit_code == 0
    assert faults.calls[start:] == ["GetCallerIdentity"] * 2
    everything = run_json("status")["resources"]
    assert len(everything) == len(recorded()["resources"]) and all(r["exists"] for r in everything.values())
    assert len(faults.calls[start:]) >= len(everything)


def test_configure_brings_a_kept_client_to_the_oauth_settings_and_keeps_its_other_fields(
    faults: Faults, moto: None
) -> None:
    """A client reset by hand (no OAuth, 2-hour access tokens) and `up --callback-port 8401`:
    the update carries every field it had (UpdateUserPoolClient resets what it is not given);
    a later `up` keeps 8401."""
    assert run("up", "--no-rest").exit_code == 0
    res = recorded()["resources"]
    ids = {"UserPoolId": res["user_pool"]["id"], "ClientId": res["app_client"]["id"]}
    cognito().update_user_pool_client(
        **ids,
        ClientName="authdemo-authdemo-client",
        AllowedOAuthFlows=[],
        AllowedOAuthFlowsUserPoolClient=False,
        CallbackURLs=[],
        AccessTokenValidity=2,
        TokenValidityUnits={"AccessToken": "hours"},
    )
    sent: list[dict[str, Any]] = []
    faults.on(
        "cognito-idp",
        "provide-client-params.cognito-idp.UpdateUserPoolClient",
        lambda params, **_: sent.append(dict(params)),
    )
    assert run("up", "--no-rest", "--callback-port", "8401").exit_code == 0
    assert len(sent) == 1
    assert sent[0]["AccessTokenValidity"] == 2 and sent[0]["TokenValidityUnits"] == {"AccessToken": "hours"}
    assert sent[0]["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    now = cognito().describe_user_pool_client(**ids)["UserPoolClient"]
    assert now["CallbackURLs"] == ["http://localhost:8401/callback"] and now["AllowedOAuthFlows"] == ["code"]
    assert recorded()["callback_port"] == 8401
    assert run("up", "--no-rest").exit_code == 0
    assert len(sent) == 1  # nothing to change: no update
    assert run_json("status")["callback_port"] == 8401


def _cognito_model_with(tmp_path: Path, field: str) -> Path:
    """A botocore data path (AWS_DATA_PATH) whose Cognito model has one more app client field,
    in UpdateUserPoolClient's input and DescribeUserPoolClient's answer: as when AWS adds one."""
    from botocore.loaders import Loader

    model = Loader().load_service_model("cognito-idp", "service-2")
    update = model["operations"]["UpdateUserPoolClient"]["input"]["shape"]
    described = model["shapes"]["DescribeUserPoolClientResponse"]["members"]["UserPoolClient"]["shape"]
    for shape in (update, described):
        model["shapes"][shape]["members"][field] = {"shape": "StringType"}
    folder = tmp_path / "models" / "cognito-idp" / model["metadata"]["apiVersion"]
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    return tmp_path / "models"


def test_an_app_client_field_aws_adds_later_is_carried_by_the_update(
    faults: Faults, moto: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fields UpdateUserPoolClient carries are read from botocore's model: with a model that
    has a new field (through AWS_DATA_PATH), `up --callback-port` sends its current value back."""
    monkeypatch.setenv("AWS_DATA_PATH", str(_cognito_model_with(tmp_path, "FutureSetting")))
    assert run("up", "--no-rest").exit_code == 0

    def answer_with_the_new_field(parsed: dict[str, Any], **_: Any) -> None:
        parsed["UserPoolClient"]["FutureSetting"] = "set by hand"

    faults.on("cognito-idp", "after-call.cognito-idp.DescribeUserPoolClient", answer_with_the_new_field)
    sent: list[dict[str, Any]] = []
    faults.on(
        "cognito-idp",
        "provide-client-params.cognito-idp.UpdateUserPoolClient",
        lambda params, **_: sent.append(dict(params)),
    )
    assert run("up", "--no-rest", "--callback-port", "8401").exit_code == 0
    assert len(sent) == 1 and sent[0]["FutureSetting"] == "set by hand"
    assert sent[0]["CallbackURLs"] == ["http://localhost:8401/callback"]


def test_an_update_carries_only_what_describe_returns(faults: Faults, moto: None) -> None:
    """PublishSecretsInAWSSecretsManager (botocore 1.44) is an input DescribeUserPoolClient never
    returns ("omitted: unchanged"): not sent; ClientName, RefreshTokenRotation... are."""
    from authdemo.aws import Clients, Target
    from authdemo.units.cognito import client_update_fields

    fields = client_update_fields(Clients(Target(region="us-west-2"))("cognito-idp"))
    assert "ClientName" in fields and "ExplicitAuthFlows" in fields
    assert not {"UserPoolId", "ClientId", "ClientSecret", "PublishSecretsInAWSSecretsManager"} & set(fields)


def test_a_prefix_taken_by_another_pool_is_one_sentence_and_up_resumes(
    cognito_rules: Faults, moto: None
) -> None:
    """Another pool holds the prefix (Cognito: "Domain already associated with another user
    pool"): exit 1, one sentence with the fix, no traceback; freed, up finishes; down leaves nothing."""
    other = cognito().create_user_pool(PoolName="someone-else")["UserPool"]["Id"]
    cognito().create_user_pool_domain(Domain=PREFIX, UserPoolId=other)
    result = run("up", "--no-rest")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.count("Error:") == 1
    assert f"The domain prefix {PREFIX!r} is taken by another user pool" in result.stderr
    assert "choose another --stack" in result.stderr
    assert "domain" not in recorded()["resources"] and "user_pool" in recorded()["resources"]
    cognito().delete_user_pool_domain(Domain=PREFIX, UserPoolId=other)
    cognito().delete_user_pool(UserPoolId=other)
    assert run("up", "--no-rest").exit_code == 0
    assert recorded()["resources"]["domain"]["id"] == PREFIX
    assert run("down").exit_code == 0
    assert cognito().describe_user_pool_domain(Domain=PREFIX)["DomainDescription"] == {}


def test_a_pool_with_another_domain_is_one_sentence_and_down_still_clears_it(
    cognito_rules: Faults, moto: None
) -> None:
    """The stack's pool got another domain by hand: up says how to remove it; down deletes
    whatever domain the pool has before the pool (Cognito refuses the pool otherwise)."""
    assert run("up", "--no-rest").exit_code == 0
    pool = recorded()["resources"]["user_pool"]["id"]
    cognito().delete_user_pool_domain(Domain=PREFIX, UserPoolId=pool)
    cognito().create_user_pool_domain(Domain="hand-made-1", UserPoolId=pool)
    result = run("up", "--no-rest")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"User pool {pool} already has another domain" in result.stderr
    assert "delete-user-pool-domain" in result.stderr
    calls = len(cognito_rules.calls)
    assert run("down").exit_code == 0
    down_calls = cognito_rules.calls[calls:]
    assert down_calls.index("DeleteUserPoolDomain") < down_calls.index("DeleteUserPool")
    assert cognito().describe_user_pool_domain(Domain="hand-made-1")["DomainDescription"] == {}
    assert cognito().list_user_pools(MaxResults=60)["UserPools"] == []


def test_sweep_and_dry_runs_name_the_new_resources(cognito_rules: Faults, moto: None) -> None:
    """up/down --dry-run list the domain, resource server, M2M client, authorizer and route; a
    sweep without the state file deletes the pool with its domain."""
    new = {"domain", "resource_server", "m2m_client", "m2m_authorizer", "route_m2m"}
    plan = run_json("up", "--dry-run")["plan"]
    assert new <= {p["key"] for p in plan if p["action"] == "create"}
    assert run("up", "--no-rest").exit_code == 0
    down_plan = {p["key"]: p for p in run_json("down", "--dry-run")["plan"]}
    assert down_plan["domain"]["with"] == "user_pool" and down_plan["domain"]["ids"] == [PREFIX]
    assert down_plan["route_m2m"]["with"] == "api" and down_plan["m2m_client"]["action"] == "delete"
    app.state_path(app.Options()).unlink()
    assert run("down", "--sweep", "--yes").exit_code == 0
    assert cognito().list_user_pools(MaxResults=60)["UserPools"] == []
    assert cognito().describe_user_pool_domain(Domain=PREFIX)["DomainDescription"] == {}


def test_token_m2m_gets_a_client_credentials_token(moto: None, token_endpoint: Any) -> None:
    """token --m2m: Basic auth with the client's ID and secret at <domain>/oauth2/token, scope
    authdemo/read; printed in full when piped; refused grants are one sentence."""
    import jwt

    assert run("up", "--no-rest").exit_code == 0
    result = run("token", "--m2m")
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    client_id = recorded()["resources"]["m2m_client"]["id"]
    assert claims["client_id"] == claims["sub"] == client_id and claims["scope"] == "authdemo/read"
    assert claims["token_use"] == "access" and "aud" not in claims
    call = token_endpoint.calls[-1].request
    assert call.url == f"https://{PREFIX}.auth.{REGION}.amazoncognito.com/oauth2/token"
    assert "grant_type=client_credentials" in call.body and "scope=authdemo%2Fread" in call.body
    assert call.headers["Authorization"].startswith("Basic ")
    both = run("token", "--m2m", "--user", "student")
    assert both.exit_code == 2 and "--m2m is the M2M client's own token" in both.stderr


def test_client_credentials_errors_are_one_sentence(token_endpoint: Any) -> None:
    """Cognito's 400 {"error": ...} names the error and the fix; a page without a token is
    unreachable (exit 7), as is a connection refused."""
    import responses

    base = "https://authdemo-x-0a1b2c3d.auth.us-west-2.amazoncognito.com"
    token_endpoint.remove(responses.POST, TOKEN_URL)
    token_endpoint.add(responses.POST, f"{base}/oauth2/token", json={"error": "invalid_client"}, status=400)
    refused = r"refused to get an M2M token \(invalid_client\): .*secret is wrong"
    with pytest.raises(AuthdemoError, match=refused):
        client_credentials(base, "id", "wrong", ["authdemo/read"])
    token_endpoint.replace(responses.POST, f"{base}/oauth2/token", body="<html>", status=500)
    with pytest.raises(UnreachableError, match=r"failed to get an M2M token \(HTTP 500\); .*retry"):
        client_credentials(base, "id", "secret", ["authdemo/read"])
    with pytest.raises(
        UnreachableError, match=re.escape("Nothing answers at http://127.0.0.1:9/oauth2/token")
    ):
        client_credentials("http://127.0.0.1:9", "id", "secret", [], timeout=1)


def test_test_leaves_the_m2m_row_out_on_a_stack_without_a_domain(server_env: Any) -> None:
    """A stack made before issue 11 (no domain, M2M client or /m2m): `test` runs the other rows
    and columns and says so in one line, instead of failing."""
    e = ("--endpoint-url", server_env.url, "--stack", "old")
    assert run("up", *e).exit_code == 0
    try:
        path = app.state_path(app.Options(stack="old"))
        data = json.loads(path.read_text())
        for key in ("domain", "m2m_client", "route_m2m"):
            data["resources"].pop(key)
        path.write_text(json.dumps(data))
        result = run("test", *e, "--output", "json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        rest = bool(run_json("status", *e).get("rest_routes"))  # issue 21: its rows and doors too
        rows = {"none", "id", "access", "tampered", "student", "signed-out", "sigv4", "typo"}
        assert {c["credential"] for c in report["checks"]} == rows | ({"flushed"} if rest else set())
        assert "m2m" not in {c["route"] for c in report["checks"]}
        assert len(report["checks"]) == 7 * 4 + 1 + (7 * 5 + 2 + 1 if rest else 0)
        assert report["skipped"].startswith("No M2M row or /m2m column")
        assert "No M2M row" in result.stderr
    finally:
        assert run("down", *e).exit_code == 0


class DomainBeingDeleted:
    """Cognito after DeleteUserPoolDomain (moto deletes at once): the prefix stays DELETING for
    `polls` more DescribeUserPoolDomain answers; meanwhile the pool cannot be deleted and the
    prefix cannot be taken again. Simulated through botocore (conftest's `faults`)."""

    def __init__(self, faults: Faults, polls: int) -> None:
        self.polls, self.left, self.pool = polls, 0, ""
        faults.on("cognito-idp", "provide-client-params.cognito-idp.DeleteUserPoolDomain", self._deleted)
        faults.on("cognito-idp", "before-call.cognito-idp.DescribeUserPoolDomain", self._describe)
        faults.on("cognito-idp", "before-call.cognito-idp.DeleteUserPool", self._delete_pool)
        faults.on("cognito-idp", "before-call.cognito-idp.CreateUserPoolDomain", self._create)

    def _deleted(self, params: dict[str, Any], **_: Any) -> None:
        if params.get("Domain") == PREFIX:
            self.left, self.pool = self.polls, params["UserPoolId"]

    def _describe(self, params: dict[str, Any], **_: Any) -> Any:
        if self.left <= 0 or json.loads(params["body"]).get("Domain") != PREFIX:
            return None
        self.left -= 1
        described = {"Domain": PREFIX, "UserPoolId": self.pool, "Status": "DELETING"}
        return AWSResponse("https://aws.invalid", 200, {}, None), {"DomainDescription": described}

    def _delete_pool(self, **_: Any) -> Any:
        message = "User pool cannot be deleted. It has a domain configured that should be deleted first."
        return aws_error("InvalidParameterException", message) if self.left > 0 else None

    def _create(self, params: dict[str, Any], **_: Any) -> Any:
        if self.left > 0 and json.loads(params["body"]).get("Domain") == PREFIX:
            return aws_error("InvalidParameterException", "Domain already associated with another user pool.")
        return None


def test_down_waits_for_the_domain_to_be_deleted_before_the_pool(
    faults: Faults, moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DeleteUserPool is refused while the domain is DELETING: down polls DescribeUserPoolDomain
    (short injectable sleeps, no fixed wait) and deletes the pool once the domain is gone (asked
    first at once: a domain that goes at once costs no round trip more)."""
    slept: list[float] = []
    monkeypatch.setattr(base, "sleep", slept.append)
    assert run("up", "--no-rest").exit_code == 0
    cognito_aws = DomainBeingDeleted(faults, polls=3)
    result = run("down")
    assert result.exit_code == 0, result.output
    assert cognito_aws.left == 0 and len(slept) == 3 and faults.count("DeleteUserPool") == 2  # refused, done
    assert cognito().list_user_pools(MaxResults=60)["UserPools"] == []


def test_a_domain_deleting_for_too_long_stops_down_with_one_sentence(
    faults: Faults, moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait is bounded: past it, exit 7 and one sentence saying what it waited for."""
    monkeypatch.setattr(base, "sleep", lambda s: None)
    monkeypatch.setattr(cognito_oauth, "DOMAIN_WAIT_SECONDS", 0.0)
    assert run("up", "--no-rest").exit_code == 0
    DomainBeingDeleted(faults, polls=10**6)
    result = run("down")
    assert result.exit_code == 7 and "Traceback" not in result.output
    assert f"The user pool domain {PREFIX!r} is still DELETING" in " ".join(result.stderr.split())
    assert faults.count("DeleteUserPool") == 1  # the first ask, refused; none after the wait ran out


def test_up_right_after_down_waits_for_its_old_domain_instead_of_calling_it_taken(
    faults: Faults, moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prefix is still DELETING (the last `down`'s domain): up waits, then takes it; no
    "taken by another user pool"."""
    monkeypatch.setattr(base, "sleep", lambda s: None)
    assert run("up", "--no-rest").exit_code == 0
    assert run("down").exit_code == 0
    cognito_aws = DomainBeingDeleted(faults, polls=2)
    cognito_aws.left, cognito_aws.pool = 2, "us-west-2_gone"
    start = len(faults.calls)
    result = run("up", "--no-rest")
    assert result.exit_code == 0, result.output
    assert "taken" not in result.stderr and recorded()["resources"]["domain"]["id"] == PREFIX
    assert faults.calls[start:].count("CreateUserPoolDomain") == 2 and cognito_aws.left == 0


def test_the_pool_is_created_on_the_lite_plan(faults: Faults, moto: None) -> None:
    """CreateUserPool asks for UserPoolTier LITE (AWS's default is ESSENTIALS): the cheapest plan,
    which has the classic hosted UI (ManagedLoginVersion 1) the domain is created with."""
    sent: list[dict[str, Any]] = []
    faults.on(
        "cognito-idp",
        "provide-client-params.cognito-idp.CreateUserPool",
        lambda params, **_: sent.append(params),
    )
    assert run("up", "--no-rest").exit_code == 0
    assert [p.get("UserPoolTier") for p in sent] == ["LITE"]
    assert cognito_oauth.MANAGED_LOGIN_VERSION == 1  # v2 (managed login) would need ESSENTIALS
