"""A stack that trusts an external OIDC issuer (issue 11 §3): `up --issuer URL --audience AUD`
and `test --token TOKEN` / `--token-command CMD`.

Such a stack has no user pool, client, users, group or Lambda authorizer (the units marked
`cognito`): only the API, its function, a JWT authorizer for that issuer, `/protected` and
`/iam`. Its issuer and audiences are recorded as state settings (`issuer`, `audience`), so a
later `up` knows the stack's profile; what a later `up` does with other options is said in
`resolve`. authdemo cannot sign in to someone else's issuer, so `test` takes a token from you
and shows why the API answers what it answers: the token's `iss`/`aud`/`exp` beside the
authorizer's issuer and audiences.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable
from typing import Any

from . import oidc
from .errors import UsageError, quoted
from .stack import Options, Stack, cli_flags
from .state import StateStore
from .units import all_units

#: Where the embedded AWS serves its own issuer (authdemo/local/issuer.py), trailing slash included.
LOCAL_ISSUER_PATH = "/_authdemo/issuer/"
TOKEN_COMMAND_TIMEOUT = 60.0


def is_cognito_stack(store: StateStore | None) -> bool:
    """A stack recorded with any resource of the Cognito profile (a pool, client, user ...)."""
    if store is None:
        return False
    return any(store.resource(u.key) for u in all_units() if u.cognito)


def resolve(opts: Options, store: StateStore | None) -> tuple[str, tuple[str, ...], list[str]]:
    """The issuer and audiences `up` builds for (("", ()) : the Cognito stack), and notes.

    - `--issuer` on a new stack, or on an issuer stack: trust it (another issuer or audience
      updates the authorizer in place, and says so);
    - `--issuer` on a Cognito stack: refused (its pool would be left behind): `down` it first;
    - no `--issuer` on an issuer stack: it keeps its recorded issuer, and says so.
    """
    recorded = (store.get("issuer") if store else None) or ""
    recorded_aud = tuple((store.get("audience") if store else None) or ())
    flags = cli_flags(opts)
    if opts.callback_port is not None and (opts.issuer or recorded):
        raise UsageError(
            "--callback-port is the Cognito app client's sign-in callback, and a stack with --issuer "
            "has no app client: drop it."
        )
    if opts.sign_up is not None and (opts.issuer or recorded):
        raise UsageError(
            "--sign-up lets people register in the Cognito user pool, and a stack with "
            "--issuer has no user pool: drop it."
        )
    if opts.rest and (opts.issuer or recorded):
        raise UsageError(
            "--rest builds a REST API whose Cognito authorizer takes a user pool, and a stack with "
            "--issuer has no user pool: drop it."
        )
    if not opts.issuer:
        if opts.audiences:
            raise UsageError("--audience goes with --issuer: give both, e.g. --issuer URL --audience AUD.")
        if not recorded:
            return "", (), []
        return (
            recorded,
            recorded_aud,
            [
                f"Stack {opts.stack!r} keeps trusting {recorded} (audience {', '.join(recorded_aud)}), as "
                f"recorded by `up --issuer`; for a Cognito stack, run `authdemo down{flags}` first."
            ],
        )
    if opts.password is not None or opts.username is not None:
        raise UsageError(
            "--username and --password are the Cognito test user's; a stack with --issuer has no "
            "user pool: drop them."
        )
    audiences = oidc.check_audiences(opts.audiences)
    if not recorded and is_cognito_stack(store):
        raise UsageError(
            f"Stack {opts.stack!r} is a Cognito stack (its user pool is recorded), so it cannot switch "
            f"to --issuer in place; run `authdemo down{flags}` first, or use another --stack."
        )
    notes = []
    if recorded and (recorded, recorded_aud) != (opts.issuer, audiences):
        notes.append(
            f"Stack {opts.stack!r} now trusts {opts.issuer} (audience {', '.join(audiences)}) instead of "
            f"{recorded} (audience {', '.join(recorded_aud)}): its JWT authorizer is updated in place."
        )
    return opts.issuer, audiences, notes


def check(stack: Stack, issuer: str) -> oidc.Issuer:
    """The issuer as API Gateway will fetch it; http:// only when the AWS is the embedded one
    (or another emulator on loopback) and the issuer is on loopback too."""
    emulated = stack.opts.local or oidc.is_loopback(stack.target.endpoint_url)
    return oidc.check_issuer(issuer, allow_http_loopback=emulated)


def is_local_issuer(issuer: str) -> bool:
    return oidc.is_loopback(issuer) and issuer.endswith(LOCAL_ISSUER_PATH)


def local_token_command(audience: str, port: int | None) -> str:
    """The `--token-command` that gets a token from the embedded AWS's issuer."""
    from .local.names import DEFAULT_PORT  # constants only: no daemon, no cryptography

    port_flag = f" --port {port}" if port and port != DEFAULT_PORT else ""
    return f"authdemo local issuer --token --audience {shlex.quote(audience)}{port_flag}"


# ------------------------------------------------------------------------------------ test
def token_from(opts: Options) -> str:
    """`--token`, or the stripped stdout of `--token-command` (run by the shell); one sentence
    when the command fails. The token itself is never part of a message."""
    if opts.token is not None and opts.token_command is not None:
        raise UsageError("--token and --token-command both give the token: keep one.")
    if opts.token is not None:
        token = opts.token.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token:
            raise UsageError('--token is empty; pass the token itself, e.g. --token "$TOKEN".')
        return token
    command = str(opts.token_command)
    try:
        done = subprocess.run(
            command, shell=True, capture_output=True, text=True, timeout=TOKEN_COMMAND_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise UsageError(
            f"--token-command {quoted(command)} did not finish within {TOKEN_COMMAND_TIMEOUT:g} s; run it "
            "alone to see why."
        ) from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1][:200]
        said = f": {last}" if last else ""
        raise UsageError(
            f"--token-command {quoted(command)} failed with exit status {done.returncode}{said}; run it "
            "alone to see why."
        )
    token = done.stdout.strip()
    if not token:
        raise UsageError(
            f"--token-command {quoted(command)} printed nothing; it must print the token on stdout."
        )
    return token


def no_token(stack: Stack, issuer: str, audiences: list[str]) -> UsageError:
    """`test` on an issuer stack without a token: how to pass one."""
    if is_local_issuer(issuer) and audiences:
        port = stack.server.port if stack.server else stack.opts.port
        example = f" --token-command {shlex.quote(local_token_command(audiences[0], port))}"
    else:
        example = ' --token "$TOKEN"'
    return UsageError(
        f"Stack {stack.opts.stack!r} trusts {issuer}, which authdemo cannot sign in to: pass its "
        f"token, e.g. `authdemo test{example}{cli_flags(stack.opts)}`."
    )


def user_of(claims: dict[str, Any]) -> str | None:
    """Whom the demo function names for these claims (lambda_src/handler.py)."""
    for name in ("cognito:username", "username", "sub"):
        if isinstance(claims.get(name), str):
            return str(claims[name])
    return None


def compare(
    claims: dict[str, Any], header: dict[str, Any], issuer: str, audiences: list[str]
) -> list[dict[str, Any]]:
    """The token's claims beside what the authorizer checks them against, each judged: why the
    API said 200 or 401 (the signature is judged by the API, on the tampered row)."""
    presented = claims["aud"] if "aud" in claims else claims.get("client_id")
    values = presented if isinstance(presented, list) else [presented]
    aud_name = "aud" if "aud" in claims else "client_id" if "client_id" in claims else "aud"
    exp = claims.get("exp")
    now = time.time()
    alg = header.get("alg")
    rows = [
        ("iss", claims.get("iss"), issuer, claims.get("iss") == issuer),
        (aud_name, presented, audiences, any(isinstance(v, str) and v in audiences for v in values)),
        ("exp", exp, "after now", isinstance(exp, int | float) and not isinstance(exp, bool) and exp > now),
        ("alg", alg, "RS256, RS384 or RS512 (RSA only)", alg in ("RS256", "RS384", "RS512")),
    ]
    return [{"claim": n, "token": t, "authorizer": a, "ok": ok} for n, t, a, ok in rows]


def test(
    stack: Stack, token: str | None, on_wait: Callable[[str], None]
) -> tuple[dict[str, Any], list[Any], float]:
    """No token (401), the given token (200), the same token tampered (401) at /protected."""
    from .checks import Prober
    from .matrix import Credential, run_matrix
    from .show import summary
    from .stack import require
    from .tokens import decode, tamper

    store = require(stack, "api", "authorizer", "route")
    info = summary(stack)
    issuer = info["issuer"] or ""
    audiences = list(store.get("audience") or ([info["client_id"]] if info.get("client_id") else []))
    if token is None:
        raise no_token(stack, issuer, audiences)
    header, claims = decode(token)
    made = [
        Credential("none"),
        Credential("given", token, user_of(claims)),
        Credential("given-tampered", tamper(token)),
    ]
    cells, waited = run_matrix(
        Prober(info["protected_url"]), made, {"protected": info["protected_url"]}, on_wait, stack.opts.wait
    )
    info["claims"] = {"token": claims}
    info["token_check"] = compare(claims, header, issuer, audiences)
    info["audience"] = audiences
    info["token_command"] = stack.opts.token_command
    return info, cells, waited
