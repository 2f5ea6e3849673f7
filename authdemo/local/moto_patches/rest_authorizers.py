"""What moto 5 lacks of REST API (v1) authorizers.

FlushStageAuthorizersCache: `DELETE /restapis/{id}/stages/{stage}/cache/authorizers` matches none
of moto's API Gateway routes, so its server answers 404 with no AWS error. The cache it empties
is not moto's anyway: the embedded gateway keeps the REST TOKEN authorizers' answers
(`authorizers.token.TokenAuthorizer`). So the router answers the call itself, after the SigV4
check every control-plane call passes, as AWS does: 202 and an empty body, or NotFoundException
for an API or stage the caller's account does not have in that region (moto's own GetStage
errors, in API Gateway's rest-json shape). The operation's method, path and status are read from
botocore's model.

`identityValidationExpression`: moto's CreateAuthorizer hands it on under a misspelt keyword
(`identiy_validation_expression`) that its Authorizer never reads, so the expression was dropped
and a TOKEN authorizer's token never checked against it (`kept_validation_expression`).

`tests/test_local_token.py` fails when moto changes under either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

OPERATION = "FlushStageAuthorizersCache"
Response = tuple[int, list[tuple[str, str]], bytes]
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


@lru_cache(maxsize=1)
def wire() -> tuple[str, re.Pattern[str], int]:
    """(HTTP method, path pattern with the `restapi_id` and `stage_name` groups, success status)."""
    from authdemo.botodata import shared_loader

    http = shared_loader().load_service_model("apigateway", "service-2")["operations"][OPERATION]["http"]
    pattern = re.escape(http["requestUri"])
    for name in ("restapi_id", "stage_name"):
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+)")
    return http["method"], re.compile(pattern + r"\Z"), int(http.get("responseCode", 200))


def flush_stage_authorizers_cache(
    environ: dict[str, Any], flush: Callable[[str, str], None]
) -> Response | None:
    """The answer to a FlushStageAuthorizersCache call (already SigV4-verified), None for any
    other call; `flush(rest_api_id, stage)` empties that stage's authorizer cache."""
    scope = _SCOPE.search(str(environ.get("HTTP_AUTHORIZATION") or ""))
    if scope is None or scope.group(3) != "apigateway":  # another service's call: no model to read
        return None
    method, path, status = wire()
    found = path.match(str(environ.get("PATH_INFO") or ""))
    if environ.get("REQUEST_METHOD") != method or found is None:
        return None
    from moto.apigateway.models import apigateway_backends
    from moto.core.exceptions import JsonRESTError
    from moto.iam.models import get_account_id_from

    api_id, stage = found.group("restapi_id"), found.group("stage_name")
    account, region = get_account_id_from(scope.group(1)), scope.group(2)
    try:
        apigateway_backends[account][region].get_stage(api_id, stage)
    except JsonRESTError as error:  # RestAPINotFound, StageNotFoundException: NotFoundException
        return error.code, list(error.get_headers()), error.get_body().encode()
    flush(api_id, stage)
    return status, [("content-type", "application/json")], b""


def kept_validation_expression() -> list[tuple[Any, str, Any]]:
    """(class, attribute, value): moto's apigateway Authorizer, keeping the expression that
    CreateAuthorizer passes under its misspelt name."""
    from moto.apigateway.models import Authorizer

    init = Authorizer.__init__
    if getattr(init, "keeps_validation", False):  # set already (the suite and `apply` both set it)
        return [(Authorizer, "__init__", init)]

    def keeping(self: Any, *args: Any, **kwargs: Any) -> None:
        misspelt = kwargs.pop("identiy_validation_expression", None)
        if kwargs.get("identity_validation_expression") is None:
            kwargs["identity_validation_expression"] = misspelt
        init(self, *args, **kwargs)

    keeping.keeps_validation = True  # type: ignore[attr-defined]
    keeping.__wrapped__ = init  # type: ignore[attr-defined]
    return [(Authorizer, "__init__", keeping)]
