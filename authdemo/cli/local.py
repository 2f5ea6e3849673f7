"""`authdemo local ...`: the embedded AWS in the background (start, status, stop, env), its inbox."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..errors import AuthdemoError, ExitCode
from .base import cli, output_option, port_option


@cli.group()
def local() -> None:
    """The embedded AWS on 127.0.0.1 that --local uses (moto + a JWT-enforcing gateway).

    \b
    Examples:
      authdemo local start        # runs until `authdemo local stop`
      eval "$(authdemo local env)"
    """


def _server_doc(info: Any) -> dict[str, Any]:
    return {
        "running": True,
        "url": info.url,
        "port": info.port,
        "pid": info.pid,
        "started_by": info.started_by,
    }


@local.command("start")
@port_option
@output_option
def local_start(port: int | None, output: str) -> None:
    """Start the embedded AWS in the background; it runs until `authdemo local stop`.

    Already running: without --port, that one is shown; on another --port, exit 2.

    \b
    Examples:
      authdemo local start
      authdemo local start --port 4600 --output json
    """
    from .. import console
    from ..local import daemon

    info = daemon.ensure(daemon.DEFAULT_PORT, "start") if port is None else daemon.start(port, "start")
    if output == "json":
        console.data_json(_server_doc(info))
        return
    console.info(f"Embedded AWS running at {info.url} (pid {info.pid}); stop it with `authdemo local stop`.")
    click.echo(info.url)


@local.command("status")
@port_option
@output_option
def local_status(port: int | None, output: str) -> None:
    """Say whether the embedded AWS runs, and where (with --port: whether it runs on that port).

    Exit status 0 when it runs, 8 when it does not.

    \b
    Examples:
      authdemo local status
      authdemo local status --output json | jq -r .url
    """
    from .. import console
    from ..local import daemon

    info = daemon.status()
    if info is not None and port is not None and info.port != port:
        message = f"The embedded AWS runs on port {info.port}, not {port}."
        info = None
    elif info is None:
        message = "The embedded AWS is not running; `authdemo local start` starts it."
    if output == "json":
        console.data_json(_server_doc(info) if info else {"running": False})
    elif info is not None:
        click.echo(f"running at {info.url} (pid {info.pid}, started by `{info.started_by}`)")
    else:
        console.info(message)
    if info is None:
        sys.exit(int(ExitCode.NOT_FOUND))


@local.command("stop")
@port_option
@output_option
def local_stop(port: int | None, output: str) -> None:
    """Stop the embedded AWS (everything in it is forgotten); with --port, only the one on that port.

    \b
    Examples:
      authdemo local stop
      authdemo local stop --port 4600
    """
    from .. import app, console
    from ..local import daemon

    running = daemon.status()
    if port is not None and running is not None and running.port != port:
        raise AuthdemoError(
            f"The embedded AWS runs on port {running.port}, not {port}: drop --port (or use "
            f"--port {running.port}) to stop it.",
            ExitCode.USAGE,
        )
    stacks = app.local_stacks()
    if stacks and running is not None:
        console.info(
            f"Stacks recorded in the embedded AWS: {', '.join(stacks)}; their resources go with it; "
            "`authdemo up --local` recreates them."
        )
    stopped = daemon.stop()
    if output == "json":
        console.data_json({"stopped": stopped, "stacks": stacks if running is not None else []})
    else:
        console.info("Stopped the embedded AWS." if stopped else "The embedded AWS was not running.")


@local.command("env")
@port_option
@output_option
def local_env(port: int | None, output: str) -> None:
    """Print the environment that points the `aws` CLI at the running embedded AWS.

    \b
    Examples:
      eval "$(authdemo local env)"
      aws cognito-idp list-user-pools --max-results 10
    """
    import shlex

    from ..errors import NotDeployedError
    from ..local import daemon

    info = daemon.status()
    if info is None:
        raise NotDeployedError("The embedded AWS is not running; start it with `authdemo local start`.")
    if port is not None and info.port != port:
        raise AuthdemoError(
            f"The embedded AWS runs on port {info.port}, not {port}: "
            f"drop --port (or use --port {info.port}).",
            ExitCode.USAGE,
        )
    keys = daemon.server_credentials(info)
    region = "us-west-2"
    env = {
        "AWS_ENDPOINT_URL": info.url,
        "AWS_ACCESS_KEY_ID": keys.access_key,
        "AWS_SECRET_ACCESS_KEY": keys.secret_key,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    if output == "json":
        from .. import console

        console.data_json(env)
        return
    click.echo("export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()))


@local.command("inbox")
@click.option("--code", "only_code", is_flag=True, help="Print only the newest code that has not expired.")
@output_option
def local_inbox(only_code: bool, output: str) -> None:
    """Print the codes the embedded Cognito "emailed" (sign-up, password reset): only you can read them.

    \b
    Examples:
      authdemo local inbox
      CODE=$(authdemo local inbox --code)
    """
    from datetime import datetime, timezone

    from .. import console
    from ..errors import NotDeployedError
    from ..local import inbox

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    messages = [{**m, "expired": str(m.get("expires") or "") <= now} for m in inbox.read()]
    if only_code:
        live = [m for m in messages if not m["expired"]]
        if not live:
            raise NotDeployedError(
                'No unexpired code in the inbox: sign up or choose "Forgot your password?" on the '
                "sign-in page first (`authdemo login --local`)."
            )
        click.echo(str(live[-1]["code"]))
        return
    if output == "json":
        console.data_json({"inbox": str(inbox.inbox_file()), "messages": messages})
        return
    if not messages:
        console.info(
            f"The inbox ({inbox.inbox_file()}) is empty: codes arrive when someone signs up "
            "or resets a password."
        )
        return
    for m in messages:
        state = "expired" if m["expired"] else f"until {m.get('expires')}"
        click.echo(
            f"{m.get('at')}  to {m.get('to')}  {m.get('subject')}: {m.get('code')}  "
            f"({m.get('user_pool')}, user {m.get('username')}, {state})"
        )


ISSUER_FIELDS = ("url", "audience", "client_id", "client_secret", "token_endpoint", "jwks_uri")


@local.command("issuer")
@port_option
@output_option
@click.option(
    "--audience",
    default=None,
    metavar="AUD",
    help="The audience of the token and of the printed commands (default https://api.authdemo.test).",
)
@click.option("--scope", default="", help="With --token: the scopes to ask for (space-separated).")
@click.option("--token", "want_token", is_flag=True, help="Print an access token (client credentials).")
@click.option("--field", type=click.Choice(ISSUER_FIELDS), default=None, help="Print only this value.")
@click.option("--show-secret", is_flag=True, help="Include the client secret.")
def local_issuer(
    port: int | None,
    output: str,
    audience: str | None,
    scope: str,
    want_token: bool,
    field: str | None,
    show_secret: bool,
) -> None:
    """The embedded AWS's own OIDC issuer (Auth0-like, URL ending in "/"), for `up --issuer`.

    Starts the embedded AWS if it is not running (`authdemo down --local` stops it again once
    no stack remains). Prints the issuer URL, audience and client ID, and the commands that use
    them; `--token` prints an access token from its client-credentials endpoint.

    \b
    Examples:
      authdemo up --local --stack auth0 \\
        --issuer "$(authdemo local issuer --field url)" \\
        --audience https://api.authdemo.test
      authdemo test --local --stack auth0 --token-command \\
        "authdemo local issuer --token --audience https://api.authdemo.test"
    """
    from .. import console
    from ..local.issuer_client import issuer_info, request_token

    if want_token and (field or show_secret):
        raise AuthdemoError("--token prints the token alone: drop --field/--show-secret.", ExitCode.USAGE)
    info = issuer_info(port, audience)
    if want_token:
        token = request_token(info, scope)
        if output == "json":
            console.data_json({"access_token": token, "audience": info["audience"]})
        else:
            click.echo(token)
        return
    if field:
        value = info[field]
        if output == "json":
            console.data_json({field: value})
        else:
            click.echo(value)
        return
    shown = {k: v for k, v in info.items() if k != "client_secret" or show_secret}
    if output == "json":
        console.data_json(shown)
        return
    for key in ("url", "audience", "client_id", "client_secret", "token_endpoint"):
        if key in shown:
            console.out().print(f"{key}: {shown[key]}", highlight=False, soft_wrap=True)
    from .base import _print_commands

    _print_commands(info["commands"])
