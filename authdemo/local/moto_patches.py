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
findings 2 and 4).
"""

from __future__ import annotations

import hmac
import inspect
import io
import json
import re
import secrets
import threading
import time
from functools import lru_cache
from typing import Any

import jwt

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
MAX_UNSIGNED_BODY = 1024 * 1024


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
    from a synthetic, unsigned `Authorization` header's credential scope. The body is read
    and handed back as a fresh stream.

    moto's own tokens always carry the admin scope; managed login's (`cognito_login`) carry the
    scopes granted, so an access token signed in without it gets Cognito's refusal here.
    """
    if environ.get("HTTP_AUTHORIZATION") or environ.get("REQUEST_METHOD") != "POST":
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_UNSIGNED_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    claims = _token_claims(body)
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


class PoolKey:
    """This embedded AWS's key for every user pool's tokens: RSA 2048, a random kid (Cognito's
    are 44 characters of base64), never written anywhere. `jwks` is the public half only."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from joserfc import jwk

        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_urlsafe(33)
        self.jwk = jwk.RSAKey.import_key(self.private, {"kid": self.kid, "alg": "RS256", "use": "sig"})
        self.jwks: dict[str, Any] = {"keys": [self.jwk.as_dict(private=False)]}


_pool_key: list[PoolKey] = []
_pool_key_lock = threading.Lock()


def pool_key() -> PoolKey:
    """The process's one pool key, made on first use (`server.load_moto` starts that while moto
    imports; `fixes()` waits for it). Tests in the server's process read it here to mint tokens;
    no HTTP path gives it. Locked: two callers must never see two keys."""
    with _pool_key_lock:
        if not _pool_key:
            _pool_key.append(PoolKey())
        return _pool_key[0]


class _OwnKid:
    """moto's `jwt` module as its Cognito models see it, but for `encode`: moto writes kid
    "dummy" (its published key's) into every token's header; this names the signing key's own."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def encode(self, header: dict[str, Any], claims: Any, key: Any, *args: Any, **kwargs: Any) -> str:
        kid = getattr(key, "kid", None)
        return str(
            self.module.encode({**header, "kid": kid} if kid else header, claims, key, *args, **kwargs)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)


def own_signing_key() -> list[tuple[Any, str, Any]]:
    """(target, attribute, value) so that moto's user pools sign with `pool_key()` and their
    `/<pool>/.well-known/jwks.json` serves only its public half. `json_web_key` becomes a
    property: moto's `__init__` still assigns its published key, which is dropped."""
    from moto.cognitoidp import models
    from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

    module = models.jwt if isinstance(models.jwt, _OwnKid) else _OwnKid(models.jwt)
    key = property(lambda pool: pool_key().jwk, lambda pool, value: None)
    return [
        (models.CognitoIdpUserPool, "json_web_key", key),
        (models, "jwt", module),
        (CognitoIdpJsonWebKeyResponse, "json_web_key", json.dumps(pool_key().jwks).encode()),
    ]


def guarded_sign_in() -> list[tuple[Any, str, Any]]:
    """(class, attribute, value): InitiateAuth and AdminInitiateAuth with a password answer an
    unknown user as a wrong password when the client sets `PreventUserExistenceErrors` ENABLED
    (moto says `UserNotFoundException`), say "Incorrect username or password." for a wrong one
    (AdminInitiateAuth said the username) and lock out as Cognito does (`lockout`). moto's SRP
    accepts any proof (`PASSWORD_VERIFIER`: tokens with no password): it is refused as a wrong one."""
    from moto.cognitoidp.models import CognitoIdpBackend

    def already(method: Any) -> bool:
        return bool(getattr(method, "guarded", False))

    initiate, admin = CognitoIdpBackend.initiate_auth, CognitoIdpBackend.admin_initiate_auth
    respond = CognitoIdpBackend.respond_to_auth_challenge

    def initiate_auth(self: Any, client_id: str, auth_flow: str, parameters: dict[str, str]) -> Any:
        pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
        call = lambda: initiate(self, client_id, auth_flow, parameters)  # noqa: E731
        if pool is None or str(auth_flow) not in ("USER_PASSWORD_AUTH", "USER_SRP_AUTH"):
            return call()
        return _sign_in(
            pool, pool.clients[client_id], parameters or {}, call, str(auth_flow) == "USER_SRP_AUTH"
        )

    def admin_initiate_auth(
        self: Any, pool_id: str, client_id: str, auth_flow: str, parameters: dict[str, str]
    ) -> Any:
        pool = self.user_pools.get(pool_id)
        call = lambda: admin(self, pool_id, client_id, auth_flow, parameters)  # noqa: E731
        if pool is None or client_id not in pool.clients:
            return call()
        if str(auth_flow) not in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
            return call()
        return _sign_in(pool, pool.clients[client_id], parameters or {}, call, False)

    def respond_to_auth_challenge(self: Any, session: str, client_id: str, name: str, answers: Any) -> Any:
        from moto.cognitoidp.exceptions import NotAuthorizedError

        from authdemo.local.lockout import WRONG_MESSAGE

        if name == "PASSWORD_VERIFIER":
            raise NotAuthorizedError(WRONG_MESSAGE)
        return respond(self, session, client_id, name, answers)

    for method in (initiate_auth, admin_initiate_auth, respond_to_auth_challenge):
        setattr(method, "guarded", True)  # noqa: B010  (a marker on a function)
    return [
        (CognitoIdpBackend, name, value)
        for name, value, current in [
            ("initiate_auth", initiate_auth, initiate),
            ("admin_initiate_auth", admin_initiate_auth, admin),
            ("respond_to_auth_challenge", respond_to_auth_challenge, respond),
        ]
        if not already(current)
    ]


def _sign_in(pool: Any, client: Any, parameters: dict[str, str], call: Any, srp: bool) -> Any:
    """A password sign-in to `pool` through `client`, checked as Cognito does before moto runs it."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.utils import check_secret_hash

    from authdemo.local.lockout import LOCKED_MESSAGE, SIGN_INS, WRONG_MESSAGE

    username = str(parameters.get("USERNAME") or "")
    if client.generate_secret and not check_secret_hash(
        client.secret, client.id, username, parameters.get("SECRET_HASH")
    ):
        return call()  # moto's "Unable to verify secret hash" (not a password attempt)
    user = pool._get_user(username) if username else None
    if user is None and client.extended_config.get("PreventUserExistenceErrors") != "ENABLED":
        return call()  # LEGACY: UserNotFoundException, as on AWS
    key = (pool.id, username)
    if not SIGN_INS.attempt(key):
        raise NotAuthorizedError(LOCKED_MESSAGE)
    if srp:  # moto cannot check an SRP proof (and refuses every one): only an unknown user is ours
        if user is None:
            SIGN_INS.failed(key)
            raise NotAuthorizedError(WRONG_MESSAGE)
        return call()
    password = str(parameters.get("PASSWORD") or "")
    if (
        user is None
        or not user.password
        or not hmac.compare_digest(user.password.encode(), password.encode())
    ):
        if user is not None and not user.enabled:
            return call()  # moto's "User is disabled." comes first, as before
        SIGN_INS.failed(key)
        raise NotAuthorizedError(WRONG_MESSAGE)
    answer = call()
    SIGN_INS.succeeded(key)
    return answer


# ------------------------------------------------------------------ confirmation codes, SignUp
def client_pool(client_id: str) -> tuple[Any, Any]:
    from authdemo.local.backends import find_client_pool

    return find_client_pool(client_id)


def confirmation_codes() -> list[tuple[Any, str, Any]]:
    """(class, attribute, value): moto's Cognito answers with real codes (`confirmation`).

    moto 5 confirms a sign-up whatever the code (its ConfirmSignUp reads none), sets a password
    for any ConfirmForgotPassword code not of its own `moto-confirmation-code:` form, hands
    ForgotPassword's code to the caller in an `x-moto-forgot-password-confirmation-code` header,
    has no ResendConfirmationCode, and lets SignUp into a pool that allows only administrators to
    create users. Each wrapper is applied once (a second `fixes()` keeps the first)."""
    from moto.cognitoidp.responses import CognitoIdpResponse as R

    return [
        (R, "sign_up", _wrapped(R.sign_up, _sign_up)),
        (R, "confirm_sign_up", _wrapped(R.confirm_sign_up, _confirm_sign_up)),
        (R, "forgot_password", _wrapped(R.forgot_password, _forgot_password)),
        (R, "confirm_forgot_password", _wrapped(R.confirm_forgot_password, _confirm_forgot_password)),
        (R, "resend_confirmation_code", resend_confirmation_code),
    ]


def _wrapped(original: Any, wrapper: Any) -> Any:
    original = getattr(original, "__wrapped__", original)

    def method(self: Any) -> Any:
        return wrapper(self, original)

    method.__wrapped__ = original  # type: ignore[attr-defined]
    method.__name__ = original.__name__
    return method


def _refuse(error: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(error, message)


def _refused(call: Any, *args: Any) -> Any:
    """`call(*args)`, its CodeRefused answered as the error Cognito names."""
    from authdemo.local.confirmation import CodeRefused

    try:
        return call(*args)
    except CodeRefused as refused:
        raise _refuse(refused.error, refused.message) from None


def _sign_up(self: Any, original: Any) -> Any:
    """Refuse SignUp in an admin-only pool, as Cognito does; else sign up and send the code."""
    from authdemo.local import confirmation

    _, pool = client_pool(str(self._get_param("ClientId") or ""))
    if pool is not None:
        _refused(confirmation.refuse_admin_only, pool)
    result = original(self)
    user = pool._get_user(str(self._get_param("Username") or "")) if pool is not None else None
    if user is not None and _refused(confirmation.send_sign_up_code, pool, user.username):
        _deliveries(result, user)
    return result


def _confirm_sign_up(self: Any, original: Any) -> Any:
    """The code SignUp sent, once; the user's email is verified with it."""
    from authdemo.local import confirmation

    _, pool = client_pool(str(self._get_param("ClientId") or ""))
    user = pool._get_user(str(self._get_param("Username") or "")) if pool is not None else None
    if user is None:
        return original(self)  # moto's ResourceNotFound / UserNotFound
    _refused(confirmation.confirm_sign_up, pool, user, str(self._get_param("ConfirmationCode") or ""))
    return original(self)


def _forgot_password(self: Any, original: Any) -> Any:
    """moto's answer without its code header; the code goes to the owner's inbox."""
    from authdemo.local import confirmation

    result = original(self)
    self.response_headers.pop("x-moto-forgot-password-confirmation-code", None)
    _, pool = client_pool(str(self._get_param("ClientId") or ""))
    user = pool._get_user(str(self._get_param("Username") or "")) if pool is not None else None
    if user is not None:
        _refused(confirmation.send_reset_code, pool, user.username)
        _deliveries(result, user)
    return result


def _confirm_forgot_password(self: Any, original: Any) -> Any:
    """The code ForgotPassword sent, once, and a password the pool's policy accepts."""
    from authdemo.local import confirmation

    backend, pool = client_pool(str(self._get_param("ClientId") or ""))
    if pool is None:
        return original(self)  # moto's ResourceNotFound
    param = self._get_param
    args = (str(param("Username") or ""), str(param("ConfirmationCode") or ""), str(param("Password") or ""))
    _refused(confirmation.reset_password, backend, pool, *args)
    from moto.core.responses import EmptyResult

    return EmptyResult()


def resend_confirmation_code(self: Any) -> Any:
    """ResendConfirmationCode, which moto lacks: a new sign-up code (the old one stops working)."""
    from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError, UserNotFoundError
    from moto.core.responses import ActionResult

    from authdemo.local import confirmation

    client_id = str(self._get_param("ClientId") or "")
    _, pool = client_pool(client_id)
    if pool is None:
        raise ResourceNotFoundError(client_id)
    user = pool._get_user(str(self._get_param("Username") or ""))
    if user is None:
        raise UserNotFoundError("Username/client id combination not found.")
    if confirmation.confirmed(user):
        raise InvalidParameterException("User is already confirmed.")
    if not _refused(confirmation.send_sign_up_code, pool, user.username):
        raise InvalidParameterException("No verified email or phone number to send the code to.")
    return ActionResult({"CodeDeliveryDetails": _delivery(user)})


def _delivery(user: Any) -> dict[str, str]:
    """CodeDeliveryDetails for where the code went (moto names a phone under its legacy
    recovery setting even when the code goes to the email)."""
    from authdemo.local import confirmation

    to = confirmation.destination(user, user.username)
    email = "@" in to
    return {
        "Destination": f"{to[0]}***@{to.partition('@')[2][:1]}***" if email else f"+*******{to[-4:]}",
        "DeliveryMedium": "EMAIL" if email else "SMS",
        "AttributeName": "email" if email else "phone_number",
    }


def _deliveries(result: Any, user: Any) -> None:
    """Set moto's answer's CodeDeliveryDetails to `_delivery` (its `result` is a dict)."""
    answer = getattr(result, "result", None)
    if isinstance(answer, dict):
        answer["CodeDeliveryDetails"] = _delivery(user)
