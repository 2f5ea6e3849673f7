"""The Lambda proxy integration of a REST API: the payload 1.0 event in, the function's answer out.

The event is shaped as the API Gateway developer guide's "Input format of a Lambda function for
proxy integration" shows it (`resource`, `path`, `httpMethod`, `headers`/`multiValueHeaders`,
the query string both ways, `pathParameters`, `stageVariables`, `requestContext`, `body`,
`isBase64Encoded`; absent parts are null, not left out). The answer follows its "Output format":
a JSON object with `statusCode` and, optionally, `headers`, `multiValueHeaders`, `body` (a
string) and `isBase64Encoded`; anything else is a "Malformed Lambda proxy response", which API
Gateway answers with 502.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request

# The server frames the response itself; a function must not set these.
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade"}
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_ANSWER_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}

Response = tuple[int, list[tuple[str, str]], bytes]


class MalformedAnswer(Exception):
    """The function's answer is not a Lambda proxy response: API Gateway's 502."""


@dataclass(frozen=True)
class Invocation:
    """Where one request landed in a REST API: what the event's outer fields say."""

    api_id: str
    account: str
    stage: str
    stage_variables: dict[str, str]
    resource_id: str
    resource_path: str  # the resource's template, `/echo/{id}`
    path: str  # the request's path within the stage, decoded
    path_parameters: dict[str, str]
    request_id: str  # the answer's `x-amzn-RequestId`
    extended_request_id: str  # the answer's `x-amz-apigw-id`


def build_event(
    inv: Invocation, request: Request, authorizer: dict[str, Any] | None, identity: dict[str, Any]
) -> dict[str, Any]:
    """A payload 1.0 event for this request (`identity`: the IAM caller's fields, or empty)."""
    environ = request.environ
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        multi_headers.setdefault(name, []).append(value)
    raw_uri = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or request.full_path)
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw_uri.partition("?")[2], keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)
    host = request.headers.get("host", "")
    now = datetime.now(timezone.utc)
    context: dict[str, Any] = {
        "resourceId": inv.resource_id,
        "resourcePath": inv.resource_path,
        "httpMethod": request.method,
        "extendedRequestId": inv.extended_request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "path": f"/{inv.stage}{inv.path}",
        "accountId": inv.account,
        "protocol": str(environ.get("SERVER_PROTOCOL") or "HTTP/1.1"),
        "stage": inv.stage,
        "domainPrefix": inv.api_id,
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "requestId": inv.request_id,
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": identity.get("accountId"),
            "cognitoIdentityId": None,
            "caller": identity.get("callerId"),
            "sourceIp": str(environ.get("REMOTE_ADDR") or "127.0.0.1"),
            "principalOrgId": None,
            "accessKey": identity.get("accessKey"),
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": identity.get("userArn"),
            "userAgent": request.headers.get("user-agent"),
            "user": identity.get("userId"),
        },
        "domainName": host.rpartition(":")[0] if ":" in host else host,
        "apiId": inv.api_id,
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    body, encoded = _body(request)
    return {
        "resource": inv.resource_path,
        "path": inv.path,
        "httpMethod": request.method,
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(inv.path_parameters) or None,
        "stageVariables": dict(inv.stage_variables) or None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": encoded,
    }


def _body(request: Request) -> tuple[str | None, bool]:
    data = request.get_data(cache=True)
    if not data:
        return None, False
    content_type = request.headers.get("content-type", "")
    if not content_type or content_type.startswith(_TEXT_TYPES) or "+json" in content_type:
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(data).decode(), True


def _header_value(value: Any) -> str:
    """A header value with CR/LF removed, so a function cannot split the response."""
    return re.sub(r"[\r\n]+", " ", str(value))


def _header_name_ok(name: Any) -> bool:
    return isinstance(name, str) and bool(_TOKEN.fullmatch(name)) and name.lower() not in _HOP_HEADERS


def proxy_response(answer: Any) -> Response:
    """The HTTP response for a function's answer; MalformedAnswer when it is no proxy response."""
    if not isinstance(answer, dict) or not set(answer) <= _ANSWER_KEYS:
        raise MalformedAnswer("the answer is not an object of the proxy response's fields")
    status = answer.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int | str):
        raise MalformedAnswer("statusCode is missing or not a number")
    try:
        code = int(status)
    except ValueError as exc:
        raise MalformedAnswer("statusCode is not a number") from exc
    if not 100 <= code <= 599:
        raise MalformedAnswer(f"statusCode {code} is not an HTTP status")
    headers = answer.get("headers") or {}
    multi = answer.get("multiValueHeaders") or {}
    if not isinstance(headers, dict) or not isinstance(multi, dict):
        raise MalformedAnswer("headers or multiValueHeaders is not an object")
    pairs: list[tuple[str, str]] = []
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedAnswer(f"multiValueHeaders[{name!r}] is not a list")
        if _header_name_ok(name):
            pairs += [(name, _header_value(v)) for v in values]
    named = {n.lower() for n, _ in pairs}
    for name, value in headers.items():  # a name in multiValueHeaders too: those values win
        if _header_name_ok(name) and name.lower() not in named:
            pairs.append((name, _header_value(value)))
    if not any(n.lower() == "content-type" for n, _ in pairs):
        pairs.append(("content-type", "application/json"))
    body = answer.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedAnswer("body is not a string")
    encoded = answer.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise MalformedAnswer("isBase64Encoded is not a boolean")
    if body is None:
        return code, pairs, b""
    if encoded:
        try:
            return code, pairs, base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedAnswer("body is not base64") from exc
    return code, pairs, body.encode("utf-8", "replace")
