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
from collections.abc import Mapping, Sequence
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
    ".notice{background:#f2f8fd;border:1px solid #0972d3;padding:.6rem;margin:.5rem 0}"
    "small{color:#5f6b7a}nav{margin-top:1rem}nav a{display:block;margin:.4rem 0;color:#0972d3}"
    "button.secondary{background:#fff;color:#0972d3;border:1px solid #0972d3}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

INCORRECT_CREDENTIALS = "Incorrect username or password."

ERROR_TEXT = {
    "redirect_mismatch": "The redirect_uri is not one of this app client's callback URLs.",
    "invalid_request": "The request names no app client of this user pool, or is malformed.",
    "logout_mismatch": "The logout_uri is not one of this app client's sign-out URLs.",
    "signup_disabled": "SignUp is not permitted for this user pool (`authdemo up --sign-up` allows it).",
}
#: A form's visible field: (name, label, input type, value).
Field = tuple[str, str, str, str]
#: A link under a form: (id, href, text).
Link = tuple[str, str, str]


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
    pool_name: str,
    action: str,
    params: Mapping[str, str],
    message: str | None = None,
    username: str = "",
    notice: str | None = None,
    links: Sequence[Link] = (),
) -> bytes:
    """The sign-in form; `message` (e.g. Cognito's "Incorrect username or password.") above it,
    and under it the links to sign up and to reset a password, where the pool allows them."""
    fields = [("username", "Username", "text", username), ("password", "Password", "password", "")]
    return form_page(
        "Sign in", pool_name, action, params, fields, ("signin", "Sign in"), message, notice, links
    )


def form_page(
    title: str,
    pool_name: str,
    action: str,
    params: Mapping[str, str],
    fields: Sequence[Field],
    submit: tuple[str, str],
    message: str | None = None,
    notice: str | None = None,
    links: Sequence[Link] = (),
    secondary: tuple[str, str] | None = None,
) -> bytes:
    """A managed-login form: the hidden authorization request, the fields, a submit button (and a
    second one that skips the browser's checks, e.g. "Resend code"), links; every value escaped."""
    hidden = "".join(
        f'<input type=hidden name="{escape(name)}" value="{escape(value)}">' for name, value in params.items()
    )
    error = f"<p class=error id=error role=alert>{escape(message)}</p>" if message else ""
    note = f"<p class=notice id=notice role=status>{escape(notice)}</p>" if notice else ""
    inputs = "".join(
        f"<label for={escape(name)}>{escape(label)}</label>"
        f'<input type={escape(kind)} id={escape(name)} name={escape(name)} value="{escape(value)}" required'
        f"{' autofocus' if i == 0 else ''}>"
        for i, (name, label, kind, value) in enumerate(fields)
    )
    more = (
        f"<button type=submit class=secondary id={escape(secondary[0])} name={escape(secondary[0])} value=1 "
        f"formnovalidate>{escape(secondary[1])}</button>"
        if secondary
        else ""
    )
    nav = "".join(f'<a id={escape(i)} href="{escape(href)}">{escape(text)}</a>' for i, href, text in links)
    body = (
        f"<h1>{escape(title)}</h1><small>{escape(pool_name)} &middot; authdemo embedded Cognito</small>"
        f"{error}{note}"
        f'<form method=post action="{escape(action)}" autocomplete=off>{hidden}{inputs}'
        f"<button type=submit id={escape(submit[0])}>{escape(submit[1])}</button>{more}</form>"
        f"{f'<nav>{nav}</nav>' if nav else ''}"
    )
    return _page(title, body)


def error(code: str) -> bytes:
    """Cognito-style error page for a request that must not go back to the client."""
    text = ERROR_TEXT.get(code, "The request cannot be completed.")
    body = (
        "<h1>An error was encountered with the requested page.</h1>"
        f"<p id=error>{escape(code)}</p><p>{escape(text)}</p>"
    )
    return _page("Error", body)
