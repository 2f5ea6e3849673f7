"""`authdemo export`: the stack `up` would build, handed over as a SAM or CloudFormation template,
a serverless.yml or an aws-cli script (issue 22).

No second description of the stack: every format is a translation of the units' declared calls
(`Unit.declare`), the same declarations the executor sends, so a property cannot be right in one
and wrong in the others. Nothing here calls AWS, and no secret is ever written.
"""

from __future__ import annotations

from importlib import import_module

from ..units import Context

#: `--format` value -> the module (in this package) whose `render(ctx) -> str` writes it.
FORMATS = {
    "sam": "sam",
    "cloudformation": "cloudformation",
    "serverless": "serverless",
    "aws-cli": "awscli_script",
}


def write(format: str, ctx: Context) -> str:
    """The text of the stack `ctx` describes, in `format` (a key of FORMATS).

    `ctx` is the stack's Context as `up` would run it, with empty records
    (`stack.context(MemoryRecords({}, settings))`): its profile (issuer, audiences, rest, sign_up,
    callback_port, username), names, region and partition say what is built; no recorded ID is
    read and no AWS call is made (IDs are references, e.g. `!Ref UserPool`, `$USER_POOL_ID`). The
    caller writes the text (stdout or `-o FILE`); a format not in FORMATS raises KeyError (the CLI
    refuses it first, with click.Choice(FORMATS)).
    """
    module = import_module(f"{__name__}.{FORMATS[format]}")
    text: str = module.render(ctx)
    return text


__all__ = ["FORMATS", "write"]
