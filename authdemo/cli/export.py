"""`authdemo export`: the stack `up` would build, as a template, a serverless.yml or a script
(issue 22). What each format holds is authdemo/export/'s; this is the command: options, where
the text goes. It reads the state file, never AWS."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import click

from ..errors import UsageError, quoted
from .base import INTERRUPTED, cli

INTERRUPTED["export"] = "Interrupted; `authdemo export` changes nothing in AWS: rerun `authdemo export`."


class _Formats(Sequence[str]):
    """export.FORMATS' names, read when click first needs them: importing the exporters (and the
    units, botocore with them) at start-up would slow every command's `--help`."""

    def _names(self) -> list[str]:
        from ..export import FORMATS

        return list(FORMATS)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


@cli.command("export")
@click.option(
    "--format",
    "format_",
    type=click.Choice(_Formats()),
    default=None,
    help="sam, cloudformation (templates), serverless (serverless.yml) or aws-cli (a bash script); required.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Write it to FILE (replaced whole, mode 0644) instead of stdout.",
)
@click.option("--stack", default="authdemo", show_default=True, envvar="AUTHDEMO_STACK", help="Stack name.")
@click.option("--region", default=None, help="AWS region (default: the stack's, else your config's).")
@click.option(
    "--state-file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="State file."
)
@click.option("--local", is_flag=True, help="The stack of the embedded AWS (<stack>.local.json).")
@click.option("--username", default=None, help="Test user (default: the stack's, else demo@example.com).")
@click.option("--issuer", default=None, metavar="URL", help="As `up --issuer`: trust this OIDC issuer.")
@click.option("--audience", "audiences", multiple=True, metavar="AUD", help="With --issuer, as `up`.")
@click.option("--callback-port", type=click.IntRange(1, 65535), default=None, help="As `up`.")
@click.option("--sign-up/--no-sign-up", "sign_up", default=None, help="As `up`.")
@click.option("--rest/--no-rest", "rest", default=None, help="As `up`: with or without the REST API.")
@click.option("--account", default=None, help="AWS account ID, when the state records none (12 digits).")
def export(format_: str | None, out: Path | None, account: str | None, **kwargs: Any) -> None:
    """Write the stack `up` builds as a SAM or CloudFormation template, a serverless.yml or an
    aws-cli script; reads the state file (the stack's options), never AWS; no secret is written.

    \b
    Examples:
      authdemo export --format sam -o template.yaml
      authdemo export --format cloudformation --no-rest > stack.yaml
      authdemo export --format serverless -o serverless.yml
      authdemo export --format aws-cli -o build.sh    # then: bash build.sh
    """
    from .. import console, paths
    from ..export import write
    from ..stack import offline_context
    from .base import _opts

    if format_ is None:
        raise UsageError(f"`authdemo export` needs --format, one of: {', '.join(_Formats())}.")
    if account is not None and not (account.isdigit() and len(account) == 12):
        raise UsageError(f"--account {quoted(account)} is not a 12-digit AWS account ID.")
    ctx, notes = offline_context(_opts(kwargs), account)
    text = write(format_, ctx)
    for note in notes:
        console.info(note)
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        paths.write_text(out, text)
    except OSError as exc:
        raise UsageError(
            f"Cannot write {out} ({exc.strerror or type(exc).__name__}); pick a file in a directory "
            "you can write, or drop -o to print it."
        ) from exc
    console.info(f"Wrote {out} ({format_}).")
