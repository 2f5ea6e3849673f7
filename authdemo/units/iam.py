"""IAM: each function's role (the demo function's, the Lambda authorizer's), and its one
inline policy (write its own logs, nothing else).

Roles cannot be found through the tagging API: each stack's role lives under its own IAM
path (`/authdemo/<stack>/`), and a role of the same name on another path is never touched.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

from ..aws import DENIED, get
from ..errors import AuthdemoError, NotFound
from .base import Context, Rec, Unit
from .declare import Call, Join, Pseudo, Ref, arn, resolve, send


def policy_document(statement: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statement})


class Role(Unit):
    """The demo function's role; `AuthorizerRole` is the same for the authorizer's function."""

    key = "role"
    policy_key = "role_policy"  # the one inline policy authdemo gives it
    purpose = "runs the demo function"
    named = True
    label = "IAM role"
    id_field = "name"
    regional = False
    priority = 10  # its propagation is the longest wait of `up`: start the clock first
    # CreateRole starts the propagation clock: a GetRole in front of it would lengthen `up`.
    create_conflict = "EntityAlreadyExists"

    def name(self, ctx: Context) -> str:
        return ctx.names.role

    def discover(self, ctx: Context) -> list[Rec]:
        answer = get(ctx.clients("iam").get_role, RoleName=self.name(ctx))
        if answer is None:
            return []
        role = answer["Role"]
        if role.get("Path") != ctx.names.role_path:
            return []  # same name, not ours: never touch it
        return [{"name": role["RoleName"], "arn": role["Arn"]}]

    def taken(self, ctx: Context) -> AuthdemoError:
        return AuthdemoError(
            f"An IAM role named {self.name(ctx)} already exists but is not authdemo's "
            f"(its path is not {ctx.names.role_path}); choose another --stack."
        )

    def declare(self, ctx: Context) -> list[Call]:
        trust = policy_document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
        )
        params = {
            "RoleName": self.name(ctx),
            "Path": ctx.names.role_path,
            "AssumeRolePolicyDocument": trust,
            "Description": f"authdemo stack {ctx.names.stack}: {self.purpose}",
            "Tags": [{"Key": k, "Value": v} for k, v in ctx.tags.items()],
        }
        returns = {"name": "Role.RoleName", "arn": "Role.Arn"}
        return [Call("iam", "CreateRole", params, returns, note=f"it {self.purpose}")]

    def create(self, ctx: Context) -> Rec:
        call = self.declare(ctx)[0]
        role = send(ctx, call)["Role"]
        return {"name": role["RoleName"], "arn": role["Arn"], "created_at": time.time()}

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return bool(self.discover(ctx))

    prepare_label = "role policies"

    def prepare_teardown(self, ctx: Context) -> bool:
        """Empty the role(s) at the start of `down`, while the API and function are deleted, so
        the final DeleteRole is one call. Returns whether there was a role.

        A recorded role holds the one policy authdemo gave it: delete that by name (one call);
        anything else attached by hand makes DeleteRole answer DeleteConflict, and `delete`
        then empties the role fully."""
        rec = ctx.records.resource(self.key)
        if rec:
            policy = ctx.records.resource(self.policy_key)
            if policy:
                iam = ctx.clients("iam")
                with contextlib.suppress(NotFound), _gone_if_denied(ctx, rec["name"]):
                    iam.delete_role_policy(RoleName=rec["name"], PolicyName=policy["name"])
            return True
        targets = {r["name"] for r in self.teardown_targets(ctx)}
        for name in targets:
            self._empty(ctx, name)
        return bool(targets)

    def _empty(self, ctx: Context, name: str) -> None:
        iam = ctx.clients("iam")
        policies = get(iam.list_role_policies, RoleName=name)
        attached = policies and get(iam.list_attached_role_policies, RoleName=name)
        if not policies or not attached:
            return  # the role is already gone
        for policy in policies["PolicyNames"]:
            get(iam.delete_role_policy, RoleName=name, PolicyName=policy)
        for item in attached["AttachedPolicies"]:
            get(iam.detach_role_policy, RoleName=name, PolicyArn=item["PolicyArn"])

    def delete(self, ctx: Context, rec: Rec) -> None:
        """IAM answers DeleteConflict while a role has policies: empty it, then delete."""
        iam = ctx.clients("iam")
        try:
            with _gone_if_denied(ctx, rec["name"]):
                iam.delete_role(RoleName=rec["name"])
        except NotFound:
            raise
        except AuthdemoError as exc:
            if exc.aws_code != "DeleteConflict":
                raise
            self._empty(ctx, rec["name"])
            iam.delete_role(RoleName=rec["name"])


def _merged(parts: list[str | Ref | Pseudo]) -> list[str | Ref | Pseudo]:
    """Adjacent texts as one, empty texts dropped."""
    out: list[str | Ref | Pseudo] = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        elif part != "":
            out.append(part)
    return out


@contextlib.contextmanager
def _gone_if_denied(ctx: Context, name: str) -> Iterator[None]:
    """A change of a role that is gone is denied, not answered NoSuchEntity, under a policy scoped
    to the stack's IAM path (`authdemo policy`): IAM matches the role's ARN, and one that does not
    exist has no path (docs/aws-notes.md, issue 19). Denied: GetRole, which that policy allows on
    the path-less ARN, tells whether the role is there; gone raises NotFound (done), else the
    denial stands."""
    try:
        yield
    except AuthdemoError as exc:
        if exc.aws_code not in DENIED or get(ctx.clients("iam").get_role, RoleName=name) is not None:
            raise
        raise NotFound(f"IAM role {name} is already gone") from exc


class AuthorizerRole(Role):
    cognito = True
    key = "authorizer_role"
    policy_key = "authorizer_role_policy"
    purpose = "runs the Lambda authorizer"
    label = "IAM role (authorizer)"
    priority = 9  # right after the demo function's role (both before anything else)
    prepare_label = "role policies (authorizer)"

    def name(self, ctx: Context) -> str:
        return ctx.names.authorizer_role


class RolePolicy(Unit):
    """Least privilege: the function may write to its own log group, nothing else."""

    key = "role_policy"
    label = "role policy (own logs only)"
    needs = ("role",)
    parent = "role"
    id_field = "name"
    regional = False

    def role_name(self, ctx: Context) -> str:
        return ctx.names.role

    def log_group(self, ctx: Context) -> str:
        return ctx.names.log_group

    def document(self, ctx: Context) -> str:
        """The policy as PutRolePolicy sends it."""
        return str(resolve(self.policy(ctx), ctx))

    def policy(self, ctx: Context) -> Join:
        """The policy as JSON, the log group's ARN in it made of the stack's place (a Join)."""
        marker = "@LOG_GROUP_ARN@"
        text = policy_document(
            [
                {
                    "Sid": "WriteOwnLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": [f"{marker}:*", f"{marker}:log-stream:*"],
                }
            ]
        )
        group = arn("logs", f"log-group:{self.log_group(ctx)}").parts
        parts: list[str | Ref | Pseudo] = []
        for i, piece in enumerate(text.split(marker)):
            parts += [*group, piece] if i else [piece]
        return Join(tuple(_merged(parts)))

    def discover(self, ctx: Context) -> list[Rec]:
        iam = ctx.clients("iam")
        if get(iam.get_role_policy, RoleName=self.role_name(ctx), PolicyName=ctx.names.role_policy) is None:
            return []
        return [{"name": ctx.names.role_policy}]

    def declare(self, ctx: Context) -> list[Call]:
        params = {
            "RoleName": Ref(self.parent or "role", "name"),
            "PolicyName": ctx.names.role_policy,
            "PolicyDocument": self.policy(ctx),
        }
        return [Call("iam", "PutRolePolicy", params, note="write its own logs, nothing else")]

    def create(self, ctx: Context) -> Rec:
        send(ctx, self.declare(ctx)[0])
        return {"name": ctx.names.role_policy}

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return bool(self.discover(ctx))


class AuthorizerRolePolicy(RolePolicy):
    """The authorizer's role writes its own logs only: GetUser needs no IAM permission (Cognito
    authorizes it with the access token itself)."""

    cognito = True

    key = "authorizer_role_policy"
    label = "role policy (authorizer: own logs only)"
    needs = ("authorizer_role",)
    parent = "authorizer_role"

    def role_name(self, ctx: Context) -> str:
        return ctx.names.authorizer_role

    def log_group(self, ctx: Context) -> str:
        return ctx.names.authorizer_log_group
