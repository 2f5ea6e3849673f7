"""The managed-login pages: the sign-in form and the error page, self-contained HTML.

No scripts, fonts or images, one inline stylesheet allowed by its hash: the
`Content-Security-Policy` forbids everything else, framing included. The form posts to
`<base>/login` (an absolute path: both `/oauth2/authorize` and `/login` show it), carrying the
authorization request in hidden fields: no cookies. `form-action` must also allow the
callback's origin, since browsers apply it to the redirect that follows the submission.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from html import escape
from urllib.parse import urlsplit

STYLE = (
    "body{font-family:system-ui,sans-serif;background:#f2f3f3;margin:0}"
    "main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.2)}"
    "h1{font-size:1.3rem;margin-top:0}label{display:block;margin:1rem 0 .3rem;font-weight:600}"
    "input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;"
    "font-size:1rem}button{margin-top:1.5rem;width:100%;padding:.6rem;font-size:1rem;"
    "background:#0972d3;color:#fff;border:0;border-radius:4px}"
    ".error{background:#fdf3f1;border:1px solid #d91515;color:#d91515;padding:.6rem;margin:.5rem 0}"
    "small{color:#5f6b7a}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

INCORRECT_CREDENTIALS = "Incorrect username or password."

ERROR_TEXT = {
    "redirect_mismatch": "The redirect_uri is not one of this app client's callback URLs.",
    "invalid_request": "The request names no app client of this user pool, or is malformed.",
    "logout_mismatch": "The logout_uri is not one of this app client's sign-out URLs.",
}


def security_headers(form_target: str | None = None) -> list[tuple[str, str]]:
    """Headers for every page: no external content, no framing, no caching, no referrer."""
    form_action = "'self'" + (f" {form_target}" if form_target else "")
    csp = (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action {form_action}; "
        "base-uri 'none'; frame-ancestors 'none'"
    )
    return [
        ("content-type", "text/html; charset=utf-8"),
        ("content-security-policy", csp),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
    ]


def origin_of(uri: str) -> str | None:
    """The CSP source for the redirect target's origin (`http://localhost:8400`, `myapp:`), or None
    if the URI has characters a CSP source cannot hold."""
    parts = urlsplit(uri)
    if not parts.scheme or any(c in uri for c in " ;,'\"\r\n"):
        return None
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    ).encode()


def sign_in(
    pool_name: str, action: str, params: Mapping[str, str], message: str | None = None, username: str = ""
) -> bytes:
    """The sign-in form; `message` (e.g. Cognito's "Incorrect username or password.") above it."""
    hidden = "".join(
        f'<input type=hidden name="{escape(name)}" value="{escape(value)}">' for name, value in params.items()
    )
    error = f"<p class=error id=error role=alert>{escape(message)}</p>" if message else ""
    body = (
        f"<h1>Sign in</h1><small>{escape(pool_name)} &middot; authdemo embedded Cognito</small>{error}"
        f'<form method=post action="{escape(action)}" autocomplete=off>'
        f"{hidden}"
        "<label for=username>Username</label>"
        f'<input type=text id=username name=username value="{escape(username)}" required autofocus>'
        "<label for=password>Password</label>"
        "<input type=password id=password name=password required>"
        "<button type=submit id=signin>Sign in</button></form>"
    )
    return _page("Sign in", body)


def error(code: str) -> bytes:
    """Cognito-style error page for a request that must not go back to the client."""
    text = ERROR_TEXT.get(code, "The request cannot be completed.")
    body = (
        "<h1>An error was encountered with the requested page.</h1>"
        f"<p id=error>{escape(code)}</p><p>{escape(text)}</p>"
    )
    return _page("Error", body)
