"""The lesson's own commands: `test` (every credential at every door, or a token you bring) and
`token` (the keys: ID, access, tampered, refreshed, signed out, the M2M client's). The click
layer (cli/lesson.py) prints what these return; app.py builds and deletes the stack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import external_issuer, m2m
from .errors import AuthdemoError, UsageError
from .show import summary
from .stack import (
    DOORS,
    Options,
    Stack,
    open_stack,
    require,
    require_server,
)


def test(
    opts: Options, on_wait: Callable[[str], None], routes: tuple[str, ...] = DOORS
) -> tuple[dict[str, Any], list[Any], float]:
    """Sign in and run every credential against each of `routes` (matrix.py); `info["claims"]`
    holds both tokens' claims, side by side. The signed-out row signs in a session of its own
    and signs it out just before its requests, after every other row."""
    from . import aws
    from .checks import Prober
    from .expectations import FLUSHED, REST_DOORS, TYPO, TYPO_PATH
    from .login.commands import kept_or_refreshed, login_tokens, signed_up_record
    from .matrix import SIGNED_UP, Credential, flushing, obtain, rows_for, run_matrix, signing_out
    from .tokens import decode, sign_in, tamper

    token = external_issuer.token_from(opts) if (opts.token, opts.token_command) != (None, None) else None
    with open_stack(opts, "test", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        check_test_user(stack)
        if token is not None or (stack.store and stack.store.get("issuer")):
            return external_issuer.test(stack, token, on_wait)
        info = summary(stack)
        skipped = []
        no_m2m = not all(stack.store and stack.store.resource(k) for k in m2m.KEYS)
        if no_m2m:
            skipped.append("No M2M row or /m2m column: this stack has no domain yet; `authdemo up` adds it.")
            routes = tuple(r for r in routes if r != "m2m") or ("protected",)
        rest_routes = info.get("rest_routes") or {}
        if not rest_routes and any(r in REST_DOORS for r in routes):
            skipped.append(
                "No REST columns or rows: this stack has no REST API (made with `up --no-rest`, or "
                f"before there was one); `authdemo up --rest{info['cli_flags']}` adds it."
            )
            routes = tuple(r for r in routes if r not in REST_DOORS) or ("protected",)
        rows = tuple(r for r in rows_for(routes) if r != "m2m" or not no_m2m)
        store = require(stack, "api", "app_client", "user", *(["student"] if "student" in rows else []))
        if skipped:
            info["skipped"] = " ".join(skipped)
        urls = {r: rest_routes[REST_DOORS[r]] if r in REST_DOORS else info["routes"][r] for r in routes}
        prober = Prober(info["protected_url"])
        client_id, username = info["client_id"], info["username"]
        password = opts.password or store.get("password")
        info["notes"] = []
        # Each credential is had or says why not (its row fails): one never stops the matrix.
        tokens: dict[str, str] = {}

        def user_tokens() -> Credential:
            tokens.update(
                login_tokens(stack, client_id, username, info["notes"])
                or sign_in(stack.clients, client_id, username, password)
            )
            return Credential("id", tokens["id"], username)

        made: dict[str, Credential] = {"none": Credential("none"), "id": obtain("id", user_tokens)}
        # No token: with one, REST reads the header as a SigV4 signature (docs/aws-notes.md, issue 21).
        made[TYPO] = Credential(TYPO, path=TYPO_PATH)
        if tokens:
            made["access"] = Credential("access", tokens["access"], username)
            made["tampered"] = Credential("tampered", tamper(tokens["id"]))
        else:  # the ID token's sign-in failed: so did theirs
            for key in ("access", "tampered"):
                made[key] = Credential(key, missing=made["id"].missing)
        if "student" in rows:
            student = stack.names.student

            def student_token() -> Credential:
                signed = sign_in(stack.clients, client_id, student, store.get("student_password"))
                return Credential("student", signed["access"], student)

            made["student"] = obtain("student", student_token)
            # A user who signed up and signed in with `authdemo login` (issue 20): a row of their own.
            signed_up = signed_up_record(stack, client_id, (username, student))
            if signed_up is not None:
                name = str(signed_up["username"])
                title = f"{name}'s access token (signed up)"

                def signed_up_token() -> Credential:
                    record = kept_or_refreshed(stack, info["notes"].append)
                    return Credential(SIGNED_UP, record["access"], name, title=title)

                made[SIGNED_UP] = obtain(SIGNED_UP, signed_up_token)
                made[SIGNED_UP].title = title
                at = rows.index("student") + 1
                rows = (*rows[:at], SIGNED_UP, *rows[at:])
        if "signed-out" in rows:
            # REST's cached Lambda door: the session's token is let in at /lambda before the
            # sign-out, so that its Allow is in the cache the next request finds.
            prime = urls.get("rest-lambda")

            def signed_out() -> Credential:
                session = sign_in(stack.clients, client_id, username, password)["access"]
                step = signing_out(stack.clients, session, prober, prime)
                return Credential("signed-out", session, username, before=step, note_on=("rest-lambda",))

            made["signed-out"] = out = obtain("signed-out", signed_out)
            if FLUSHED in rows:
                made[FLUSHED] = Credential(
                    FLUSHED,
                    out.token,
                    username,
                    before=flushing(stack.clients, info["rest_api_url"]),
                    doing="flush the stage's authorizer cache",
                    note_on=("rest-lambda",),
                    missing=out.missing,
                )
        domain_waited = 0.0  # a new domain on AWS may not answer for a minute: within --wait
        if "m2m" in rows:

            def m2m_token() -> Credential:
                nonlocal domain_waited
                got, domain_waited = m2m.token_when_ready(stack.clients, store, opts.wait, on_wait)
                return Credential("m2m", got, info["m2m_client_id"])

            made["m2m"] = obtain("m2m", m2m_token)
        if "sigv4" in rows:
            region = stack.region
            made["sigv4"] = Credential(
                "sigv4", sign=lambda url: aws.sign_request(stack.clients, "GET", url, region)
            )
        cells, waited = run_matrix(
            prober,
            [made[key] for key in rows],
            urls,
            on_wait,
            max(opts.wait - domain_waited, 0.0),
        )
        waited += domain_waited
        info["claims"] = {kind: decode(tokens[kind])[1] for kind in ("id", "access") if kind in tokens}
        if "signed-out" in rows and SIGNED_UP not in made:  # only the test user was signed out
            from .login import store as kept

            if kept.remove(stack.path):
                info["notes"].append(
                    "The signed-out row signed the user out everywhere, which revoked `authdemo login`'s "
                    "tokens: they were forgotten; `authdemo login` signs in again."
                )
        info["port"] = stack.server.port if stack.server else None
        info["profile"] = None if opts.local else opts.profile
        return info, cells, waited


def user_named(opts: Options, user: str | None) -> str:
    """Which of the stack's two users `token` signs in as: "demo" or "student". `--username`
    names one of them (honoured, since the state keeps both passwords); a user the stack did
    not make, or `--user` naming the other one, is refused in one sentence."""
    if opts.username is None:
        return user or "demo"
    with open_stack(opts, "token", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        store = require(stack, "user")
        users = {"demo": str(store.get("username")), "student": stack.names.student}
        if not store.resource("student"):
            del users["student"]
    named = next((key for key, name in users.items() if name == opts.username), None)
    if named is None:
        raise UsageError(
            f"Stack {opts.stack!r} has no user {opts.username}: its users are "
            f"{' and '.join(users.values())}; pass one of them to --username, or drop it."
        )
    if user is not None and user != named:
        raise UsageError(
            f"--user {user} and --username {opts.username} name different users: give one of them."
        )
    return named


def check_test_user(stack: Stack) -> None:
    """`test --username` must be the user `test` signs in as: every door's expected answer is
    that user's (the student has a row of its own), so another name would be ignored."""
    username = stack.opts.username
    demo = stack.store.get("username") if stack.store else None
    if username is None or username == demo:
        return
    if not demo:
        raise UsageError(
            f"Stack {stack.opts.stack!r} has no users, so `test` signs no one in: drop --username."
        )
    raise UsageError(
        f"`test` signs in as {demo} (and as {stack.names.student} for the student's row), and "
        "each door's expected answer is theirs: drop --username."
    )


def tokens(
    opts: Options, notes: list[str] | None = None, about: dict[str, Any] | None = None
) -> dict[str, str]:
    """The ID and access tokens of the demo user (`token`, `token --compare`): `authdemo login`'s
    while they are kept and valid (a line in `notes` says so), else of a sign-in with the password.
    `about` gets the stack's summary (`--compare` says which of its doors takes which token)."""
    from .login.commands import login_tokens
    from .tokens import sign_in

    with open_stack(opts, "token", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        store = require(stack, "app_client", "user")
        info = summary(stack)
        if about is not None:
            about.update(info)
        signed_in = login_tokens(stack, info["client_id"], info["username"], notes) or sign_in(
            stack.clients, info["client_id"], info["username"], opts.password or store.get("password")
        )
        return {kind: signed_in[kind] for kind in ("id", "access")}  # the refresh token is no JWT


def token_action(opts: Options, kind: str, *, user: str = "demo", action: str = "") -> dict[str, Any]:
    """`token --user student`, `--refresh` (REFRESH_TOKEN_AUTH after signing in) and `--sign-out`
    (GlobalSignOut, then GetUser shows Cognito refusing the token; `test` signs out a session of
    its own for its signed-out row, so nothing is kept)."""
    from . import tokens as tok

    with open_stack(opts, "token", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        store = require(stack, "app_client", "student" if user == "student" else "user")
        info = summary(stack)
        if user == "student":
            username, password = stack.names.student, store.get("student_password")
        else:
            username, password = info["username"], opts.password or store.get("password")
        signed_in = tok.sign_in(stack.clients, info["client_id"], username, password)
        out: dict[str, Any] = {"user": username, "kind": kind}
        if action == "refresh":
            refresh_token = signed_in.get("refresh", "")
            fresh = tok.refresh(stack.clients, info["client_id"], refresh_token)
            out.update(
                token=fresh[kind],
                refreshed=True,
                refresh_token=tok.opacity(refresh_token),
                new_refresh_token="refresh" in fresh,
            )
        elif action == "sign-out":
            tok.sign_out(stack.clients, signed_in["access"])
            try:
                stack.clients("cognito-idp").get_user(AccessToken=signed_in["access"])
                verdict = "accepted"
            except AuthdemoError as exc:
                verdict = f"refused: {exc.aws_code} {exc.aws_message}".strip()
            out.update(token=signed_in["access"], kind="access", signed_out=True, get_user=verdict)
        else:
            out["token"] = signed_in[kind]
        return out


def m2m_token(opts: Options) -> str:
    """A client-credentials access token for `authdemo/read`, as a backend service gets one."""
    with open_stack(opts, "token", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        return m2m.token(stack.clients, require(stack, "user_pool", "domain", "m2m_client"))
