"""What `authdemo login`, `open` and `logout` do (the click layer in cli/login.py prints).

`login` opens the stack, starts the page server on the recorded callback port, sends the browser
to managed login, waits for the redirect, keeps the tokens (store.py) and then serves the token
page until Ctrl-C (or the timeout). `open` serves the page again from the kept tokens (refreshing
them at the token endpoint when they expired), `logout` revokes and forgets them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import oauth
from ..errors import AuthdemoError, NotDeployedError
from ..managed_login import Endpoints, of_stack
from ..stack import Options, Stack, cli_flags, open_stack, require, require_server
from . import store
from .flow import DEFAULT_CALLBACK_PORT, LoginFlow
from .server import PageServer

#: Waiting for the sign-in, when no --timeout is given.
DEFAULT_SIGN_IN_WAIT = 300.0


def login_settings(stack: Stack) -> tuple[Endpoints, str, int]:
    """(managed login endpoints, app client ID, callback port) from the state, or one sentence."""
    store = require(stack, "app_client")
    if not store.resource("domain"):
        raise NotDeployedError(
            f"Stack {stack.opts.stack!r} has no managed login domain (it was made before `authdemo login` "
            f"existed); run `authdemo up{cli_flags(stack.opts)}` to add it, then `authdemo login`."
        )
    port = int(store.get("callback_port") or DEFAULT_CALLBACK_PORT)
    client = store.resource("app_client") or {}
    return of_stack(stack.clients, store), str(client["id"]), port


def no_branding_fix(stack: Stack, client_id: str) -> str:
    """What to do when managed login (version 2) has no branding style for the app client: assign
    Cognito's default style, or put the domain back on the classic hosted UI (what `up` creates)."""
    store = stack.store
    pool = str(((store.resource("user_pool") if store else None) or {}).get("id") or "<pool id>")
    prefix = str(((store.resource("domain") if store else None) or {}).get("id") or "<domain>")
    import shlex

    flags = f" --region {shlex.quote(stack.region)}"
    if stack.target.endpoint_url:
        flags += f" --endpoint-url {shlex.quote(stack.target.endpoint_url)}"
    if stack.opts.profile:
        flags += f" --profile {shlex.quote(stack.opts.profile)}"
    return (
        f"a domain on managed login version 2 needs a branding style for each app client: run `aws "
        f"cognito-idp create-managed-login-branding --user-pool-id {pool} --client-id {client_id} "
        f"--use-cognito-provided-values{flags}` (or put the domain back on the classic hosted UI, as "
        f"`authdemo up` creates it: `aws cognito-idp update-user-pool-domain --domain {prefix} "
        f"--user-pool-id {pool} --managed-login-version 1{flags}`), then `authdemo login`"
    )


def _routes(stack: Stack) -> dict[str, str]:
    """The page's doors: the HTTP API's, and the REST API's (issue 21) under the matrix's names."""
    from ..expectations import REST_DOORS
    from ..show import summary

    info = summary(stack)
    rest = info.get("rest_routes") or {}
    return {**(info["routes"] or {}), **{k: rest[v] for k, v in REST_DOORS.items() if v in rest}}


def login(
    opts: Options,
    show_url: Callable[[str], None],
    on_event: Callable[[str], None],
    timeout: float | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Sign in through managed login; returns who signed in and where the tokens are kept.

    `show_url` opens the browser at the sign-in URL (or prints it); `stop` ends the page serving
    (tests; Ctrl-C does it for a person). `timeout`: the whole command's limit (default: 300 s
    for the sign-in, then the page until Ctrl-C)."""
    with open_stack(opts, "login", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        base, client_id, port = login_settings(stack)
        routes = _routes(stack)
        path = stack.path
        username = stack.store.get("username") if stack.store else None
        sign_up = bool(stack.store.get("sign_up")) if stack.store else False
        fix = no_branding_fix(stack, client_id)
    note = (
        f", and Cognito sends the sign-in back only to http://localhost:{port}/callback (pick another "
        f"port with `authdemo up --callback-port N{cli_flags(opts)}`, then `authdemo login`)"
    )
    server = PageServer(port, routes, f"authdemo login: stack {opts.stack}", note, localhost=True)
    kept: dict[str, Any] = {}

    def keep(answer: dict[str, Any]) -> str:
        kept.update(store.save(path, client_id, answer))
        server.set_tokens({"id": answer["id_token"], "access": answer["access_token"]})
        return f"/{server.secret}/"

    strays: list[int] = []

    def stray() -> None:
        if not strays:  # said once: any web page can send many
            on_event(
                f"A request to http://localhost:{port}/callback without this login's state was ignored "
                "(a stale tab, or another web page); still waiting for the sign-in."
            )
        strays.append(1)

    flow = LoginFlow(base, client_id, port, keep, on_stray=stray)
    # A domain not online yet, or an error page, is one sentence, not a browser's error page.
    oauth.check_sign_in_page(flow.url, flow.redirect_uri, fix)
    server.on_callback = flow.handle
    started = time.monotonic()
    server.start()
    try:
        # Whom to sign in as, and where the password is: never the password itself.
        on_event(f"Sign in as {username}; the password: `authdemo status --field password{cli_flags(opts)}`")
        if opts.local:  # the embedded AWS's codes: only its owner's inbox has them
            what = "sign up or reset a password" if sign_up else "reset a password"
            on_event(f"To {what} there, read the code it sends with `authdemo local inbox`.")
        show_url(flow.url)
        # Ctrl-C while waiting: the `login` sentence of cli/base.py's INTERRUPTED (nothing was kept).
        flow.wait(timeout if timeout is not None else DEFAULT_SIGN_IN_WAIT)
        on_event(
            f"Signed in as {kept['username']}; the tokens are kept (mode 0600) for `authdemo test` and "
            f"`authdemo token` until {store.until(kept)}."
        )
        remaining = None if timeout is None else max(timeout - (time.monotonic() - started), 0.0)
        _serve(server, on_event, remaining, stop, path, opts)
    finally:
        server.stop()
    return {
        "user": kept["username"],
        "tokens_file": str(store.tokens_path(path)),
        "expires_at": kept["expires_at"],
    }


def open_page(
    opts: Options,
    show_url: Callable[[str], None],
    on_event: Callable[[str], None],
    timeout: float | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Serve the token page again from the kept tokens, on a free port of 127.0.0.1."""
    with open_stack(opts, "open", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        record = kept_or_refreshed(stack, on_event)
        routes = _routes(stack)
        path = stack.path
    server = PageServer(0, routes, f"authdemo open: stack {opts.stack}")
    server.set_tokens(record)
    server.start()
    try:
        show_url(server.url)
        _serve(server, on_event, timeout, stop, path, opts)
    finally:
        server.stop()
    return {"user": record.get("username"), "url": server.url}


def _serve(
    server: PageServer,
    on_event: Callable[[str], None],
    timeout: float | None,
    stop: threading.Event | None,
    state_file: Path,
    opts: Options,
) -> None:
    """Keep the page up until Ctrl-C, `timeout` or `stop`; says so on stderr, and at the end what
    serves it again: `open` while the tokens are still kept, else only a new `login` (`test`'s
    signed-out row, `logout` or `down` forgot them meanwhile)."""
    until = "Ctrl-C" if timeout is None else f"Ctrl-C or {timeout:.0f} s"
    on_event(f"The token page is served at {server.url} until {until}.")
    stop = stop or threading.Event()
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait(timeout)
    if store.load(state_file) is not None:
        on_event(f"Stopped serving the token page; `authdemo open{cli_flags(opts)}` serves it again.")
    else:
        on_event(
            "Stopped serving the token page; its tokens were forgotten meanwhile (`authdemo test` signs "
            "the user out everywhere, `authdemo logout` forgets them), so only a new "
            f"`authdemo login{cli_flags(opts)}` serves it again."
        )


def kept_or_refreshed(stack: Stack, on_event: Callable[[str], None]) -> dict[str, Any]:
    """The kept tokens, refreshed at the token endpoint when they expired; else one sentence."""
    from ..show import summary

    client_id = summary(stack)["client_id"]
    record = store.load(stack.path)
    if store.usable(record, client_id):
        assert record is not None
        return record
    domain = (stack.store.resource("domain") if stack.store else None) or {}
    if record and record.get("client_id") == client_id and record.get("refresh") and domain:
        answer = oauth.refresh(of_stack(stack.clients, stack.store), client_id, str(record["refresh"]))
        on_event("The kept tokens had expired: refreshed them at the token endpoint.")
        return store.save(stack.path, client_id, answer, refresh=str(record["refresh"]))
    raise NotDeployedError(
        f"No tokens kept from `authdemo login` for stack {stack.opts.stack!r} (or they expired); "
        f"run `authdemo login{cli_flags(stack.opts)}` first."
    )


def logout(opts: Options) -> dict[str, Any]:
    """Revoke the kept refresh token at /oauth2/revoke when the stack's domain is reachable, and
    forget the kept tokens either way."""
    with open_stack(opts, "logout", write=False, start_server=False, require_state=True) as stack:
        record = store.load(stack.path)
        revoked = "nothing kept"
        domain = (stack.store.resource("domain") if stack.store else None) or {}
        if record and record.get("refresh") and domain:
            try:
                where = of_stack(stack.clients, stack.store)
                oauth.revoke(where, str(record.get("client_id")), str(record["refresh"]))
                revoked = "revoked"
            except AuthdemoError as exc:
                revoked = f"not revoked ({exc.message})"
        forgotten = store.remove(stack.path)
        return {"forgotten": forgotten, "revoked": revoked, "tokens_file": str(store.tokens_path(stack.path))}


def tokens_for(stack: Stack, client_id: str, username: str) -> dict[str, Any] | None:
    """The login's tokens for `test` and `token`: when kept, unexpired, of this app client and of
    the user those commands sign in as; else None (they sign in with the password)."""
    record = store.load(stack.path)
    if store.usable(record, client_id) and record is not None and record.get("username") == username:
        return record
    return None


def login_tokens(
    stack: Stack, client_id: str, username: str, notes: list[str] | None
) -> dict[str, str] | None:
    """The ID and access tokens `test` and `token` use instead of signing in, when kept and usable
    (tokens_for); a line in `notes` says so."""
    record = tokens_for(stack, client_id, username)
    if record is None:
        return None
    if notes is not None:
        notes.append(
            f"Using the tokens of `authdemo login` (valid until {store.until(record)}); "
            "`authdemo logout` forgets them."
        )
    return {"id": record["id"], "access": record["access"]}


def signed_up_record(stack: Stack, client_id: str, users: tuple[str, ...]) -> dict[str, Any] | None:
    """The kept tokens when they are of this app client and of a user other than the stack's own
    (`users`): one who signed up on managed login (issue 20), whom `test` adds a row for; expired
    or not (kept_or_refreshed refreshes them). None otherwise."""
    record = store.load(stack.path)
    if not record or record.get("client_id") != client_id or not record.get("username"):
        return None
    return None if record["username"] in users else record
