"""The AWS resources of a stack, one small unit each.

A unit says what it needs (`needs`), what contains it (`parent`: deleted together with
it, e.g. the API's routes), and knows how to `discover` itself in AWS (by its
deterministic name *and* the stack's tag or IAM path, so nothing foreign is ever
touched), `create` itself (recording each ID the moment AWS returns it), tell whether a
recorded copy still `exists`, and `delete` itself ("already gone" counts as deleted).

The engine (engine.py) runs these units as a dependency graph; nothing here knows about
threads, the console or the order of the whole.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from typing import Any, ClassVar

from . import aws
from .aws import Clients, call, is_not_found
from .errors import AuthdemoError, UnreachableError
from .state import StateStore
from .validate import PASSWORD_POLICY

TAG_KEY = "authdemo:stack"
RUNTIME = "python3.13"
ROUTE_KEY = "GET /protected"
ROUTE_PATH = "protected"
LOG_RETENTION_DAYS = 1

# CreateFunction fails with these while a new role propagates (aws-facts.md, IAM).
ROLE_NOT_READY = ("cannot be assumed by lambda", "does not have permission")
ROLE_WAIT_SECONDS = 150.0


def sleep(seconds: float) -> None:
    """The only wait in provisioning: short, between polls (tests replace it)."""
    time.sleep(seconds)


# give up on role propagation after this (Chalice's bound too)


@dataclass(frozen=True)
class Names:
    """Every AWS name of a stack, derived from the stack name alone."""

    stack: str

    @property
    def prefix(self) -> str:
        return f"authdemo-{self.stack}"

    @property
    def role(self) -> str:
        return f"{self.prefix}-fn-role"

    @property
    def role_path(self) -> str:
        return f"/authdemo/{self.stack}/"

    @property
    def role_policy(self) -> str:
        return "write-own-logs"

    @property
    def function(self) -> str:
        return f"{self.prefix}-hello"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"

    @property
    def user_pool(self) -> str:
        return f"{self.prefix}-pool"

    @property
    def client(self) -> str:
        return f"{self.prefix}-client"

    @property
    def api(self) -> str:
        return f"{self.prefix}-api"

    @property
    def authorizer(self) -> str:
        return "cognito-jwt"

    @property
    def statement_id(self) -> str:
        return f"{self.prefix}-invoke"


@dataclass
class Context:
    """What a unit needs to act: clients, the state store, names, and who/where we are."""

    clients: Clients
    state: StateStore
    names: Names
    region: str
    account_id: str = ""  # known up front for an existing stack; else from CreateRole's ARN or STS
    username: str = "demo@example.com"
    password: str = ""
    notify: Callable[[str, str], None] = lambda key, message: None  # progress notes (retries)
    fresh: set[str] = field(default_factory=set)  # keys created in this run

    def account(self) -> str:
        """The account ID, found without a round trip on the critical path where possible."""
        if not self.account_id:
            self.account_id = self.state.get("account_id") or ""
        if not self.account_id:
            self.account_id = self.clients.account_id()
            self.state.set(account_id=self.account_id)
        return self.account_id

    @property
    def tags(self) -> dict[str, str]:
        return {TAG_KEY: self.names.stack, "authdemo:managed-by": "authdemo"}

    def rec(self, key: str) -> dict[str, Any]:
        """The recorded IDs of a resource this one needs (present: the engine ran it first)."""
        rec = self.state.resource(key)
        if not rec:
            raise AuthdemoError(f"Internal error: {key} is needed but was not recorded.")
        return rec


@dataclass
class Unit:
    """Base of the resource units; subclasses fill in the AWS calls."""

    key: ClassVar[str]
    label: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()
    parent: ClassVar[str | None] = None  # deleted together with this unit
    # Among steps ready at once, higher starts first (the role: slowest to become usable).
    priority: ClassVar[int] = 0
    # Needs that matter only for creation: they do not order deletion (see Permission).
    create_only_needs: ClassVar[tuple[str, ...]] = ()
    id_field: ClassVar[str] = "id"
    meta: dict[str, Any] = field(default_factory=dict)

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        """Every copy of this resource in AWS that belongs to the stack (name + tag/path)."""
        return []

    def create(self, ctx: Context) -> None:
        raise NotImplementedError

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        raise NotImplementedError

    def converge(self, ctx: Context, rec: dict[str, Any]) -> None:
        """Bring an existing resource to what `up` wants (most need nothing)."""

    def delete(self, ctx: Context, rec: dict[str, Any]) -> None:
        """Delete it; children (units whose parent is this one) go with it."""

    def describe(self, rec: dict[str, Any]) -> str:
        return str(rec.get(self.id_field, ""))

    #: When set, `down` runs `prepare_teardown` as its own step at once, before `delete` is due.
    prepare_label: ClassVar[str | None] = None

    def prepare_teardown(self, ctx: Context) -> bool:
        return False

    # -- the flow every unit shares -----------------------------------------------------------
    def ensure(self, ctx: Context) -> str:
        """Make the resource exist; returns 'exists', 'adopted' or 'created'."""
        rec = ctx.state.resource(self.key)
        if self.parent in ctx.fresh:
            rec = None  # inside a container created this run: nothing to look for
        elif rec and self.exists(ctx, rec):
            self.converge(ctx, rec)
            return "exists"
        found = [] if self.parent in ctx.fresh else self.discover(ctx)
        if found:
            ctx.state.record(self.key, **found[0])
            self.converge(ctx, found[0])
            return "adopted"
        self.create(ctx)
        return "created"

    def teardown(self, ctx: Context) -> list[str]:
        """Delete the recorded copy and any discovered one; returns what was deleted."""
        targets: list[dict[str, Any]] = []
        rec = ctx.state.resource(self.key)
        if rec:
            targets.append(rec)
        for found in self.discover(ctx):
            if all(found.get(self.id_field) != t.get(self.id_field) for t in targets):
                targets.append(found)
        deleted = []
        for target in targets:
            try:
                self.delete(ctx, target)
            except Exception as exc:
                if not is_not_found(exc):
                    raise aws.translate(exc, f"deleting {self.label}") or exc from exc
            deleted.append(self.describe(target))
        return deleted


def _policy(statement: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statement})


def function_zip() -> bytes:
    """The demo handler, zipped as Lambda wants it (fixed timestamps: same bytes each run)."""
    source = importlib_resources.files("authdemo.lambda_src").joinpath("handler.py").read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("handler.py", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, source)
    return buf.getvalue()


# ------------------------------------------------------------------------------------ IAM
class Role(Unit):
    key = "role"
    label = "IAM role"
    id_field = "name"
    priority = 10  # its propagation is the longest wait of `up`: start the clock first

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        answer = _get(ctx.clients("iam").get_role, RoleName=ctx.names.role)
        if answer is None:
            return []
        role = answer["Role"]
        if role.get("Path") != ctx.names.role_path:
            return []  # same name, not ours: never touch it
        return [{"name": role["RoleName"], "arn": role["Arn"]}]

    def ensure(self, ctx: Context) -> str:
        """Create first and look only if the name is taken: CreateRole starts the propagation
        clock, so a GetRole in front of it would lengthen the whole `up`."""
        rec = ctx.state.resource(self.key)
        if rec:
            return super().ensure(ctx)
        try:
            self.create(ctx)
            return "created"
        except AuthdemoError as exc:
            if exc.aws_code != "EntityAlreadyExists":
                raise
        found = self.discover(ctx)
        if not found:
            raise AuthdemoError(
                f"An IAM role named {ctx.names.role} already exists but is not authdemo's "
                f"(its path is not {ctx.names.role_path}); choose another --stack."
            )
        ctx.state.record(self.key, **found[0])
        return "adopted"

    def create(self, ctx: Context) -> None:
        trust = _policy(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
        )
        role = call(
            ctx.clients("iam").create_role,
            RoleName=ctx.names.role,
            Path=ctx.names.role_path,
            AssumeRolePolicyDocument=trust,
            Description=f"authdemo stack {ctx.names.stack}: runs the demo function",
            Tags=[{"Key": k, "Value": v} for k, v in ctx.tags.items()],
        )["Role"]
        ctx.state.record(self.key, name=role["RoleName"], arn=role["Arn"], created_at=time.time())
        if not ctx.state.get("account_id"):
            ctx.state.set(account_id=role["Arn"].split(":")[4])  # arn:aws:iam::<account>:role/...

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return bool(self.discover(ctx))

    prepare_label = "role policies"

    def prepare_teardown(self, ctx: Context) -> bool:
        """Empty the role(s) at the start of `down`, while the API and function are deleted, so
        the final DeleteRole is one call. Returns whether there was a role."""
        targets = {r["name"] for r in [ctx.state.resource(self.key) or {}, *self.discover(ctx)] if r}
        for name in targets:
            self._empty(ctx, name)
        return bool(targets)

    def _empty(self, ctx: Context, name: str) -> None:
        iam = ctx.clients("iam")
        policies = _get(iam.list_role_policies, RoleName=name)
        attached = policies and _get(iam.list_attached_role_policies, RoleName=name)
        if not policies or not attached:
            return  # the role is already gone
        for policy in policies["PolicyNames"]:
            _ignore_missing(iam.delete_role_policy, RoleName=name, PolicyName=policy)
        for item in attached["AttachedPolicies"]:
            _ignore_missing(iam.detach_role_policy, RoleName=name, PolicyArn=item["PolicyArn"])

    def delete(self, ctx: Context, rec: dict[str, Any]) -> None:
        """IAM answers DeleteConflict while a role has policies: empty it, then delete."""
        iam = ctx.clients("iam")
        try:
            iam.delete_role(RoleName=rec["name"])
        except Exception as exc:
            if aws.error_code(exc) != "DeleteConflict":
                raise
            self._empty(ctx, rec["name"])
            iam.delete_role(RoleName=rec["name"])


class RolePolicy(Unit):
    """Least privilege: the function may write to its own log group, nothing else."""

    key = "role_policy"
    label = "role policy (own logs only)"
    needs = ("role",)
    parent = "role"
    id_field = "name"

    def document(self, ctx: Context) -> str:
        arn = f"arn:aws:logs:{ctx.region}:{ctx.account()}:log-group:{ctx.names.log_group}"
        return _policy(
            [
                {
                    "Sid": "WriteOwnLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": [f"{arn}:*", f"{arn}:log-stream:*"],
                }
            ]
        )

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        iam = ctx.clients("iam")
        if _get(iam.get_role_policy, RoleName=ctx.names.role, PolicyName=ctx.names.role_policy) is None:
            return []
        return [{"name": ctx.names.role_policy}]

    def create(self, ctx: Context) -> None:
        call(
            ctx.clients("iam").put_role_policy,
            RoleName=ctx.rec("role")["name"],
            PolicyName=ctx.names.role_policy,
            PolicyDocument=self.document(ctx),
        )
        ctx.state.record(self.key, name=ctx.names.role_policy)

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return bool(self.discover(ctx))


# ------------------------------------------------------------------------------------ Logs
class LogGroup(Unit):
    """Created by us (tagged, 1-day retention) so Lambda never makes an untagged one.

    It outlives DeleteFunction, so `down` deletes it explicitly.
    """

    key = "log_group"
    label = "log group"
    id_field = "name"

    def _named(self, ctx: Context) -> list[dict[str, Any]]:
        logs = ctx.clients("logs")
        groups = logs.describe_log_groups(logGroupNamePrefix=ctx.names.log_group)["logGroups"]
        return [g for g in groups if g["logGroupName"] == ctx.names.log_group]

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        """Only a group with the stack's tag: one of the same name may belong to a foreign
        function of that name (Lambda makes it untagged), and must never be swept."""
        found = []
        for group in self._named(ctx):
            arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
            answer = _get(ctx.clients("logs").list_tags_for_resource, resourceArn=arn)
            if answer and answer.get("tags", {}).get(TAG_KEY) == ctx.names.stack:
                found.append({"name": group["logGroupName"]})
        return found

    def create(self, ctx: Context) -> None:
        logs = ctx.clients("logs")
        try:
            call(logs.create_log_group, logGroupName=ctx.names.log_group, tags=ctx.tags)
        except AuthdemoError as exc:
            if exc.aws_code != "ResourceAlreadyExistsException":
                raise
        ctx.state.record(self.key, name=ctx.names.log_group)
        call(
            logs.put_retention_policy,
            logGroupName=ctx.names.log_group,
            retentionInDays=LOG_RETENTION_DAYS,
        )

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return bool(self._named(ctx))  # recorded: ours, tagged or not

    def delete(self, ctx: Context, rec: dict[str, Any]) -> None:
        ctx.clients("logs").delete_log_group(logGroupName=rec["name"])


# ------------------------------------------------------------------------------------ Cognito
class UserPool(Unit):
    key = "user_pool"
    label = "Cognito user pool"

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        cognito = ctx.clients("cognito-idp")
        found = []
        for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
            for pool in page["UserPools"]:
                if pool["Name"] != ctx.names.user_pool:
                    continue
                answer = _get(cognito.describe_user_pool, UserPoolId=pool["Id"])
                detail = answer["UserPool"] if answer else {}
                if detail.get("UserPoolTags", {}).get(TAG_KEY) == ctx.names.stack:
                    found.append({"id": pool["Id"], "arn": detail.get("Arn")})
        return found

    def create(self, ctx: Context) -> None:
        pool = call(
            ctx.clients("cognito-idp").create_user_pool,
            PoolName=ctx.names.user_pool,
            Policies={"PasswordPolicy": PASSWORD_POLICY},
            AutoVerifiedAttributes=[],
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            DeletionProtection="INACTIVE",
            UserPoolTags=ctx.tags,
        )["UserPool"]
        ctx.state.record(self.key, id=pool["Id"], arn=pool.get("Arn"))

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return _exists(ctx.clients("cognito-idp").describe_user_pool, UserPoolId=rec["id"])

    def delete(self, ctx: Context, rec: dict[str, Any]) -> None:
        """A domain or deletion protection blocks DeleteUserPool on AWS: clear both first."""
        cognito = ctx.clients("cognito-idp")
        pool = cognito.describe_user_pool(UserPoolId=rec["id"])["UserPool"]
        for domain_key in ("Domain", "CustomDomain"):
            if pool.get(domain_key):
                _ignore_missing(
                    cognito.delete_user_pool_domain, Domain=pool[domain_key], UserPoolId=rec["id"]
                )
        if pool.get("DeletionProtection") == "ACTIVE":
            cognito.update_user_pool(UserPoolId=rec["id"], DeletionProtection="INACTIVE")
        cognito.delete_user_pool(UserPoolId=rec["id"])


class AppClient(Unit):
    key = "app_client"
    label = "app client"
    needs = ("user_pool",)
    parent = "user_pool"

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        pool = ctx.state.resource("user_pool")
        if not pool:
            return []
        cognito = ctx.clients("cognito-idp")
        try:
            pages = cognito.get_paginator("list_user_pool_clients").paginate(
                UserPoolId=pool["id"], MaxResults=60
            )
            return [
                {"id": c["ClientId"]}
                for page in pages
                for c in page["UserPoolClients"]
                if c["ClientName"] == ctx.names.client
            ]
        except Exception as exc:
            if is_not_found(exc):
                return []
            raise

    def create(self, ctx: Context) -> None:
        client = call(
            ctx.clients("cognito-idp").create_user_pool_client,
            UserPoolId=ctx.rec("user_pool")["id"],
            ClientName=ctx.names.client,
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            PreventUserExistenceErrors="ENABLED",
        )["UserPoolClient"]
        ctx.state.record(self.key, id=client["ClientId"])

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return _exists(
            ctx.clients("cognito-idp").describe_user_pool_client,
            UserPoolId=ctx.rec("user_pool")["id"],
            ClientId=rec["id"],
        )


class User(Unit):
    """The demo user, with a permanent password so USER_PASSWORD_AUTH works at once."""

    key = "user"
    label = "test user"
    needs = ("user_pool",)
    parent = "user_pool"
    id_field = "username"

    def _get(self, ctx: Context) -> dict[str, Any] | None:
        return _get(
            ctx.clients("cognito-idp").admin_get_user,
            UserPoolId=ctx.rec("user_pool")["id"],
            Username=ctx.username,
        )

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        return [{"username": ctx.username}] if self._get(ctx) else []

    def create(self, ctx: Context) -> None:
        from .validate import email_like

        attributes = [{"Name": "email", "Value": ctx.username}] if email_like(ctx.username) else []
        if attributes:
            attributes.append({"Name": "email_verified", "Value": "true"})
        call(
            ctx.clients("cognito-idp").admin_create_user,
            UserPoolId=ctx.rec("user_pool")["id"],
            Username=ctx.username,
            UserAttributes=attributes,
            MessageAction="SUPPRESS",
        )
        ctx.state.record(self.key, username=ctx.username)
        self.converge(ctx, {"username": ctx.username})

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return rec.get("username") == ctx.username and self._get(ctx) is not None

    def converge(self, ctx: Context, rec: dict[str, Any]) -> None:
        """Set the password as permanent (leaves FORCE_CHANGE_PASSWORD; idempotent)."""
        call(
            ctx.clients("cognito-idp").admin_set_user_password,
            UserPoolId=ctx.rec("user_pool")["id"],
            Username=ctx.username,
            Password=ctx.password,
            Permanent=True,
        )
        ctx.state.record(self.key, username=ctx.username, confirmed=True)


# ------------------------------------------------------------------------------------ Lambda
class Function(Unit):
    key = "function"
    label = "Lambda function"
    needs = ("role", "log_group")
    id_field = "name"

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        fn = _get(ctx.clients("lambda").get_function, FunctionName=ctx.names.function)
        if fn is None or fn.get("Tags", {}).get(TAG_KEY) != ctx.names.stack:
            return []
        config = fn["Configuration"]
        return [{"name": config["FunctionName"], "arn": config["FunctionArn"]}]

    def create(self, ctx: Context) -> None:
        """Retry while the new role propagates: short, capped backoff, never a fixed sleep."""
        lam = ctx.clients("lambda")
        role = ctx.rec("role")
        code = function_zip()
        deadline = time.monotonic() + ROLE_WAIT_SECONDS
        delay, attempt = 0.2, 0
        while True:
            attempt += 1
            try:
                fn = lam.create_function(
                    FunctionName=ctx.names.function,
                    Runtime=RUNTIME,
                    Role=role["arn"],
                    Handler="handler.handler",
                    Code={"ZipFile": code},
                    Description=f"authdemo stack {ctx.names.stack}: GET /protected",
                    Timeout=10,
                    MemorySize=128,
                    Architectures=["arm64"],
                    Tags=ctx.tags,
                )
                break
            except Exception as exc:
                message = str(exc).lower()
                not_ready = aws.error_code(exc) == "InvalidParameterValueException" and any(
                    m in message for m in ROLE_NOT_READY
                )
                if not not_ready:
                    raise aws.translate(exc, "CreateFunction") or exc from exc
                if time.monotonic() + delay > deadline:
                    raise UnreachableError(
                        f"Lambda still cannot assume the new role after {ROLE_WAIT_SECONDS:.0f} s; "
                        "IAM is slow today: run `authdemo up` again to resume."
                    ) from exc
                ctx.notify(self.key, f"role not assumable yet, retry {attempt}")
                sleep(delay)
                delay = min(delay * 1.5, 0.3)  # a refused CreateFunction is cheap; overshoot <= 0.3 s + RTT
        ctx.state.record(self.key, name=fn["FunctionName"], arn=fn["FunctionArn"])

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return _exists(ctx.clients("lambda").get_function_configuration, FunctionName=rec["name"])

    def delete(self, ctx: Context, rec: dict[str, Any]) -> None:
        ctx.clients("lambda").delete_function(FunctionName=rec["name"])


class FunctionActive(Unit):
    """A new function is Pending until Active; invoking it earlier fails. Poll, don't sleep."""

    key = "function_active"
    label = "function active"
    needs = ("function",)
    parent = "function"
    timeout: ClassVar[float] = 120.0

    def ensure(self, ctx: Context) -> str:
        lam = ctx.clients("lambda")
        name = ctx.rec("function")["name"]
        deadline = time.monotonic() + self.timeout
        delay = 0.25
        while True:
            config = call(lam.get_function_configuration, FunctionName=name)
            state = config.get("State", "Active")
            if state == "Active" and config.get("LastUpdateStatus", "Successful") != "InProgress":
                return "exists"
            if state == "Failed":
                raise AuthdemoError(
                    f"The function failed to start ({config.get('StateReason', 'no reason given')}); "
                    "run `authdemo down` then `authdemo up`."
                )
            if time.monotonic() + delay > deadline:
                raise UnreachableError(
                    f"The function is still {state} after {self.timeout:.0f} s; run `authdemo up` again."
                )
            ctx.notify(self.key, f"function is {state}")
            sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def teardown(self, ctx: Context) -> list[str]:
        return []


class Permission(Unit):
    """Lets *this* API (and only its GET /protected) invoke the function."""

    key = "permission"
    label = "invoke permission"
    needs = ("function", "api")
    parent = "function"
    create_only_needs = ("api",)  # it names the API; the API may go first
    id_field = "sid"

    def source_arn(self, ctx: Context) -> str:
        api_id = ctx.rec("api")["id"]
        return f"arn:aws:execute-api:{ctx.region}:{ctx.account()}:{api_id}/*/*/{ROUTE_PATH}"

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        fn = ctx.state.resource("function")
        if not fn:
            return []
        answer = _get(ctx.clients("lambda").get_policy, FunctionName=fn["name"])
        if answer is None:
            return []
        policy = json.loads(answer["Policy"])
        return [
            {"sid": s["Sid"], "source_arn": _source_arn(s)}
            for s in policy.get("Statement", [])
            if s.get("Sid") == ctx.names.statement_id
        ]

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return any(f.get("source_arn") == self.source_arn(ctx) for f in self.discover(ctx))

    def ensure(self, ctx: Context) -> str:
        found = self.discover(ctx)
        want = self.source_arn(ctx)
        if found and found[0].get("source_arn") == want:
            ctx.state.record(self.key, **found[0])
            return "exists"
        lam = ctx.clients("lambda")
        if found:  # a permission for an API that no longer exists: replace it
            _ignore_missing(
                lam.remove_permission,
                FunctionName=ctx.rec("function")["name"],
                StatementId=ctx.names.statement_id,
            )
        try:
            call(
                lam.add_permission,
                FunctionName=ctx.rec("function")["name"],
                StatementId=ctx.names.statement_id,
                Action="lambda:InvokeFunction",
                Principal="apigateway.amazonaws.com",
                SourceArn=want,
                SourceAccount=ctx.account(),
            )
        except AuthdemoError as exc:
            # AWS refuses a repeated StatementId (moto accepts it): it is already there.
            if exc.aws_code != "ResourceConflictException":
                raise
        ctx.state.record(self.key, sid=ctx.names.statement_id, source_arn=want)
        return "created"


# ------------------------------------------------------------------------------------ HTTP API
class Api(Unit):
    key = "api"
    label = "HTTP API"

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        gateway = ctx.clients("apigatewayv2")
        found, token = [], None
        while True:
            page = gateway.get_apis(**({"NextToken": token} if token else {}))
            for api in page.get("Items", []):
                if api.get("Name") == ctx.names.api and api.get("Tags", {}).get(TAG_KEY) == ctx.names.stack:
                    found.append({"id": api["ApiId"], "endpoint": api.get("ApiEndpoint")})
            token = page.get("NextToken")
            if not token:
                return found

    def create(self, ctx: Context) -> None:
        api = call(
            ctx.clients("apigatewayv2").create_api,
            Name=ctx.names.api,
            ProtocolType="HTTP",
            Description=f"authdemo stack {ctx.names.stack}: JWT authorizer demo",
            Tags=ctx.tags,
        )
        ctx.state.record(self.key, id=api["ApiId"], endpoint=api.get("ApiEndpoint"))

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return _exists(ctx.clients("apigatewayv2").get_api, ApiId=rec["id"])

    def delete(self, ctx: Context, rec: dict[str, Any]) -> None:
        """Takes its routes, integrations, authorizers and stages with it."""
        ctx.clients("apigatewayv2").delete_api(ApiId=rec["id"])


class _ApiChild(Unit):
    parent = "api"

    def _api_id(self, ctx: Context) -> str | None:
        api = ctx.state.resource("api")
        return api["id"] if api else None

    def _items(self, ctx: Context, operation: str) -> list[dict[str, Any]]:
        api_id = self._api_id(ctx)
        if not api_id:
            return []
        answer = _get(getattr(ctx.clients("apigatewayv2"), operation), ApiId=api_id)
        return answer.get("Items", []) if answer else []


class Authorizer(_ApiChild):
    key = "authorizer"
    label = "JWT authorizer"
    needs = ("api", "user_pool", "app_client")

    def issuer(self, ctx: Context) -> str:
        return f"https://cognito-idp.{ctx.region}.amazonaws.com/{ctx.rec('user_pool')['id']}"

    def _authorizers(self, ctx: Context) -> list[dict[str, Any]]:
        """GetAuthorizers; moto lacks it (our embedded server adds it), so fall back to the
        authorizer the recorded route or authorizer ID points at."""
        try:
            return self._items(ctx, "get_authorizers")
        except Exception as exc:
            if aws.error_code(exc) not in (None, "500", "InternalFailure") and not isinstance(
                exc, NotImplementedError
            ):
                raise
        api_id = self._api_id(ctx)
        ids = {r.get("AuthorizerId") for r in self._items(ctx, "get_routes")}
        rec = ctx.state.resource(self.key)
        ids.add(rec and rec.get("id"))
        items = []
        for authorizer_id in ids - {None}:
            try:
                items.append(
                    ctx.clients("apigatewayv2").get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
                )
            except Exception as exc:
                if not is_not_found(exc):
                    raise
        return items

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        return [
            {"id": a["AuthorizerId"], "issuer": a.get("JwtConfiguration", {}).get("Issuer")}
            for a in self._authorizers(ctx)
            if a.get("Name") == ctx.names.authorizer
        ]

    def create(self, ctx: Context) -> None:
        authorizer = call(
            ctx.clients("apigatewayv2").create_authorizer,
            ApiId=ctx.rec("api")["id"],
            AuthorizerType="JWT",
            Name=ctx.names.authorizer,
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Issuer": self.issuer(ctx), "Audience": [ctx.rec("app_client")["id"]]},
        )
        ctx.state.record(self.key, id=authorizer["AuthorizerId"], issuer=self.issuer(ctx))

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        api_id = self._api_id(ctx)
        return bool(api_id) and _exists(
            ctx.clients("apigatewayv2").get_authorizer, ApiId=api_id, AuthorizerId=rec["id"]
        )

    def converge(self, ctx: Context, rec: dict[str, Any]) -> None:
        """A re-created pool or client changes issuer/audience: point the authorizer at them."""
        found = [a for a in self._authorizers(ctx) if a["AuthorizerId"] == rec["id"]]
        want = {"Issuer": self.issuer(ctx), "Audience": [ctx.rec("app_client")["id"]]}
        if found and found[0].get("JwtConfiguration") != want:
            call(
                ctx.clients("apigatewayv2").update_authorizer,
                ApiId=ctx.rec("api")["id"],
                AuthorizerId=rec["id"],
                JwtConfiguration=want,
            )
            ctx.state.record(self.key, issuer=want["Issuer"])


class Integration(_ApiChild):
    key = "integration"
    label = "Lambda integration"
    needs = ("api", "function")

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        fn = ctx.state.resource("function")
        return [
            {"id": i["IntegrationId"]}
            for i in self._items(ctx, "get_integrations")
            if fn and i.get("IntegrationUri") == fn["arn"]
        ]

    def create(self, ctx: Context) -> None:
        integration = call(
            ctx.clients("apigatewayv2").create_integration,
            ApiId=ctx.rec("api")["id"],
            IntegrationType="AWS_PROXY",
            IntegrationUri=ctx.rec("function")["arn"],
            IntegrationMethod="POST",
            PayloadFormatVersion="2.0",
            TimeoutInMillis=10000,
        )
        ctx.state.record(self.key, id=integration["IntegrationId"])

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return any(i["id"] == rec["id"] for i in self.discover(ctx))


class Route(_ApiChild):
    key = "route"
    label = "route GET /protected"
    needs = ("api", "authorizer", "integration")

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        return [
            {"id": r["RouteId"], "target": r.get("Target"), "authorizer": r.get("AuthorizerId")}
            for r in self._items(ctx, "get_routes")
            if r.get("RouteKey") == ROUTE_KEY
        ]

    def create(self, ctx: Context) -> None:
        route = call(
            ctx.clients("apigatewayv2").create_route,
            ApiId=ctx.rec("api")["id"],
            RouteKey=ROUTE_KEY,
            AuthorizationType="JWT",
            AuthorizerId=ctx.rec("authorizer")["id"],
            Target=f"integrations/{ctx.rec('integration')['id']}",
        )
        ctx.state.record(self.key, id=route["RouteId"])

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return any(r["id"] == rec["id"] for r in self.discover(ctx))

    def converge(self, ctx: Context, rec: dict[str, Any]) -> None:
        target = f"integrations/{ctx.rec('integration')['id']}"
        authorizer = ctx.rec("authorizer")["id"]
        current = [r for r in self.discover(ctx) if r["id"] == rec["id"]]
        if current and (current[0]["target"] != target or current[0]["authorizer"] != authorizer):
            call(
                ctx.clients("apigatewayv2").update_route,
                ApiId=ctx.rec("api")["id"],
                RouteId=rec["id"],
                AuthorizationType="JWT",
                AuthorizerId=authorizer,
                Target=target,
            )


class Stage(_ApiChild):
    key = "stage"
    label = "$default stage"
    needs = ("api",)
    id_field = "name"

    def discover(self, ctx: Context) -> list[dict[str, Any]]:
        return [
            {"name": s["StageName"]}
            for s in self._items(ctx, "get_stages")
            if s.get("StageName") == "$default"
        ]

    def create(self, ctx: Context) -> None:
        call(
            ctx.clients("apigatewayv2").create_stage,
            ApiId=ctx.rec("api")["id"],
            StageName="$default",
            AutoDeploy=True,  # defaults to false: without it nothing is ever served
            Tags=ctx.tags,
        )
        ctx.state.record(self.key, name="$default")

    def exists(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return bool(self.discover(ctx))


UNITS: tuple[type[Unit], ...] = (
    Role,
    RolePolicy,
    LogGroup,
    UserPool,
    AppClient,
    User,
    Api,
    Stage,
    Authorizer,
    Function,
    FunctionActive,
    Integration,
    Permission,
    Route,
)


def all_units() -> list[Unit]:
    return [cls() for cls in UNITS]


def _get(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """The call's answer, or None when AWS says the resource is not there."""
    try:
        return fn(**kwargs)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def _exists(fn: Callable[..., Any], **kwargs: Any) -> bool:
    try:
        return _get(fn, **kwargs) is not None
    except Exception as exc:
        raise aws.translate(exc) or exc from exc


def _ignore_missing(fn: Callable[..., Any], **kwargs: Any) -> None:
    try:
        fn(**kwargs)
    except Exception as exc:
        if not is_not_found(exc):
            raise


def _source_arn(statement: dict[str, Any]) -> str | None:
    condition = statement.get("Condition", {})
    for operator in ("ArnLike", "ArnEquals", "StringEquals", "StringLike"):
        value = condition.get(operator, {}).get("AWS:SourceArn")
        if value:
            return value
    return None
