"""Managed login's URL layout under `/_aws/cognito/<domain prefix>/`, and the pool's discovery document.

| method | path | what |
|---|---|---|
| GET | `/oauth2/authorize` (and `/login`) | check the request (`authorize`), show the sign-in form |
| POST | `/login` | check it again, check the user in moto's store, 302 to `redirect_uri?code=&state=` |
| GET | `/error?error=...` | the error page for what must not go back to a redirect_uri |
| POST | `/oauth2/token`, `/oauth2/revoke` | `token.TokenEndpoint` |
| GET | `/oauth2/userInfo` | the user's attributes for an access token with `openid` |
| GET | `/logout?client_id=&logout_uri=` | 302 to a listed sign-out URL |
| GET/POST | `/signup`, `/confirmUser`, `/forgotPassword`, `/confirmForgotPassword` | `self_service` |

and `GET /<poolId>/.well-known/openid-configuration`. The prefix is a user pool domain held in
moto (CreateUserPoolDomain), in any region. All of it is public on AWS: no SigV4.
"""

from __future__ import annotations

import hmac
import json
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import jwt
from werkzeug.wrappers import Request

from authdemo.local import lockout
from authdemo.local.backends import find_pool_by_domain, find_user_pool
from authdemo.local.cognito_login import authorize, minting, pages, self_service
from authdemo.local.cognito_login.authorize import field
from authdemo.local.cognito_login.codes import CODE_LIFETIME_SECONDS, CodeStore, Grant
from authdemo.local.cognito_login.token import JSON_HEADERS, TokenEndpoint, user_usable
from authdemo.local.names import LOGIN_PREFIX

Response = tuple[int, list[tuple[str, str]], bytes]
MAX_FORM_BYTES = 64 * 1024
_TEXT = [("content-type", "text/plain; charset=utf-8"), ("cache-control", "no-store")]
NOT_FOUND: Response = (404, _TEXT, b"Not Found")
FORM_TYPE = "application/x-www-form-urlencoded"


def add_query(uri: str, params: Mapping[str, str | None]) -> str:
    """`uri` with `params` appended to its query (None values left out)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def redirect(location: str) -> Response:
    return (
        302,
        [("location", location), ("cache-control", "no-store"), ("referrer-policy", "no-referrer")],
        b"",
    )


def _status(user: Any) -> str:
    return str(getattr(user.status, "value", user.status))


class ManagedLogin:
    """Every pool's managed login. `clock` (seconds) dates the codes: tests move it."""

    def __init__(self, port: int, clock: Callable[[], float] = time.time) -> None:
        self.port = port
        self.clock = clock
        self.codes = CodeStore()
        self.tokens = TokenEndpoint(self.codes, lambda: self.clock())

    def origin(self, environ: Mapping[str, Any]) -> str:
        """This server as the browser named it (the router has checked the name)."""
        host = str(environ.get("HTTP_HOST") or "127.0.0.1").lower()
        name = host.rpartition(":")[0] if ":" in host else host
        return f"http://{name}:{self.port}"

    def handle(self, environ: dict[str, Any], rest: str) -> Response:
        """One request for `/_aws/cognito/<rest>`."""
        prefix, _, path = rest.partition("/")
        try:
            pool = find_pool_by_domain(prefix) if prefix else None
            if pool is None:
                return NOT_FOUND
            return self._route(environ, pool, self.origin(environ) + LOGIN_PREFIX + prefix, "/" + path)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return 500, list(_TEXT), b"Internal Server Error"

    def _route(self, environ: dict[str, Any], pool: Any, base: str, path: str) -> Response:
        method = str(environ.get("REQUEST_METHOD") or "GET").upper()
        query = parse_qs(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True)
        routes: dict[str, dict[str, Callable[[], Response]]] = {
            "/oauth2/authorize": {"GET": lambda: self.authorize(environ, pool, base, query)},
            "/login": {
                "GET": lambda: self.authorize(environ, pool, base, query),
                "POST": lambda: self.form(environ, lambda form: self.login(environ, pool, base, form)),
            },
            "/error": {"GET": lambda: (400, pages.security_headers(), pages.error(field(query, "error")))},
            "/oauth2/token": {
                "POST": lambda: self.form(environ, lambda form: self._token(environ, pool, form))
            },
            "/oauth2/revoke": {
                "POST": lambda: self.form(environ, lambda form: self._revoke(environ, pool, form))
            },
            "/oauth2/userInfo": {"GET": lambda: self.userinfo(environ, pool)},
            "/logout": {"GET": lambda: self.logout(pool, base, query, environ)},
            "/signup": {
                "GET": lambda: self.step(pool, base, query, self_service.sign_up_page),
                "POST": lambda: self.form(environ, lambda f: self.step(pool, base, f, self_service.sign_up)),
            },
            "/confirmUser": {
                "POST": lambda: self.form(
                    environ, lambda f: self.step(pool, base, f, self_service.confirm_user)
                )
            },
            "/forgotPassword": {
                "GET": lambda: self.step(pool, base, query, self_service.forgot_page),
                "POST": lambda: self.form(
                    environ, lambda f: self.step(pool, base, f, self_service.forgot_password)
                ),
            },
            "/confirmForgotPassword": {
                "POST": lambda: self.form(
                    environ, lambda f: self.step(pool, base, f, self_service.reset_password)
                )
            },
        }
        methods = routes.get(path)
        if methods is None:
            return NOT_FOUND
        handler = methods.get("GET" if method == "HEAD" else method)
        if handler is None:
            return 405, [*_TEXT, ("allow", ", ".join(methods))], b"Method Not Allowed"
        return handler()

    def form(self, environ: dict[str, Any], then: Callable[[dict[str, list[str]]], Response]) -> Response:
        """Hand on a form-encoded body (the router read it, at most MAX_FORM_BYTES); anything else
        is refused."""
        request = Request(environ)
        body = request.get_data(cache=True)
        if request.mimetype != FORM_TYPE:
            return 400, list(JSON_HEADERS), b'{"error":"invalid_request"}'
        return then(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))

    def step(
        self, pool: Any, base: str, params: Mapping[str, list[str]], then: Callable[..., Response]
    ) -> Response:
        """A sign-up or password-reset page, for a valid authorization request only."""
        checked = self._checked(pool, base, params)
        if not isinstance(checked, authorize.AuthorizeRequest):
            return checked
        return then(pool, base, checked, params)

    def _token(self, environ: dict[str, Any], pool: Any, form: dict[str, list[str]]) -> Response:
        return self.tokens.token(pool, form, environ.get("HTTP_AUTHORIZATION"))

    def _revoke(self, environ: dict[str, Any], pool: Any, form: dict[str, list[str]]) -> Response:
        return self.tokens.revoke(pool, form, environ.get("HTTP_AUTHORIZATION"))

    def _checked(
        self, pool: Any, base: str, params: Mapping[str, list[str]]
    ) -> authorize.AuthorizeRequest | Response:
        try:
            return authorize.check(pool, params)
        except authorize.ErrorPage as refusal:
            return redirect(
                base + "/error?" + urlencode({"error": refusal.error, "client_id": refusal.client_id or ""})
            )
        except authorize.RedirectError as refusal:
            return redirect(add_query(refusal.redirect_uri, {"error": refusal.error, "state": refusal.state}))

    def authorize(
        self, environ: dict[str, Any], pool: Any, base: str, query: Mapping[str, list[str]]
    ) -> Response:
        """The sign-in form for a valid request (else the error page or an error redirect)."""
        checked = self._checked(pool, base, query)
        if not isinstance(checked, authorize.AuthorizeRequest):
            return checked
        return self_service.sign_in(pool, base, checked)

    def login(self, environ: dict[str, Any], pool: Any, base: str, form: dict[str, list[str]]) -> Response:
        """Check the carried request and the credentials; a code goes to the redirect_uri."""
        checked = self._checked(pool, base, form)
        if not isinstance(checked, authorize.AuthorizeRequest):
            return checked
        username, password = field(form, "username"), field(form, "password")

        def again(message: str) -> Response:
            links = self_service.links(pool, base, checked)
            page = pages.sign_in(pool.name, base + "/login", checked.params, message, username, links=links)
            return 200, pages.security_headers(pages.origin_of(checked.redirect_uri)), page

        attempt = (pool.id, username)  # Cognito's lockout, shared with InitiateAuth (local/lockout.py)
        if username and password and not lockout.SIGN_INS.attempt(attempt):
            return again(lockout.LOCKED_MESSAGE)
        user = pool._get_user(username) if username and password else None
        if (
            user is None
            or not user.password
            or not hmac.compare_digest(user.password.encode(), password.encode())
        ):
            if username and password:
                lockout.SIGN_INS.failed(attempt)
            return again(pages.INCORRECT_CREDENTIALS)
        lockout.SIGN_INS.succeeded(attempt)
        if not user.enabled:
            return again("User is disabled.")
        if _status(user) == "FORCE_CHANGE_PASSWORD":
            return again(
                "This user must choose a new password, which this page cannot do: "
                "set a permanent one with AdminSetUserPassword."
            )
        if _status(user) != "CONFIRMED":
            return again("User is not confirmed.")
        now = self.clock()
        grant = Grant(
            pool_id=pool.id,
            client_id=checked.client_id,
            redirect_uri=checked.redirect_uri,
            scopes=checked.scopes,
            username=user.username,
            code_challenge=checked.code_challenge,
            nonce=checked.nonce,
            expires_at=now + CODE_LIFETIME_SECONDS,
        )
        code = self.codes.issue(grant, now)
        return redirect(add_query(checked.redirect_uri, {"code": code, "state": checked.state}))

    def userinfo(self, environ: dict[str, Any], pool: Any) -> Response:
        """The user's attributes for an access token of this pool that holds the `openid` scope."""

        def refuse(description: str) -> Response:
            challenge = f'Bearer error="invalid_token", error_description="{description}"'
            body = json.dumps({"error": "invalid_token", "error_description": description}).encode()
            return 401, [*JSON_HEADERS, ("www-authenticate", challenge)], body

        scheme, _, token = str(environ.get("HTTP_AUTHORIZATION") or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return refuse("Access token is missing")
        held = pool.access_tokens.get(token)  # moto's registry: signed-out tokens are gone from it
        if held is None:
            return refuse("Invalid access token")
        claims = jwt.decode(token, options={"verify_signature": False})  # ours: it is in the registry
        if float(claims.get("exp") or 0) <= time.time():
            return refuse("Access token has expired")
        scopes = str(claims.get("scope") or "").split()
        if "openid" not in scopes:
            return refuse("Access token does not contain openid scope")
        client_id, username = held
        client = pool.clients.get(client_id)
        if client is None or not user_usable(pool, username):
            return refuse("Invalid access token")
        attributes = minting.readable_attributes(pool, client, username)
        if "profile" not in scopes and ({"email", "phone"} & set(scopes)):
            keep = {"sub"}
            keep |= {"email", "email_verified"} if "email" in scopes else set()
            keep |= {"phone_number", "phone_number_verified"} if "phone" in scopes else set()
            attributes = {k: v for k, v in attributes.items() if k in keep}
        info = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in attributes.items()}
        info["username"] = pool._get_user(username).username
        return 200, list(JSON_HEADERS), json.dumps(info).encode()

    def logout(
        self, pool: Any, base: str, query: Mapping[str, list[str]], environ: dict[str, Any]
    ) -> Response:
        """302 to `logout_uri` if it is one of the client's LogoutURLs; with `redirect_uri` and
        `response_type` instead, back to the sign-in form (Cognito's two forms)."""
        client = pool.clients.get(field(query, "client_id"))
        if client is None:
            return redirect(base + "/error?" + urlencode({"error": "invalid_request", "client_id": ""}))
        logout_uri = field(query, "logout_uri")
        if not logout_uri and field(query, "redirect_uri"):
            return redirect(base + "/login?" + str(environ.get("QUERY_STRING") or ""))
        if logout_uri and logout_uri in (client.extended_config.get("LogoutURLs") or []):
            return redirect(logout_uri)
        return redirect(base + "/error?" + urlencode({"error": "redirect_mismatch", "client_id": client.id}))

    def openid_configuration(self, environ: dict[str, Any], pool_id: str) -> Response | None:
        """The pool's discovery document, or None for a pool moto does not hold."""
        pool = find_user_pool(pool_id)
        if pool is None:
            return None
        origin = self.origin(environ)
        document: dict[str, Any] = {
            "issuer": minting.issuer(pool),
            "jwks_uri": f"{origin}/{pool.id}/.well-known/jwks.json",
            "response_types_supported": ["code", "token"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
        domain = pool.domain
        if domain is not None:
            base = origin + LOGIN_PREFIX + domain.domain
            document.update(
                {
                    "authorization_endpoint": base + "/oauth2/authorize",
                    "token_endpoint": base + "/oauth2/token",
                    "userinfo_endpoint": base + "/oauth2/userInfo",
                    "revocation_endpoint": base + "/oauth2/revoke",
                }
            )
        return 200, [("content-type", "application/json")], json.dumps(document).encode()
