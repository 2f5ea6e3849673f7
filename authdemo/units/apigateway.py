"""API Gateway (HTTP API): the API, its `$default` stage, the JWT authorizer, the Lambda
(REQUEST) authorizer and the Lambda integration; the routes are in apigateway_routes.py.
`DeleteApi` takes every child with it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..aws import get
from ..errors import AuthdemoError
from .base import TAG_KEY, Context, Rec, Unit
from .declare import Call, Join, Pseudo, Ref, join, resolve, returned, send

API = Ref("api")


class Api(Unit):
    key = "api"
    label = "HTTP API"

    def discover(self, ctx: Context) -> list[Rec]:
        gateway = ctx.clients("apigatewayv2")
        found: list[Rec] = []
        token: str | None = None
        while True:
            page = gateway.get_apis(**({"NextToken": token} if token else {}))
            for api in page.get("Items", []):
                if api.get("Name") == ctx.names.api and api.get("Tags", {}).get(TAG_KEY) == ctx.names.stack:
                    found.append({"id": api["ApiId"], "endpoint": api.get("ApiEndpoint")})
            token = page.get("NextToken")
            if not token:
                return found

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "Name": ctx.names.api,
            "ProtocolType": "HTTP",
            "Description": f"authdemo stack {ctx.names.stack}: JWT authorizer demo",
            "Tags": ctx.tags,
        }
        returns = {"id": "ApiId", "endpoint": "ApiEndpoint"}
        return [Call("apigatewayv2", "CreateApi", params, returns, note="the HTTP API")]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        return returned(call, send(ctx, call))

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return get(ctx.clients("apigatewayv2").get_api, ApiId=rec["id"]) is not None

    def delete(self, ctx: Context, rec: Rec) -> None:
        """Takes its routes, integrations, authorizers and stages with it."""
        ctx.clients("apigatewayv2").delete_api(ApiId=rec["id"])


class _ApiChild(Unit):
    parent = "api"

    def _api_id(self, ctx: Context) -> str | None:
        api = ctx.records.resource("api")
        return str(api["id"]) if api else None

    def _items(self, ctx: Context, operation: str) -> list[Rec]:
        api_id = self._api_id(ctx)
        if not api_id:
            return []
        answer = get(getattr(ctx.clients("apigatewayv2"), operation), ApiId=api_id)
        return list(answer.get("Items", [])) if answer else []


class Authorizer(_ApiChild):
    key = "authorizer"
    label = "JWT authorizer"
    needs: ClassVar[tuple[str, ...]] = ("api", "user_pool", "app_client")
    # It names the pool by URL: either may be deleted first (down need not wait for the API).
    create_only_needs: ClassVar[tuple[str, ...]] = ("user_pool", "app_client")

    def issuer_declared(self, ctx: Context) -> str | Join:
        """The stack's external issuer (`up --issuer`), else its user pool's."""
        if ctx.issuer:
            return ctx.issuer
        return join(
            "https://cognito-idp.", Pseudo("region"), ".", Pseudo("dns_suffix"), "/", Ref("user_pool")
        )

    def issuer(self, ctx: Context) -> str:
        return str(resolve(self.issuer_declared(ctx), ctx))

    def name(self, ctx: Context) -> str:
        return ctx.names.authorizer

    def audiences_declared(self, ctx: Context) -> list[str | Ref]:
        """`up --audience` values with an external issuer, else the app client's ID."""
        return list(ctx.audiences) if ctx.issuer else [Ref("app_client")]

    def audiences(self, ctx: Context) -> list[str]:
        return list(resolve(self.audiences_declared(ctx), ctx))

    def _authorizers(self, ctx: Context) -> list[Rec]:
        """GetAuthorizers; moto lacks it (our embedded server adds it), so fall back to the
        authorizer the recorded route or authorizer ID points at."""
        try:
            return self._items(ctx, "get_authorizers")
        except NotImplementedError:
            pass
        except AuthdemoError as exc:
            if exc.aws_code not in ("500", "InternalFailure", "NotImplemented"):
                raise
        api_id = self._api_id(ctx)
        ids = {r.get("AuthorizerId") for r in self._items(ctx, "get_routes")}
        rec = ctx.records.resource(self.key)
        ids.add(rec.get("id") if rec else None)
        items = []
        for authorizer_id in ids - {None}:
            found = get(ctx.clients("apigatewayv2").get_authorizer, ApiId=api_id, AuthorizerId=authorizer_id)
            if found is not None:
                items.append(found)
        return items

    def discover(self, ctx: Context) -> list[Rec]:
        return [
            {"id": a["AuthorizerId"], "issuer": a.get("JwtConfiguration", {}).get("Issuer")}
            for a in self._authorizers(ctx)
            if a.get("Name") == self.name(ctx)
        ]

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "ApiId": API,
            "AuthorizerType": "JWT",
            "Name": self.name(ctx),
            "IdentitySource": ["$request.header.Authorization"],
            "JwtConfiguration": {
                "Issuer": self.issuer_declared(ctx),
                "Audience": self.audiences_declared(ctx),
            },
        }
        note = "API Gateway checks the token's issuer, audience and expiry itself"
        return [Call("apigatewayv2", "CreateAuthorizer", params, {"id": "AuthorizerId"}, note=note)]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        return {**returned(call, send(ctx, call)), "issuer": self.issuer(ctx)}

    def exists(self, ctx: Context, rec: Rec) -> bool:
        api_id = self._api_id(ctx)
        if not api_id:
            return False
        gateway = ctx.clients("apigatewayv2")
        return get(gateway.get_authorizer, ApiId=api_id, AuthorizerId=rec["id"]) is not None

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """A re-created pool or client, or another `--issuer`/`--audience`, changes issuer or
        audience: point the authorizer at them."""
        if self.key in ctx.fresh:
            return None
        found = [a for a in self._authorizers(ctx) if a["AuthorizerId"] == rec["id"]]
        want = {"Issuer": self.issuer(ctx), "Audience": self.audiences(ctx)}
        if not found or found[0].get("JwtConfiguration") == want:
            return None
        ctx.clients("apigatewayv2").update_authorizer(
            ApiId=ctx.rec("api")["id"], AuthorizerId=rec["id"], JwtConfiguration=want
        )
        return {"issuer": want["Issuer"]}


class M2MAuthorizer(Authorizer):
    """A second JWT authorizer for `GET /m2m`: the same issuer, and both clients as audiences,
    so a user's token reaches the scope check (403) and the machine's token passes (issue 11)."""

    cognito = True

    key = "m2m_authorizer"
    label = "JWT authorizer (M2M)"
    needs = ("api", "user_pool", "app_client", "m2m_client")
    create_only_needs = ("user_pool", "app_client", "m2m_client")

    def name(self, ctx: Context) -> str:
        return ctx.names.m2m_authorizer

    def audiences_declared(self, ctx: Context) -> list[str | Ref]:
        return [Ref("app_client"), Ref("m2m_client")]


class LambdaAuthorizer(Authorizer):
    """A REQUEST authorizer (payload 2.0, simple responses, no caching) that runs the
    authorizer function with the request's Authorization header."""

    cognito = True

    key = "lambda_authorizer"
    label = "Lambda authorizer"
    needs = ("api", "authorizer_function")
    create_only_needs = ("authorizer_function",)  # named by ARN in its URI

    def uri_declared(self, ctx: Context) -> Join:
        return invocation(Ref("authorizer_function", "arn"))

    def uri(self, ctx: Context) -> str:
        return str(resolve(self.uri_declared(ctx), ctx))

    def discover(self, ctx: Context) -> list[Rec]:
        return [
            {"id": a["AuthorizerId"], "uri": a.get("AuthorizerUri")}
            for a in self._authorizers(ctx)
            if a.get("Name") == ctx.names.lambda_authorizer
        ]

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "ApiId": API,
            "AuthorizerType": "REQUEST",
            "Name": ctx.names.lambda_authorizer,
            "AuthorizerUri": self.uri_declared(ctx),
            "AuthorizerPayloadFormatVersion": "2.0",
            "EnableSimpleResponses": True,
            "IdentitySource": ["$request.header.Authorization"],
            "AuthorizerResultTtlInSeconds": 0,  # ask the function every time: a sign-out shows at once
        }
        note = "runs the authorizer function, no caching: a sign-out shows at once"
        return [Call("apigatewayv2", "CreateAuthorizer", params, {"id": "AuthorizerId"}, note=note)]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        return {**returned(call, send(ctx, call)), "uri": self.uri(ctx)}

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """A re-created function has a new ARN: point the kept authorizer at it."""
        if self.key in ctx.fresh:
            return None
        found = [a for a in self._authorizers(ctx) if a["AuthorizerId"] == rec["id"]]
        if not found or found[0].get("AuthorizerUri") == self.uri(ctx):
            return None
        ctx.clients("apigatewayv2").update_authorizer(
            ApiId=ctx.rec("api")["id"], AuthorizerId=rec["id"], AuthorizerUri=self.uri(ctx)
        )
        return {"uri": self.uri(ctx)}


class Integration(_ApiChild):
    key = "integration"
    label = "Lambda integration"
    needs = ("api", "function")
    create_only_needs = ("function",)  # it names the function by ARN: either may go first

    def discover(self, ctx: Context) -> list[Rec]:
        fn = ctx.records.resource("function")
        return [
            {"id": i["IntegrationId"]}
            for i in self._items(ctx, "get_integrations")
            if fn and i.get("IntegrationUri") == fn["arn"]
        ]

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "ApiId": API,
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": Ref("function", "arn"),
            "IntegrationMethod": "POST",
            "PayloadFormatVersion": "2.0",
            "TimeoutInMillis": 10000,
        }
        note = "every route's backend: the demo function"
        return [Call("apigatewayv2", "CreateIntegration", params, {"id": "IntegrationId"}, note=note)]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        return returned(call, send(ctx, call))

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return any(i["id"] == rec["id"] for i in self.discover(ctx))


class Stage(_ApiChild):
    key = "stage"
    label = "$default stage"
    needs = ("api",)
    id_field = "name"

    def discover(self, ctx: Context) -> list[Rec]:
        return [
            {"name": s["StageName"]}
            for s in self._items(ctx, "get_stages")
            if s.get("StageName") == "$default"
        ]

    def declare(self, ctx: Context) -> list[Call]:
        params: dict[str, Any] = {
            "ApiId": API,
            "StageName": "$default",
            "AutoDeploy": True,  # defaults to false: without it nothing is ever served
            "Tags": ctx.tags,
        }
        return [
            Call("apigatewayv2", "CreateStage", params, {"name": "StageName"}, note="deploys each change")
        ]

    def create(self, ctx: Context) -> Rec:
        send(ctx, self.declare(ctx)[0])
        return {"name": "$default"}

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return bool(self.discover(ctx))


def invocation(function_arn: str | Ref | Join) -> Join:
    """API Gateway's URI of a Lambda function's invocation (integrations and authorizers)."""
    fn = function_arn.parts if isinstance(function_arn, Join) else (function_arn,)
    return join(
        "arn:",
        Pseudo("partition"),
        ":apigateway:",
        Pseudo("region"),
        ":lambda:path/2015-03-31/functions/",
        *fn,
        "/invocations",
    )
