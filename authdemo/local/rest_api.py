"""One REST API (API Gateway v1) invocation, the way API Gateway runs it.

moto stores REST APIs (resources, methods, integrations, authorizers, deployments, stages) but
its server never serves them; the embedded gateway does, read live from moto. A request goes
stage -> resource -> method -> authorizer -> Lambda invoke permission -> function:
- the stage is the path's first segment; it must exist and point at a deployment, else 403
  `{"message":"Forbidden"}` (`ForbiddenException`);
- the resource is matched as REST matches it (exact segments before `{param}` before
  `{proxy+}`), then the method (its own, then `ANY`); no resource or no method: REST's famous 403
  `{"message":"Missing Authentication Token"}`; with an `Authorization` header that is not SigV4
  (a bearer token), REST reads it as a signature and answers 403 `IncompleteSignatureException`
  "Invalid key=value pair (missing equal-sign) ..." instead (`not_a_signature`; unverified, see
  docs/aws-notes.md), as its AWS_IAM doors do;
- the method's `authorizationType`: `NONE`; `AWS_IAM` (SigV4, `authorizers.iam`; unsigned:
  Missing Authentication Token); `COGNITO_USER_POOLS` (`authorizers.cognito_pool`); `CUSTOM`
  with a `TOKEN` authorizer (`token_authorizer`, which runs the function, evaluates its policy
  and caches it). A `REQUEST` authorizer is not served (500, and the server's log says so);
- the Lambda proxy integration (payload 1.0, `rest_event`), API Gateway's invoke permission
  checked against `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>`.

Every refusal is a gateway response with REST's body and `x-amzn-ErrorType`. What is served is
the API as moto holds it now, not a snapshot taken at CreateDeployment (moto keeps none): a
change shows without a new deployment, where AWS would wait for one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import traceback
from typing import Any

from werkzeug.wrappers import Request

from authdemo.local.authorizers import Denied, iam
from authdemo.local.authorizers.cognito_pool import CognitoPoolConfig, Refused, identity_source_header
from authdemo.local.authorizers.cognito_pool import authorize as cognito_authorize
from authdemo.local.authorizers.lambda_ import AuthorizerError
from authdemo.local.authorizers.token import TokenAuthorizer
from authdemo.local.backends import find_function
from authdemo.local.credentials import Credentials
from authdemo.local.matching import function_arn_of, match_template
from authdemo.local.permissions import invoke_allowed
from authdemo.local.rest_event import Invocation, MalformedAnswer, build_event, proxy_response
from authdemo.local.runtime import FunctionError, FunctionRuntime, Throttled

Response = tuple[int, list[tuple[str, str]], bytes]
Gateway = tuple[int, bytes, str]  # status, body, x-amzn-ErrorType

MISSING_TOKEN: Gateway = (
    403,
    b'{"message":"Missing Authentication Token"}',
    "MissingAuthenticationTokenException",
)
FORBIDDEN: Gateway = (403, b'{"message":"Forbidden"}', "ForbiddenException")
AUTHORIZER_ERROR: Gateway = (500, b'{"message": null}', "AuthorizerConfigurationException")
INTERNAL_ERROR: Gateway = (500, b'{"message": "Internal server error"}', "InternalServerErrorException")
BAD_GATEWAY: Gateway = (502, b'{"message": "Internal server error"}', "InternalServerErrorException")
# sigv4.Refusal.kind -> the x-amzn-ErrorType API Gateway sends with that refusal.
_SIGNATURE_ERRORS = {
    "incomplete": "IncompleteSignatureException",
    "unknown_key": "UnrecognizedClientException",
}


SIGV4_SCHEME = "AWS4-HMAC-SHA256 "


def not_a_signature(authorization: str) -> Gateway | None:
    """REST's answer to an `Authorization` header it reads as SigV4 and that is not SigV4 (a
    bearer token at a path that does not exist, or at an AWS_IAM door); None for a SigV4 header.
    AWS hashes the header in the message (older answers quoted it whole): no token is echoed."""
    if not authorization or authorization.startswith(SIGV4_SCHEME):
        return None
    digest = base64.b64encode(hashlib.sha256(authorization.encode("utf-8", "replace")).digest()).decode()
    message = (
        "Invalid key=value pair (missing equal-sign) in Authorization header "
        f"(hashed with SHA-256 and encoded with Base64): '{digest}'."
    )
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return 403, body, "IncompleteSignatureException"


def gateway_response(answer: Gateway) -> Response:
    status, body, error_type = answer
    return status, [("content-type", "application/json"), ("x-amzn-ErrorType", error_type)], body


def _log(line: str) -> None:
    print(f"authdemo-local: {line}", file=sys.stderr, flush=True)


class RestApiInvoker:
    """Answers invocations of the REST APIs held in moto."""

    def __init__(
        self,
        runtime: FunctionRuntime,
        credentials: Credentials | None,
        token_authorizer: TokenAuthorizer,
    ) -> None:
        """`credentials`: the only key `AWS_IAM` methods accept (None: they refuse every request);
        `token_authorizer`: the gateway's TOKEN authorizer (its cache is what
        FlushStageAuthorizersCache empties)."""
        self.runtime = runtime
        self.credentials = credentials
        self.token_authorizer = token_authorizer

    def handle(
        self, environ: dict[str, Any], backend: Any, api: Any, path: str, rid: tuple[str, str]
    ) -> Response:
        """The response to one request for `api` (path without the invoke-URL prefix; `rid`: its
        request id and extended request id)."""
        try:
            return self._handle(environ, backend, api, path, rid)
        except Refused as refused:
            return gateway_response((refused.status, refused.body, refused.error_type))
        except Denied as denied:  # the TOKEN authorizer's 401/403, with REST's body
            error_type = "UnauthorizedException" if denied.status == 401 else "AccessDeniedException"
            return gateway_response((denied.status, denied.body, error_type))
        except AuthorizerError as exc:
            _log(f"authorizer error: {exc}")
            return gateway_response(AUTHORIZER_ERROR)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return gateway_response(INTERNAL_ERROR)

    def _handle(
        self, environ: dict[str, Any], backend: Any, api: Any, path: str, rid: tuple[str, str]
    ) -> Response:
        first, _, rest = path.lstrip("/").partition("/")
        stage = api.stages.get(first) if first else None
        if stage is None or not stage.deployment_id or stage.deployment_id not in api.deployments:
            raise Refused(f"no deployed stage {first!r}", *FORBIDDEN)
        inner = "/" + rest
        request = Request(environ)  # its body read and capped (MAX_BODY_BYTES) by the router
        request.get_data(cache=True)
        matched = match_resource(api, inner)
        methods = matched[0].resource_methods if matched else {}
        method = methods.get(request.method) or methods.get("ANY")
        if matched is None or method is None:
            answer = not_a_signature(str(environ.get("HTTP_AUTHORIZATION") or "")) or MISSING_TOKEN
            raise Refused(f"no method {request.method} {inner}", *answer)
        resource, template, params = matched
        region, account = str(backend.region_name), str(backend.account_id)
        method_arn = f"arn:aws:execute-api:{region}:{account}:{api.id}/{first}/{request.method}/{inner[1:]}"
        authorizer, identity = self._authorize(api, first, method, request, method_arn, region, account)
        variables = {str(k): str(v) for k, v in (stage.variables or {}).items()}
        inv = Invocation(api.id, account, first, variables, resource.id, template, inner, params, *rid)
        event = build_event(inv, request, authorizer, identity)
        return self._integrate(method, inv, method_arn, event)

    def _authorize(
        self, api: Any, stage: str, method: Any, request: Request, method_arn: str, region: str, account: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(`requestContext.authorizer`, the IAM caller's identity fields) for the method."""
        kind = str(method.authorization_type or "NONE").upper()
        if kind == "NONE":
            return None, {}
        if kind == "AWS_IAM":
            return None, self._iam(request, region)
        authorizer = api.authorizers.get(method.authorizer_id or "")
        auth_type = str(getattr(authorizer, "type", "") or "").upper()
        if kind == "COGNITO_USER_POOLS" and auth_type == "COGNITO_USER_POOLS":
            config = CognitoPoolConfig.from_api(authorizer)
            scopes = list(method.authorization_scopes or [])
            return cognito_authorize(config, dict(request.headers.items()), scopes), {}
        if kind == "CUSTOM" and auth_type == "TOKEN":
            value = request.headers.get(identity_source_header(authorizer.identity_source))
            context = self.token_authorizer.authorize(
                authorizer, str(api.id), stage, region, account, value, method_arn
            )
            return context, {}
        if kind == "CUSTOM" and auth_type == "REQUEST":
            raise AuthorizerError("authdemo-local serves TOKEN authorizers of REST APIs, not REQUEST ones")
        found = auth_type or "none"
        raise AuthorizerError(f"method authorization {kind} has no matching authorizer (found {found})")

    def _iam(self, request: Request, region: str) -> dict[str, Any]:
        """The caller's identity for a SigV4-signed request; REST's 403s otherwise."""
        environ = request.environ
        presigned = "X-Amz-Signature=" in str(environ.get("QUERY_STRING") or "")
        if not environ.get("HTTP_AUTHORIZATION") and not presigned:
            raise Refused("the request is not signed", *MISSING_TOKEN)
        unsigned = not_a_signature(str(environ.get("HTTP_AUTHORIZATION") or ""))
        if unsigned is not None and not presigned:
            raise Refused("the Authorization header is not a SigV4 signature", *unsigned)
        if self.credentials is None:
            raise Refused("no credentials configured", *FORBIDDEN)
        try:
            return iam.authorize(environ, request.get_data(cache=True), self.credentials, region)
        except Denied as denied:
            kind = denied.description.removeprefix("SigV4: ")
            error_type = _SIGNATURE_ERRORS.get(kind, "InvalidSignatureException")
            raise Refused(denied.description, 403, denied.body, error_type) from denied

    def _integrate(self, method: Any, inv: Invocation, method_arn: str, event: dict[str, Any]) -> Response:
        integration = method.method_integration
        kind = str(getattr(integration, "integration_type", "") or "").upper()
        if kind != "AWS_PROXY":
            _log(f"authdemo-local serves only AWS_PROXY integrations of REST APIs, not {kind!r}")
            return gateway_response(INTERNAL_ERROR)
        fn = find_function(function_arn_of(str(integration.uri or "")))
        if fn is None:
            _log(f"the integration's function {integration.uri} does not exist")
            return gateway_response(INTERNAL_ERROR)
        if not invoke_allowed(list(fn.policy.statements), method_arn, inv.account):
            _log(f"no permission for {method_arn} to invoke {fn.function_name}")
            return gateway_response(INTERNAL_ERROR)
        try:
            answer = self.runtime.invoke(fn, event)
        except Throttled:  # Lambda refused the invocation: API Gateway's 500
            return gateway_response(INTERNAL_ERROR)
        except FunctionError as exc:
            _log(f"{fn.function_name} failed: {exc}")
            return gateway_response(BAD_GATEWAY)
        try:
            return proxy_response(answer)
        except MalformedAnswer as exc:
            _log(f"Malformed Lambda proxy response from {fn.function_name}: {exc}")
            return gateway_response(BAD_GATEWAY)


def resource_paths(api: Any) -> dict[str, Any]:
    """Each resource's path template (`/lambda/again`, `/echo/{id}`), from its parents' parts."""
    resources = dict(api.resources)
    paths: dict[str, str] = {}

    def path_of(resource: Any, seen: frozenset[str]) -> str | None:
        if resource.id in paths:
            return paths[resource.id]
        if not resource.parent_id:
            return "/"
        parent = resources.get(resource.parent_id)
        if parent is None or parent.id in seen:
            return None
        base = path_of(parent, seen | {resource.id})
        if base is None:
            return None
        paths[resource.id] = base.rstrip("/") + "/" + str(resource.path_part)
        return paths[resource.id]

    found: dict[str, Any] = {}
    for resource in resources.values():
        path = path_of(resource, frozenset())
        if path is not None:
            found[path] = resource
    return found


def match_resource(api: Any, path: str) -> tuple[Any, str, dict[str, str]] | None:
    """(resource, its template, path parameters) of the most specific resource for `path`:
    segment by segment, an exact part before `{param}` before `{proxy+}`."""
    best: tuple[tuple[int, ...], Any, str, dict[str, str]] | None = None
    for template, resource in resource_paths(api).items():
        params = match_template(template, path)
        if params is None:
            continue
        score = tuple(
            2 if part.endswith("+}") else 1 if part.startswith("{") else 0 for part in template.split("/")
        )
        if best is None or score < best[0]:
            best = (score, resource, template, params)
    return None if best is None else (best[1], best[2], best[3])
