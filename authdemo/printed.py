"""The commands authdemo prints for a presenter to paste: the course guide's, filled in.

Each one is complete: whatever it needs is in the line, or set by an earlier printed line.
"""

from __future__ import annotations

import shlex
from typing import Any


def guide_commands(info: dict[str, Any]) -> list[tuple[str, str]]:
    """The course guide's commands, filled in for this stack (comment, command).

    Each works when pasted in order into a fresh shell: whatever a line uses is set by an
    earlier one. InitiateAuth is an unauthenticated call, so the aws line needs no credentials.
    """
    q = shlex.quote
    endpoint = f" --endpoint-url {q(info['endpoint_url'])}" if info.get("endpoint_url") else ""
    url = q(info["protected_url"])
    flags = info.get("cli_flags", "")
    return [
        ("WITHOUT token - expect 401", f"curl -s -w '\\n' {url}"),
        (
            "The test user's password, for the guide's command",
            f"DEMO_PASSWORD=$(authdemo status --field password{flags})",
        ),
        (
            "Get an ID token: the guide's command (InitiateAuth needs no AWS credentials)",
            f"ID_TOKEN=$(aws cognito-idp initiate-auth{endpoint} --region {q(info['region'])} "
            "--no-sign-request "
            f"--auth-flow USER_PASSWORD_AUTH --client-id {q(info['client_id'])} "
            f'--auth-parameters USERNAME={q(info["username"])},PASSWORD="$DEMO_PASSWORD" '
            "--query AuthenticationResult.IdToken --output text)",
        ),
        ("... or simply", f"ID_TOKEN=$(authdemo token --id{flags})"),
        ("WITH valid token - expect 200", f"curl -s -w '\\n' -H \"Authorization: Bearer $ID_TOKEN\" {url}"),
        ("Decode the token", f"authdemo token --id --decode{flags}"),
        ("The ID token beside the access token", f"authdemo token --compare{flags}"),
        ("Clean up", f"authdemo down{flags}"),
    ]


def test_commands(info: dict[str, Any], checks: list[Any]) -> list[tuple[str, str]]:
    """The curl line of each check, each token variable set by an earlier line (comment, command)."""
    flags = info.get("cli_flags", "")
    lines: list[tuple[str, str]] = []
    for check in checks:
        if check.token_var:
            lines.append(
                (
                    f"{check.name}: {check.expected}",
                    f"{check.token_var}=$(authdemo token --{check.token_kind}{flags})",
                )
            )
            lines.append(("", check.curl))
        else:
            lines.append((f"{check.name}: {check.expected}", check.curl))
    return lines
