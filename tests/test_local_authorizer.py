"""The JWT authorizer's decisions, without HTTP: tokens minted with the embedded Cognito's key."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from conftest import cognito_signing_key
from conftest import mint as conftest_mint
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm

from authdemo.local.authorizers.jwt import (
    MAX_TOKEN_BYTES,
    Denied,
    JwtConfig,
    KeyProvider,
    authorize,
    claim_string,
)
from authdemo.local.execute_api import proxy_response
from authdemo.local.matching import match_route
from authdemo.local.moto_patches import pool_key
from authdemo.local.permissions import arn_like, invoke_allowed

ISSUER = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_test"
CLIENT = "client123"
CONFIG = JwtConfig(issuer=ISSUER, audiences=(CLIENT,))
PRIVATE = cognito_signing_key()
PUBLIC_JWKS = pool_key().jwks


def local_keys() -> KeyProvider:
    return KeyProvider(local=lambda issuer: PUBLIC_JWKS if issuer == ISSUER else None)


KEYS = local_keys()


def mint(
    drop: tuple[str, ...] = (),
    headers: dict[str, Any] | None = None,
    key: Any = PRIVATE,
    alg: str = "RS256",
    **claims: Any,
) -> str:
    """An ID-token-shaped JWT of this module's issuer and client (conftest.mint)."""
    return conftest_mint(ISSUER, CLIENT, drop=drop, headers=headers, key=key, alg=alg, **claims)


def deny(token: str | None, scopes: list[str] | None = None, **kw: Any) -> Denied:
    headers = {} if token is None else {"Authorization": f"Bearer {token}" if token else ""}
    with pytest.raises(Denied) as caught:
        authorize(CONFIG, headers, KEYS, scopes=scopes, **kw)
    return caught.value


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_valid_token_is_authorized_with_its_claims() -> None:
    """A well-formed token signed by the issuer's key passes and keeps its claims."""
    result = authorize(CONFIG, {"authorization": f"Bearer {mint()}"}, KEYS)
    assert result.claims["cognito:username"] == "alice"
    assert result.scopes is None


def test_bare_token_without_bearer_prefix_is_accepted() -> None:
    """API Gateway accepts the token without the `Bearer ` prefix too."""
    assert authorize(CONFIG, {"Authorization": mint()}, KEYS).claims["sub"] == "user-1"


@pytest.mark.parametrize(
    ("make", "description"),
    [
        (lambda: None, "the token is missing"),
        (lambda: "", "the token is missing"),
        (lambda: "garbage", "the token is malformed"),
        (lambda: mint(alg="HS256", key="s" * 32), "signing method HS256 is invalid"),
        (lambda: jwt.encode({"iss": ISSUER}, None, algorithm="none"), "signing method none"),
        (lambda: mint(alg="PS256"), "signing method PS256 is invalid"),
        (lambda: mint(headers={"kid": "other"}), "kid is not in the issuer's jwks"),
        (lambda: mint(exp=int(time.time()) - 1), "the token has expired"),
        (lambda: mint(drop=("exp",)), "the token has no expiry"),
        (lambda: mint(exp="tomorrow"), "exp claim is not a number"),
        (lambda: mint(nbf=int(time.time()) + 60), "the token is not valid yet"),
        (lambda: mint(iat=int(time.time()) + 60), "the token was issued in the future"),
        (lambda: mint(iss=ISSUER + "x"), "valid issuer"),
        (lambda: mint(aud="someone-else"), "valid audience"),
        (lambda: mint(aud=["x", "y"]), "valid audience"),
        (lambda: mint(drop=("aud",)), "valid audience"),
        (lambda: mint(drop=("aud",), client_id="someone-else"), "valid audience"),
        # `aud` present but wrong: a matching client_id must not rescue it.
        (lambda: mint(aud="someone-else", client_id=CLIENT), "valid audience"),
    ],
)
def test_refusals_carry_api_gateway_descriptions(make: Any, description: str) -> None:
    """Each way a token is wrong gets a 401 whose www-authenticate says why."""
    denied = deny(make())
    assert denied.status == 401
    assert denied.body == b'{"message":"Unauthorized"}'
    header = denied.headers["www-authenticate"]
    assert header.startswith('Bearer scope="" error="invalid_token" error_description="')
    assert description in header


def test_signature_of_another_key_is_refused() -> None:
    """A token signed by a key that is not the issuer's fails on its signature."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert "signature is invalid" in deny(mint(key=other)).description


def test_client_id_is_checked_only_without_aud() -> None:
    """An access-token shape (no aud, client_id) passes on client_id alone."""
    token = mint(drop=("aud",), client_id=CLIENT, token_use="access")
    assert authorize(CONFIG, {"Authorization": token}, KEYS).claims["client_id"] == CLIENT


def test_aud_list_matches_any_configured_audience() -> None:
    """A list `aud` passes when one member is a configured audience."""
    assert authorize(CONFIG, {"Authorization": mint(aud=["x", CLIENT])}, KEYS).claims["aud"] == ["x", CLIENT]


def test_scopes_from_scope_or_scp_grant_a_scoped_route() -> None:
    """A scoped route passes when `scope` (string) or `scp` (list) holds one wanted scope, and
    the integration sees the token's whole scope list, as API Gateway forwards it."""
    by_scope = authorize(
        CONFIG, {"Authorization": mint(scope="a demo/read")}, KEYS, scopes=["demo/read", "x"]
    )
    assert by_scope.scopes == ["a", "demo/read"]
    by_scp = authorize(CONFIG, {"Authorization": mint(scp=["x", "y"])}, KEYS, scopes=["demo/read", "x"])
    assert by_scp.scopes == ["x", "y"]


def test_null_claims_are_left_out_of_the_event() -> None:
    """A `null` claim is not forwarded (API Gateway drops it rather than sending "")."""
    authorized = authorize(CONFIG, {"Authorization": mint(nickname=None, flag=True)}, KEYS)
    claims = authorized.event_claims()
    assert "nickname" not in claims and claims["flag"] == "true"


def test_unknown_critical_header_is_refused() -> None:
    """A token whose header lists an extension we do not understand in `crit` is refused (RFC 7515)."""
    token = mint(headers={"crit": ["x-unknown"], "x-unknown": 1})
    assert deny(token).status == 401


def test_missing_scope_is_forbidden_not_unauthorized() -> None:
    """A valid token without the route's scope gets 403 Forbidden."""
    denied = deny(mint(), scopes=["demo/read"])
    assert denied.status == 403
    assert denied.body == b'{"message":"Forbidden"}'
    assert 'error="insufficient_scope"' in denied.headers["www-authenticate"]


def test_query_string_identity_source() -> None:
    """An authorizer whose identity source is a query parameter reads the token there."""
    config = JwtConfig(ISSUER, (CLIENT,), "$request.querystring.token")
    assert authorize(config, {}, KEYS, query={"token": mint()}).claims["cognito:username"] == "alice"


def test_claims_are_rendered_as_strings_like_api_gateway() -> None:
    """Numbers, lists and booleans become the strings API Gateway forwards."""
    assert claim_string(1787996002) == "1787996002"
    assert claim_string(1787996002.0) == "1787996002"
    assert claim_string(["Group2", "Group1"]) == "[Group2 Group1]"
    assert claim_string(True) == "true"
    assert claim_string({"a": 1}) == '{"a":1}'


def test_nested_json_in_a_signed_payload_is_a_clean_401() -> None:
    """A correctly signed token whose payload nests 100k deep is refused, not crashed on."""
    header = b64(json.dumps({"alg": "RS256", "kid": pool_key().kid, "typ": "JWT"}).encode())
    payload = b64(b"[" * 100_000 + b"]" * 100_000)
    signing_input = f"{header}.{payload}".encode()
    signature = b64(RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input, PRIVATE))
    assert deny(f"{header}.{payload}.{signature}").status == 401


def test_huge_token_is_refused_before_parsing() -> None:
    """A 64 KiB token is refused as too large."""
    assert "too large" in deny("a" * (64 * 1024)).description
    assert MAX_TOKEN_BYTES < 64 * 1024


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
segments = st.one_of(
    st.text(max_size=40),
    json_values.map(lambda v: b64(json.dumps(v).encode())),
    st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "jku"]), json_values).map(
        lambda d: b64(json.dumps(d).encode())
    ),
    st.integers(min_value=1, max_value=5000).map(lambda n: b64(b"[" * n + b"]" * n)),
    st.binary(max_size=40).map(lambda b: base64.urlsafe_b64encode(b).decode() + "=" * 3),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_fuzz_arbitrary_header_text_only_ever_denies(value: str) -> None:
    """Any header text ends in Denied, never another exception."""
    with pytest.raises(Denied):
        authorize(CONFIG, {"Authorization": value}, KEYS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segments, segments, segments, st.booleans())
def test_fuzz_structured_tokens_only_ever_deny(h: str, p: str, s: str, bearer: bool) -> None:
    """Three hostile segments (bad base64, odd JSON, deep nesting) end in Denied."""
    token = f"{h}.{p}.{s}"
    with pytest.raises(Denied) as caught:
        authorize(CONFIG, {"Authorization": ("Bearer " if bearer else "") + token}, KEYS)
    assert caught.value.status == 401


@settings(max_examples=100, deadline=None)
@given(json_values, json_values)
def test_fuzz_signed_hostile_claims_only_ever_deny(exp: Any, aud: Any) -> None:
    """Genuinely signed tokens with claims of any JSON type never crash the checks."""
    try:
        result = authorize(CONFIG, {"Authorization": mint(exp=exp, aud=aud)}, KEYS)
    except Denied:
        return
    assert isinstance(exp, int | float) and not isinstance(exp, bool) and exp > time.time()
    assert result.claims["aud"] in (CLIENT, [CLIENT]) or CLIENT in result.claims["aud"]


def _remote_token(fake_issuer: Any, issuer: str, kid: str = "k1") -> tuple[Any, str]:
    """A sound issuer served by `fake_issuer`, and a token of it."""
    key = fake_issuer.publish(issuer)
    token = jwt.encode(
        {"iss": issuer, "aud": CLIENT, "exp": time.time() + 60}, key, algorithm="RS256", headers={"kid": kid}
    )
    return key, token


@pytest.mark.parametrize("path", ["/tenant/", "/tenant"])
def test_remote_issuer_keys_come_through_discovery_once(fake_issuer: Any, path: str) -> None:
    """Another issuer's keys: `{issuer}/.well-known/openid-configuration` (one trailing slash of
    the issuer dropped) -> `jwks_uri`, each fetched once, then cached; iss compared exactly."""
    issuer = fake_issuer.base + path
    _, token = _remote_token(fake_issuer, issuer)
    config = JwtConfig(issuer, (CLIENT,))
    keys = KeyProvider()
    for _ in range(3):
        assert authorize(config, {"Authorization": token}, keys).claims["aud"] == CLIENT
    assert fake_issuer.fetches == ["/tenant/.well-known/openid-configuration", "/jwks"]
    other = JwtConfig(issuer.rstrip("/") if path.endswith("/") else issuer + "/", (CLIENT,))
    with pytest.raises(Denied) as caught:  # the same keys, but iss must match exactly
        authorize(other, {"Authorization": token}, KeyProvider())
    assert caught.value.description == "the token does not have a valid issuer"


def test_unknown_kid_refetches_at_most_once_a_minute(fake_issuer: Any) -> None:
    """A kid the cached JWKS lacks is a 401; the issuer is not asked again within a minute."""
    issuer = fake_issuer.base + "/"
    key, _ = _remote_token(fake_issuer, issuer)
    keys = KeyProvider()
    config = JwtConfig(issuer, (CLIENT,))
    stranger = jwt.encode(
        {"iss": issuer, "aud": CLIENT, "exp": time.time() + 60}, key, algorithm="RS256", headers={"kid": "k9"}
    )
    for _ in range(3):
        with pytest.raises(Denied) as caught:
            authorize(config, {"Authorization": stranger}, keys)
        assert "kid" in caught.value.description
    assert len(fake_issuer.fetches) == 2


def test_oversize_jwks_is_a_401(fake_issuer: Any) -> None:
    """API Gateway fetches at most 150000 bytes of JWKS: a bigger one gives no keys."""
    issuer = fake_issuer.base + "/"
    _, token = _remote_token(fake_issuer, issuer)
    _status, body, _ = fake_issuer.routes["/jwks"]
    fake_issuer.serve("/jwks", body[:-1] + b', "pad": "' + b"x" * 150_000 + b'"}')
    with pytest.raises(Denied) as caught:
        authorize(JwtConfig(issuer, (CLIENT,)), {"Authorization": token}, KeyProvider())
    assert "could not be fetched" in caught.value.description


def test_unreachable_jwks_is_a_401(fake_issuer: Any) -> None:
    """When the issuer's keys cannot be fetched the request is refused, not failed."""
    issuer = "http://127.0.0.1:9/"  # nothing listens on the discard port
    with pytest.raises(Denied) as caught:
        authorize(JwtConfig(issuer, (CLIENT,)), {"Authorization": mint(iss=issuer)}, KeyProvider(timeout=1))
    assert "could not be fetched" in caught.value.description


def test_arn_like_matches_parts_with_wildcards() -> None:
    """ArnLike: `*` spans slashes in the resource but not ARN parts."""
    pattern = "arn:aws:execute-api:us-west-2:1:abc/*/*/protected"
    assert arn_like(pattern, "arn:aws:execute-api:us-west-2:1:abc/$default/GET/protected")
    assert not arn_like(pattern, "arn:aws:execute-api:us-west-2:1:xyz/s/GET/protected")
    assert not arn_like(pattern, "arn:aws:execute-api:us-east-1:1:abc/s/GET/protected")
    assert not arn_like("arn:aws:execute-api:*", "arn:aws:execute-api:r:a:abc/s/GET/p")


def test_invoke_allowed_needs_apigateway_principal_and_matching_source() -> None:
    """Only an Allow for apigateway.amazonaws.com whose SourceArn matches permits the call."""
    arn = "arn:aws:execute-api:r:1:abc/$default/GET/protected"

    def stmt(**kw: Any) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            **kw,
        }

    cond = {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:r:1:abc/*/*/protected"}}
    assert invoke_allowed([stmt(Condition=cond)], arn, "1")
    assert invoke_allowed([stmt()], arn, "1")  # no SourceArn: any caller of that service
    assert not invoke_allowed([stmt(Principal={"Service": "s3.amazonaws.com"})], arn, "1")
    other = {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:r:1:xyz/*/*/protected"}}
    assert not invoke_allowed([stmt(Condition=other)], arn, "1")
    account = {"StringEquals": {"AWS:SourceAccount": "2"}}
    assert not invoke_allowed([stmt(Condition=account)], arn, "1")
    assert not invoke_allowed([], arn, "1")


class _Route:
    def __init__(self, key: str) -> None:
        self.route_key = key


def test_route_matching_prefers_the_most_specific_route() -> None:
    """Exact beats parameters beats greedy; a method beats ANY; $default is last."""
    keys = ("$default", "ANY /a/{x}", "GET /a/{x}", "GET /a/b", "GET /p/{r+}")
    routes = [_Route(k) for k in keys]
    assert match_route(routes, "GET", "/a/b")[0].route_key == "GET /a/b"  # type: ignore[index]
    assert match_route(routes, "GET", "/a/c") == (routes[2], {"x": "c"})
    assert match_route(routes, "POST", "/a/c") == (routes[1], {"x": "c"})
    assert match_route(routes, "GET", "/p/1/2") == (routes[4], {"r": "1/2"})
    assert match_route(routes, "GET", "/a/b/c") == (routes[0], {})
    assert match_route(routes[1:], "GET", "/nope") is None
    assert match_route(routes[1:], "GET", "/a/b/") is None


def test_proxy_response_rules() -> None:
    """Payload 2.0 results: statusCode dicts as given, other JSON as 200, bad ones as 500."""
    status, headers, body = proxy_response(
        {"statusCode": "202", "headers": {"X-A": "1\r\nInjected: yes", "content-length": "99"}, "body": "hi"}
    )
    assert (status, body) == (202, b"hi")
    assert headers == [("X-A", "1 Injected: yes")]
    assert proxy_response("hello") == (200, [("content-type", "application/json")], b'"hello"')
    assert proxy_response({"statusCode": 200, "body": {"a": 1}})[2] == b'{"a": 1}'
    assert proxy_response({"statusCode": 204})[2] == b""
    for bad in (
        {"statusCode": "abc"},
        {"statusCode": 99},
        {"statusCode": 200, "isBase64Encoded": True, "body": "%%%"},
        {"not": object()},
    ):
        assert proxy_response(bad)[0] == 500
