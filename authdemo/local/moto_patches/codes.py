"""Real confirmation codes and an admin-only pool's SignUp refused (issue 20, findings 2 and 4):
moto accepts any code and hands the reset code to the caller."""

from __future__ import annotations

from typing import Any


def client_pool(client_id: str) -> tuple[Any, Any]:
    from authdemo.local.backends import find_client_pool

    return find_client_pool(client_id)


def confirmation_codes() -> list[tuple[Any, str, Any]]:
    """(class, attribute, value): moto's Cognito answers with real codes (`confirmation`).

    moto 5 confirms a sign-up whatever the code (its ConfirmSignUp reads none), sets a password
    for any ConfirmForgotPassword code not of its own `moto-confirmation-code:` form, hands
    ForgotPassword's code to the caller in an `x-moto-forgot-password-confirmation-code` header,
    has no ResendConfirmationCode, and lets SignUp into a pool that allows only administrators to
    create users. Each wrapper is applied once (a second `fixes()` keeps the first)."""
    from moto.cognitoidp.responses import CognitoIdpResponse as R

    return [
        (R, "sign_up", _wrapped(R.sign_up, _sign_up)),
        (R, "confirm_sign_up", _wrapped(R.confirm_sign_up, _confirm_sign_up)),
        (R, "forgot_password", _wrapped(R.forgot_password, _forgot_password)),
        (R, "confirm_forgot_password", _wrapped(R.confirm_forgot_password, _confirm_forgot_password)),
        (R, "resend_confirmation_code", resend_confirmation_code),
    ]


def _wrapped(original: Any, wrapper: Any) -> Any:
    original = getattr(original, "__wrapped__", original)

    def method(self: Any) -> Any:
        return wrapper(self, original)

    method.__wrapped__ = original  # type: ignore[attr-defined]
    method.__name__ = original.__name__
    return method


def _refuse(error: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(error, message)


def _refused(call: Any, *args: Any) -> Any:
    """`call(*args)`, its CodeRefused answered as the error Cognito names."""
    from authdemo.local.confirmation import CodeRefused

    try:
        return call(*args)
    except CodeRefused as refused:
        raise _refuse(refused.error, refused.message) from None


def _sign_up(self: Any, original: Any) -> Any:
    """Refuse SignUp in an admin-only pool, as Cognito does; else sign up and send the code."""
    from authdemo.local import confirmation

    _, pool = client_pool(str(self._get_param("ClientId") or ""))
    if pool is not None:
        _refused(confirmation.refuse_admin_only, pool)
    result = original(self)
    user = pool._get_user(str(self._get_param("Username") or "")) if pool is not None else None
    if user is not None and _refused(confirmation.send_sign_up_code, pool, user.username):
        _deliveries(result, user)
    return result


def _confirm_sign_up(self: Any, original: Any) -> Any:
    """The code SignUp sent, once; the user's email is verified with it."""
    from authdemo.local import confirmation

    _, pool = client_pool(str(self._get_param("ClientId") or ""))
    user = pool._get_user(str(self._get_param("Username") or "")) if pool is not None else None
    if user is None:
        return original(self)  # moto's ResourceNotFound / UserNotFound
    _refused(confirmation.confirm_sign_up, pool, user, str(self._get_param("ConfirmationCode") or ""))
    return original(self)


def _forgot_password(self: Any, original: Any) -> Any:
    """moto's answer without its code header; the code goes to the owner's inbox."""
    from authdemo.local import confirmation

    result = original(self)
    self.response_headers.pop("x-moto-forgot-password-confirmation-code", None)
    _, pool = client_pool(str(self._get_param("ClientId") or ""))
    user = pool._get_user(str(self._get_param("Username") or "")) if pool is not None else None
    if user is not None:
        _refused(confirmation.send_reset_code, pool, user.username)
        _deliveries(result, user)
    return result


def _confirm_forgot_password(self: Any, original: Any) -> Any:
    """The code ForgotPassword sent, once, and a password the pool's policy accepts."""
    from authdemo.local import confirmation

    backend, pool = client_pool(str(self._get_param("ClientId") or ""))
    if pool is None:
        return original(self)  # moto's ResourceNotFound
    param = self._get_param
    args = (str(param("Username") or ""), str(param("ConfirmationCode") or ""), str(param("Password") or ""))
    _refused(confirmation.reset_password, backend, pool, *args)
    from moto.core.responses import EmptyResult

    return EmptyResult()


def resend_confirmation_code(self: Any) -> Any:
    """ResendConfirmationCode, which moto lacks: a new sign-up code (the old one stops working)."""
    from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError, UserNotFoundError
    from moto.core.responses import ActionResult

    from authdemo.local import confirmation

    client_id = str(self._get_param("ClientId") or "")
    _, pool = client_pool(client_id)
    if pool is None:
        raise ResourceNotFoundError(client_id)
    user = pool._get_user(str(self._get_param("Username") or ""))
    if user is None:
        raise UserNotFoundError("Username/client id combination not found.")
    if confirmation.confirmed(user):
        raise InvalidParameterException("User is already confirmed.")
    if not _refused(confirmation.send_sign_up_code, pool, user.username):
        raise InvalidParameterException("No verified email or phone number to send the code to.")
    return ActionResult({"CodeDeliveryDetails": _delivery(user)})


def _delivery(user: Any) -> dict[str, str]:
    """CodeDeliveryDetails for where the code went (moto names a phone under its legacy
    recovery setting even when the code goes to the email)."""
    from authdemo.local import confirmation

    to = confirmation.destination(user, user.username)
    email = "@" in to
    return {
        "Destination": f"{to[0]}***@{to.partition('@')[2][:1]}***" if email else f"+*******{to[-4:]}",
        "DeliveryMedium": "EMAIL" if email else "SMS",
        "AttributeName": "email" if email else "phone_number",
    }


def _deliveries(result: Any, user: Any) -> None:
    """Set moto's answer's CodeDeliveryDetails to `_delivery` (its `result` is a dict)."""
    answer = getattr(result, "result", None)
    if isinstance(answer, dict):
        answer["CodeDeliveryDetails"] = _delivery(user)
