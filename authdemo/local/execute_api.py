"""One HTTP API invocation, the way API Gateway runs it (REST APIs: `rest_api`, reached from here).

A request goes stage -> route -> authorizer -> Lambda invoke permission -> function, each
refusing with API Gateway's own status and body. The route's `AuthorizationType` picks the
authorizer: `JWT` (`authorizers.jwt`), `CUSTOM` (a Lambda REQUEST authorizer,
`authorizers.lambda_`), `AWS_IAM` (SigV4 for `execute-api`, `authorizers.iam`), `NONE`.
Stages, routes, authorizers and integrations are read live from moto
(`authdemo.local.backends`); functions run in worker processes (`authdemo.local.runtime`).
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import sys
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request

from authdemo.local.authorizers import Denied, iam
from authdemo.local.authorizers.jwt import JwtConfig, KeyProvider, authorize
from authdemo.local.authorizers.lambda_ import (
    AuthorizerError,
    LambdaAuthorizer,
    LambdaAuthorizerConfig,
    RequestView,
)
from authdemo.local.authorizers.token import TokenAuthorizer
from authdemo.local.backends import find_api, find_function, moto_cognito_jwks
from authdemo.local.credentials import Credentials
from authdemo.local.matching import Target, function_arn_of, match_route, stage_for
from authdemo.local.permissions import invoke_allowed
from authdemo.local.rest_api import RestApiInvoker
from authdemo.local.runtime import FunctionError, FunctionRuntime

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit

NOT_FOUND = (404, b'{"message":"Not Found"}')
INTERNAL_ERROR = (500, b'{"message":"Internal Server Error"}')
JSON_HEADERS = {"content-type": "application/json"}

Response = tuple[int, list[tuple[str, str]], bytes]

# The server frames the response itself; a function must not set these.
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade"}
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _fail(result: tuple[int, bytes], headers: dict[str, str] | None = None) -> Response:
    """One of API Gateway's own JSON error answers."""
    return result[0], list({**JSON_HEADERS, **(headers or {})}.items()), result[1]


def request_id() -> str:
    return base64.b64encode(os.urandom(11)).decode()


class ExecuteApi:
    """Answers invocations of the HTTP APIs held in moto."""

    def __init__(
        self,
        keys: KeyProvider | None = None,
        credentials: Credentials | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        """`credentials`: the only key `AWS_IAM` routes accept (None: they refuse every
        request); `endpoint_url`: this server, for the functions' boto3."""
        self.keys = keys or KeyProvider(local=moto_cognito_jwks)
        self.credentials = credentials
        self.runtime = FunctionRuntime(endpoint_url)
        self.lambda_authorizer = LambdaAuthorizer(self.runtime)
        self.token_authorizer = TokenAuthorizer(self.runtime)  # REST's; FlushStageAuthorizersCache reaches it

    def close(self) -> None:
        self.runtime.close()

    @functools.cached_property
    def rest(self) -> RestApiInvoker:
        """The REST APIs' (v1) invoker (`rest_api`): this gateway's runtime and credentials, and its
        `token_authorizer` (`authorizers.token`, which FlushStageAuthorizersCache reaches)."""
        return RestApiInvoker(self.runtime, self.credentials, self.token_authorizer)

    def handle(self, environ: dict[str, Any], api_id: str, path: str, raw_path: str, rid: str) -> Response:
        """The response to one request for `api_id` (path without the invoke-URL prefix)."""
        try:
            found = find_api(api_id)
            if found is None:
                return _fail(NOT_FOUND)
            backend, api = found
            staged = stage_for(api, path)
            if staged is None:
                return _fail(NOT_FOUND)
            target = Target(api, backend, staged[0], staged[1], path, raw_path)
            request = Request(environ)  # its body read and capped (MAX_BODY_BYTES) by the router
            request.get_data(cache=True)
            matched = match_route(list(api.routes.values()), request.method, target.path)
            if matched is None:
                return _fail(NOT_FOUND)
            route, params = matched
            authorizer = self._authorize(target, route, params, request, rid)
            return self._integrate(target, route, params, request, authorizer, rid)
        except Denied as denied:
            return denied.status, list(denied.headers.items()), denied.body
        except AuthorizerError as exc:
            print(f"authdemo-local: authorizer error: {exc}", file=sys.stderr, flush=True)
            return _fail(INTERNAL_ERROR)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return _fail(INTERNAL_ERROR)

    def _authorize(
        self, target: Target, route: Any, params: dict[str, str], request: Request, rid: str
    ) -> dict[str, Any] | None:
        """`requestContext.authorizer` for the route's authorizer (None for an open route)."""
        kind = str(route.authorization_type or "NONE").upper()
        if kind == "NONE":
            return None
        api, backend = target.api, target.backend
        if kind == "AWS_IAM":
            if self.credentials is None:
                raise Denied("no credentials configured", status=403, challenge=False)
            body = request.get_data(cache=True)
            return {"iam": iam.authorize(request.environ, body, self.credentials, backend.region_name)}
        authorizer = api.authorizers.get(route.authorizer_id or "")
        if kind == "CUSTOM":
            if authorizer is None or str(authorizer.authorizer_type).upper() != "REQUEST":
                raise AuthorizerError(f"route {route.route_key!r} has no REQUEST authorizer")
            config = LambdaAuthorizerConfig.from_api(authorizer)
            view = request_view(target, str(route.route_key), params, request, rid, backend)
            context = self.lambda_authorizer.authorize(
                config, api.api_id, backend.region_name, backend.account_id, view
            )
            return {"lambda": context}
        if kind != "JWT":
            raise AuthorizerError(f"authdemo-local does not serve {kind} authorization")
        if authorizer is None or not authorizer.jwt_config:
            raise AuthorizerError(f"route {route.route_key!r} has no JWT authorizer")
        config_jwt = JwtConfig.from_api(authorizer.jwt_config, authorizer.identity_source)
        authorized = authorize(
            config_jwt,
            dict(request.headers.items()),
            self.keys,
            scopes=route.authorization_scopes or None,
            query=dict(request.args.items()),
        )
        return {"jwt": {"claims": authorized.event_claims(), "scopes": authorized.scopes}}

    def _integrate(
        self,
        target: Target,
        route: Any,
        params: dict[str, str],
        request: Request,
        authorizer: dict[str, Any] | None,
        rid: str,
    ) -> Response:
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
        fn = find_function(function_arn_of(str(integration.integration_uri or "")))
        if fn is None:
            return _fail(INTERNAL_ERROR)
        route_key = str(route.route_key)
        account = backend.account_id
        source_arn = route_arn(target, request.method, route_key)
        if not invoke_allowed(list(fn.policy.statements), source_arn, account):
            print(
                f"authdemo-local: no permission for {source_arn} to invoke {fn.function_name}",
                file=sys.stderr,
            )
            return _fail(INTERNAL_ERROR)
        event = build_event(target, route_key, params, request, authorizer, rid, account)
        try:
            result = self.runtime.invoke(fn, event)
        except FunctionError:
            return _fail(INTERNAL_ERROR)
        return proxy_response(result)


@dataclass(frozen=True)
class _Parts:
    """A request's pieces as API Gateway passes them on (shared by the function's and the
    authorizer's events)."""

    raw_query: str
    headers: dict[str, str]
    cookies: list[str]
    query: dict[str, str]
    context: dict[str, Any]
    stage_variables: dict[str, str]


def _parts(target: Target, route_key: str, request: Request, rid: str, account: str) -> _Parts:
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
    context = {
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
        "requestId": rid,
        "routeKey": route_key,
        "stage": target.stage,
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    stage = target.api.stages.get(target.stage)
    variables = dict(stage.stage_variables or {}) if stage is not None else {}
    return _Parts(raw_query, headers, cookies, query, context, {str(k): str(v) for k, v in variables.items()})


def route_arn(target: Target, method: str, route_key: str | None = None) -> str:
    """`arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>` for this request
    (`.../<stage>/$default` for the `$default` route, when checking the invoke permission)."""
    backend = target.backend
    if route_key == "$default":
        resource = f"{target.api.api_id}/{target.stage}/$default"
    else:
        resource = f"{target.api.api_id}/{target.stage}/{method}/{target.path.lstrip('/')}"
    return f"arn:aws:execute-api:{backend.region_name}:{backend.account_id}:{resource}"


def request_view(
    target: Target, route_key: str, params: dict[str, str], request: Request, rid: str, backend: Any
) -> RequestView:
    """What a Lambda authorizer's identity sources and event read from this request."""
    parts = _parts(target, route_key, request, rid, str(backend.account_id))
    return RequestView(
        route_arn=route_arn(target, request.method),
        route_key=route_key,
        raw_path=target.raw_path,
        raw_query=parts.raw_query,
        cookies=parts.cookies,
        headers=parts.headers,
        query=parts.query,
        path_parameters=dict(params),
        stage_variables=parts.stage_variables,
        request_context=parts.context,
    )


def build_event(
    target: Target,
    route_key: str,
    params: dict[str, str],
    request: Request,
    authorizer: dict[str, Any] | None,
    rid: str,
    account: str,
) -> dict[str, Any]:
    """A payload 2.0 event, shaped like the one API Gateway sends to the function."""
    parts = _parts(target, route_key, request, rid, account)
    headers = parts.headers
    body = request.get_data(cache=True)
    content_type = headers.get("content-type", "")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": target.raw_path,
        "rawQueryString": parts.raw_query,
        "headers": headers,
        "requestContext": parts.context,
        "isBase64Encoded": False,
    }
    if parts.cookies:
        event["cookies"] = parts.cookies
    if parts.query:
        event["queryStringParameters"] = parts.query
    if params:
        event["pathParameters"] = params
    if parts.stage_variables:
        event["stageVariables"] = parts.stage_variables
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
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


def _header_value(value: Any) -> str:
    """A header value with CR/LF removed, so a function cannot split the response."""
    return re.sub(r"[\r\n]+", " ", str(value))


def proxy_response(result: Any) -> Response:
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
