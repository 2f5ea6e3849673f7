"""Cognito: the user pool (with an explicit password policy), its app client (password sign-in
and the OAuth code flow), the test user, the group `presenters` (the demo user is in it), and
a second user who is not. The domain, resource server and M2M client: cognito_oauth.py."""

from __future__ import annotations

from typing import Any

from ..aws import AwsClient, get
from ..errors import AuthdemoError
from ..validate import PASSWORD_POLICY, email_like
from .base import TAG_KEY, Context, Rec, Unit
from .cognito_oauth import PoolClient, oauth_settings, settled
from .declare import Call, Ref, Secret, returned, send

POOL = Ref("user_pool")

#: Our choice of feature plan: Lite, the cheapest, has all authdemo uses (password sign-in, the
#: classic hosted UI of ManagedLoginVersion 1, resource servers, client credentials); a pool
#: created without it is on Essentials, the default since November 2024 (README, "What it costs").
POOL_TIER = "LITE"


class UserPool(Unit):
    cognito = True
    key = "user_pool"
    label = "Cognito user pool"

    def discover(self, ctx: Context) -> list[Rec]:
        """Pools of the stack's name and tag, other than the recorded one (which `down` deletes
        meanwhile: looking at it too would make the calls depend on who is faster)."""
        cognito = ctx.clients("cognito-idp")
        recorded = (ctx.records.resource(self.key) or {}).get("id")
        found = []
        for page in cognito.pages("list_user_pools", MaxResults=60):
            for pool in page["UserPools"]:
                if pool["Name"] != ctx.names.user_pool or pool["Id"] == recorded:
                    continue
                answer = get(cognito.describe_user_pool, UserPoolId=pool["Id"])
                detail = answer["UserPool"] if answer else {}
                if detail.get("UserPoolTags", {}).get(TAG_KEY) == ctx.names.stack:
                    found.append({"id": pool["Id"], "arn": detail.get("Arn")})
        return found

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "PoolName": ctx.names.user_pool,
            "UserPoolTier": POOL_TIER,  # came with ManagedLoginVersion (pyproject: boto3>=1.36)
            "Policies": {"PasswordPolicy": dict(PASSWORD_POLICY)},
            **self.wanted(ctx),
            "DeletionProtection": "INACTIVE",
            "UserPoolTags": ctx.tags,
        }
        returns = {"id": "UserPool.Id", "arn": "UserPool.Arn"}
        return [
            Call("cognito-idp", "CreateUserPool", params, returns, note="who may sign in, on the Lite plan")
        ]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        return returned(call, send(ctx, call))

    @staticmethod
    def wanted(ctx: Context) -> dict[str, Any]:
        """Admin-only, or (`up --sign-up`) self-registration confirmed by a code sent to the email."""
        return {
            "AutoVerifiedAttributes": ["email"] if ctx.sign_up else [],
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": not ctx.sign_up},
        }

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return get(ctx.clients("cognito-idp").describe_user_pool, UserPoolId=rec["id"]) is not None

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """Bring a kept or adopted pool to `wanted` (`up --sign-up` / `--no-sign-up` on an existing
        stack). UpdateUserPool resets every field it is not given, so the update carries every
        updatable field as DescribeUserPool has it, with ours over them."""
        if self.key in ctx.fresh:
            return None
        cognito = ctx.clients("cognito-idp")
        answer = get(cognito.describe_user_pool, UserPoolId=rec["id"])
        if answer is None:
            return None
        current = answer["UserPool"]
        admin_only = (current.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly", False)
        want = self.wanted(ctx)
        if admin_only == (not ctx.sign_up) and _same(
            current.get("AutoVerifiedAttributes") or [], want["AutoVerifiedAttributes"]
        ):
            return None
        kept = {k: current[k] for k in pool_update_fields(cognito) if current.get(k) is not None}
        admin = {**(kept.get("AdminCreateUserConfig") or {}), **want["AdminCreateUserConfig"]}
        cognito.update_user_pool(UserPoolId=rec["id"], **{**kept, **want, "AdminCreateUserConfig": admin})
        return None

    def delete(self, ctx: Context, rec: Rec) -> None:
        """A domain or deletion protection makes AWS refuse DeleteUserPool (InvalidParameterException).
        The recorded domain goes first and the pool is asked for at once; only when AWS refuses (the
        domain still DELETING, a domain a killed run never recorded, protection turned on by hand)
        is the pool read, its domains waited for or deleted, and protection cleared: no round trip
        more than needed on `down`'s longest chain when the domain goes at once."""
        cognito = ctx.clients("cognito-idp")
        domain = ctx.records.resource("domain") if rec.get("id") == self._recorded_id(ctx) else None
        deleted = domain.get("id") if domain else None
        if deleted:
            get(cognito.delete_user_pool_domain, Domain=deleted, UserPoolId=rec["id"])
        try:
            cognito.delete_user_pool(UserPoolId=rec["id"])
            return
        except AuthdemoError as exc:
            if exc.aws_code != "InvalidParameterException":
                raise
        if deleted:
            settled(ctx, self.key, deleted, rec["id"])  # DELETING: the pool is not deletable yet
        pool = cognito.describe_user_pool(UserPoolId=rec["id"])["UserPool"]
        for domain_key in ("Domain", "CustomDomain"):
            if pool.get(domain_key) and pool[domain_key] != deleted:
                get(cognito.delete_user_pool_domain, Domain=pool[domain_key], UserPoolId=rec["id"])
                settled(ctx, self.key, pool[domain_key], rec["id"])
        if pool.get("DeletionProtection") == "ACTIVE":
            cognito.update_user_pool(UserPoolId=rec["id"], DeletionProtection="INACTIVE")
        cognito.delete_user_pool(UserPoolId=rec["id"])

    def _recorded_id(self, ctx: Context) -> str | None:
        return (ctx.records.resource(self.key) or {}).get("id")


class AppClient(PoolClient):
    cognito = True
    key = "app_client"
    label = "app client"
    needs = ("user_pool",)

    def client_name(self, ctx: Context) -> str:
        return ctx.names.client

    def wanted(self, ctx: Context) -> dict[str, Any]:
        """Password sign-in for `token`/`test`, and the OAuth code flow for `login` (issue 11)."""
        return {
            "ClientName": ctx.names.client,
            # Our choice among the model's ExplicitAuthFlowsType (test_aws_right checks each value).
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
            **oauth_settings(ctx),
        }

    def declare(self, ctx: Context) -> list[Call]:
        params = {"UserPoolId": POOL, "GenerateSecret": False, **self.wanted(ctx)}
        returns = {"id": "UserPoolClient.ClientId"}
        note = "a public client: password sign-in and the code flow with PKCE"
        return [Call("cognito-idp", "CreateUserPoolClient", params, returns, note=note)]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        return returned(call, send(ctx, call))

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """Bring a kept or adopted client (e.g. one made before issue 11, or another
        --callback-port) to `wanted`. UpdateUserPoolClient resets every field it is not given,
        so the update carries every updatable field as it is now, with ours over them."""
        if self.key in ctx.fresh:
            return None
        current = self.describe_client(ctx, rec)
        if current is None:
            return None
        want = self.wanted(ctx)
        if all(_same(current.get(k), v) for k, v in want.items()):
            return None
        cognito = ctx.clients("cognito-idp")
        kept = {k: current[k] for k in client_update_fields(cognito) if current.get(k) is not None}
        cognito.update_user_pool_client(
            UserPoolId=ctx.rec("user_pool")["id"], ClientId=rec["id"], **{**kept, **want}
        )
        return None


def carried_fields(cognito: AwsClient, resource: str, ids: tuple[str, ...]) -> tuple[str, ...]:
    """`Update<resource>` resets each field it is not given: the fields to carry are the members of
    its input that `Describe<resource>` returns, read from botocore's model at run time (a field AWS
    adds later is carried, never reset), less the call's own `ids`. One Describe does not return
    (e.g. UpdateUserPoolClient's PublishSecretsInAWSSecretsManager: "omitted, unchanged") cannot
    be carried, and needs not be."""
    described = cognito.shape(f"Describe{resource}", resource, output=True).members
    updatable = cognito.shape(f"Update{resource}").members
    return tuple(m for m in updatable if m in described and m not in ids)


def client_update_fields(cognito: AwsClient) -> tuple[str, ...]:
    """What UpdateUserPoolClient carries over (which client of which pool is the call's own)."""
    return carried_fields(cognito, "UserPoolClient", ("UserPoolId", "ClientId"))


def pool_update_fields(cognito: AwsClient) -> tuple[str, ...]:
    """What UpdateUserPool carries over (`up --sign-up` on an existing pool)."""
    return carried_fields(cognito, "UserPool", ("UserPoolId",))


def _same(now: Any, want: Any) -> bool:
    """Lists compare as sets (Cognito may answer them in another order)."""
    if isinstance(want, list):
        return isinstance(now, list) and sorted(map(str, now)) == sorted(map(str, want))
    return bool(now == want)


class User(Unit):
    """The demo user, with a permanent password so USER_PASSWORD_AUTH works at once."""

    cognito = True

    key = "user"
    label = "test user"
    needs = ("user_pool",)
    parent = "user_pool"
    id_field = "username"

    def username(self, ctx: Context) -> str:
        return ctx.username

    secret = Secret("password")

    def _get(self, ctx: Context) -> Rec | None:
        return get(
            ctx.clients("cognito-idp").admin_get_user,
            UserPoolId=ctx.rec("user_pool")["id"],
            Username=self.username(ctx),
        )

    def discover(self, ctx: Context) -> list[Rec]:
        return [{"username": self.username(ctx)}] if self._get(ctx) else []

    def declare(self, ctx: Context) -> list[Call]:
        username = self.username(ctx)
        attributes = [{"Name": "email", "Value": username}] if email_like(username) else []
        if attributes:
            attributes.append({"Name": "email_verified", "Value": "true"})
        made = {
            "UserPoolId": POOL,
            "Username": username,
            "UserAttributes": attributes,
            "MessageAction": "SUPPRESS",
        }
        password = {"UserPoolId": POOL, "Username": username, "Password": self.secret, "Permanent": True}
        return [
            Call("cognito-idp", "AdminCreateUser", made, note="no invitation sent"),
            Call("cognito-idp", "AdminSetUserPassword", password, note="permanent: no FORCE_CHANGE_PASSWORD"),
        ]

    def create(self, ctx: Context) -> Rec:
        send(ctx, self.declare(ctx)[0])
        return {"username": self.username(ctx)}

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return rec.get("username") == self.username(ctx) and self._get(ctx) is not None

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """Set the password as permanent (leaves FORCE_CHANGE_PASSWORD; idempotent)."""
        send(ctx, self.declare(ctx)[1])
        return {"username": self.username(ctx), "confirmed": True}


class Student(User):
    """A second user, not in `presenters`: the Lambda authorizer refuses it, JWT routes don't.
    Its generated password is kept in the state file as `student_password` (set by `up`)."""

    key = "student"
    label = "second user (not a presenter)"

    def username(self, ctx: Context) -> str:
        return ctx.names.student

    secret = Secret("student_password")


class Group(Unit):
    """The Cognito group `presenters`: its members' tokens carry `cognito:groups`."""

    cognito = True

    key = "group"
    label = "group presenters"
    needs = ("user_pool",)
    parent = "user_pool"
    id_field = "name"

    def _get(self, ctx: Context) -> Rec | None:
        return get(
            ctx.clients("cognito-idp").get_group,
            GroupName=ctx.names.group,
            UserPoolId=ctx.rec("user_pool")["id"],
        )

    def discover(self, ctx: Context) -> list[Rec]:
        if not ctx.records.resource("user_pool"):
            return []
        return [{"name": ctx.names.group}] if self._get(ctx) else []

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "GroupName": ctx.names.group,
            "UserPoolId": POOL,
            "Description": f"authdemo stack {ctx.names.stack}: may pass the Lambda authorizer",
        }
        return [Call("cognito-idp", "CreateGroup", params, note="its members' tokens carry cognito:groups")]

    def create(self, ctx: Context) -> Rec:
        send(ctx, self.declare(ctx)[0])
        return {"name": ctx.names.group}

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return self._get(ctx) is not None


class Membership(Unit):
    """The demo user in `presenters` (AdminAddUserToGroup is idempotent)."""

    cognito = True

    key = "membership"
    label = "test user in presenters"
    needs = ("user_pool", "user", "group")
    parent = "user_pool"
    id_field = "group"

    def _member(self, ctx: Context) -> bool:
        answer = get(
            ctx.clients("cognito-idp").admin_list_groups_for_user,
            Username=ctx.username,
            UserPoolId=ctx.rec("user_pool")["id"],
        )
        groups = answer["Groups"] if answer else []
        return any(g["GroupName"] == ctx.names.group for g in groups)

    def discover(self, ctx: Context) -> list[Rec]:
        if not ctx.records.resource("user_pool"):
            return []
        return [{"group": ctx.names.group, "username": ctx.username}] if self._member(ctx) else []

    def declare(self, ctx: Context) -> list[Call]:
        params = {"UserPoolId": POOL, "Username": ctx.username, "GroupName": ctx.names.group}
        return [Call("cognito-idp", "AdminAddUserToGroup", params, note="the demo user is a presenter")]

    def create(self, ctx: Context) -> Rec:
        send(ctx, self.declare(ctx)[0])
        return {"group": ctx.names.group, "username": ctx.username}

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return rec.get("username") == ctx.username and self._member(ctx)
