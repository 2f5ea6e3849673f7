"""API Gateway (REST API) doors: a resource, its GET method and its Lambda proxy integration each,
then the deployment and the stage `demo` that serve them (issue 21).

| door (`rest_routes`) | path            | authorization                                              |
|----------------------|-----------------|------------------------------------------------------------|
| `protected`          | `/protected`    | COGNITO_USER_POOLS (`cognito-pool`), no scopes: ID token    |
| `scoped`             | `/scoped`       | the same, scope `aws.cognito.signin.user.admin`: access token |
| `lambda`             | `/lambda`       | CUSTOM (`presenters-token`, cached 300 s)                   |
| `lambda_again`       | `/lambda/again` | the same authorizer: the cache trap                         |
| `iam`                | `/iam`          | AWS_IAM                                                    |

A REST API serves nothing until it is deployed, and a change reaches callers only through a new
deployment: the deployment's description carries a digest of what it serves (authorizers,
methods, integrations as `up` wants them), so a changed door makes a new one, and a no-change `up`
none. One CreateDeployment with `stageName` makes the deployment and the stage (one round trip).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from .apigateway import invocation
from .apigateway_rest import RestAuthorizer, RestChild, RestTokenAuthorizer, function_arn, naming_a_function
from .apigateway_routes import SIGNIN_SCOPE
from .base import Context, Rec, Unit
from .declare import Call, Ref, resolve, returned, send

REST_API = Ref("rest_api")

HTTP_METHOD = "GET"


@dataclass(frozen=True)
class Door:
    name: str  # the status key (`rest_routes`)
    path: str
    auth_type: str
    authorizer_key: str | None = None
    scopes: tuple[str, ...] = ()

    @property
    def parent_path(self) -> str:
        return self.path.rsplit("/", 1)[0] or "/"

    @property
    def part(self) -> str:
        return self.path.rsplit("/", 1)[1]


COGNITO, TOKEN = "rest_authorizer", "rest_token_authorizer"
DOORS = (
    Door("protected", "/protected", "COGNITO_USER_POOLS", COGNITO),
    Door("scoped", "/scoped", "COGNITO_USER_POOLS", COGNITO, (SIGNIN_SCOPE,)),
    Door("lambda", "/lambda", "CUSTOM", TOKEN),
    Door("lambda_again", "/lambda/again", "CUSTOM", TOKEN),
    Door("iam", "/iam", "AWS_IAM"),
)
_BY_PATH = {d.path: d for d in DOORS}


def resource_key(door: Door) -> str:
    return f"rest_resource_{door.name}"


def method_key(door: Door) -> str:
    return f"rest_method_{door.name}"


def integration_key(door: Door) -> str:
    return f"rest_integration_{door.name}"


class RestResource(RestChild):
    """A path of the API (`/lambda/again` is a child of `/lambda`)."""

    door: ClassVar[Door]

    def parent_id(self, ctx: Context) -> str:
        parent = _BY_PATH.get(self.door.parent_path)
        if parent is not None:
            return str(ctx.rec(resource_key(parent))["id"])
        api = ctx.rec("rest_api")
        return str(api.get("root") or next(r["id"] for r in self._resources(ctx) if r.get("path") == "/"))

    def _resources(self, ctx: Context) -> list[dict[str, Any]]:
        api_id = self.api_id(ctx)
        return self.gateway(ctx).items("get_resources", restApiId=api_id) if api_id else []

    def discover(self, ctx: Context) -> list[Rec]:
        return [{"id": r["id"]} for r in self._resources(ctx) if r.get("path") == self.door.path]

    def declare(self, ctx: Context) -> list[Call]:
        parent = _BY_PATH.get(self.door.parent_path)
        params = {
            "restApiId": REST_API,
            "parentId": Ref(resource_key(parent)) if parent else Ref("rest_api", "root"),
            "pathPart": self.door.part,
        }
        return [Call("apigateway", "CreateResource", params, {"id": "id"}, note=f"the path {self.door.path}")]

    def create(self, ctx: Context) -> Rec:
        """The API's root as recorded, else as GetResources has it (a state from before `root`)."""
        call = self.declare(ctx)[0]
        params = {**call.params, "parentId": self.parent_id(ctx)}
        return returned(call, send(ctx, replace(call, params=params), self.gateway(ctx)))

    def exists(self, ctx: Context, rec: Rec) -> bool:
        """GetResource by ID: GetResources has a quota of its own (5 per 2 s per account)."""
        api_id = self.api_id(ctx)
        if not api_id:
            return False
        return self.gateway(ctx).read("get_resource", restApiId=api_id, resourceId=rec["id"]) is not None


class _OnMethod(RestChild):
    """A door's GET method or its integration: the PUT that makes it names the door's resource and
    method, then its own `settings` (what `up` wants, declared); `wanted` is them as sent."""

    door: ClassVar[Door]
    id_field = "method"

    def settings(self, ctx: Context) -> dict[str, Any]:
        raise NotImplementedError

    def wanted(self, ctx: Context) -> dict[str, Any]:
        return dict(resolve(self.settings(ctx), ctx))

    def _declared(self, ctx: Context, operation: str, note: str) -> Call:
        params = {
            "restApiId": REST_API,
            "resourceId": Ref(resource_key(self.door)),
            "httpMethod": HTTP_METHOD,
            **self.settings(ctx),
        }
        return Call("apigateway", operation, params, note=note)


class RestMethod(_OnMethod):
    """The door's GET method and its authorization. A COGNITO_USER_POOLS or CUSTOM method needs a
    valid authorizer ("Invalid authorizer ID specified..."): it waits for the authorizer."""

    def settings(self, ctx: Context) -> dict[str, Any]:
        """PutMethod's authorization fields, declared."""
        want: dict[str, Any] = {"authorizationType": self.door.auth_type}
        if self.door.authorizer_key:
            want["authorizerId"] = Ref(self.door.authorizer_key)
        if self.door.scopes:
            want["authorizationScopes"] = list(self.door.scopes)
        return want

    def declare(self, ctx: Context) -> list[Call]:
        return [
            self._declared(ctx, "PutMethod", f"{HTTP_METHOD} {self.door.path} behind {self.door.auth_type}")
        ]

    def _read(self, ctx: Context, resource_id: str) -> dict[str, Any] | None:
        api_id = self.api_id(ctx)
        if not api_id:
            return None
        return self.gateway(ctx).read(
            "get_method", restApiId=api_id, resourceId=resource_id, httpMethod=HTTP_METHOD
        )

    def _rec(self, resource_id: str) -> Rec:
        return {"method": f"{HTTP_METHOD} {self.door.path}", "resource": resource_id}

    def discover(self, ctx: Context) -> list[Rec]:
        resource = ctx.records.resource(resource_key(self.door))
        if not resource or self._read(ctx, resource["id"]) is None:
            return []
        return [self._rec(resource["id"])]

    def create(self, ctx: Context) -> Rec:
        send(ctx, self.declare(ctx)[0], self.gateway(ctx))
        return self._rec(ctx.rec(resource_key(self.door))["id"])

    def exists(self, ctx: Context, rec: Rec) -> bool:
        resource = ctx.records.resource(resource_key(self.door))
        if not resource or resource["id"] != rec.get("resource"):
            return False  # the resource was re-created: so must its method be
        self._current = self._read(ctx, rec["resource"])
        return self._current is not None

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """UpdateMethod with patch operations when its authorization is not what `up` wants (a
        second PutMethod is refused on AWS, ConflictException, and replaces the method, its
        integration lost, on moto)."""
        if self.key in ctx.fresh:
            return None
        current = self._current or self._read(ctx, rec["resource"])
        if current is None:
            return None
        want = self.wanted(ctx)
        operations = [
            {"op": "replace", "path": f"/{field}", "value": str(want[field])}
            for field in ("authorizationType", "authorizerId")
            if field in want and current.get(field) != want[field]
        ]
        have, need = set(current.get("authorizationScopes") or []), set(want.get("authorizationScopes", []))
        scopes = "/authorizationScopes"
        operations += [{"op": "add", "path": scopes, "value": s} for s in sorted(need - have)]
        operations += [{"op": "remove", "path": scopes, "value": s} for s in sorted(have - need)]
        if operations:
            self.gateway(ctx).update_method(
                restApiId=ctx.rec("rest_api")["id"],
                resourceId=rec["resource"],
                httpMethod=HTTP_METHOD,
                patchOperations=operations,
            )
        return None


class RestIntegration(_OnMethod):
    """The door's Lambda proxy integration (payload 1.0) to the same backend function as the
    HTTP API's. PutIntegration replaces an integration: `configure` puts it again when it differs."""

    # It names the function by ARN (see function_arn): the function's role only gives the account.
    create_only_needs: ClassVar[tuple[str, ...]] = ("role",)

    def settings(self, ctx: Context) -> dict[str, Any]:
        """PutIntegration's fields, declared (the function's ARN as Lambda forms it)."""
        return {
            "type": "AWS_PROXY",
            "integrationHttpMethod": "POST",
            "uri": invocation(function_arn(ctx.names.function)),
        }

    def declare(self, ctx: Context) -> list[Call]:
        return [self._declared(ctx, "PutIntegration", "Lambda proxy (payload 1.0) to the demo function")]

    def _read(self, ctx: Context) -> dict[str, Any] | None:
        api_id = self.api_id(ctx)
        method = ctx.records.resource(method_key(self.door))
        if not api_id or not method:
            return None
        return self.gateway(ctx).read(
            "get_integration", restApiId=api_id, resourceId=method["resource"], httpMethod=HTTP_METHOD
        )

    def discover(self, ctx: Context) -> list[Rec]:
        found = self._read(ctx)
        return [{"method": f"{HTTP_METHOD} {self.door.path}", "uri": found.get("uri")}] if found else []

    def create(self, ctx: Context) -> Rec:
        self._put(ctx)
        return {"method": f"{HTTP_METHOD} {self.door.path}", "uri": self.wanted(ctx)["uri"]}

    def _put(self, ctx: Context) -> None:
        call, gateway = self.declare(ctx)[0], self.gateway(ctx)
        naming_a_function(ctx, self.key, ctx.names.function, lambda: send(ctx, call, gateway))

    def exists(self, ctx: Context, rec: Rec) -> bool:
        self._current = self._read(ctx)
        return self._current is not None

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        if self.key in ctx.fresh:
            return None
        current = self._current or self._read(ctx)
        want = self.wanted(ctx)
        # GetIntegration answers PutIntegration's `integrationHttpMethod` as `httpMethod`.
        same = current is None or (
            current.get("type") == want["type"]
            and current.get("uri") == want["uri"]
            and current.get("httpMethod") == want["integrationHttpMethod"]
        )
        if same:
            return None
        self._put(ctx)
        return {"uri": want["uri"]}


def _door_units() -> list[type[Unit]]:
    """Three units per door; their keys, labels and needs follow from the door."""

    def unit(kind: type[RestChild], key: str, label: str, door: Door, needs: tuple[str, ...]) -> type[Unit]:
        attrs = {"key": key, "label": f"{label} {door.path}", "door": door, "needs": ("rest_api", *needs)}
        return type(f"{kind.__name__}_{door.name}", (kind,), attrs)

    units: list[type[Unit]] = []
    for door in DOORS:
        parent = _BY_PATH.get(door.parent_path)
        within = (resource_key(parent),) if parent else ()
        authorizer = (door.authorizer_key,) if door.authorizer_key else ()
        integration = (method_key(door), "role")
        units += [
            unit(RestResource, resource_key(door), "REST resource", door, within),
            unit(RestMethod, method_key(door), "REST method GET", door, (resource_key(door), *authorizer)),
            unit(RestIntegration, integration_key(door), "REST integration GET", door, integration),
        ]
    return units


DOOR_UNITS = tuple(_door_units())
#: What the stage serves: `up`'s wanted settings of these units make its deployment's digest.
SERVED = (COGNITO, TOKEN, *(method_key(d) for d in DOORS), *(integration_key(d) for d in DOORS))


class RestStage(RestChild):
    """The stage `demo` and the deployment it serves, made by one CreateDeployment (`stageName`
    creates the stage, or points an existing one at the new deployment: a redeploy). The
    deployment's description names the digest of what it serves, so a changed door redeploys and
    an unchanged API keeps its deployment."""

    key = "rest_stage"
    label = "REST deployment, stage demo"
    needs: ClassVar[tuple[str, ...]] = ("rest_api", *SERVED)
    id_field = "name"

    def digest(self, ctx: Context) -> str:
        served: dict[str, Any] = {}
        for unit in (RestAuthorizer(), RestTokenAuthorizer(), *(cls() for cls in DOOR_UNITS)):
            wanted = getattr(unit, "wanted", None)
            if wanted is not None and unit.key in SERVED:
                served[unit.key] = wanted(ctx)
        served["resources"] = {d.path: ctx.rec(resource_key(d))["id"] for d in DOORS}
        served["authorizer_ids"] = [ctx.rec(COGNITO)["id"], ctx.rec(TOKEN)["id"]]
        blob = json.dumps(served, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def description(self, ctx: Context, digest: str) -> str:
        return f"authdemo stack {ctx.names.stack}: serves {digest}"

    def _read(self, ctx: Context) -> dict[str, Any] | None:
        api_id = self.api_id(ctx)
        if not api_id:
            return None
        return self.gateway(ctx).read("get_stage", restApiId=api_id, stageName=ctx.names.rest_stage)

    def discover(self, ctx: Context) -> list[Rec]:
        found = self._read(ctx)
        return [{"name": found["stageName"], "deployment": found.get("deploymentId")}] if found else []

    def declare(self, ctx: Context) -> list[Call]:
        """The description names the digest of what the stage serves, which the served parts'
        recorded IDs make: known to the executor, not to an exporter (whose deployment `up` then
        replaces once, adopting the stage)."""
        served = all(ctx.records.resource(key) for key in (*SERVED, *(resource_key(d) for d in DOORS)))
        description = (
            self.description(ctx, self.digest(ctx)) if served else f"authdemo stack {ctx.names.stack}"
        )
        params = {"restApiId": REST_API, "stageName": ctx.names.rest_stage, "description": description}
        note = (
            f"a REST API serves nothing until deployed: this deploys it to the stage {ctx.names.rest_stage}"
        )
        return [Call("apigateway", "CreateDeployment", params, {"deployment": "id"}, note=note)]

    def _deploy(self, ctx: Context, digest: str) -> Rec:
        call = self.declare(ctx)[0]
        params = {**call.params, "description": self.description(ctx, digest)}
        answer = send(ctx, replace(call, params=params), self.gateway(ctx))
        return {"name": ctx.names.rest_stage, **returned(call, answer), "digest": digest}

    def create(self, ctx: Context) -> Rec:
        return self._deploy(ctx, self.digest(ctx))

    def exists(self, ctx: Context, rec: Rec) -> bool:
        self._current = self._read(ctx)
        return self._current is not None

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """Redeploy when what the stage serves is not what `up` wants: the recorded digest differs,
        or the stage serves another deployment. A deployment of the wanted digest that a killed
        run made (or an adopted stage's) is recorded, not made again."""
        if self.key in ctx.fresh:
            return None
        current = self._current or self._read(ctx)
        if current is None:
            return None
        digest = self.digest(ctx)
        serving = current.get("deploymentId")
        if rec.get("digest") == digest and rec.get("deployment") == serving:
            return None
        api_id = ctx.rec("rest_api")["id"]
        found = (
            self.gateway(ctx).read("get_deployment", restApiId=api_id, deploymentId=serving)
            if serving
            else None
        )
        if found is not None and found.get("description") == self.description(ctx, digest):
            return {"deployment": serving, "digest": digest}
        return self._deploy(ctx, digest)


REST_UNITS: tuple[type[Unit], ...] = (*DOOR_UNITS, RestStage)
