"""What `test` and `token` show on the terminal: the matrix's tables, the claims side by side, the
doors each token opens, the tokens shortened (cli/lesson.py calls these; console.py prints)."""

from __future__ import annotations

from typing import Any


def token_table(rows: list[dict[str, Any]]) -> Any:
    """Your token's claims beside what the JWT authorizer checks them against."""
    from .. import console

    def text(key: str, value: Any) -> str:
        if key == "exp" and isinstance(value, int):
            return utc(value)
        return "-" if value is None else _claim(key, value)

    table_rows = [
        [
            r["claim"],
            text(r["claim"], r["token"]),
            text("", r["authorizer"]),
            "[green]✓[/]" if r["ok"] else "[red]✗[/]",
        ]
        for r in rows
    ]
    return console.table(
        "your token vs the JWT authorizer (any ✗ is a 401)", ["claim", "token", "authorizer", ""], table_rows
    )


def guide_table(info: dict[str, Any], cells: list[Any]) -> None:
    """The guide's four checks on /protected: what came back, why, PASS/FAIL."""
    from .. import console
    from ..matrix import as_sent

    rows = []
    for c in cells:
        mark = "[green]PASS[/]" if c.passed else f"[red]FAIL[/] {c.reason}"
        got = f"{c.status} {as_sent(c, 100)}" if c.status is not None else "no answer"
        rows.append([c.credential.label, got, c.reason if c.passed else "", mark])
    console.show(
        console.table(f"authdemo test: {info['protected_url']}", ["check", "got", "why", "result"], rows)
    )


def matrix_tables(info: dict[str, Any], cells: list[Any], routes: tuple[str, ...]) -> None:
    """One table per API (HTTP, then REST), one row per credential that has a cell there, one
    column per door (`200 ✓`, `401 ✗ (want 200)`, empty where the row sends nothing), then why."""
    from .. import console
    from ..expectations import PATHS, REST_DOORS

    grid: dict[str, dict[str, Any]] = {}
    for c in cells:
        grid.setdefault(c.credential.label, {})[c.route] = c
    apis = [("HTTP API", info.get("api_url"), [r for r in routes if r not in REST_DOORS])]
    apis.append(("REST API", info.get("rest_api_url"), [r for r in routes if r in REST_DOORS]))
    for name, url, doors in apis:
        mine = [c for c in cells if c.route in doors]
        if not mine:
            continue
        rows = []
        for label, row in grid.items():
            if any(door in row for door in doors):
                texts = [_mark(row[door]) if door in row else "" for door in doors]
                rows.append([label, *texts])
        _fold_labels(rows, [PATHS[d] for d in doors], console.out().width)
        failed = sum(not c.passed for c in mine)
        verdict = "all pass" if not failed else f"{failed} FAIL"
        title = f"authdemo test: {name} {url} ({len(mine)} checks, {verdict})"
        console.show(console.table(title, ["credential", *(PATHS[d] for d in doors)], rows))
    why = [[_cell_name(c), c.reason if c.passed else f"[red]FAIL[/] {c.reason}"] for c in cells if c.shown]
    console.show(console.table("why", ["cell", "reason"], why))


def _fold_labels(rows: list[list[str]], headers: list[str], width: int) -> None:
    """Fold the credential labels at spaces when the table would not fit `width` otherwise, so
    that the labels wrap and not the door cells (`403 ✓` kept on one line)."""
    import textwrap

    from ..console import _plain

    doors = [max(len(h), *(len(_plain(r[i + 1])) for r in rows)) for i, h in enumerate(headers)]
    room = width - sum(doors) - 3 * (len(doors) + 1) - 1
    if rows and room < max(len(r[0]) for r in rows):
        for row in rows:
            row[0] = textwrap.fill(row[0], max(room, 10), break_long_words=False)


def _cell_name(cell: Any) -> str:
    """`ID token at REST /scoped`."""
    from ..matrix import door_of

    return f"{cell.credential.label} at {door_of(cell)}"


def _mark(cell: Any) -> str:
    from ..matrix import cell_text

    return f"[green]{cell_text(cell)}[/]" if cell.passed else f"[red]{cell_text(cell)}[/]"


def row_tokens(cells: list[Any]) -> dict[str, str | None]:
    """Every row's token, by row key."""
    return {c.credential.key: c.credential.token for c in cells}


def show_tokens(opts: Any, cells: list[Any]) -> None:
    """Each row's token, shortened unless --show-token (a tampered one showing where it differs)."""
    from .. import console
    from ..matrix import shown_token

    seen: set[str] = set()
    tokens = row_tokens(cells)
    for c in cells:
        token = c.credential.token
        if token and c.credential.key not in seen and token not in seen:  # the typo row: the ID token
            seen |= {c.credential.key, token}
            shown = token if opts.show_token else shown_token(c.credential, tokens)
            console.out().print(f"{c.credential.label}: {shown}", highlight=False, soft_wrap=True)
    if not opts.show_token:
        console.info("(tokens shortened; add --show-token to see them in full)")


CLAIMS_COMPARED = ("token_use", "aud", "client_id", "scope", "cognito:username", "username", "email", "exp")


def claims_table(claims: dict[str, dict[str, Any]]) -> Any:
    """The ID token beside the access token: the claims that differ, and why it matters."""
    from .. import console

    rows = []
    for key in CLAIMS_COMPARED:
        cells = [_claim(key, claims.get(kind, {}).get(key)) for kind in ("id", "access")]
        if any(cell != "-" for cell in cells):
            rows.append([key, *cells])
    return console.table(
        "ID token vs access token (the authorizer checks aud on one, client_id on the other)",
        ["claim", "ID token", "access token"],
        rows,
    )


def doors_table(doors: list[dict[str, Any]]) -> Any:
    """Which door takes which token: an HTTP JWT door either, a REST Cognito door one kind only."""
    from .. import console

    def said(door: dict[str, Any], kind: str) -> str:
        return f"{door[kind]}" + ("" if door[kind] == 200 else f": {door[f'{kind}_why']}")

    rows = [[d["door"], said(d, "id"), said(d, "access")] for d in doors]
    title = (
        "which door takes which token (REST's Cognito authorizer: ID token without scopes, access token with)"
    )
    return console.table(title, ["door", "ID token", "access token"], rows)


def _claim(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in ("exp", "iat", "auth_time") and isinstance(value, int):
        return utc(value)
    return (
        value
        if isinstance(value, str)
        else ", ".join(map(str, value))
        if isinstance(value, list)
        else str(value)
    )


def said(key: str, value: Any) -> str:
    """A value of `token --refresh`/`--sign-out` in words (never a Python `True`/`False`); on AWS,
    REFRESH_TOKEN_AUTH returns no new refresh token (docs/aws-notes.md, "Three doors, three keys", g)."""
    if key == "new_refresh_token":
        return (
            "yes: this endpoint's answer carried one (AWS's REFRESH_TOKEN_AUTH does not)"
            if value
            else "none: REFRESH_TOKEN_AUTH gives new ID and access tokens only, the refresh token stays"
        )
    return str(value)


def utc(seconds: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
