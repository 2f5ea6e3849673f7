"""Lambda: the demo function and the Lambda authorizer's function (each with the wait until it
is Active), and the permissions that let *this* API's routes, and *this* API's authorizer,
invoke them.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from importlib import resources as importlib_resources
from typing import Any, ClassVar

from ..aws import get
from ..errors import AuthdemoError, UnreachableError
from . import base
from .base import TAG_KEY, Context, Rec, Unit
from .declare import Call, Join, Pseudo, Ref, arn, resolve, returned

#: Our choice, not AWS's list: the newest Python Lambda runs (the model's Runtime enum has retired ones).
RUNTIME = "python3.13"
#: Our choice: Graviton (arm64) costs less per GB-second. Not every region offers it: CreateFunction
#: then answers InvalidParameterValueException 'Architecture "arm64" is not supported in <region>.
#: Please select "x86_64" ...' and the function is created with FALLBACK_ARCHITECTURE (docs/aws-notes.md).
ARCHITECTURE = "arm64"
FALLBACK_ARCHITECTURE = "x86_64"
#: The backend may be invoked by this API's GET routes (/protected, /scoped, /lambda, /iam) only.
ROUTE_SOURCE = "*/GET/*"
SOURCES = ("handler.py", "authorizer.py")  # one zip for both functions; each has its Handler
# CreateFunction fails with these while a new role propagates (aws-facts.md, IAM).
ROLE_NOT_READY = ("cannot be assumed by lambda", "does not have permission")
ROLE_WAIT_SECONDS = 150.0  # give up on role propagation after this (Chalice's bound too)
# Refused CreateFunction attempts start at most this often, one at a time: the function exists at
# most one round trip (or this, if longer) after the role is usable, and the two functions' retries
# stay at <= 10 calls/s, under Lambda's 15 control-plane requests/s per account (docs/aws-notes.md).
ROLE_RETRY_SECONDS = 0.2
ACTIVE_WAIT_SECONDS = 120.0
CONFLICT_WAIT_SECONDS = 30.0  # AddPermission while another update of the function runs


def function_zip() -> bytes:
    """Both handlers, zipped as Lambda wants it (fixed timestamps: same bytes each run)."""
    package = importlib_resources.files("authdemo.lambda_src")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in SOURCES:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, package.joinpath(name).read_bytes())
    return buf.getvalue()


class Function(Unit):
    """The demo function behind the routes; `AuthorizerFunction` is the Lambda authorizer's."""

    key = "function"
    role_key = "role"
    named = True
    label = "Lambda function"
    needs: ClassVar[tuple[str, ...]] = ("role", "log_group")
    id_field = "name"
    ready_label = "function ready to run"
    handler = "handler.handler"
    purpose = "GET /protected, /scoped, /lambda, /iam"
    timeout = 10

    def name(self, ctx: Context) -> str:
        return ctx.names.function

    def variables(self, ctx: Context) -> dict[str, str | Ref]:
        """Its environment variables as declared (Ref: another resource's ID)."""
        return {}

    def environment(self, ctx: Context) -> dict[str, str]:
        """Its environment variables as Lambda has them."""
        return dict(resolve(self.variables(ctx), ctx))

    def declare(self, ctx: Context) -> list[Call]:
        env = self.variables(ctx)
        params: dict[str, Any] = {
            "FunctionName": self.name(ctx),
            "Runtime": RUNTIME,
            "Role": Ref(self.role_key, "arn"),
            "Handler": self.handler,
            "Code": {"ZipFile": function_zip()},
            "Description": f"authdemo stack {ctx.names.stack}: {self.purpose}",
            "Timeout": self.timeout,
            "MemorySize": 128,
            "Architectures": [ARCHITECTURE],
            "Tags": ctx.tags,
            **({"Environment": {"Variables": env}} if env else {}),
        }
        returns = {"name": "FunctionName", "arn": "FunctionArn"}
        note = "retried while the new role propagates (Lambda cannot assume it yet)"
        return [Call("lambda", "CreateFunction", params, returns, note=note)]

    def discover(self, ctx: Context) -> list[Rec]:
        fn = get(ctx.clients("lambda").get_function, FunctionName=self.name(ctx))
        if fn is None or fn.get("Tags", {}).get(TAG_KEY) != ctx.names.stack:
            return []
        config = fn["Configuration"]
        return [{"name": config["FunctionName"], "arn": config["FunctionArn"]}]

    def create(self, ctx: Context) -> Rec:
        """Retry while the new role propagates: short, capped backoff, never a fixed sleep."""
        lam = ctx.clients("lambda")
        call = self.declare(ctx)[0]
        params = resolve(call.params, ctx)
        deadline = time.monotonic() + ROLE_WAIT_SECONDS
        attempt = 0
        architecture = ARCHITECTURE
        while True:
            attempt += 1
            began = time.monotonic()
            try:
                fn = lam.create_function(**{**params, "Architectures": [architecture]})
                return returned(call, fn)
            except AuthdemoError as exc:
                message = exc.aws_message.lower()
                invalid = exc.aws_code == "InvalidParameterValueException"
                if invalid and architecture != FALLBACK_ARCHITECTURE and _architecture_refused(message):
                    architecture = FALLBACK_ARCHITECTURE
                    ctx.remark(self.key, f"{architecture}: {ARCHITECTURE} is not offered in {ctx.region}")
                    continue
                if not (invalid and any(m in message for m in ROLE_NOT_READY)):
                    raise
                delay = ROLE_RETRY_SECONDS - (time.monotonic() - began)  # the attempt's round trip counts
                if time.monotonic() + max(delay, 0.0) > deadline:
                    raise UnreachableError(
                        f"Lambda still cannot assume the new role after {ROLE_WAIT_SECONDS:.0f} s; "
                        "IAM is slow today: run `authdemo up` again to resume."
                    ) from exc
                ctx.notify(self.key, f"role not assumable yet, retry {attempt}")
                if delay > 0:
                    base.sleep(delay)

    def exists(self, ctx: Context, rec: Rec) -> bool:
        lam = ctx.clients("lambda")
        return get(lam.get_function_configuration, FunctionName=rec["name"]) is not None

    def wait_ready(self, ctx: Context, rec: Rec) -> None:
        """A new function is Pending until Active; invoking it earlier fails. Poll, don't sleep."""
        lam = ctx.clients("lambda")
        deadline = time.monotonic() + ACTIVE_WAIT_SECONDS
        delay = 0.25
        while True:
            config = lam.get_function_configuration(FunctionName=rec["name"])
            state = config.get("State", "Active")
            if state == "Active" and config.get("LastUpdateStatus", "Successful") != "InProgress":
                return
            if state == "Failed":
                raise AuthdemoError(
                    f"The function failed to start ({config.get('StateReason', 'no reason given')}); "
                    "run `authdemo down` then `authdemo up`."
                )
            if time.monotonic() + delay > deadline:
                raise UnreachableError(
                    f"The function is still {state} after {ACTIVE_WAIT_SECONDS:.0f} s; "
                    "run `authdemo up` again."
                )
            ctx.notify(self.key, f"function is {state}")
            base.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def delete(self, ctx: Context, rec: Rec) -> None:
        ctx.clients("lambda").delete_function(FunctionName=rec["name"])


class AuthorizerFunction(Function):
    """The Lambda authorizer: lets a request in only if Cognito's GetUser accepts its access
    token and the token's user is in the group. Its configuration names the pool and client
    (never a secret), so a token of another pool or client is refused."""

    cognito = True

    key = "authorizer_function"
    role_key = "authorizer_role"
    label = "Lambda function (authorizer)"
    needs = ("authorizer_role", "authorizer_log_group", "user_pool", "app_client")
    create_only_needs = ("user_pool", "app_client")  # named by ID in its environment only
    ready_label = "authorizer function ready to run"
    handler = "authorizer.handler"
    purpose = "Lambda authorizer of GET /lambda"
    timeout = 5

    def name(self, ctx: Context) -> str:
        return ctx.names.authorizer_function

    def variables(self, ctx: Context) -> dict[str, str | Ref]:
        return {"USER_POOL_ID": Ref("user_pool"), "CLIENT_ID": Ref("app_client"), "GROUP": ctx.names.group}

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """A re-created pool or client: point the kept function at them."""
        if self.key in ctx.fresh:
            return None
        want = self.environment(ctx)
        config = get(ctx.clients("lambda").get_function_configuration, FunctionName=rec["name"])
        if config is not None and config.get("Environment", {}).get("Variables") != want:
            ctx.clients("lambda").update_function_configuration(
                FunctionName=rec["name"], Environment={"Variables": want}
            )
        return None


class Permission(Unit):
    """Lets *this* API's GET routes (and nothing else) invoke the demo function."""

    key = "permission"
    function_key = "function"
    label = "invoke permission"
    needs: ClassVar[tuple[str, ...]] = ("function", "api")
    parent = "function"
    create_only_needs: ClassVar[tuple[str, ...]] = ("api",)  # it names the API; the API may go first
    id_field = "sid"

    def statement_id(self, ctx: Context) -> str:
        return ctx.names.statement_id

    def source(self, ctx: Context) -> Join:
        """The SourceArn as declared: this API's GET routes."""
        return arn("execute-api", Ref("api"), f"/{ROUTE_SOURCE}")

    def source_arn(self, ctx: Context) -> str:
        return str(resolve(self.source(ctx), ctx))

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "FunctionName": Ref(self.function_key, "name"),
            "StatementId": self.statement_id(ctx),
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": self.source(ctx),
            "SourceAccount": Pseudo("account"),
        }
        return [
            Call("lambda", "AddPermission", params, note="API Gateway may invoke it, from SourceArn only")
        ]

    def discover(self, ctx: Context) -> list[Rec]:
        fn = ctx.records.resource(self.function_key)
        if not fn:
            return []
        answer = get(ctx.clients("lambda").get_policy, FunctionName=fn["name"])
        if answer is None:
            return []
        policy = json.loads(answer["Policy"])
        return [
            {"sid": s["Sid"], "source_arn": _source_arn(s)}
            for s in policy.get("Statement", [])
            if s.get("Sid") == self.statement_id(ctx)
        ]

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return any(f.get("source_arn") == self.source_arn(ctx) for f in self.discover(ctx))

    def create(self, ctx: Context) -> Rec:
        """AddPermission; ResourceConflictException means either "that statement exists" (AWS
        refuses a repeated StatementId, moto accepts it: it is ours, done) or "an update of the
        function is in progress" (retry shortly)."""
        params = resolve(self.declare(ctx)[0].params, ctx)
        want = params["SourceArn"]
        deadline = time.monotonic() + CONFLICT_WAIT_SECONDS
        delay = 0.25
        while True:
            try:
                ctx.clients("lambda").add_permission(**params)
                break
            except AuthdemoError as exc:
                if exc.aws_code != "ResourceConflictException":
                    raise
                if "already exists" in exc.aws_message.lower():
                    break
                if time.monotonic() + delay > deadline:
                    raise
                ctx.notify(self.key, "the function is being updated, retrying")
                base.sleep(delay)
                delay = min(delay * 1.5, 2.0)
        return {"sid": self.statement_id(ctx), "source_arn": want}

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """A permission for an API that no longer exists (the API was re-created): replace it."""
        if rec.get("source_arn") == self.source_arn(ctx):
            return None
        get(
            ctx.clients("lambda").remove_permission,
            FunctionName=ctx.rec(self.function_key)["name"],
            StatementId=self.statement_id(ctx),
        )
        return self.create(ctx)


class AuthorizerPermission(Permission):
    """Lets *this* API's Lambda authorizer invoke its function: SourceArn
    `arn:<partition>:execute-api:<region>:<account>:<apiId>/authorizers/<authorizerId>`
    (API Gateway developer guide, "Working with AWS Lambda authorizers for HTTP APIs")."""

    cognito = True

    key = "authorizer_permission"
    function_key = "authorizer_function"
    label = "invoke permission (authorizer)"
    needs = ("authorizer_function", "api", "lambda_authorizer")
    parent = "authorizer_function"
    create_only_needs = ("api", "lambda_authorizer")

    def statement_id(self, ctx: Context) -> str:
        return ctx.names.authorizer_statement_id

    def source(self, ctx: Context) -> Join:
        return arn("execute-api", Ref("api"), "/authorizers/", Ref("lambda_authorizer"))


def _architecture_refused(message: str) -> bool:
    """Lambda's refusal of an architecture the region does not offer (its message, lowercased)."""
    return f'architecture "{ARCHITECTURE}"' in message and "not supported" in message


def _source_arn(statement: dict[str, Any]) -> str | None:
    condition = statement.get("Condition", {})
    for operator in ("ArnLike", "ArnEquals", "StringEquals", "StringLike"):
        value = condition.get(operator, {}).get("AWS:SourceArn")
        if value:
            return str(value)
    return None


class RestPermission(Permission):
    """Lets *this* REST API's GET methods (any stage) invoke the demo function (issue 21)."""

    cognito = True

    key = "rest_permission"
    label = "invoke permission (REST)"
    # After the HTTP API's steps that are ready with it: those are on `up`'s critical path.
    priority = -1
    needs: ClassVar[tuple[str, ...]] = ("function", "rest_api")
    create_only_needs: ClassVar[tuple[str, ...]] = ("rest_api",)

    def applies(self, ctx: Context) -> bool:
        return super().applies(ctx) and ctx.rest

    def statement_id(self, ctx: Context) -> str:
        return ctx.names.rest_statement_id

    def source(self, ctx: Context) -> Join:
        return arn("execute-api", Ref("rest_api"), f"/{ROUTE_SOURCE}")

    def delete(self, ctx: Context, rec: Rec) -> None:
        """Only `up --no-rest` calls this (`down` deletes the function, its policy with it)."""
        fn = ctx.records.resource(self.function_key)
        if fn:
            get(ctx.clients("lambda").remove_permission, FunctionName=fn["name"], StatementId=rec["sid"])


class RestAuthorizerPermission(RestPermission):
    """Lets *this* REST API's TOKEN authorizer invoke its function: SourceArn
    `arn:<partition>:execute-api:<region>:<account>:<restApiId>/authorizers/<authorizerId>`
    (docs/aws-notes.md, "REST API (issue 21): units")."""

    key = "rest_authorizer_permission"
    function_key = "authorizer_function"
    label = "invoke permission (REST authorizer)"
    needs = ("authorizer_function", "rest_api", "rest_token_authorizer")
    parent = "authorizer_function"
    create_only_needs = ("rest_api", "rest_token_authorizer")

    def statement_id(self, ctx: Context) -> str:
        return ctx.names.rest_authorizer_statement_id

    def source(self, ctx: Context) -> Join:
        return arn("execute-api", Ref("rest_api"), "/authorizers/", Ref("rest_token_authorizer"))
