"""The embedded AWS's front door: which request is this, and may it come in?

`Router` is a WSGI middleware around moto's app. In order:
1. the Host must name this server (`127.0.0.1`, `localhost` or `<apiId>.execute-api.localhost`,
   with or without `:<port>`); anything else, the health check included, gets 421 before
   anything runs, which stops DNS-rebinding pages from reaching the server;
2. `GET /_authdemo/health` answers who we are (the daemon's liveness check), and
   `/_authdemo/issuer/...` is the server's own OIDC issuer (`issuer`: public discovery and JWKS,
   a client-credentials token endpoint), no SigV4;
3. managed login of the embedded Cognito (`/_aws/cognito/<domain prefix>/...`, public as on
   AWS) and each pool's `/<poolId>/.well-known/openid-configuration` go to `cognito_login`;
4. API invocations (path `/_aws/execute-api/<apiId>/...` or `Host: <apiId>.execute-api.localhost`)
   go to `ExecuteApi` (an HTTP API) or its `rest` (`rest_api`: when `<apiId>` is a REST API in
   moto), whose authorizers decide as API Gateway would (no SigV4 here);
5. everything else is AWS's control plane: checked by `sigv4` against this server's own
   credentials (the headers before any of the body is read), then handed to moto. Calls AWS
   serves unsigned go to moto stripped of anything that could route them elsewhere
   (`sigv4.unsigned`); an unsigned Cognito call with an `AccessToken` is first given its
   pool's region (`moto_patches.present_unsigned_cognito`), which moto would otherwise take
   as us-east-1. FlushStageAuthorizersCache, which moto lacks, is answered here once verified: it
   empties the gateway's own TOKEN authorizer cache (`moto_patches.flush_stage_authorizers_cache`).
Every body is read here, once, counting the bytes actually read (`bodies`), whatever
`Content-Length` or `Transfer-Encoding` say: at most 64 KiB for managed login and the issuer,
10 MB for an API (API Gateway's payload quota), 1 MiB for an unsigned Cognito call, 100 MB for
a signed control-plane call; past it, 413 and nothing more is read.
"""

from __future__ import annotations

import http
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from authdemo.local import bodies, moto_patches, sigv4
from authdemo.local.authorizers.jwt import KeyProvider
from authdemo.local.backends import find_rest_api
from authdemo.local.cognito_login import ManagedLogin
from authdemo.local.cognito_login.endpoints import MAX_FORM_BYTES
from authdemo.local.credentials import Credentials
from authdemo.local.execute_api import JSON_HEADERS, MAX_BODY_BYTES, ExecuteApi, request_id
from authdemo.local.issuer import MAX_TOKEN_REQUEST, IssuerKeys, LocalIssuer
from authdemo.local.issuer import PATH as ISSUER_PATH
from authdemo.local.names import HEALTH_PATH, HOST_SUFFIX, LOGIN_PREFIX, PATH_PREFIX, SERVICE_NAME

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Response = tuple[int, list[tuple[str, str]], bytes]

MAX_CONTROL_BODY = 100 * 1024 * 1024  # a Lambda zip, base64-encoded, fits
MAX_PUBLIC_BODY = 1024 * 1024  # an unsigned Cognito call: a few tokens and attributes
_OPENID_CONFIGURATION = re.compile(r"^/([\w-]+)/\.well-known/openid-configuration\Z")
_API_HOST = re.compile(r"^([a-z0-9]+)" + re.escape(HOST_SUFFIX) + r"\Z")
MISDIRECTED = (
    421,
    [("content-type", "application/json")],
    b'{"message":"This server answers only to 127.0.0.1, localhost and *.execute-api.localhost"}',
)


def _version() -> str:
    try:
        from authdemo import __version__

        return __version__
    except ImportError:  # a broken editable install can hide the package's __init__
        from importlib.metadata import version

        return version("authdemo")


class Router:
    """WSGI middleware: host check, health, HTTP API invocations here; SigV4-checked rest to moto."""

    def __init__(
        self,
        app: WsgiApp,
        port: int,
        credentials: Credentials,
        keys: KeyProvider | None = None,
        issuer_keys: IssuerKeys | None = None,
        recorded: threading.Event | None = None,
    ) -> None:
        self.app = app
        # A background server not yet recorded by the authdemo that spawned it says so in its
        # health answer: another authdemo then knows it is no server to adopt (server.main).
        self.recorded = recorded
        self.port = port
        self.credentials = credentials
        self.execute_api = ExecuteApi(keys, credentials, endpoint_url=f"http://127.0.0.1:{port}")
        self.managed_login = ManagedLogin(port)
        self.issuer = LocalIssuer(port, issuer_keys or IssuerKeys.generate())

    def close(self) -> None:
        self.execute_api.close()

    def host_api(self, environ: dict[str, Any]) -> str | None:
        """ "" for this server's own names, the API id for `<apiId>.execute-api.localhost`,
        None for any other Host."""
        host = str(environ.get("HTTP_HOST") or "").lower()
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
        if port and port != str(self.port):
            return None
        if name in ("127.0.0.1", "localhost"):
            return ""
        match = _API_HOST.match(name)
        return match.group(1) if match else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        api_host = self.host_api(environ)
        if api_host is None:
            return self._respond(start_response, environ, MISDIRECTED)
        path = environ.get("PATH_INFO") or "/"
        if path == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            health: dict[str, Any] = {"service": SERVICE_NAME, "pid": os.getpid(), "version": _version()}
            if self.recorded is not None and not self.recorded.is_set():
                health["awaiting_handover"] = True
            body = json.dumps(health).encode()
            return self._respond(start_response, environ, (200, list(JSON_HEADERS.items()), body))
        if not api_host and path.startswith(ISSUER_PATH):  # public, but for the token endpoint's client
            answer = _read_body(environ, MAX_TOKEN_REQUEST) or self.issuer.handle(
                environ, path[len(ISSUER_PATH) :]
            )
            return self._respond(start_response, environ, answer)
        raw = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or quote(path))
        raw_path = raw.partition("?")[0]
        if not api_host:
            login = self._cognito(environ, path)
            if login is not None:
                return self._respond(start_response, environ, login)
        if api_host:
            return self._api(start_response, environ, api_host, path, raw_path)
        if path.startswith(PATH_PREFIX):
            api_id, _, rest = path[len(PATH_PREFIX) :].partition("/")
            prefix = PATH_PREFIX + api_id
            raw_rest = raw_path[len(prefix) :] if raw_path.startswith(prefix) else "/" + rest
            return self._api(start_response, environ, api_id, "/" + rest, raw_rest or "/")
        return self._control_plane(environ, start_response)

    def _cognito(self, environ: dict[str, Any], path: str) -> Response | None:
        """Managed login, or a pool's discovery document; None for anything else."""
        if path.startswith(LOGIN_PREFIX):
            refused = _read_body(environ, MAX_FORM_BYTES)
            return refused or self.managed_login.handle(environ, path[len(LOGIN_PREFIX) :])
        match = _OPENID_CONFIGURATION.match(path)
        if match and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self.managed_login.openid_configuration(environ, match.group(1))
        return None

    def _api(
        self, start_response: Callable[..., Any], environ: dict[str, Any], api_id: str, path: str, raw: str
    ) -> list[bytes]:
        rest = find_rest_api(api_id)
        if rest is not None:  # a REST API (API Gateway v1): its own request-id headers
            ids = [("x-amzn-RequestId", str(uuid.uuid4())), ("x-amz-apigw-id", request_id())]
            refused = _read_body(environ, MAX_BODY_BYTES)
            answer = refused or self.execute_api.rest.handle(environ, *rest, path, (ids[0][1], ids[1][1]))
            status, headers, body = answer
            return self._respond(start_response, environ, (status, [*headers, *ids], body))
        rid = request_id()
        refused = _read_body(environ, MAX_BODY_BYTES)
        answer = refused or self.execute_api.handle(environ, api_id, path, raw, rid)
        status, headers, body = answer
        return self._respond(start_response, environ, (status, [*headers, ("apigw-requestid", rid)], body))

    def _control_plane(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """moto, for a request signed with this server's key (or one AWS serves unsigned)."""
        kind = sigv4.public_kind(environ)
        if kind is not None:  # a pool's well-known documents, a public Cognito operation
            refused = _read_body(environ, MAX_PUBLIC_BODY)
            if refused is not None:
                return self._respond(start_response, environ, refused)
            sigv4.unsigned(environ, kind)
            answer = moto_patches.present_unsigned_cognito(environ)
            if answer is not None:
                return self._respond(start_response, environ, answer)
            return self.app(environ, start_response)
        refusal = sigv4.check_headers(environ, self.credentials)
        if refusal is None:
            refused = _read_body(environ, MAX_CONTROL_BODY)
            if refused is not None:
                return self._respond(start_response, environ, refused)
            refusal = sigv4.verify(environ, environ["wsgi.input"].getvalue(), self.credentials)
        if refusal is not None:
            answer = sigv4.refusal_response(sigv4.protocol_of(environ), refusal)
            return self._respond(start_response, environ, answer)
        flushed = moto_patches.flush_stage_authorizers_cache(environ, self.execute_api.token_authorizer.flush)
        if flushed is not None:  # moto lacks it; the cache is the gateway's
            return self._respond(start_response, environ, flushed)
        return self.app(environ, start_response)

    @staticmethod
    def _respond(
        start_response: Callable[..., Any], environ: dict[str, Any], answer: Response
    ) -> list[bytes]:
        status, headers, body = answer
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        start_response(f"{status} {phrase}", [*headers, ("content-length", str(len(body)))])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def _read_body(environ: dict[str, Any], cap: int) -> Response | None:
    """Read the body into `environ` (`bodies.read`, at most `cap` bytes): None once read, else the
    answer to send instead (413, 400, 408; the connection is closed after it)."""
    status = bodies.read(environ, cap)
    if status is None:
        return None
    message = json.dumps({"message": http.HTTPStatus(status).phrase}).encode()
    return status, [("content-type", "application/json"), ("connection", "close")], message
