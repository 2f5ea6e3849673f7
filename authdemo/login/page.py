"""The token page: jwt.io and Postman in one page, rendered here from the kept tokens.

Both tokens are decoded side by side (header and claims); a claim whose value differs between
them (or that only one carries) is marked, with why it matters to the authorizer. Below, a button
per route and token (ID, access, none) asks the page's own server to call the route, so no
token ever reaches the browser or a URL. The HTML loads nothing but its own `page.js`,
`page.css` and `favicon.svg` (Content-Security-Policy in server.py), so it works with no network;
naming its icon, it keeps the browser from asking for `/favicon.ico`, a 404 in the console.
"""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from importlib import resources
from typing import Any

from ..tokens import decode

#: The claims the lesson is about, shown first, each with why it matters.
NOTES = {
    "token_use": "what the token is for: “id” (about the user) or “access” (for APIs); a REST "
    "API's Cognito authorizer takes only “id” on a door without scopes, only “access” with them",
    "aud": "ID token only: the app client; a JWT authorizer checks it against its audience",
    "client_id": "access token only: the app client; the authorizer checks it instead of aud",
    "scope": "access token only: a scoped route wants one of these values (an ID token gets 403 "
    "on the HTTP API, 401 on the REST API)",
    "email": "ID token only (scope “email”): who the user is",
    "cognito:username": "ID token: the user's name",
    "username": "access token: the user's name",
    "cognito:groups": "both: the user's groups (the /lambda door wants “presenters”)",
    "auth_time": "when the user signed in: the same sign-in behind both tokens",
    "iss": "the user pool: the authorizer's issuer",
    "exp": "expiry: the authorizer refuses the token after it",
    "iat": "issued at",
}
TIMES = ("exp", "iat", "auth_time", "nbf")
REST_SENTENCE = """ The REST API's Cognito user pool authorizer takes <strong>only the ID token</strong>
on a door without scopes and <strong>only the access token</strong> on a door with scopes, the
opposite of what the HTTP API teaches; its Lambda authorizer asks <code>GetUser</code> too."""
KINDS = (("id", "ID token"), ("access", "access token"), ("none", "no token"))


def static(name: str) -> bytes:
    """A file of static/ (page.js, page.css, favicon.svg)."""
    return resources.files("authdemo.login").joinpath("static").joinpath(name).read_bytes()


def compare(id_claims: dict[str, Any], access_claims: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per claim of either token, the lesson's claims first: key, both values (None:
    absent), whether they differ, and the note."""
    rest = sorted((set(id_claims) | set(access_claims)) - set(NOTES))
    rows = []
    for key in [*NOTES, *rest]:
        if key not in id_claims and key not in access_claims:
            continue
        a, b = id_claims.get(key), access_claims.get(key)
        rows.append({"claim": key, "id": a, "access": b, "differs": a != b, "note": NOTES.get(key, "")})
    return rows


def _value(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in TIMES and isinstance(value, int):
        stamp = dt.datetime.fromtimestamp(value, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{value} ({stamp})"
    return value if isinstance(value, str) else json.dumps(value)


def _claims_table(id_claims: dict[str, Any], access_claims: dict[str, Any]) -> str:
    rows = []
    for row in compare(id_claims, access_claims):
        cls = ' class="differs"' if row["differs"] else ""
        key = row["claim"]
        rows.append(
            f'<tr{cls} data-claim="{escape(key)}"><th scope="row">{escape(key)}</th>'
            f'<td class="id">{escape(_value(key, row["id"]))}</td>'
            f'<td class="access">{escape(_value(key, row["access"]))}</td>'
            f'<td class="note">{escape(row["note"])}</td></tr>'
        )
    return "\n".join(rows)


def _header_table(id_header: dict[str, Any], access_header: dict[str, Any]) -> str:
    rows = []
    for key in sorted(set(id_header) | set(access_header)):
        a, b = id_header.get(key), access_header.get(key)
        cls = ' class="differs"' if a != b else ""
        rows.append(
            f'<tr{cls}><th scope="row">{escape(key)}</th><td class="id">{escape(_value(key, a))}</td>'
            f'<td class="access">{escape(_value(key, b))}</td></tr>'
        )
    return "\n".join(rows)


def _doors_table(rest: bool) -> str:
    """Which door takes which token (expectations.which_token: the same table `test` judges by)."""
    from ..expectations import which_token

    def said(door: dict[str, Any], kind: str) -> str:
        return "200: takes it" if door[kind] == 200 else f"{door[kind]}: {door[f'{kind}_why']}"

    return "\n".join(
        f'<tr><th scope="row">{escape(d["door"])}</th><td class="id">{escape(said(d, "id"))}</td>'
        f'<td class="access">{escape(said(d, "access"))}</td></tr>'
        for d in which_token(rest)
    )


def _buttons(routes: dict[str, str]) -> str:
    from ..expectations import DOOR_NAMES

    rows = []
    for route, url in routes.items():
        cells = []
        for kind, label in KINDS:
            cells.append(
                f'<td><button type="button" id="call-{escape(route)}-{kind}" data-route="{escape(route)}" '
                f'data-token="{kind}">{escape(label)}</button> '
                f'<output id="result-{escape(route)}-{kind}" class="status"></output></td>'
            )
        rows.append(
            f'<tr><th scope="row"><code>GET {escape(DOOR_NAMES.get(route, "/" + route))}</code><br>'
            f"<small>{escape(url)}</small></th>"
            f"{''.join(cells)}</tr>"
        )
    return "\n".join(rows)


def render(tokens: dict[str, str], routes: dict[str, str], title: str) -> str:
    """The whole page; `tokens` has `id` and `access`, `routes` maps a route name to its URL."""
    id_header, id_claims = decode(tokens["id"])
    access_header, access_claims = decode(tokens["access"])
    user = id_claims.get("cognito:username") or access_claims.get("username") or "?"
    rest = any(route.startswith("rest-") for route in routes)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>authdemo: tokens of {escape(str(user))}</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="page.css">
<script src="page.js" defer></script>
</head>
<body>
<header>
<h1>{escape(title)}</h1>
<p>Signed in as <strong id="user">{escape(str(user))}</strong>. The two tokens of one sign-in,
decoded (not verified: the authorizer verifies the signature). <mark>Marked</mark> rows differ.</p>
</header>
<main>
<section id="tokens">
<h2>ID token vs access token</h2>
<table id="headers">
<caption>header</caption>
<thead><tr><th>field</th><th>ID token</th><th>access token</th></tr></thead>
<tbody>
{_header_table(id_header, access_header)}
</tbody>
</table>
<table id="claims">
<caption>claims</caption>
<thead><tr><th>claim</th><th>ID token</th><th>access token</th><th>why it matters</th></tr></thead>
<tbody>
{_claims_table(id_claims, access_claims)}
</tbody>
</table>
</section>
<section id="doors">
<h2>Which door takes which token</h2>
<p>The HTTP API's JWT authorizer takes either token (a door with scopes wants the access token's
<code>scope</code>); its Lambda authorizer asks Cognito's <code>GetUser</code>, which takes an access
token.{REST_SENTENCE if rest else ""}</p>
<table id="which">
<thead><tr><th>door</th><th>ID token</th><th>access token</th></tr></thead>
<tbody>
{_doors_table(rest)}
</tbody>
</table>
</section>
<section id="routes">
<h2>Call the API</h2>
<p>Each button sends <code>GET</code> to the route with that token as
<code>Authorization: Bearer …</code> (this page's server makes the request; the token never
reaches the browser).</p>
<table id="calls">
<thead><tr><th>route</th><th>ID token</th><th>access token</th><th>no token</th></tr></thead>
<tbody>
{_buttons(routes)}
</tbody>
</table>
<h3 id="last-call">Last answer</h3>
<pre id="detail">Click a button.</pre>
<h3>Claims the function received</h3>
<pre id="received">—</pre>
</section>
</main>
</body>
</html>
"""
