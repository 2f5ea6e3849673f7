"""Serve HTTP API invoke URLs in front of moto, the way API Gateway would.

moto stores HTTP APIs but never serves them. `Gateway` is a WSGI middleware around moto's
app: requests for an API (path prefix `/_aws/execute-api/<apiId>/...`, or
`Host: <apiId>.execute-api.localhost`) are answered here, everything else goes to moto.
The API's stages, routes, authorizers and integrations are read live from moto's
in-process backends, so what `authdemo up --local` created through the AWS APIs is the
only configuration: there is no second one to drift.

A request goes stage -> route -> JWT authorizer -> Lambda invoke permission -> function,
each refusing with API Gateway's own status and body. The function (moto keeps its zip in
memory) runs in this process, imported once per code hash under its own module name.
"""

from __future__ import annotations

import base64
import hashlib
import http
import importlib.util
import io
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from werkzeug.wrappers import Request

from authdemo.local.authorizer import Denied, JwtConfig, KeyProvider, authorize

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PATH_PREFIX = "/_aws/execute-api/"
HEALTH_PATH = "/_authdemo/health"
SERVICE_NAME = "authdemo-local"
HOST_SUFFIX = ".execute-api.localhost"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit

NOT_FOUND = (404, b'{"message":"Not Found"}')
INTERNAL_ERROR = (500, b'{"message":"Internal Server Error"}')
TOO_LARGE = (413, b'{"message":"Request Entity Too Large"}')
JSON_HEADERS = {"content-type": "application/json"}


def _fail(result: tuple[int, bytes]) -> tuple[int, list[tuple[str, str]], bytes]:
    """One of API Gateway's own JSON error answers, as an integration result."""
    return result[0], list(JSON_HEADERS.items()), result[1]


# The server frames the response itself; a function must not set these.
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade"}

_COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/([^/]+)$")
_API_HOST = re.compile(r"^([a-z0-9]+)" + re.escape(HOST_SUFFIX) + r"(?::\d+)?$")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def _version() -> str:
    try:
        from authdemo import __version__

        return __version__
    except ImportError:  # a broken editable install can hide the package's __init__
        from importlib.metadata import version

        return version("authdemo")


@lru_cache(maxsize=1)
def moto_public_jwks() -> dict[str, Any]:
    """The JWKS moto's Cognito signs every token with (kid "dummy")."""
    from moto.utilities.utils import load_resource

    return load_resource("cognitoidp/resources/jwks-public.json")


def moto_cognito_jwks(issuer: str) -> dict[str, Any] | None:
    """moto's JWKS when `issuer` names a user pool of the embedded Cognito, else None."""
    match = _COGNITO_ISSUER.match(issuer)
    if not match:
        return None
    from moto.cognitoidp.models import cognitoidp_backends

    region, pool_id = match.groups()
    # dict.* views avoid BackendDict's create-on-read of accounts and regions.
    for regions in list(dict.values(cognitoidp_backends)):
        backend = dict.get(regions, region)
        if backend is not None and pool_id in backend.user_pools:
            return moto_public_jwks()
    return None


@dataclass
class LambdaContext:
    """The subset of Lambda's context object a Python handler commonly reads."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float = field(repr=False, default=0.0)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


class FunctionLoader:
    """Imports each function's code once per code hash, each module under its own name.

    The module name carries the code hash, so two functions (or two versions of one)
    never share module state, and an update of the code is picked up on the next call.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._root: Path | None = None
        self._modules: dict[tuple[str, str], Any] = {}

    def handler(self, fn: Any) -> Callable[..., Any]:
        """The callable named by the function's `Handler` (`module.function`)."""
        module_path, _, func_name = str(fn.handler or "").rpartition(".")
        if not module_path or not func_name:
            raise ValueError(f"handler {fn.handler!r} is not module.function")
        key = (str(fn.code_sha_256), module_path)
        with self._lock:
            module = self._modules.get(key)
            if module is None:
                module = self._modules[key] = self._load(fn.code_bytes, *key)
        return getattr(module, func_name)

    def _load(self, code: bytes, code_hash: str, module_path: str) -> Any:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="authdemo-lambda-"))
        digest = hashlib.sha256(code_hash.encode()).hexdigest()[:16]
        target = self._root / digest
        if not target.exists():
            staging = Path(tempfile.mkdtemp(dir=self._root))
            with zipfile.ZipFile(io.BytesIO(code)) as archive:
                archive.extractall(staging)  # extractall drops absolute and `..` parts
            staging.rename(target)
        source = target / (module_path.replace(".", "/") + ".py")
        name = f"_authdemo_fn_{digest}_{module_path.replace('.', '_')}"
        spec = importlib.util.spec_from_file_location(name, source)
        if spec is None or spec.loader is None or not source.is_file():
            raise ImportError(f"no module {module_path!r} in the function's code")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module

    def close(self) -> None:
        """Remove the extracted code (modules stay imported until the process ends)."""
        with self._lock:
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None
            self._modules.clear()


def arn_like(pattern: str, arn: str) -> bool:
    """IAM's ArnLike: each of the six ARN parts matched with `*` and `?` wildcards."""
    want = pattern.split(":", 5)
    have = arn.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(_wildcard(p).fullmatch(h) is not None for p, h in zip(want, have, strict=True))


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), re.DOTALL)


def _lower_keys(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in mapping.items()}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def invoke_allowed(statements: Iterable[Mapping[str, Any]], source_arn: str, account: str) -> bool:
    """Whether a function policy lets API Gateway invoke it from `source_arn`."""
    allowed = False
    for statement in statements:
        if not _statement_applies(statement, source_arn, account):
            continue
        if statement.get("Effect", "Allow") == "Deny":
            return False
        allowed = True
    return allowed


def _statement_applies(statement: Mapping[str, Any], source_arn: str, account: str) -> bool:
    principal = statement.get("Principal")
    if principal != "*":
        services = _as_list((principal or {}).get("Service")) if isinstance(principal, dict) else []
        if "apigateway.amazonaws.com" not in services:
            return False
    actions = _as_list(statement.get("Action", []))
    if not any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions):
        return False
    for operator, conditions in (statement.get("Condition") or {}).items():
        op = operator.lower()
        for key, expected in _lower_keys(conditions).items():
            values = [str(v) for v in _as_list(expected)]
            if key == "aws:sourcearn":
                if op in ("arnlike", "stringlike"):
                    ok = any(arn_like(v, source_arn) for v in values)
                else:
                    ok = source_arn in values
            elif key == "aws:sourceaccount":
                ok = account in values
            else:
                ok = True  # conditions on other keys do not concern this call
            if not ok:
                return False
    return True


@dataclass(frozen=True)
class _Target:
    api: Any
    backend: Any
    stage: str
    path: str  # decoded, stage prefix removed: what routes match
    full_path: str  # decoded, stage prefix kept (`requestContext.http.path`)
    raw_path: str  # as sent, stage prefix kept (`rawPath`)


def find_api(api_id: str) -> tuple[Any, Any] | None:
    """(backend, api) for this id in any account and region moto holds."""
    from moto.apigatewayv2.models import apigatewayv2_backends

    for regions in list(dict.values(apigatewayv2_backends)):
        for backend in list(dict.values(regions)):
            api = backend.apis.get(api_id)
            if api is not None:
                return backend, api
    return None


def _stage_for(api: Any, path: str) -> tuple[str, str] | None:
    """(stage name, path within the stage); a named stage wins over `$default`."""
    stages = dict(api.stages)
    first, _, rest = path.lstrip("/").partition("/")
    if first and first != "$default" and first in stages:
        name, inner = first, "/" + rest
    elif "$default" in stages:
        name, inner = "$default", path
    else:
        return None
    stage = stages[name]
    # Without AutoDeploy (or a deployment) a stage serves nothing on AWS; moto cannot deploy.
    if not stage.auto_deploy and not stage.config.get("deploymentId"):
        return None
    return name, inner


def match_route(routes: Iterable[Any], method: str, path: str) -> tuple[Any, dict[str, str]] | None:
    """The most specific route for `METHOD path`, then `ANY path`, then `$default`."""
    best: tuple[tuple[int, ...], Any, dict[str, str]] | None = None
    default = None
    for route in routes:
        key = str(route.route_key or "")
        if key == "$default":
            default = route
            continue
        route_method, _, template = key.partition(" ")
        if route_method not in (method, "ANY"):
            continue
        params = _match_template(template, path)
        if params is None:
            continue
        greedy = int(template.endswith("+}"))
        score = (greedy, len(params), int(route_method == "ANY"))
        if best is None or score < best[0]:
            best = (score, route, params)
    if best is not None:
        return best[1], best[2]
    if default is not None:
        return default, {}
    return None


def _match_template(template: str, path: str) -> dict[str, str] | None:
    """Path parameters when `path` fits `template` (`{id}` one segment, `{proxy+}` the rest)."""
    if not template.startswith("/") or not path.startswith("/"):
        return None
    want, have = template[1:].split("/"), path[1:].split("/")
    params: dict[str, str] = {}
    for i, part in enumerate(want):
        if part.startswith("{") and part.endswith("+}") and i == len(want) - 1:
            rest = "/".join(have[i:])
            if not rest:
                return None
            params[part[1:-2]] = rest
            return params
        if i >= len(have):
            return None
        if part.startswith("{") and part.endswith("}"):
            if not have[i]:
                return None
            params[part[1:-1]] = have[i]
        elif part != have[i]:
            return None
    return params if len(have) == len(want) else None


def function_arn_of(integration_uri: str) -> str:
    """The Lambda ARN in an integration URI (plain ARN or the apigateway invocation form)."""
    match = re.search(r"/functions/(arn:[^/]+)/invocations", integration_uri)
    return match.group(1) if match else integration_uri


def _request_id() -> str:
    return base64.b64encode(os.urandom(11)).decode()


class Gateway:
    """WSGI middleware: HTTP API invocations and the health check here, the rest to moto."""

    def __init__(self, app: WsgiApp, keys: KeyProvider | None = None) -> None:
        self.app = app
        self.keys = keys or KeyProvider(local=moto_cognito_jwks)
        self.functions = FunctionLoader()

    def close(self) -> None:
        self.functions.close()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO") or "/"
        if path == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body = json.dumps({"service": SERVICE_NAME, "pid": os.getpid(), "version": _version()}).encode()
            return self._respond(start_response, 200, body, JSON_HEADERS, environ)
        raw = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or quote(path))
        raw_path = raw.partition("?")[0]
        host = str(environ.get("HTTP_HOST") or "").lower()
        host_match = _API_HOST.match(host)
        if host_match:
            return self._api(environ, start_response, host_match.group(1), path, raw_path)
        if path.startswith(PATH_PREFIX):
            api_id, _, rest = path[len(PATH_PREFIX) :].partition("/")
            prefix = PATH_PREFIX + api_id
            raw_rest = raw_path[len(prefix) :] if raw_path.startswith(prefix) else "/" + rest
            return self._api(environ, start_response, api_id, "/" + rest, raw_rest or "/")
        return self.app(environ, start_response)

    def _respond(
        self,
        start_response: Callable[..., Any],
        status: int,
        body: bytes,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        environ: dict[str, Any],
        request_id: str | None = None,
    ) -> list[bytes]:
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        pairs.append(("content-length", str(len(body))))
        if request_id:
            pairs.append(("apigw-requestid", request_id))
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        start_response(f"{status} {phrase}", pairs)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def _api(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        api_id: str,
        path: str,
        raw_path: str,
    ) -> list[bytes]:
        request_id = _request_id()

        def reply(result: tuple[int, bytes], headers: Mapping[str, str] | None = None) -> Any:
            status, body = result
            return self._respond(
                start_response, status, body, {**JSON_HEADERS, **(headers or {})}, environ, request_id
            )

        try:
            found = find_api(api_id)
            if found is None:
                return reply(NOT_FOUND)
            backend, api = found
            staged = _stage_for(api, path)
            if staged is None:
                return reply(NOT_FOUND)
            target = _Target(api, backend, staged[0], staged[1], path, raw_path)
            request = Request(environ)
            if (request.content_length or 0) > MAX_BODY_BYTES:
                return reply(TOO_LARGE, {"connection": "close"})
            # Read the body now, so a refusal never leaves it unread on a kept-alive connection.
            request.get_data(cache=True)
            matched = match_route(list(api.routes.values()), request.method, target.path)
            if matched is None:
                return reply(NOT_FOUND)
            route, params = matched
            authorized = None
            if str(route.authorization_type or "NONE").upper() == "JWT":
                authorized = self._authorize(api, route, request)
            status, headers, body = self._integrate(target, route, params, request, authorized, request_id)
            return self._respond(start_response, status, body, headers, environ, request_id)
        except Denied as denied:
            return reply((denied.status, denied.body), denied.headers)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return reply(INTERNAL_ERROR)

    def _authorize(self, api: Any, route: Any, request: Request) -> Any:
        authorizer = api.authorizers.get(route.authorizer_id or "")
        if authorizer is None or not authorizer.jwt_config:
            raise RuntimeError(f"route {route.route_key!r} has no JWT authorizer")
        config = JwtConfig.from_api(authorizer.jwt_config, authorizer.identity_source)
        return authorize(
            config,
            dict(request.headers.items()),
            self.keys,
            scopes=route.authorization_scopes or None,
            query=dict(request.args.items()),
        )

    def _integrate(
        self,
        target: _Target,
        route: Any,
        params: dict[str, str],
        request: Request,
        authorized: Any,
        request_id: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        api, backend = target.api, target.backend
        integration_id = str(route.target or "").removeprefix("integrations/")
        integration = api.integrations.get(integration_id)
        if integration is None:
            return _fail(NOT_FOUND)
        if (
            str(integration.integration_type).upper() != "AWS_PROXY"
            or str(integration.payload_format_version or "2.0") != "2.0"
        ):
            print(
                "authdemo-local serves only AWS_PROXY integrations with payload format 2.0",
                file=sys.stderr,
            )
            return _fail(INTERNAL_ERROR)
        fn = self._function(function_arn_of(str(integration.integration_uri or "")))
        if fn is None:
            return _fail(INTERNAL_ERROR)
        route_key = str(route.route_key)
        region, account = backend.region_name, backend.account_id
        if route_key == "$default":
            resource = f"{api.api_id}/{target.stage}/$default"
        else:
            resource = f"{api.api_id}/{target.stage}/{request.method}/{target.path.lstrip('/')}"
        source_arn = f"arn:aws:execute-api:{region}:{account}:{resource}"
        if not invoke_allowed(list(fn.policy.statements), source_arn, account):
            print(
                f"authdemo-local: no permission for {source_arn} to invoke {fn.function_name}",
                file=sys.stderr,
            )
            return _fail(INTERNAL_ERROR)
        event = build_event(target, route_key, params, request, authorized, request_id, account)
        context = LambdaContext(
            function_name=fn.function_name,
            function_version="$LATEST",
            invoked_function_arn=fn.function_arn,
            memory_limit_in_mb=int(fn.memory_size or 128),
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{fn.function_name}",
            log_stream_name=datetime.now(timezone.utc).strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex,
            deadline=time.time() + float(fn.timeout or 3),
        )
        try:
            result = self.functions.handler(fn)(event, context)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return _fail(INTERNAL_ERROR)
        return proxy_response(result)

    @staticmethod
    def _function(arn: str) -> Any:
        from moto.awslambda.models import lambda_backends

        parts = arn.split(":")
        if len(parts) < 7 or parts[2] != "lambda":
            return None
        region, account = parts[3], parts[4]
        regions = dict.get(lambda_backends, account)
        backend = dict.get(regions, region) if regions is not None else None
        if backend is None:
            return None
        try:
            return backend.get_function(arn)
        except Exception:
            return None


def build_event(
    target: _Target,
    route_key: str,
    params: dict[str, str],
    request: Request,
    authorized: Any,
    request_id: str,
    account: str,
) -> dict[str, Any]:
    """A payload 2.0 event, shaped like the one API Gateway sends to the function."""
    environ = request.environ
    raw_uri = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or request.full_path)
    raw_query = raw_uri.partition("?")[2]
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    host = headers.get("host", "").rpartition(":")[0] or headers.get("host", "")
    now = datetime.now(timezone.utc)
    body = request.get_data(cache=True)
    content_type = headers.get("content-type", "")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": target.raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": account,
            "apiId": target.api.api_id,
            "domainName": host,
            "domainPrefix": target.api.api_id,
            "http": {
                "method": request.method,
                "path": target.full_path,
                "protocol": str(environ.get("SERVER_PROTOCOL") or "HTTP/1.1"),
                "sourceIp": str(environ.get("REMOTE_ADDR") or "127.0.0.1"),
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": target.stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    stage = target.api.stages.get(target.stage)
    if stage is not None and stage.stage_variables:
        event["stageVariables"] = dict(stage.stage_variables)
    if authorized is not None:
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": authorized.event_claims(), "scopes": authorized.scopes}
        }
    if body:
        text = None
        if not content_type or content_type.startswith(_TEXT_TYPES) or "+json" in content_type:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if text is None:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _header_value(value: Any) -> str:
    """A header value with CR/LF removed, so a function cannot split the response."""
    return re.sub(r"[\r\n]+", " ", str(value))


def proxy_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Turn a function's return value into the HTTP response, by payload 2.0 rules."""
    if isinstance(result, dict) and "statusCode" in result:
        try:
            status = int(result["statusCode"])
            if not 100 <= status <= 599:
                raise ValueError(status)
            pairs = [
                (str(k), _header_value(v))
                for k, v in (result.get("headers") or {}).items()
                if str(k).lower() not in _HOP_HEADERS and _TOKEN.fullmatch(str(k))
            ]
            pairs += [("set-cookie", _header_value(c)) for c in (result.get("cookies") or [])]
            body = result.get("body")
            if body is None:
                data = b""
            elif result.get("isBase64Encoded"):
                data = base64.b64decode(str(body), validate=True)
            else:
                data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
        except (ValueError, TypeError, AttributeError):
            return _fail(INTERNAL_ERROR)
        return status, pairs, data
    try:
        data = json.dumps(result).encode("utf-8")
    except (TypeError, ValueError):
        return _fail(INTERNAL_ERROR)
    return 200, [("content-type", "application/json")], data
