"""API Gateway (REST API, v1): the REST half of the lesson beside the HTTP API (issue 21).

One REGIONAL REST API per stack, its Cognito user pool authorizer (`cognito-pool`) and TOKEN
Lambda authorizer (`presenters-token`), a deployment and the stage `demo`; the five doors
(resource, GET method, Lambda proxy integration each) are in apigateway_rest_doors.py.
`DeleteRestApi` takes every child with it. Built only on the Cognito profile (a REST API's
Cognito authorizer takes a user pool, nothing else) and unless `up --no-rest`.

API Gateway's control plane has fixed quotas that moto does not show (developer guide, "Amazon
API Gateway quotas"): one CreateRestApi per 3 s, one CreateDeployment per 5 s, one DeleteRestApi
per 30 s per account... answered with 429 `TooManyRequestsException`. Every call here goes
through `Gateway`, which waits those out (bounded, with a progress note) once botocore's own two
quick retries (aws.MAX_ATTEMPTS) have not been enough.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from ..aws import get
from ..errors import AuthdemoError, NotFound, UnreachableError
from . import base
from .apigateway import invocation
from .base import TAG_KEY, Context, Rec, Unit
from .declare import Call, Join, Ref, arn, resolve, returned, send

T = TypeVar("T")

THROTTLED = "TooManyRequestsException"
#: The wait before asking again when a 429 names no Retry-After: the operation's fixed quota
#: (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html), else a second,
#: doubled on each further refusal (all operations: 10 per second per account, burst 40).
QUOTA_SECONDS = {
    "CreateRestApi": 3.0,  # regional APIs
    "CreateDeployment": 5.0,
    "DeleteRestApi": 30.0,
    "CreateResource": 0.2,
    "GetResources": 0.4,
}
THROTTLE_WAIT_SECONDS = 150.0  # give up after this: longer than any quota's interval, several times
FUNCTION_WAIT_SECONDS = 300.0  # the role's propagation (150 s) and the function's activation (120 s)
IDENTITY_SOURCE = "method.request.header.Authorization"
TOKEN_TTL_SECONDS = 300  # AWS's default, said explicitly: the cache is the lesson


class Gateway:
    """The `apigateway` client of a unit's step: each call waits out API Gateway's 429s."""

    def __init__(self, ctx: Context, key: str) -> None:
        self.ctx = ctx
        self.key = key

    def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
        client = self.ctx.clients("apigateway")
        call = getattr(client, operation)
        name = client.raw.meta.method_to_api_mapping.get(operation, operation)

        def invoke(**kwargs: Any) -> dict[str, Any]:
            deadline = time.monotonic() + THROTTLE_WAIT_SECONDS
            refusals = 0
            while True:
                try:
                    return call(**kwargs)
                except AuthdemoError as exc:
                    if exc.aws_code != THROTTLED:
                        raise
                    refusals += 1
                    wait = _wait_seconds(exc, name, refusals)
                    if time.monotonic() + wait > deadline:
                        raise UnreachableError(
                            f"API Gateway kept refusing {name} as too frequent (429) for "
                            f"{THROTTLE_WAIT_SECONDS:.0f} s; wait a minute and run the command again."
                        ) from exc
                    self.ctx.notify(self.key, f"API Gateway throttles {name} (429): waiting {wait:.0f} s")
                    base.sleep(wait)

        return invoke

    def read(self, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """A read's answer, or None when AWS says it is not there."""
        try:
            return getattr(self, operation)(**kwargs)
        except NotFound:
            return None

    def items(self, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item of a paged list (`position`), or [] when its parent is gone."""
        found: list[dict[str, Any]] = []
        position: str | None = None
        while True:
            page = self.read(operation, **kwargs, limit=500, **({"position": position} if position else {}))
            if page is None:
                return found
            found.extend(page.get("items", []))
            position = page.get("position")
            if not position:
                return found


def function_arn(name: str) -> Join:
    """A function's ARN in the form Lambda gives it (`function:<name>` in the stack's partition,
    region and account), known before it exists: the REST half's authorizer and integrations are
    made while the role propagates, off `up`'s critical path."""
    return arn("lambda", f"function:{name}")


def naming_a_function(ctx: Context, key: str, function: str, call: Callable[[], T]) -> T:
    """`call` names a function by ARN before it may exist. AWS documents no check that it does
    (unverified: docs/aws-notes.md); should API Gateway refuse it (BadRequestException), wait
    until the function exists, with a note, and call once more."""
    try:
        return call()
    except AuthdemoError as exc:
        if exc.aws_code != "BadRequestException":
            raise
        deadline = time.monotonic() + FUNCTION_WAIT_SECONDS
        lam = ctx.clients("lambda")
        while get(lam.get_function_configuration, FunctionName=function) is None:
            if time.monotonic() > deadline:
                raise
            ctx.notify(key, f"API Gateway refused it before {function} exists: waiting for the function")
            base.sleep(1.0)
    return call()


def modelled_errors(ctx: Context, operation: str) -> set[str]:
    """The errors AWS's model says `operation` may answer (any other: an emulator lacking it)."""
    model = ctx.clients("apigateway").raw.meta.service_model.operation_model(operation)
    return {shape.name for shape in model.error_shapes}


def _wait_seconds(exc: AuthdemoError, operation: str, refusals: int) -> float:
    """What the 429 asked for (Retry-After), else the operation's quota, else a doubling second."""
    try:
        asked = float(exc.aws_retry_after or "")
    except ValueError:
        asked = 0.0
    quota = QUOTA_SECONDS.get(operation, 0.0)
    return max(asked, quota, min(2.0 ** (refusals - 1), 10.0))


class RestApi(Unit):
    cognito = True
    key = "rest_api"
    label = "REST API"
    priority = -1  # the HTTP API's steps ready at the same time go first: they make `up`'s critical path

    def applies(self, ctx: Context) -> bool:
        return super().applies(ctx) and ctx.rest

    def discover(self, ctx: Context) -> list[Rec]:
        """GetRestApis answers each API's tags: the name and the stack's tag, as for the HTTP API."""
        return [
            {"id": api["id"], "root": api.get("rootResourceId")}
            for api in Gateway(ctx, self.key).items("get_rest_apis")
            if api.get("name") == ctx.names.rest_api
            and (api.get("tags") or {}).get(TAG_KEY) == ctx.names.stack
        ]

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "name": ctx.names.rest_api,
            "description": f"authdemo stack {ctx.names.stack}: Cognito, TOKEN and IAM authorizers demo",
            "endpointConfiguration": {"types": ["REGIONAL"]},  # EDGE (the default) adds CloudFront
            "tags": ctx.tags,
        }
        returns = {"id": "id", "root": "rootResourceId"}
        return [Call("apigateway", "CreateRestApi", params, returns, note="REGIONAL: no CloudFront in front")]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        return returned(call, send(ctx, call, Gateway(ctx, self.key)))

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return Gateway(ctx, self.key).read("get_rest_api", restApiId=rec["id"]) is not None

    def delete(self, ctx: Context, rec: Rec) -> None:
        """Takes its resources, methods, integrations, authorizers, deployments and stage."""
        Gateway(ctx, self.key).delete_rest_api(restApiId=rec["id"])


class RestChild(Unit):
    """A part of the REST API, deleted with it."""

    cognito = True
    parent = "rest_api"
    priority = -1  # see RestApi
    _current: dict[str, Any] | None = None  # what `exists` read, for `configure` (one read, not two)

    def applies(self, ctx: Context) -> bool:
        return super().applies(ctx) and ctx.rest

    def gateway(self, ctx: Context) -> Gateway:
        return Gateway(ctx, self.key)

    def api_id(self, ctx: Context) -> str | None:
        api = ctx.records.resource("rest_api")
        return str(api["id"]) if api else None


class RestAuthorizer(RestChild):
    """`cognito-pool`: a Cognito user pool authorizer (an ID token passes a method without
    scopes; an access token carrying one of the method's scopes passes a method with them)."""

    key = "rest_authorizer"
    label = "REST Cognito authorizer"
    needs: ClassVar[tuple[str, ...]] = ("rest_api", "user_pool")
    create_only_needs: ClassVar[tuple[str, ...]] = ("user_pool",)

    def name(self, ctx: Context) -> str:
        return ctx.names.rest_authorizer

    def settings(self, ctx: Context) -> dict[str, Any]:
        """CreateAuthorizer's fields, declared (the pool's ARN as AWS forms it)."""
        pool = arn("cognito-idp", "userpool/", Ref("user_pool"))
        return {"type": "COGNITO_USER_POOLS", "providerARNs": [pool], "identitySource": IDENTITY_SOURCE}

    def wanted(self, ctx: Context) -> dict[str, Any]:
        """CreateAuthorizer's fields as sent (also what the deployment's digest reads)."""
        return dict(resolve(self.settings(ctx), ctx))

    def declare(self, ctx: Context) -> list[Call]:
        params = {"restApiId": Ref("rest_api"), "name": self.name(ctx), **self.settings(ctx)}
        return [Call("apigateway", "CreateAuthorizer", params, {"id": "id"}, note=self.note)]

    note = "the user pool's tokens: an ID token, or an access token with the method's scope"

    def patch(self, current: dict[str, Any], want: dict[str, Any]) -> list[dict[str, str]]:
        """A re-created pool has a new ARN: swap it in the authorizer's list."""
        have, need = set(current.get("providerARNs") or []), set(want["providerARNs"])
        return [{"op": "add", "path": "/providerARNs", "value": arn} for arn in sorted(need - have)] + [
            {"op": "remove", "path": "/providerARNs", "value": arn} for arn in sorted(have - need)
        ]

    def discover(self, ctx: Context) -> list[Rec]:
        api_id = self.api_id(ctx)
        if not api_id:
            return []
        found = self.gateway(ctx).items("get_authorizers", restApiId=api_id)
        return [{"id": a["id"]} for a in found if a.get("name") == self.name(ctx)]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        return returned(call, send(ctx, call, self.gateway(ctx)))

    def exists(self, ctx: Context, rec: Rec) -> bool:
        api_id = self.api_id(ctx)
        if not api_id:
            return False
        self._current = self.gateway(ctx).read("get_authorizer", restApiId=api_id, authorizerId=rec["id"])
        return self._current is not None

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """UpdateAuthorizer with patch operations when what it names changed (a re-created pool or
        function has a new ARN); the deployment's digest then changes, and the stage is redeployed."""
        if self.key in ctx.fresh:
            return None
        gateway = self.gateway(ctx)
        api_id = ctx.rec("rest_api")["id"]
        current = self._current or gateway.read("get_authorizer", restApiId=api_id, authorizerId=rec["id"])
        operations = self.patch(current, self.wanted(ctx)) if current else []
        if operations:
            try:
                gateway.update_authorizer(
                    restApiId=api_id, authorizerId=rec["id"], patchOperations=operations
                )
            except AuthdemoError as exc:
                if exc.aws_code in modelled_errors(ctx, "UpdateAuthorizer"):
                    raise
                # An emulator without this patch (moto cannot patch /providerARNs): say how to rebuild.
                raise AuthdemoError(
                    f"The endpoint cannot update the REST API's {self.label} ({exc.aws_code}); rebuild "
                    "the REST half with `authdemo up --no-rest`, then `authdemo up --rest`."
                ) from exc
        return None


class RestTokenAuthorizer(RestAuthorizer):
    """`presenters-token`: a TOKEN Lambda authorizer running the same function as the HTTP API's
    Lambda authorizer; it returns an IAM policy, cached for 300 s by token (the lesson's trap)."""

    key = "rest_token_authorizer"
    label = "REST TOKEN authorizer"
    # It names the authorizer function by ARN (see function_arn): its role only gives the account.
    needs = ("rest_api", "authorizer_role")
    create_only_needs = ("authorizer_role",)

    def name(self, ctx: Context) -> str:
        return ctx.names.rest_token_authorizer

    def create(self, ctx: Context) -> Rec:
        function = ctx.names.authorizer_function
        return naming_a_function(
            ctx, self.key, function, lambda: super(RestTokenAuthorizer, self).create(ctx)
        )

    note = "runs the authorizer function; its IAM policy is cached 300 s by token"

    def settings(self, ctx: Context) -> dict[str, Any]:
        return {
            "type": "TOKEN",
            "authorizerUri": invocation(function_arn(ctx.names.authorizer_function)),
            "identitySource": IDENTITY_SOURCE,
            "authorizerResultTtlInSeconds": TOKEN_TTL_SECONDS,
        }

    def patch(self, current: dict[str, Any], want: dict[str, Any]) -> list[dict[str, str]]:
        """A re-created function has a new ARN: point the authorizer's URI at it."""
        operations = []
        if current.get("authorizerUri") != want["authorizerUri"]:
            operations.append({"op": "replace", "path": "/authorizerUri", "value": want["authorizerUri"]})
        ttl = current.get("authorizerResultTtlInSeconds")
        if ttl is not None and ttl != TOKEN_TTL_SECONDS:
            operations.append(
                {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": str(TOKEN_TTL_SECONDS)}
            )
        return operations
