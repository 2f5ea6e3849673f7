"""`authdemo export --format cloudformation`: the stack in plain `AWS::*` types (issue 22)."""

from __future__ import annotations

from ..units import Context
from . import yaml
from .template import build


def header(ctx: Context, what: str, deploy: str) -> str:
    return (
        f"# authdemo stack {ctx.names.stack} ({ctx.region}) as {what},\n"
        "# from the declarations `authdemo up` runs.\n"
        f"# Deploy: {deploy}\n"
        "# No secret is written here: Cognito generates the M2M client's secret; the users' passwords are\n"
        "# set after the deploy by the commands in the outputs After* (they read $AUTHDEMO_PASSWORD...).\n"
    )


def render(ctx: Context) -> str:
    deploy = (
        f"aws cloudformation deploy --template-file authdemo.yaml --stack-name authdemo-{ctx.names.stack} "
        "--capabilities CAPABILITY_NAMED_IAM"
    )
    return yaml.dump(build(ctx).document(), header(ctx, "a CloudFormation template", deploy))
