"""Managed login's "Sign up" and "Forgot your password?", as Cognito's classic hosted UI has them.

| method | path | what |
|---|---|---|
| GET/POST | `/signup` | email + password; SignUp's rules (admin-only pool refused, password policy) |
| POST | `/confirmUser` | the code sent to the email (or "Resend code"); then back to sign-in |
| GET/POST | `/forgotPassword` | a username; a reset code is sent if the user exists (never said) |
| POST | `/confirmForgotPassword` | the code and a new password; then back to sign-in |

Every form carries the checked authorization request in hidden fields (as the sign-in form
does), so after it the user signs in and goes back to the client's redirect_uri. The codes are
`confirmation`'s: the same as the API's, delivered to the owner's inbox (`authdemo local inbox`).
The username is the email, as the stack's own users' are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from authdemo.local import confirmation
from authdemo.local.backends import find_client_pool
from authdemo.local.cognito_login import pages
from authdemo.local.cognito_login.authorize import AuthorizeRequest, field

Response = tuple[int, list[tuple[str, str]], bytes]
INBOX_HINT = "Offline, read it with `authdemo local inbox`."


def _show(checked: AuthorizeRequest, page: bytes, status: int = 200) -> Response:
    return status, pages.security_headers(pages.origin_of(checked.redirect_uri)), page


def _refusal(exc: Exception) -> str:
    """The sentence of a CodeRefused or of moto's Cognito error (InvalidPasswordException, ...)."""
    return str(getattr(exc, "message", "") or exc)


def links(pool: Any, base: str, checked: AuthorizeRequest) -> list[pages.Link]:
    """The sign-in page's links: reset a password (unless recovery is admin-only), sign up (when
    the pool lets people register themselves)."""
    query = "?" + urlencode(checked.params)
    mechanisms = (pool.extended_config.get("AccountRecoverySetting") or {}).get("RecoveryMechanisms") or []
    found: list[pages.Link] = []
    if not any(m.get("Name") == "admin_only" for m in mechanisms):
        found.append(("forgot", base + "/forgotPassword" + query, "Forgot your password?"))
    if confirmation.self_registration(pool):
        found.append(("signup", base + "/signup" + query, "Need an account? Sign up"))
    return found


def sign_in(
    pool: Any, base: str, checked: AuthorizeRequest, username: str = "", notice: str | None = None
) -> Response:
    page = pages.sign_in(
        pool.name, base + "/login", checked.params, None, username, notice, links(pool, base, checked)
    )
    return _show(checked, page)


def sign_up_page(
    pool: Any, base: str, checked: AuthorizeRequest, params: Mapping[str, Sequence[str]], message: str = ""
) -> Response:
    if not confirmation.self_registration(pool):
        return _show(checked, pages.error("signup_disabled"), 400)
    fields = [("email", "Email", "email", field(params, "email")), ("password", "Password", "password", "")]
    back = [("signin", base + "/login?" + urlencode(checked.params), "Already have an account? Sign in")]
    page = pages.form_page(
        "Sign up",
        pool.name,
        base + "/signup",
        checked.params,
        fields,
        ("register", "Sign up"),
        message or None,
        links=back,
    )
    return _show(checked, page)


def sign_up(pool: Any, base: str, checked: AuthorizeRequest, form: Mapping[str, Sequence[str]]) -> Response:
    """SignUp with the email as username; then the confirmation form."""
    email, password = field(form, "email"), field(form, "password")
    if not confirmation.self_registration(pool):
        return _show(checked, pages.error("signup_disabled"), 400)
    backend, _ = find_client_pool(checked.client_id)
    try:
        backend.sign_up(checked.client_id, email, password, [{"Name": "email", "Value": email}])
        confirmation.send_sign_up_code(pool, email)
    except Exception as refused:  # moto's Cognito errors (UsernameExists, InvalidPassword), CodeRefused
        if not hasattr(refused, "message"):
            raise
        return sign_up_page(pool, base, checked, form, _refusal(refused))
    return confirm_page(pool, base, checked, email, notice=f"We sent a code to {email}. {INBOX_HINT}")


def confirm_page(
    pool: Any, base: str, checked: AuthorizeRequest, username: str, message: str = "", notice: str = ""
) -> Response:
    page = pages.form_page(
        "Confirm your account",
        pool.name,
        base + "/confirmUser",
        {**checked.params, "username": username},
        [("code", "Verification code", "text", "")],
        ("confirm", "Confirm account"),
        message or None,
        notice or None,
        secondary=("resend", "Resend code"),
    )
    return _show(checked, page)


def confirm_user(
    pool: Any, base: str, checked: AuthorizeRequest, form: Mapping[str, Sequence[str]]
) -> Response:
    """ConfirmSignUp with the code (or ResendConfirmationCode); then the sign-in form."""
    username = field(form, "username")
    user = pool._get_user(username) if username else None
    try:
        if user is None:
            raise confirmation.CodeRefused("CodeMismatchException", confirmation.MISMATCH)
        if field(form, "resend"):
            if confirmation.confirmed(user) or not confirmation.send_sign_up_code(pool, user.username):
                raise confirmation.CodeRefused("InvalidParameterException", "User is already confirmed.")
            return confirm_page(pool, base, checked, username, notice=f"We sent a new code. {INBOX_HINT}")
        confirmation.confirm_sign_up(pool, user, field(form, "code").strip())
    except confirmation.CodeRefused as refused:
        return confirm_page(pool, base, checked, username, message=refused.message)
    return sign_in(pool, base, checked, username, "Your account is confirmed: sign in.")


def forgot_page(
    pool: Any, base: str, checked: AuthorizeRequest, params: Mapping[str, Sequence[str]], message: str = ""
) -> Response:
    fields = [("username", "Username", "text", field(params, "username"))]
    page = pages.form_page(
        "Forgot your password?",
        pool.name,
        base + "/forgotPassword",
        checked.params,
        fields,
        ("reset", "Reset my password"),
        message or None,
    )
    return _show(checked, page)


def forgot_password(
    pool: Any, base: str, checked: AuthorizeRequest, form: Mapping[str, Sequence[str]]
) -> Response:
    """ForgotPassword: a code if the user exists; the next page reads the same either way."""
    username = field(form, "username")
    try:
        confirmation.send_reset_code(pool, username)
    except confirmation.CodeRefused as refused:
        return forgot_page(pool, base, checked, form, refused.message)
    notice = f"If {username} has an account, we sent a code to its email. {INBOX_HINT}"
    return reset_page(pool, base, checked, username, notice=notice)


def reset_page(
    pool: Any, base: str, checked: AuthorizeRequest, username: str, message: str = "", notice: str = ""
) -> Response:
    fields = [("code", "Code", "text", ""), ("password", "New password", "password", "")]
    page = pages.form_page(
        "Reset your password",
        pool.name,
        base + "/confirmForgotPassword",
        {**checked.params, "username": username},
        fields,
        ("change", "Change password"),
        message or None,
        notice or None,
    )
    return _show(checked, page)


def reset_password(
    pool: Any, base: str, checked: AuthorizeRequest, form: Mapping[str, Sequence[str]]
) -> Response:
    """ConfirmForgotPassword; then the sign-in form."""
    username = field(form, "username")
    backend, _ = find_client_pool(checked.client_id)
    try:
        confirmation.reset_password(
            backend, pool, username, field(form, "code").strip(), field(form, "password")
        )
    except Exception as refused:  # CodeRefused, moto's InvalidPasswordException
        if not hasattr(refused, "message"):
            raise
        return reset_page(pool, base, checked, username, message=_refusal(refused))
    return sign_in(pool, base, checked, username, "Your password has been changed: sign in.")
