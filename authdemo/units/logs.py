"""CloudWatch Logs: each function's log group, created by us so Lambda never makes an untagged one.

It outlives DeleteFunction on AWS, so `down` deletes it explicitly.
"""

from __future__ import annotations

from ..aws import get
from ..errors import AuthdemoError
from .base import TAG_KEY, Context, Rec, Unit
from .declare import Call, send

LOG_RETENTION_DAYS = 1


class LogGroup(Unit):
    key = "log_group"
    named = True
    label = "log group"
    id_field = "name"

    def name(self, ctx: Context) -> str:
        return ctx.names.log_group

    def _named(self, ctx: Context) -> list[Rec]:
        logs = ctx.clients("logs")
        groups = logs.describe_log_groups(logGroupNamePrefix=self.name(ctx))["logGroups"]
        return [g for g in groups if g["logGroupName"] == self.name(ctx)]

    def discover(self, ctx: Context) -> list[Rec]:
        """Only a group with the stack's tag: one of the same name may belong to a foreign
        function of that name (Lambda makes it untagged), and must never be swept."""
        found = []
        for group in self._named(ctx):
            arn = group.get("logGroupArn") or str(group["arn"]).removesuffix(":*")
            answer = get(ctx.clients("logs").list_tags_for_resource, resourceArn=arn)
            if answer and answer.get("tags", {}).get(TAG_KEY) == ctx.names.stack:
                found.append({"name": group["logGroupName"]})
        return found

    def declare(self, ctx: Context) -> list[Call]:
        name = self.name(ctx)
        return [
            Call(
                "logs",
                "CreateLogGroup",
                {"logGroupName": name, "tags": ctx.tags},
                note="tagged, made before Lambda would",
            ),
            Call(
                "logs",
                "PutRetentionPolicy",
                {"logGroupName": name, "retentionInDays": LOG_RETENTION_DAYS},
                note="a demo's logs vanish by themselves",
            ),
        ]

    def create(self, ctx: Context) -> Rec:
        try:
            send(ctx, self.declare(ctx)[0])
        except AuthdemoError as exc:
            if exc.aws_code != "ResourceAlreadyExistsException":
                raise
        return {"name": self.name(ctx)}

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """1-day retention: logs of a demo cost nothing and vanish by themselves."""
        if self.key not in ctx.fresh:
            return None  # kept or adopted: it was set when the group was made
        send(ctx, self.declare(ctx)[1])
        return None

    def exists(self, ctx: Context, rec: Rec) -> bool:
        return bool(self._named(ctx))  # recorded: ours, tagged or not

    def delete(self, ctx: Context, rec: Rec) -> None:
        ctx.clients("logs").delete_log_group(logGroupName=rec["name"])


class AuthorizerLogGroup(LogGroup):
    cognito = True
    key = "authorizer_log_group"
    label = "log group (authorizer)"

    def name(self, ctx: Context) -> str:
        return ctx.names.authorizer_log_group
