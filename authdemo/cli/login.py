"""Commands of managed login: `login` (sign in in the browser), `open` (the token page) and
`logout` (forget the kept tokens). What they do is in authdemo/login/commands.py."""

from __future__ import annotations

from typing import Any

import click

from .base import _opts, cli, common_options


def timeout_option(what: str) -> Any:
    """`--timeout S`, its help saying what the command waits for."""
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help=f"Stop after S seconds (default: {what}).",
        metavar="S",
    )


no_browser_option = click.option(
    "--no-browser", is_flag=True, help="Print the URL on stderr instead of opening a browser."
)


def _show(no_browser: bool, what: str) -> Any:
    """Opens the browser at a URL, or prints it (stderr) when asked or when no browser opens."""
    from .. import console

    def show(url: str) -> None:
        if not no_browser:
            import webbrowser

            if _graphical() and webbrowser.open(url):
                console.info(f"Opened {what} in your browser.")
                return
            console.info("No browser could be opened here.")
        console.info(f"Open {what} in a browser on this machine:")
        console.err().print(url, highlight=False, soft_wrap=True, markup=False)

    return show


def _graphical() -> bool:
    """Whether `webbrowser` would open a window: without a display it falls back to a text browser
    (lynx, w3m) that would take over this terminal, so the URL is printed instead."""
    import os
    import sys

    if sys.platform in ("darwin", "win32"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"))


@cli.command()
@common_options
@no_browser_option
@timeout_option("wait 300 s for the sign-in, then serve the page until Ctrl-C")
@click.option("--forget", is_flag=True, help="Revoke and forget the kept tokens (same as `authdemo logout`).")
def login(no_browser: bool, timeout: float | None, forget: bool, **kwargs: Any) -> None:
    """Sign in as a user does: managed login in the browser, then the token page.

    The browser comes back to http://localhost:<callback port>/callback (the port `up`
    registered, default 8400), the code is exchanged with PKCE, and that page IS the token page:
    both tokens decoded side by side and a button per route. The tokens are kept (mode 0600,
    beside the state file) for `authdemo test` and `authdemo token`, never printed.

    \b
    Examples:
      authdemo login --local
      authdemo login --no-browser --local   # prints the URL to open by hand
      authdemo login --forget --local       # same as `authdemo logout`
    """
    from .. import console
    from ..login import commands

    opts = _opts(kwargs)
    if forget:
        _logout(opts)
        return
    result = commands.login(opts, _show(no_browser, "the sign-in page"), console.info, timeout)
    if opts.output == "json":
        console.data_json(result)


@cli.command(name="open")
@common_options
@no_browser_option
@timeout_option("serve the page until Ctrl-C")
def open_(no_browser: bool, timeout: float | None, **kwargs: Any) -> None:
    """Serve the token page again from `authdemo login`'s kept tokens, until Ctrl-C.

    \b
    Examples:
      authdemo open --local
      authdemo open --no-browser --timeout 600 --local
    """
    from .. import console
    from ..login import commands

    opts = _opts(kwargs)
    result = commands.open_page(opts, _show(no_browser, "the token page"), console.info, timeout)
    if opts.output == "json":
        console.data_json({"user": result["user"]})


@cli.command()
@common_options
def logout(**kwargs: Any) -> None:
    """Revoke (at the domain's /oauth2/revoke) and forget the tokens `authdemo login` kept.

    \b
    Examples:
      authdemo logout --local
    """
    _logout(_opts(kwargs))


def _logout(opts: Any) -> None:
    from .. import console
    from ..login import commands

    result = commands.logout(opts)
    if opts.output == "json":
        console.data_json(result)
    elif result["forgotten"]:
        console.info(f"Forgot the tokens of `authdemo login` ({result['revoked']}).")
    else:
        console.info("No tokens of `authdemo login` were kept; nothing to forget.")
