"""API Gateway (HTTP API) routes: five doors to the same integration, each with its own key.

| route            | authorization                                                   |
|------------------|-----------------------------------------------------------------|
| `GET /protected` | JWT authorizer (issuer = the pool, audience = the app client)    |
| `GET /scoped`    | the same, and the token must carry `aws.cognito.signin.user.admin` |
| `GET /lambda`    | the Lambda authorizer (Cognito GetUser + group `presenters`)     |
| `GET /iam`       | AWS_IAM: SigV4-signed by an identity allowed execute-api:Invoke  |
| `GET /m2m`       | the M2M JWT authorizer (audience: both clients), scope `authdemo/read` |
"""

from __future__ import annotations

from typing import ClassVar

from ..aws import get
from .apigateway import _ApiChild
from .base import Context, Rec
from .cognito_oauth import M2M_SCOPE
from .declare import Call, Ref, join, resolve, returned, send

ROUTE_KEY = "GET /protected"
#: What an access token from USER_PASSWORD_AUTH carries (an ID token carries no scope).
SIGNIN_SCOPE = "aws.cognito.signin.user.admin"


class Route(_ApiChild):
    """`GET /protected` behind the JWT authorizer; subclasses are the other doors."""

    key = "route"
    label = "route GET /protected"
    route_key: ClassVar[str] = ROUTE_KEY
    auth_type: ClassVar[str] = "JWT"
    authorizer_key: ClassVar[str | None] = "authorizer"
    scopes: ClassVar[tuple[str, ...]] = ()
    needs: ClassVar[tuple[str, ...]] = ("api", "authorizer", "integration")

    def discover(self, ctx: Context) -> list[Rec]:
        return [
            {
                "id": r["RouteId"],
                "target": r.get("Target"),
                "authorizer": r.get("AuthorizerId"),
                "auth_type": r.get("AuthorizationType"),
                "scopes": sorted(r.get("AuthorizationScopes") or []),
            }
            for r in self._items(ctx, "get_routes")
            if r.get("RouteKey") == self.route_key
        ]

    def settings(self, ctx: Context) -> dict[str, object]:
        """The route's settings as CreateRoute/UpdateRoute take them, declared (Ref: an ID)."""
        want: dict[str, object] = {
            "AuthorizationType": self.auth_type,
            "Target": join("integrations/", Ref("integration")),
        }
        if self.authorizer_key:
            want["AuthorizerId"] = Ref(self.authorizer_key)
        if self.scopes:
            want["AuthorizationScopes"] = list(self.scopes)
        return want

    def wanted(self, ctx: Context) -> dict[str, object]:
        """The route's settings as CreateRoute/UpdateRoute send them."""
        return dict(resolve(self.settings(ctx), ctx))

    def declare(self, ctx: Context) -> list[Call]:
        params = {"ApiId": Ref("api"), "RouteKey": self.route_key, **self.settings(ctx)}
        scopes = f", scopes {' '.join(self.scopes)}" if self.scopes else ""
        note = f"{self.route_key} behind {self.auth_type}{scopes}"
        return [Call("apigatewayv2", "CreateRoute", params, {"id": "RouteId"}, note=note)]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        return returned(call, send(ctx, call))

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return any(r["id"] == rec["id"] for r in self.discover(ctx))

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """Point a kept route at the current integration and authorizer (and its scopes)."""
        if self.key in ctx.fresh:
            return None
        want = self.wanted(ctx)
        current = [r for r in self.discover(ctx) if r["id"] == rec["id"]]
        if not current:
            return None
        now = current[0]
        same = (
            now["target"] == want["Target"]
            and now["auth_type"] in (None, self.auth_type)
            and now["authorizer"] == want.get("AuthorizerId")
            and now["scopes"] == sorted(self.scopes)
        )
        if not same:
            gateway = ctx.clients("apigatewayv2")
            get(gateway.update_route, ApiId=ctx.rec("api")["id"], RouteId=rec["id"], **want)
        return None


class ScopedRoute(Route):
    cognito = True
    key = "route_scoped"
    label = "route GET /scoped"
    route_key = "GET /scoped"
    scopes = (SIGNIN_SCOPE,)


class LambdaRoute(Route):
    cognito = True
    key = "route_lambda"
    label = "route GET /lambda"
    route_key = "GET /lambda"
    auth_type = "CUSTOM"
    authorizer_key = "lambda_authorizer"
    needs = ("api", "lambda_authorizer", "integration")


class IamRoute(Route):
    key = "route_iam"
    label = "route GET /iam"
    route_key = "GET /iam"
    auth_type = "AWS_IAM"
    authorizer_key = None
    needs = ("api", "integration")


class M2MRoute(Route):
    """Only a client-credentials token passes: a user's tokens lack the scope (403)."""

    cognito = True
    key = "route_m2m"
    label = "route GET /m2m"
    route_key = "GET /m2m"
    authorizer_key = "m2m_authorizer"
    scopes = (M2M_SCOPE,)
    needs = ("api", "m2m_authorizer", "integration")


ROUTES: tuple[type[Route], ...] = (Route, ScopedRoute, LambdaRoute, IamRoute, M2MRoute)
