"""Password sign-ins as Cognito answers them (issue 20, finding 12): an unknown user like a wrong
password, a temporary lockout (`authdemo.local.lockout`), and no SRP proof moto cannot check."""

from __future__ import annotations

import hmac
from typing import Any


def guarded_sign_in() -> list[tuple[Any, str, Any]]:
    """(class, attribute, value): InitiateAuth and AdminInitiateAuth with a password answer an
    unknown user as a wrong password when the client sets `PreventUserExistenceErrors` ENABLED
    (moto says `UserNotFoundException`), say "Incorrect username or password." for a wrong one
    (AdminInitiateAuth said the username) and lock out as Cognito does (`lockout`). moto's SRP
    accepts any proof (`PASSWORD_VERIFIER`: tokens with no password): it is refused as a wrong one."""
    from moto.cognitoidp.models import CognitoIdpBackend

    def already(method: Any) -> bool:
        return bool(getattr(method, "guarded", False))

    initiate, admin = CognitoIdpBackend.initiate_auth, CognitoIdpBackend.admin_initiate_auth
    respond = CognitoIdpBackend.respond_to_auth_challenge

    def initiate_auth(self: Any, client_id: str, auth_flow: str, parameters: dict[str, str]) -> Any:
        pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
        call = lambda: initiate(self, client_id, auth_flow, parameters)  # noqa: E731
        if pool is None or str(auth_flow) not in ("USER_PASSWORD_AUTH", "USER_SRP_AUTH"):
            return call()
        return _sign_in(
            pool, pool.clients[client_id], parameters or {}, call, str(auth_flow) == "USER_SRP_AUTH"
        )

    def admin_initiate_auth(
        self: Any, pool_id: str, client_id: str, auth_flow: str, parameters: dict[str, str]
    ) -> Any:
        pool = self.user_pools.get(pool_id)
        call = lambda: admin(self, pool_id, client_id, auth_flow, parameters)  # noqa: E731
        if pool is None or client_id not in pool.clients:
            return call()
        if str(auth_flow) not in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
            return call()
        return _sign_in(pool, pool.clients[client_id], parameters or {}, call, False)

    def respond_to_auth_challenge(self: Any, session: str, client_id: str, name: str, answers: Any) -> Any:
        from moto.cognitoidp.exceptions import NotAuthorizedError

        from authdemo.local.lockout import WRONG_MESSAGE

        if name == "PASSWORD_VERIFIER":
            raise NotAuthorizedError(WRONG_MESSAGE)
        return respond(self, session, client_id, name, answers)

    for method in (initiate_auth, admin_initiate_auth, respond_to_auth_challenge):
        setattr(method, "guarded", True)  # noqa: B010  (a marker on a function)
    return [
        (CognitoIdpBackend, name, value)
        for name, value, current in [
            ("initiate_auth", initiate_auth, initiate),
            ("admin_initiate_auth", admin_initiate_auth, admin),
            ("respond_to_auth_challenge", respond_to_auth_challenge, respond),
        ]
        if not already(current)
    ]


def _sign_in(pool: Any, client: Any, parameters: dict[str, str], call: Any, srp: bool) -> Any:
    """A password sign-in to `pool` through `client`, checked as Cognito does before moto runs it."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.utils import check_secret_hash

    from authdemo.local.lockout import LOCKED_MESSAGE, SIGN_INS, WRONG_MESSAGE

    username = str(parameters.get("USERNAME") or "")
    if client.generate_secret and not check_secret_hash(
        client.secret, client.id, username, parameters.get("SECRET_HASH")
    ):
        return call()  # moto's "Unable to verify secret hash" (not a password attempt)
    user = pool._get_user(username) if username else None
    if user is None and client.extended_config.get("PreventUserExistenceErrors") != "ENABLED":
        return call()  # LEGACY: UserNotFoundException, as on AWS
    key = (pool.id, username)
    if not SIGN_INS.attempt(key):
        raise NotAuthorizedError(LOCKED_MESSAGE)
    if srp:  # moto cannot check an SRP proof (and refuses every one): only an unknown user is ours
        if user is None:
            SIGN_INS.failed(key)
            raise NotAuthorizedError(WRONG_MESSAGE)
        return call()
    password = str(parameters.get("PASSWORD") or "")
    if (
        user is None
        or not user.password
        or not hmac.compare_digest(user.password.encode(), password.encode())
    ):
        if user is not None and not user.enabled:
            return call()  # moto's "User is disabled." comes first, as before
        SIGN_INS.failed(key)
        raise NotAuthorizedError(WRONG_MESSAGE)
    answer = call()
    SIGN_INS.succeeded(key)
    return answer
