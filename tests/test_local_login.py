"""The embedded Cognito's managed login (issue 11 §1), over real HTTP on the session's server:
the code + PKCE flow, refresh, client credentials, userInfo, logout and discovery, and each
refusal Cognito makes (never an open redirect, codes used once, Cognito's error bodies)."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import server_client

from authdemo.local import sigv4
from authdemo.local.authorizers.denied import Denied
from authdemo.local.authorizers.jwt import JwtConfig, KeyProvider, authorize
from authdemo.local.backends import find_user_pool, moto_cognito_jwks, pools_public_jwks

REGION = "us-west-2"
CALLBACK = "http://localhost:8400/callback"
SIGNED_OUT = "http://localhost:8400/signed-out"
USER, PASSWORD = "demo@example.com", "Corr3ct-Horse!"
USER_SCOPES = ["openid", "email", "profile", "aws.cognito.signin.user.admin"]
_HIDDEN = re.compile(r'<input type=hidden name="([^"]*)" value="([^"]*)">')


@dataclass
class Pool:
    id: str
    base: str  # http://127.0.0.1:<port>/_aws/cognito/<prefix>
    app: str  # public client: code flow with PKCE
    confidential: str  # code flow, with a secret
    confidential_secret: str
    m2m: str
    m2m_secret: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.id}"


_shared: dict[str, Pool] = {}


@pytest.fixture
def pool(server: Any) -> Pool:
    """One pool for the tests that change nothing in it (built again if a `mock_aws` elsewhere
    in this process reset moto, the embedded server's backends included)."""
    built = _shared.get(server.url)
    if built is None or find_user_pool(built.id) is None:
        built = _shared[server.url] = build_pool(server)
    return built


@pytest.fixture
def own_pool(server: Any) -> Pool:
    """A pool of the test's own, for tests that disable or sign out its user."""
    return build_pool(server)


def build_pool(server: Any) -> Pool:
    """A pool as `up` builds it (domain, resource server, user app client, m2m client, a user),
    plus a code-flow client with a secret."""
    idp = server_client(server, "cognito-idp", REGION)
    prefix = f"authdemo-t-{uuid.uuid4().hex[:8]}"
    pool_id = idp.create_user_pool(PoolName=prefix)["UserPool"]["Id"]
    idp.create_user_pool_domain(Domain=prefix, UserPoolId=pool_id)
    idp.create_resource_server(
        UserPoolId=pool_id,
        Identifier="authdemo",
        Name="authdemo",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "r"}],
    )
    code_flow = {
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": USER_SCOPES,
        "SupportedIdentityProviders": ["COGNITO"],
        "CallbackURLs": [CALLBACK],
        "LogoutURLs": [SIGNED_OUT],
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    }
    app = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app", **code_flow)["UserPoolClient"]
    conf = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="conf", GenerateSecret=True, **code_flow
    )["UserPoolClient"]
    m2m = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="m2m",
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["authdemo/read"],
    )["UserPoolClient"]
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=USER,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": USER}, {"Name": "email_verified", "Value": "true"}],
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username=USER, Password=PASSWORD, Permanent=True)
    return Pool(
        pool_id,
        f"{server.url}/_aws/cognito/{prefix}",
        app["ClientId"],
        conf["ClientId"],
        conf["ClientSecret"],
        m2m["ClientId"],
        m2m["ClientSecret"],
    )


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(pool: Pool, challenge: str, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": pool.app,
        "redirect_uri": CALLBACK,
        "scope": "openid email profile",
        "state": "st-42",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return {k: v for k, v in params.items() if v is not None}


def get(url: str, **kwargs: Any) -> requests.Response:
    return requests.get(url, allow_redirects=False, timeout=10, **kwargs)


def post(url: str, **kwargs: Any) -> requests.Response:
    return requests.post(url, allow_redirects=False, timeout=10, **kwargs)


def sign_in(
    pool: Pool, params: dict[str, str], username: str = USER, password: str = PASSWORD
) -> requests.Response:
    """Load the form, then submit its hidden fields with the credentials, as a browser would."""
    form = get(pool.base + "/oauth2/authorize", params=params)
    assert form.status_code == 200, form.headers.get("location")
    fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(form.text)}
    return post(pool.base + "/login", data={**fields, "username": username, "password": password})


def redirected_query(response: requests.Response, to: str = CALLBACK) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.split("?")[0] == to
    return parse_qs(urlsplit(location).query)


def code_for(pool: Pool, challenge: str, **overrides: str | None) -> str:
    query = redirected_query(sign_in(pool, authorize_params(pool, challenge, **overrides)))
    assert query["state"] == ["st-42"]
    return query["code"][0]


def exchange(pool: Pool, code: str, verifier: str | None, **extra: str) -> requests.Response:
    data = {"grant_type": "authorization_code", "client_id": pool.app, "code": code, "redirect_uri": CALLBACK}
    if verifier is not None:
        data["code_verifier"] = verifier
    return post(pool.base + "/oauth2/token", data={**data, **extra})


def tokens(pool: Pool, **overrides: str | None) -> dict[str, Any]:
    verifier, challenge = pkce()
    answer = exchange(pool, code_for(pool, challenge, **overrides), verifier)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def passes(token: str, issuer: str, audience: str, scopes: list[str] | None = None) -> dict[str, Any]:
    """The embedded gateway's JWT authorizer's verdict on the token: its claims, or Denied."""
    headers = {"authorization": f"Bearer {token}"}
    return authorize(
        JwtConfig(issuer, (audience,)), headers, KeyProvider(local=moto_cognito_jwks), scopes
    ).claims


def error_of(response: requests.Response) -> str:
    assert response.status_code == 400, (response.status_code, response.text)
    body = response.json()
    assert list(body) == ["error"]
    return str(body["error"])


# ------------------------------------------------------------------------------------ flows
def test_code_flow_with_pkce_gives_cognito_tokens_the_gateway_accepts(server: Any, pool: Pool) -> None:
    """Form, sign-in, code, exchange: Cognito's token answer; both tokens pass the JWT authorizer."""
    verifier, challenge = pkce()
    form = get(pool.base + "/oauth2/authorize", params=authorize_params(pool, challenge))
    assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
    csp = form.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self' http://localhost:8400;" in csp  # the redirect after the form's POST
    for marker in ("id=username name=username", "id=password name=password", "type=submit id=signin"):
        assert marker in form.text
    assert "<script" not in form.text and "src=" not in form.text and "@import" not in form.text
    code = code_for(pool, challenge)
    answer = exchange(pool, code, verifier)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert set(body) == {"access_token", "id_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    access = passes(body["access_token"], pool.issuer, pool.app, ["openid"])
    assert access["token_use"] == "access" and access["client_id"] == pool.app and access["username"] == USER
    assert access["scope"].split() == ["openid", "email", "profile"]
    id_claims = passes(body["id_token"], pool.issuer, pool.app)
    assert id_claims["aud"] == pool.app and id_claims["token_use"] == "id"
    assert id_claims["email"] == USER and id_claims["email_verified"] is True
    assert id_claims["cognito:username"] == USER and id_claims["sub"] == access["sub"]
    with pytest.raises(Denied) as refused:
        passes(body["access_token"], pool.issuer, pool.app, ["authdemo/read"])
    assert refused.value.status == 403


def test_get_user_and_sign_out_take_a_token_with_the_admin_scope_only(server: Any, own_pool: Pool) -> None:
    """Cognito's self-service calls need `aws.cognito.signin.user.admin` in the access token
    (moto never checks: its own tokens always have it); the default scopes include it."""
    unsigned = boto3.client(
        "cognito-idp", endpoint_url=server.url, region_name=REGION, config=Config(signature_version=UNSIGNED)
    )
    narrow = tokens(own_pool)["access_token"]  # openid email profile
    with pytest.raises(ClientError) as refused:
        unsigned.get_user(AccessToken=narrow)
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "NotAuthorizedException",
        "Access Token does not have required scopes",
    )
    full = tokens(own_pool, scope=None)["access_token"]  # all the client's scopes
    assert "aws.cognito.signin.user.admin" in passes(full, own_pool.issuer, own_pool.app)["scope"].split()
    assert unsigned.get_user(AccessToken=full)["Username"] == USER
    unsigned.global_sign_out(AccessToken=full)
    with pytest.raises(ClientError) as signed_out:
        unsigned.get_user(AccessToken=full)
    assert signed_out.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_refresh_gives_new_id_and_access_tokens_but_no_refresh_token(pool: Pool) -> None:
    """grant_type=refresh_token: same scopes as the sign-in, no new refresh token."""
    first = tokens(pool)
    answer = post(
        pool.base + "/oauth2/token",
        data={"grant_type": "refresh_token", "client_id": pool.app, "refresh_token": first["refresh_token"]},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"access_token", "id_token", "token_type", "expires_in"}
    assert passes(body["access_token"], pool.issuer, pool.app)["scope"] == "openid email profile"
    assert body["access_token"] != first["access_token"]


def test_client_credentials_token_opens_a_scoped_route_for_its_own_audience_only(pool: Pool) -> None:
    """HTTP Basic; an access token only, Cognito's M2M claims; the user client's audience refuses it."""
    answer = post(
        pool.base + "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "authdemo/read"},
        auth=(pool.m2m, pool.m2m_secret),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type"} and body["token_type"] == "Bearer"
    claims = passes(body["access_token"], pool.issuer, pool.m2m, ["authdemo/read"])
    assert claims["sub"] == claims["client_id"] == pool.m2m
    assert claims["scope"] == "authdemo/read" and claims["token_use"] == "access" and claims["version"] == 2
    assert {"auth_time", "iat", "exp", "jti", "iss"} <= set(claims)
    with pytest.raises(Denied) as refused:
        passes(body["access_token"], pool.issuer, pool.app)
    assert refused.value.status == 401
    in_body = post(
        pool.base + "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": pool.m2m, "client_secret": pool.m2m_secret},
    )
    assert in_body.status_code == 200
    assert passes(in_body.json()["access_token"], pool.issuer, pool.m2m)["scope"] == "authdemo/read"


def test_userinfo_answers_an_openid_access_token_only(server: Any, pool: Pool) -> None:
    """The user's attributes for a token with `openid`; 401 invalid_token otherwise, as Cognito."""
    body = tokens(pool)
    info = get(pool.base + "/oauth2/userInfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200
    assert info.json()["email"] == USER and info.json()["username"] == USER
    assert info.json()["email_verified"] == "true" and info.json()["sub"]
    idp = server_client(server, "cognito-idp", REGION)
    api_token = idp.initiate_auth(
        ClientId=pool.app,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": USER, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    for headers in (
        {"Authorization": f"Bearer {api_token}"},
        {},
        {"Authorization": f"Bearer {body['id_token']}"},
    ):
        refused = get(pool.base + "/oauth2/userInfo", headers=headers)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
        assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert (
        "openid scope"
        in get(pool.base + "/oauth2/userInfo", headers={"Authorization": f"Bearer {api_token}"}).text
    )


def test_sign_out_and_revocation_end_the_refresh_token(server: Any, own_pool: Pool) -> None:
    """GlobalSignOut (moto's own) and /oauth2/revoke both make the refresh token invalid_grant."""
    signed_out = tokens(own_pool)
    server_client(server, "cognito-idp", REGION).admin_user_global_sign_out(
        UserPoolId=own_pool.id, Username=USER
    )
    url, refresh = own_pool.base + "/oauth2/token", {"grant_type": "refresh_token", "client_id": own_pool.app}
    assert (
        error_of(post(url, data={**refresh, "refresh_token": signed_out["refresh_token"]})) == "invalid_grant"
    )
    fresh = tokens(own_pool)
    revoke = post(
        own_pool.base + "/oauth2/revoke", data={"token": fresh["refresh_token"], "client_id": own_pool.app}
    )
    assert revoke.status_code == 200
    assert error_of(post(url, data={**refresh, "refresh_token": fresh["refresh_token"]})) == "invalid_grant"
    bearer = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert get(own_pool.base + "/oauth2/userInfo", headers=bearer).status_code == 401


def test_logout_redirects_only_to_a_listed_sign_out_url(pool: Pool) -> None:
    """A listed logout_uri: 302 there; any other: Cognito's error page, never that URI."""
    assert (
        get(pool.base + "/logout", params={"client_id": pool.app, "logout_uri": SIGNED_OUT}).headers[
            "location"
        ]
        == SIGNED_OUT
    )
    for uri in ("https://evil.example/", CALLBACK):
        refused = get(pool.base + "/logout", params={"client_id": pool.app, "logout_uri": uri})
        assert refused.status_code == 302
        assert refused.headers["location"].startswith(pool.base + "/error?error=redirect_mismatch")


def test_discovery_document_names_the_pool_domain_endpoints(server: Any, pool: Pool) -> None:
    """`/<poolId>/.well-known/openid-configuration`: Cognito's issuer, endpoints at the domain, S256."""
    answer = requests.get(f"{server.url}/{pool.id}/.well-known/openid-configuration", timeout=10)
    assert answer.status_code == 200
    document = answer.json()
    assert document["issuer"] == pool.issuer
    assert document["authorization_endpoint"] == pool.base + "/oauth2/authorize"
    assert document["token_endpoint"] == pool.base + "/oauth2/token"
    assert document["userinfo_endpoint"] == pool.base + "/oauth2/userInfo"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["response_types_supported"] == ["code", "token"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert requests.get(document["jwks_uri"], timeout=10).json() == pools_public_jwks()


# --------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    "redirect_uri", ["https://evil.example/callback", CALLBACK + "/", "http://localhost:8400/callback?x=1"]
)
def test_unlisted_redirect_uri_gets_the_error_page_never_a_redirect_there(
    pool: Pool, redirect_uri: str
) -> None:
    """Not exactly a callback URL: Cognito's /error?error=redirect_mismatch, at authorize and at login."""
    _, challenge = pkce()
    params = authorize_params(pool, challenge, redirect_uri=redirect_uri)
    answer = get(pool.base + "/oauth2/authorize", params=params)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(pool.base + "/error?error=redirect_mismatch")
    page = get(location)
    assert page.status_code == 400 and "redirect_mismatch" in page.text
    tampered = post(pool.base + "/login", data={**params, "username": USER, "password": PASSWORD})
    assert tampered.headers["location"].startswith(pool.base + "/error?error=redirect_mismatch")


def test_unknown_client_gets_the_error_page(pool: Pool) -> None:
    """A client_id the pool does not have (here: another pool's shape) never reaches the redirect_uri."""
    _, challenge = pkce()
    answer = get(
        pool.base + "/oauth2/authorize", params=authorize_params(pool, challenge, client_id="nosuchclient")
    )
    assert answer.status_code == 302 and answer.headers["location"].startswith(pool.base + "/error?error=")
    token = post(
        pool.base + "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": "nosuchclient",
            "code": "x",
            "redirect_uri": CALLBACK,
        },
    )
    assert error_of(token) == "invalid_client"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": None}, "invalid_request"),  # no method means plain
        ({"code_challenge_method": "plain"}, "invalid_request"),  # AWS supports S256 only
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),  # a method without a challenge
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "openid nosuch"}, "invalid_scope"),
        ({"scope": "authdemo/read"}, "invalid_scope"),  # defined, but not allowed for this client
    ],
)
def test_bad_parameters_go_back_to_the_redirect_uri_with_state(
    pool: Pool, overrides: dict[str, str | None], error: str
) -> None:
    """Once client and redirect_uri are valid, a bad request goes back as ?error=...&state=..."""
    _, challenge = pkce()
    answer = get(pool.base + "/oauth2/authorize", params=authorize_params(pool, challenge, **overrides))
    assert redirected_query(answer) == {"error": [error], "state": ["st-42"]}


def test_state_and_hostile_parameters_round_trip_escaped(pool: Pool) -> None:
    """`state` comes back byte for byte; markup in it never reaches the page unescaped."""
    hostile = 'a b&c="<script>x</script>'
    verifier, challenge = pkce()
    params = authorize_params(pool, challenge, state=hostile)
    form = get(pool.base + "/oauth2/authorize", params=params)
    assert "<script>" not in form.text and "&lt;script&gt;" in form.text
    query = redirected_query(sign_in(pool, params))
    assert query["state"] == [hostile]
    assert exchange(pool, query["code"][0], verifier).status_code == 200


def test_a_code_is_used_once(pool: Pool) -> None:
    """The second exchange of a code is invalid_grant."""
    verifier, challenge = pkce()
    code = code_for(pool, challenge)
    assert exchange(pool, code, verifier).status_code == 200
    assert error_of(exchange(pool, code, verifier)) == "invalid_grant"


def test_an_expired_code_is_refused(server: Any, pool: Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Five minutes and a second later (the server's clock moved, no sleep) the code is invalid_grant."""
    login = server.gateway.managed_login
    real = login.clock
    verifier, challenge = pkce()
    stale, fresh = code_for(pool, challenge), code_for(pool, challenge)
    monkeypatch.setattr(login, "clock", lambda: real() + 299)
    assert exchange(pool, fresh, verifier).status_code == 200
    monkeypatch.setattr(login, "clock", lambda: real() + 301)
    assert error_of(exchange(pool, stale, verifier)) == "invalid_grant"


@pytest.mark.parametrize("verifier", ["wrong-" + "v" * 50, None, "short"])
def test_wrong_or_missing_verifier_is_invalid_grant_and_burns_the_code(
    pool: Pool, verifier: str | None
) -> None:
    """PKCE: the verifier must hash to the challenge; a failed try uses the code up."""
    right, challenge = pkce()
    code = code_for(pool, challenge)
    assert error_of(exchange(pool, code, verifier)) == "invalid_grant"
    assert error_of(exchange(pool, code, right)) == "invalid_grant"


def test_a_verifier_for_a_code_issued_without_a_challenge_is_a_refused_pkce_downgrade(pool: Pool) -> None:
    """RFC 9700 §4.8.2: a code issued without code_challenge, redeemed with a code_verifier (any
    verifier matches no challenge), is invalid_grant and burnt; without a verifier it is redeemed."""
    no_pkce = {"code_challenge": None, "code_challenge_method": None}
    verifier, _ = pkce()
    code = code_for(pool, "", **no_pkce)
    assert error_of(exchange(pool, code, verifier)) == "invalid_grant"
    assert error_of(exchange(pool, code, None)) == "invalid_grant"  # the failed try used it up
    assert exchange(pool, code_for(pool, "", **no_pkce), None).status_code == 200


def test_wrong_redirect_uri_at_the_token_endpoint_is_invalid_grant(pool: Pool) -> None:
    verifier, challenge = pkce()
    code = code_for(pool, challenge)
    assert error_of(exchange(pool, code, verifier, redirect_uri=SIGNED_OUT)) == "invalid_grant"


def test_a_client_with_a_secret_must_authenticate(pool: Pool) -> None:
    """No secret, a wrong one (Basic or body): invalid_client; the right one: tokens."""
    verifier, challenge = pkce()
    url = pool.base + "/oauth2/token"

    def attempt(**kwargs: Any) -> requests.Response:
        code = code_for(pool, challenge, client_id=pool.confidential)
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        }
        return post(url, data={**data, **kwargs.pop("data", {})}, **kwargs)

    assert error_of(attempt(data={"client_id": pool.confidential})) == "invalid_client"
    assert error_of(attempt(auth=(pool.confidential, "wrong"))) == "invalid_client"
    assert (
        error_of(attempt(data={"client_id": pool.confidential, "client_secret": "wrong"})) == "invalid_client"
    )
    assert error_of(attempt(auth=(pool.app, ""))) == "invalid_grant"  # a code of another client
    assert attempt(auth=(pool.confidential, pool.confidential_secret)).status_code == 200
    wrong_m2m = post(url, data={"grant_type": "client_credentials"}, auth=(pool.m2m, "wrong"))
    assert error_of(wrong_m2m) == "invalid_client"


def test_grants_a_client_is_not_allowed_are_refused(pool: Pool) -> None:
    """client_credentials for the public user client, a code for the m2m client, an unknown grant."""
    url = pool.base + "/oauth2/token"
    assert (
        error_of(post(url, data={"grant_type": "client_credentials", "client_id": pool.app}))
        == "unauthorized_client"
    )
    m2m_code = post(
        url,
        data={"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK},
        auth=(pool.m2m, pool.m2m_secret),
    )
    assert error_of(m2m_code) == "unauthorized_client"
    assert (
        error_of(post(url, data={"grant_type": "password", "client_id": pool.app}))
        == "unsupported_grant_type"
    )
    assert error_of(post(url, data={"client_id": pool.app})) == "invalid_request"
    unknown_scope = post(
        url,
        data={"grant_type": "client_credentials", "scope": "authdemo/write"},
        auth=(pool.m2m, pool.m2m_secret),
    )
    assert error_of(unknown_scope) == "invalid_scope"
    assert (
        post(url, json={"grant_type": "client_credentials"}, auth=(pool.m2m, pool.m2m_secret)).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("username", "password"), [(USER, "Wrong-pass1!"), ("nobody@example.com", PASSWORD), ("", "")]
)
def test_wrong_password_or_unknown_user_shows_the_form_again(
    pool: Pool, username: str, password: str
) -> None:
    """Cognito's "Incorrect username or password.", the form again, no code."""
    _, challenge = pkce()
    answer = sign_in(pool, authorize_params(pool, challenge), username, password)
    assert answer.status_code == 200 and "location" not in answer.headers
    assert "Incorrect username or password." in answer.text and "id=password" in answer.text


def test_five_wrong_passwords_lock_managed_login_out(own_pool: Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    """After five wrong passwords on the sign-in page, the right one gets Cognito's "Password
    attempts exceeded" and no code for 1 s (issue 20, finding 12: the lockout InitiateAuth has)."""
    from authdemo.local import lockout

    now = [1000.0]
    monkeypatch.setattr(lockout.SIGN_INS, "clock", lambda: now[0])
    _, challenge = pkce()
    params = authorize_params(own_pool, challenge)
    for _ in range(5):
        assert "Incorrect username or password." in sign_in(own_pool, params, USER, "Wrong-pass1!").text
    locked = sign_in(own_pool, params, USER, PASSWORD)
    assert locked.status_code == 200 and "location" not in locked.headers
    assert "Password attempts exceeded" in locked.text
    now[0] += 1
    assert redirected_query(sign_in(own_pool, params, USER, PASSWORD))["code"]


def test_disabled_user_cannot_sign_in(server: Any, own_pool: Pool) -> None:
    server_client(server, "cognito-idp", REGION).admin_disable_user(UserPoolId=own_pool.id, Username=USER)
    _, challenge = pkce()
    answer = sign_in(own_pool, authorize_params(own_pool, challenge))
    assert answer.status_code == 200 and "User is disabled." in answer.text


def test_other_host_names_unknown_domains_and_methods(server: Any, pool: Pool) -> None:
    """421 for a Host not ours (DNS rebinding), 404 for a prefix moto has no domain for, 405."""
    path = urlsplit(pool.base).path + "/oauth2/authorize"
    assert get(server.url + path, headers={"Host": "evil.example"}).status_code == 421
    assert get(server.url + "/_aws/cognito/no-such-domain/oauth2/authorize").status_code == 404
    assert get(pool.base + "/oauth2/token").status_code == 405
    assert get(pool.base + "/nosuch").status_code == 404


def test_only_managed_login_paths_are_newly_public() -> None:
    """sigv4's public rule lets `/_aws/cognito/...` in unsigned, and nothing that merely looks like it."""

    def env(path: str, method: str = "POST") -> dict[str, str]:
        return {"REQUEST_METHOD": method, "PATH_INFO": path}

    assert sigv4.is_public(env("/_aws/cognito/p/oauth2/token"))
    assert sigv4.is_public(env("/_aws/cognito/p/login"))
    assert not sigv4.is_public(env("/_aws/cognitox/p/oauth2/token"))
    assert not sigv4.is_public(env("/", "POST"))
    assert not sigv4.is_public(env("/moto-api/reset"))


def test_moto_stays_closed_behind_the_login_prefix(server: Any) -> None:
    """An unsigned control-plane call is still refused (the login prefix opened nothing else)."""
    unsigned = boto3.client(
        "cognito-idp", endpoint_url=server.url, region_name=REGION, config=Config(signature_version=UNSIGNED)
    )
    with pytest.raises(ClientError) as refused:
        unsigned.list_user_pools(MaxResults=10)
    assert refused.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"


def test_sign_up_and_reset_pages_escape_and_keep_the_csp(own_pool: Pool) -> None:
    """Sign up and password reset on managed login (issue 20): markup in the email and the
    username comes back escaped, every page keeps the strict CSP and no script, and a reset code
    that is not the inbox's leaves the password alone."""
    _, challenge = pkce()
    params = authorize_params(own_pool, challenge)
    page = get(own_pool.base + "/oauth2/authorize", params=params)
    assert 'id=signup href="' in page.text and 'id=forgot href="' in page.text
    hostile = '"><script>alert(1)</script>@example.com'
    signed_up = post(own_pool.base + "/signup", data={**params, "email": hostile, "password": "Passw0rd!x"})
    reset = post(own_pool.base + "/forgotPassword", data={**params, "username": f"{USER}<b>"})
    wrong = post(
        own_pool.base + "/confirmForgotPassword",
        data={**params, "username": USER, "code": "12345x", "password": "Attack3r-pass!"},
    )
    for answer in (signed_up, reset, wrong):
        assert answer.status_code == 200 and "<script" not in answer.text and "<b>" not in answer.text
        assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "&lt;script&gt;" in signed_up.text and "id=confirm" in signed_up.text
    assert "id=error" in wrong.text  # no code was sent to USER: refused
    assert redirected_query(sign_in(own_pool, params))["code"]  # the password is unchanged


def test_no_sign_up_page_in_an_admin_only_pool(server: Any, own_pool: Pool) -> None:
    """Finding 4 on managed login: an admin-only pool offers no "Sign up" link, its `/signup`
    is the error page, and a posted sign-up creates no user."""
    idp = server_client(server, "cognito-idp", REGION)
    idp.update_user_pool(UserPoolId=own_pool.id, AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})
    _, challenge = pkce()
    params = authorize_params(own_pool, challenge)
    page = get(own_pool.base + "/oauth2/authorize", params=params)
    assert "id=signup" not in page.text and "id=forgot" in page.text
    assert get(own_pool.base + "/signup", params=params).status_code == 400
    posted = post(
        own_pool.base + "/signup", data={**params, "email": "eve@example.com", "password": "Passw0rd!x"}
    )
    assert posted.status_code == 400 and "signup_disabled" in posted.text
    assert [u["Username"] for u in idp.list_users(UserPoolId=own_pool.id)["Users"]] == [USER]
