"""Cognito for OAuth (issue 11): the user pool's domain (managed login and the token endpoint),
the resource server `authdemo` with its scope `authdemo/read`, and the confidential client that
gets that scope with the client-credentials grant. All three live inside the user pool: none
takes tags (the pool's tag covers them), and `DeleteUserPool` takes the server and the client
with it; the domain must go first (UserPool.delete does that).

The user app client's OAuth settings (authorization code + PKCE, loopback callback) are in
`OAUTH_SETTINGS` below and used by cognito.AppClient.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from ..aws import AwsClient, get
from ..errors import AuthdemoError, NotFound, UnreachableError
from . import base
from .base import Context, Rec, Unit
from .declare import Call, Ref, returned, send

#: The custom scope the `/m2m` route wants and the machine client is allowed.
M2M_SCOPE = "authdemo/read"
#: What the user app client may ask for at /oauth2/authorize (the access token's own scope too):
#: our choice among Cognito's reserved scopes, which are in its docs, not in botocore's model.
USER_SCOPES = ("openid", "email", "profile", "aws.cognito.signin.user.admin")
#: A prefix domain may not contain these words (Cognito refuses it; a rule of the service, stated
#: in its errors and docs, that botocore's model does not carry).
RESERVED = ("aws", "amazon", "cognito")
#: Version 1: the classic hosted UI, which works at once; version 2 ("managed login") shows an
#: error page until a branding style exists for each app client (docs/aws-notes.md, issue 11).
MANAGED_LOGIN_VERSION = 1
#: A domain being deleted keeps its prefix (DescribeUserPoolDomain: Status DELETING) and its pool
#: undeletable for a while: `down` and `up` wait for it, this long at most (docs/aws-notes.md).
DOMAIN_WAIT_SECONDS = 120.0


def domain_prefix(stack: str, account: str, region: str) -> str:
    """`authdemo-<stack>-<8 hex>`: the same for a stack in one account and region, different
    across accounts (prefixes are global per region), and valid: lowercase letters, digits and
    hyphens, at most 63 characters, none of the reserved words."""
    digest = hashlib.sha256(f"{account}:{region}:{stack}".encode()).hexdigest()[:8]
    name = re.sub(r"[^a-z0-9-]", "-", stack.lower())
    for word in RESERVED:
        name = name.replace(word, word[0] + "-" + word[1:])  # "aws" -> "a-ws"
    prefix = f"authdemo-{name}"[:54].rstrip("-")
    return f"{prefix}-{digest}"


def domain_url(ctx: Context, prefix: str) -> str:
    """The managed-login base URL: on AWS `https://<prefix>.auth.<region>.amazoncognito.com`;
    on our own embedded AWS (`--local`), `<endpoint>/_aws/cognito/<prefix>`."""
    endpoint = ctx.clients.target.endpoint_url
    if endpoint:
        return f"{endpoint.rstrip('/')}/_aws/cognito/{prefix}"
    return f"https://{prefix}.auth.{ctx.region}.amazoncognito.com"


def domain_rec(ctx: Context, prefix: str, pool_id: str) -> Rec:
    """What the state records of the domain. Behind an `--endpoint-url` we did not start, its
    URL is not assumed: the pool's discovery document says where the endpoints are (recorded),
    or why there are none (`login`: one sentence; `test` and `login` discover again)."""
    target = ctx.clients.target
    if not target.endpoint_url or target.local:
        return {"id": prefix, "url": domain_url(ctx, prefix)}
    from ..managed_login import NoManagedLogin, discover

    try:
        found = discover(target.endpoint_url, pool_id)
    except NoManagedLogin as exc:
        return {"id": prefix, "url": None, "login": exc.message}
    return {"id": prefix, "url": found.base, "endpoints": found.record()}


def oauth_settings(ctx: Context) -> dict[str, Any]:
    """The user app client's OAuth settings: authorization code (with PKCE) to a loopback URL."""
    base = f"http://localhost:{ctx.callback_port}"
    return {
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": list(USER_SCOPES),
        "SupportedIdentityProviders": ["COGNITO"],
        "CallbackURLs": [f"{base}/callback"],
        "LogoutURLs": [f"{base}/signed-out"],
    }


def changing(cognito: AwsClient) -> frozenset[str]:
    """The domain statuses of a change under way: DomainStatusType's -ING values in botocore's
    model (CREATING, DELETING, UPDATING today), read at run time, never a copy of ours."""
    enum = cognito.shape("DescribeUserPoolDomain", "DomainDescription", "Status", output=True).enum
    return frozenset(value for value in enum if value.endswith("ING"))


def settled(ctx: Context, key: str, prefix: str, pool_id: str | None = None) -> bool:
    """Wait while a change of the prefix's domain is under way (`pool_id`: while it is that
    pool's), polling with a short backoff for DOMAIN_WAIT_SECONDS at most. Whether it waited."""
    cognito = ctx.clients("cognito-idp")
    deadline = time.monotonic() + DOMAIN_WAIT_SECONDS
    delay, waited = 0.5, False
    while True:
        found = cognito.describe_user_pool_domain(Domain=prefix).get("DomainDescription") or {}
        status = found.get("Status")
        if status not in changing(cognito) or (pool_id and found.get("UserPoolId") != pool_id):
            return waited
        if time.monotonic() + delay > deadline:
            raise UnreachableError(
                f"The user pool domain {prefix!r} is still {status} after {DOMAIN_WAIT_SECONDS:.0f} s; "
                "Cognito is slow today: run the same command again in a minute."
            )
        ctx.notify(key, f"waiting for the domain {prefix} to finish {status}")
        base.sleep(delay)
        delay, waited = min(delay * 1.5, 5.0), True


class Domain(Unit):
    """The pool's prefix domain; its ID is the prefix, its `url` the managed-login base URL."""

    cognito = True
    key = "domain"
    label = "user pool domain (managed login)"
    needs = ("user_pool",)
    parent = "user_pool"

    def prefix(self, ctx: Context) -> str:
        return domain_prefix(ctx.names.stack, ctx.account(), ctx.region)

    def _owner(self, ctx: Context, prefix: str) -> str | None:
        """The ID of the pool the prefix belongs to (None: nobody's)."""
        answer = ctx.clients("cognito-idp").describe_user_pool_domain(Domain=prefix)
        return (answer.get("DomainDescription") or {}).get("UserPoolId") or None

    def discover(self, ctx: Context) -> list[Rec]:
        pool = ctx.records.resource("user_pool")
        if not pool:
            return []
        prefix = self.prefix(ctx)
        if self._owner(ctx, prefix) != pool["id"]:
            return []
        return [domain_rec(ctx, prefix, pool["id"])]

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "Domain": self.prefix(ctx),
            "UserPoolId": Ref("user_pool"),
            "ManagedLoginVersion": MANAGED_LOGIN_VERSION,
        }
        note = "managed login and the token endpoint; the prefix is a digest of account, region and stack"
        return [Call("cognito-idp", "CreateUserPoolDomain", params, note=note)]

    def create(self, ctx: Context) -> Rec:
        """A prefix refused as taken may be one whose domain is being deleted (an `up` right
        after `down`): wait until that is over, then ask once more."""
        call = self.declare(ctx)[0]
        prefix = self.prefix(ctx)
        pool_id = ctx.rec("user_pool")["id"]
        for last in (False, True):
            try:
                send(ctx, call)
                break
            except AuthdemoError as exc:
                refused = self._refused(ctx, exc, prefix, pool_id)
                if last or not _taken(exc) or not settled(ctx, self.key, prefix):
                    raise refused from exc
        return domain_rec(ctx, prefix, pool_id)

    def _refused(self, ctx: Context, exc: AuthdemoError, prefix: str, pool_id: str) -> AuthdemoError:
        """Cognito's two refusals, each as one sentence with its fix."""
        said = exc.aws_message.lower()
        if exc.aws_code != "InvalidParameterException":
            return exc
        if _taken(exc):
            error = AuthdemoError(
                f"The domain prefix {prefix!r} is taken by another user pool (prefixes are unique "
                "in a region across all accounts); choose another --stack, or delete that pool's domain."
            )
        elif "already has a domain" in said:
            flags = f"--user-pool-id {pool_id} --region {ctx.region}"
            error = AuthdemoError(
                f"User pool {pool_id} already has another domain; remove it with `aws cognito-idp "
                f"describe-user-pool {flags}` (its Domain) and `aws cognito-idp delete-user-pool-domain "
                f"--domain <Domain> {flags}`, then rerun `authdemo up`."
            )
        else:
            return exc
        error.aws_code, error.aws_message = exc.aws_code, exc.aws_message
        return error

    def exists(self, ctx: Context, rec: Rec) -> bool:
        pool = ctx.records.resource("user_pool")
        return pool is not None and self._owner(ctx, rec["id"]) == pool["id"]


def _taken(exc: AuthdemoError) -> bool:
    """Cognito's "that prefix is another pool's" (or a domain of ours it is still deleting)."""
    said = exc.aws_message.lower()
    taken = "another user pool" in said or "already exists" in said
    return exc.aws_code == "InvalidParameterException" and taken


class ResourceServer(Unit):
    """Identifier `authdemo`, one scope `read`: access tokens can carry `authdemo/read`."""

    cognito = True
    key = "resource_server"
    label = "resource server authdemo (scope authdemo/read)"
    needs = ("user_pool",)
    parent = "user_pool"

    def _get(self, ctx: Context) -> Rec | None:
        return get(
            ctx.clients("cognito-idp").describe_resource_server,
            UserPoolId=ctx.rec("user_pool")["id"],
            Identifier=ctx.names.resource_server,
        )

    def discover(self, ctx: Context) -> list[Rec]:
        if not ctx.records.resource("user_pool"):
            return []
        return [{"id": ctx.names.resource_server}] if self._get(ctx) else []

    def declare(self, ctx: Context) -> list[Call]:
        scope = M2M_SCOPE.partition("/")[2]
        params = {
            "UserPoolId": Ref("user_pool"),
            "Identifier": ctx.names.resource_server,
            "Name": f"authdemo stack {ctx.names.stack}",
            "Scopes": [{"ScopeName": scope, "ScopeDescription": "call GET /m2m"}],
        }
        returns = {"id": "ResourceServer.Identifier"}
        return [Call("cognito-idp", "CreateResourceServer", params, returns, note=f"the scope {M2M_SCOPE}")]

    def create(self, ctx: Context) -> Rec:
        send(ctx, self.declare(ctx)[0])
        return {"id": ctx.names.resource_server}

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return self._get(ctx) is not None


class PoolClient(Unit):
    """An app client of the stack's pool, found by its name (AppClient, M2MClient)."""

    parent = "user_pool"

    def client_name(self, ctx: Context) -> str:
        raise NotImplementedError

    def discover(self, ctx: Context) -> list[Rec]:
        pool = ctx.records.resource("user_pool")
        if not pool:
            return []
        try:
            pages = ctx.clients("cognito-idp").pages(
                "list_user_pool_clients", UserPoolId=pool["id"], MaxResults=60
            )
            return [
                {"id": c["ClientId"]}
                for page in pages
                for c in page["UserPoolClients"]
                if c["ClientName"] == self.client_name(ctx)
            ]
        except NotFound:
            return []

    def describe_client(self, ctx: Context, rec: Rec) -> Rec | None:
        answer = get(
            ctx.clients("cognito-idp").describe_user_pool_client,
            UserPoolId=ctx.rec("user_pool")["id"],
            ClientId=rec["id"],
        )
        return answer["UserPoolClient"] if answer else None

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return self.describe_client(ctx, rec) is not None


class M2MClient(PoolClient):
    """A confidential client (with a secret) allowed only client credentials for `authdemo/read`.
    Only its ID is recorded: the secret is read with DescribeUserPoolClient when needed."""

    cognito = True
    key = "m2m_client"
    label = "machine-to-machine client"
    needs = ("user_pool", "resource_server")  # Cognito checks the scope names a resource server's

    def client_name(self, ctx: Context) -> str:
        return ctx.names.m2m_client

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "UserPoolId": Ref("user_pool"),
            "ClientName": ctx.names.m2m_client,
            "GenerateSecret": True,
            "AllowedOAuthFlows": ["client_credentials"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthScopes": [M2M_SCOPE],
            "PreventUserExistenceErrors": "ENABLED",
        }
        returns = {"id": "UserPoolClient.ClientId"}  # never the ClientSecret
        note = "a confidential client: Cognito generates its secret"
        return [Call("cognito-idp", "CreateUserPoolClient", params, returns, note=note)]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        return returned(call, send(ctx, call))
