"""Small additions to moto for the embedded AWS, where AWS has an API or behaviour moto lacks.

moto 5 implements GetAuthorizer but not GetAuthorizers (list); `up` uses the list to find
an authorizer that a killed run created but never recorded; and moto's user pool can fail to
describe itself while its domain is being deleted (`fixes`). Applied once, in the embedded
server's process only, with four changes that give the same answers sooner (`speedups`:
`FunctionNames`, `shared_cognito_key`, `shared_moto_loader`, `shared_error_lookups`). Unsigned
Cognito calls are given their pool's region, and refused when their access token lacks a scope
Cognito requires (`present_unsigned_cognito`).

Two `fixes` close what an attacker on the same machine used (issue 20): every moto user pool
signs with the private key published inside moto (`cognitoidp/resources/jwks-private.json`), so
anyone could mint tokens the gateway trusted: here they sign with `pool_key()`, made at start
and kept in this process's memory only, and the pools' JWKS serves only its public half
(`own_signing_key`); and password sign-ins answer as Cognito does, an unknown user like a wrong
password and a temporary lockout after five failures (`guarded_sign_in`, `authdemo.local.lockout`).
Confirmation codes are real and SignUp respects an admin-only pool (`confirmation_codes`, issue 20
findings 2 and 4). FlushStageAuthorizersCache, which moto lacks, empties the gateway's own TOKEN
authorizer cache (`rest_authorizers`, called by the router once the call is verified), and a REST
authorizer keeps its identityValidationExpression (`kept_validation_expression`).

One package, so that every patch of moto is found in one place: this module holds the wiring
(`apply`, `fixes`, `speedups`) and the small patches; the Cognito behaviours that issue 20 added
each have a module of their own (`keys`, `sign_in`, `codes`).
"""

from __future__ import annotations

import inspect
import json
import re
import time
from functools import lru_cache
from typing import Any

import jwt

from .codes import confirmation_codes, resend_confirmation_code
from .keys import PoolKey, own_signing_key, pool_key
from .rest_authorizers import flush_stage_authorizers_cache, kept_validation_expression
from .sign_in import guarded_sign_in

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    for target, name, value in [*fixes(), *speedups()]:
        setattr(target, name, value)
    _applied = True


def fixes() -> list[tuple[Any, str, Any]]:
    """(class, attribute, value): where moto answers otherwise than AWS (the test suite sets the
    same ones, for its in-process moto)."""
    from moto.apigatewayv2.responses import ApiGatewayV2Response
    from moto.cognitoidp.models import CognitoIdpUserPool

    return [
        (ApiGatewayV2Response, "get_authorizers", get_authorizers),
        (CognitoIdpUserPool, "to_json", _pool_to_json(CognitoIdpUserPool.to_json)),
        *own_signing_key(),
        *guarded_sign_in(),
        *confirmation_codes(),
        *kept_validation_expression(),
    ]


def _pool_to_json(to_json: Any) -> Any:
    """moto's user pool `to_json` reads `self.domain` twice (`if self.domain: ...domain.domain`):
    a DeleteUserPoolDomain between the two (`down` deletes the domain while it looks for copies
    of the pool, side by side) made ListUserPools answer a 500. Read again once it is gone."""
    if getattr(to_json, "domain_safe", False):
        return to_json

    def safe(self: Any, extended: bool = False) -> dict[str, Any]:
        try:
            return dict(to_json(self, extended))
        except AttributeError:
            if self.domain is not None:
                raise
            return dict(to_json(self, extended))

    safe.domain_safe = True  # type: ignore[attr-defined]
    safe.__wrapped__ = to_json  # type: ignore[attr-defined]
    return safe


def get_authorizers(self: Any) -> tuple[int, dict[str, str], str]:
    """GetAuthorizers, as a method of moto's ApiGatewayV2Response."""
    api_id = self.path.split("/")[-2]
    api = self.apigatewayv2_backend.get_api(api_id)
    items = [a.to_json() for a in api.authorizers.values()]
    return 200, {}, json.dumps({"items": items})


def speedups() -> list[tuple[Any, str, Any]]:
    """(module, attribute, value): what `apply` replaces in moto so that it gives the same answers
    with less work (the test suite sets the same ones, for its in-process moto)."""
    from moto.cognitoidp import models as cognito_models
    from moto.core import errors, responses, utils

    return [
        (responses, "method_names_from_class", FunctionNames),
        (cognito_models, "jwk", shared_cognito_key()),
        (utils, "create_loader", shared_moto_loader),
        (errors, "ErrorLookupFactory", shared_error_lookups(errors.ErrorLookupFactory)),
    ]


def shared_error_lookups(make: Any) -> Any:
    """What moto's `ErrorLookupFactory()` should give: one factory, every time. moto makes a new
    one for each error it answers, so the table of a service's errors that the factory keeps is
    made again each time (0.03-0.14 ms of every "not found" authdemo's discovery meets). Same
    class, same tables. Set twice, `make` is the first one's result: the same factory again."""
    factory = make()
    return lambda: factory


class FunctionNames:
    """`name in names`: whether `clazz.name` is a plain function, as `name in
    moto.core.utils.method_names_from_class(clazz)` says, without listing them all.

    moto looks up every call's action in that list, made with `inspect.getmembers` on the
    response class (some hundred attributes, sorted, each fetched): 3-4% of every call it serves.
    This is the one `getattr` the lookup amounts to. Nothing is cached, so a method added to a
    response class later (as `apply` adds GetAuthorizers) is found."""

    def __init__(self, clazz: type) -> None:
        self.clazz = clazz

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self.clazz, name, None))


class _SharedRSAKey:
    """Stands in for joserfc's `RSAKey` in moto's Cognito models: a key given as a dict (the
    JWK file every moto user pool signs with) is imported once, later pools share it."""

    @staticmethod
    def import_key(value: Any, *args: Any, **kwargs: Any) -> Any:
        from joserfc import jwk

        if args or kwargs or not isinstance(value, dict):
            return jwk.RSAKey.import_key(value, *args, **kwargs)
        return _import_once(json.dumps(value, sort_keys=True))


@lru_cache(maxsize=8)
def _import_once(text: str) -> Any:
    from joserfc import jwk

    return jwk.RSAKey.import_key(json.loads(text))


def shared_cognito_key() -> Any:
    """What moto's Cognito models should see as `jwk`: theirs, with `RSAKey` importing each key
    once. moto builds every user pool's signing key from the same private JWK, recovering its
    RSA primes each time: 70-170 ms of every CreateUserPool (of `up --local`'s critical path)."""
    return type("jwk", (), {"RSAKey": _SharedRSAKey})


@lru_cache(maxsize=1)
def shared_moto_loader() -> Any:
    """The one model loader moto's request parsing and serializing use, instead of a new one per
    service and kind of model: each new loader lists botocore's ~440 service folders before its
    first load (40-60 ms each time, on a service's first request). Same class, same models."""
    from moto.core.loaders import create_loader

    return create_loader()


_COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/[\w-]+\Z")


ADMIN_SCOPE = "aws.cognito.signin.user.admin"
MISSING_SCOPE = (
    400,
    [("content-type", "application/x-amz-json-1.1")],
    b'{"__type":"NotAuthorizedException","message":"Access Token does not have required scopes"}',
)


def present_unsigned_cognito(environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """Give an unsigned Cognito call carrying an `AccessToken` its user pool's region, or refuse
    it as Cognito does when its operation needs the `aws.cognito.signin.user.admin` scope and the
    token lacks it (returned: the response to send instead of calling moto).

    botocore sends GetUser, GlobalSignOut, ... without a signature, so moto sees no credential
    scope (and the Host is 127.0.0.1): it takes us-east-1 and answers NotAuthorizedException
    for a pool elsewhere. AWS finds the pool from the token; here its `iss` claim, read
    without verifying (moto checks the token itself), names the region, which moto reads
    from a synthetic, unsigned `Authorization` header's credential scope. The body is the one
    the router has already read, within its cap, into an in-memory stream.

    moto's own tokens always carry the admin scope; managed login's (`cognito_login`) carry the
    scopes granted, so an access token signed in without it gets Cognito's refusal here.
    """
    if environ.get("HTTP_AUTHORIZATION") or environ.get("REQUEST_METHOD") != "POST":
        return None
    body = environ["wsgi.input"].getvalue()  # read and capped by the router (`bodies.read`)
    claims = _token_claims(body) if body else None
    if claims is None:
        return None
    operation = str(environ.get("HTTP_X_AMZ_TARGET") or "").rpartition(".")[2]
    scope = claims.get("scope")
    if operation in admin_scope_operations() and isinstance(scope, str) and ADMIN_SCOPE not in scope.split():
        return MISSING_SCOPE
    match = _COGNITO_ISSUER.match(str(claims.get("iss") or ""))
    if match is not None:
        day = time.strftime("%Y%m%d", time.gmtime())
        environ["HTTP_AUTHORIZATION"] = (
            f"AWS4-HMAC-SHA256 Credential=anonymous/{day}/{match.group(1)}/cognito-idp/aws4_request, "
            "SignedHeaders=host, Signature=unsigned"
        )
    return None


@lru_cache(maxsize=1)
def admin_scope_operations() -> frozenset[str]:
    """Operations whose `AccessToken` must include `aws.cognito.signin.user.admin` (GetUser,
    GlobalSignOut, UpdateUserAttributes, ...), as botocore's model documents each of them."""
    import botocore.loaders

    model = botocore.loaders.create_loader().load_service_model("cognito-idp", "service-2")
    found = set()
    for name, operation in model["operations"].items():
        shape = model["shapes"].get((operation.get("input") or {}).get("shape", ""), {})
        member = (shape.get("members") or {}).get("AccessToken") or {}
        if ADMIN_SCOPE in str(member.get("documentation") or ""):
            found.add(name)
    return frozenset(found)


def _token_claims(body: bytes) -> dict[str, Any] | None:
    try:
        token = json.loads(body).get("AccessToken")
        claims = jwt.decode(token, options={"verify_signature": False})
    except Exception:  # not JSON, no token, not a JWT: moto answers as it would
        return None
    return claims if isinstance(claims, dict) else None


__all__ = [
    "FunctionNames",
    "PoolKey",
    "apply",
    "confirmation_codes",
    "fixes",
    "flush_stage_authorizers_cache",
    "guarded_sign_in",
    "kept_validation_expression",
    "own_signing_key",
    "pool_key",
    "present_unsigned_cognito",
    "resend_confirmation_code",
    "speedups",
]
