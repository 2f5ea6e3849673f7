"""`authdemo local issuer`: the embedded AWS's own issuer, seen from the CLI (cheap to import).

It reads what the server published (`local-issuer.json`, 0600) and asks its token endpoint for
a token as any client would (client credentials, like `curl` against Auth0's `/oauth/token`).
"""

from __future__ import annotations

import shlex
from typing import Any

from authdemo.errors import AuthdemoError, ExitCode, UnreachableError, UsageError
from authdemo.local import daemon
from authdemo.local import issuer as local_issuer

DEFAULT_AUDIENCE = "https://api.authdemo.test"
#: The stack the printed commands build: one of its own, since `--issuer` on the lesson's Cognito
#: stack (the default `authdemo`) is refused (README, "Any OIDC issuer").
ISSUER_STACK = "auth0"


def issuer_info(port: int | None, audience: str | None) -> dict[str, Any]:
    """The issuer of the running embedded AWS (started if none runs), and the commands using it."""
    from authdemo.external_issuer import local_token_command

    running = daemon.status()
    if running is not None and port is not None and running.port != port:
        raise UsageError(
            f"The embedded AWS runs on port {running.port}, not {port}: drop --port (or use --port "
            f"{running.port})."
        )
    server = running or daemon.start(port or daemon.DEFAULT_PORT, started_by="local issuer")
    record = local_issuer.load(server.port)
    if record is None:
        raise AuthdemoError(
            f"The embedded AWS on port {server.port} publishes no issuer (an older authdemo?); "
            "restart it with `authdemo local stop` then `authdemo local start`.",
            ExitCode.STATE,
        )
    audience = audience or DEFAULT_AUDIENCE
    if not audience.strip():
        raise UsageError("--audience is empty; give the API identifier, e.g. https://api.authdemo.test.")
    url = str(record["url"])
    q = shlex.quote
    port_flag = f" --port {server.port}" if server.port != daemon.DEFAULT_PORT else ""
    stack_flags = f" --local{port_flag} --stack {ISSUER_STACK}"
    info: dict[str, Any] = {
        "url": url,
        "audience": audience,
        "client_id": record["client_id"],
        "client_secret": record["client_secret"],
        "token_endpoint": f"{url}oauth/token",
        "jwks_uri": f"{url}.well-known/jwks.json",
    }
    token_command = q(local_token_command(audience, server.port))
    client_id = q(str(record["client_id"]))
    info["commands"] = [
        (
            "A stack that trusts this issuer",
            f"authdemo up{stack_flags} --issuer {q(url)} --audience {q(audience)}",
        ),
        (
            "No token, a token of this issuer, the token tampered",
            f"authdemo test{stack_flags} --token-command {token_command}",
        ),
        (
            "The token by hand, as with Auth0 (client credentials)",
            f"CLIENT_SECRET=$(authdemo local issuer --field client_secret{port_flag})",
        ),
        (
            "",
            f"curl -s {q(info['token_endpoint'])} -d grant_type=client_credentials -d client_id={client_id} "
            f'--data-urlencode "client_secret=$CLIENT_SECRET" --data-urlencode audience={q(audience)}',
        ),
    ]
    return info


def request_token(info: dict[str, Any], scope: str = "") -> str:
    """An access token from the issuer's token endpoint (client credentials)."""
    import requests

    form = {
        "grant_type": "client_credentials",
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "audience": info["audience"],
    }
    if scope:
        form["scope"] = scope
    try:
        answer = requests.post(info["token_endpoint"], data=form, timeout=10)
    except requests.RequestException as exc:
        raise UnreachableError(
            f"The embedded AWS's issuer at {info['token_endpoint']} did not answer ({type(exc).__name__}); "
            "check it with `authdemo local status`."
        ) from exc
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        said = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        raise AuthdemoError(
            f"The embedded AWS's issuer refused the token request (HTTP {answer.status_code}: {said})."
        )
    return str(body["access_token"])
