"""The loopback redirect of the authorization-code flow with PKCE.

Cognito redirects only to a callback URL registered on the app client, exactly
(`http://localhost:<callback_port>/callback`), so the listener binds that recorded port, on both
loopback addresses (server.py). Only an answer carrying this run's `state` counts: any other (a
stale tab, or `<img src="http://localhost:8400/callback">` on any web page) gets an error page
and the login keeps waiting, so a stray request cannot end it. The first answer with the state
decides: an `?error=` from Cognito ends the flow with its reason, and a `code` is exchanged with
this run's PKCE verifier; the browser is then redirected to the token page, so the code never
stays in its address bar.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

from .. import oauth
from ..errors import AuthdemoError, ExitCode
from .server import CallbackAnswer, message_page

DEFAULT_CALLBACK_PORT = 8400

#: Cognito's `?error=` values on a redirect, with what to do (RFC 6749 §4.1.2.1).
_ERROR_FIXES = {
    "access_denied": "the sign-in was refused or cancelled; run `authdemo login` and sign in again",
    "invalid_request": "the app client's OAuth settings do not match this request; run `authdemo up` "
    "to bring them up to date, then `authdemo login`",
    "unauthorized_client": "the app client is not allowed the code flow; run `authdemo up` to bring its "
    "OAuth settings up to date, then `authdemo login`",
    "invalid_scope": "the app client does not allow a requested scope; run `authdemo up` to bring its "
    "OAuth settings up to date, then `authdemo login`",
}


#: The page for an answer without this run's state: it ends nothing (the login keeps waiting).
STRAY = (
    "This answer does not carry the state of the running `authdemo login` (a stale tab, or a request "
    "another page made), so it was ignored; the login is still waiting: sign in in the tab it opened."
)


class LoginFlow:
    """One sign-in: its state, PKCE pair and outcome; `handle` answers `/callback`."""

    def __init__(
        self,
        base: oauth.Where,
        client_id: str,
        port: int,
        on_tokens: Callable[[dict[str, Any]], str],
        exchange: Callable[..., dict[str, Any]] = oauth.exchange_code,
        on_stray: Callable[[], None] | None = None,
    ) -> None:
        self.base = base
        self.client_id = client_id
        self.redirect_uri = f"http://localhost:{port}/callback"
        self.state = secrets.token_urlsafe(24)
        self.verifier, self.challenge = oauth.pkce_pair()
        self.on_tokens = on_tokens  # keeps the tokens; returns where to send the browser
        self.exchange = exchange
        self.on_stray = on_stray  # told of each answer without this run's state (it is ignored)
        self.done = threading.Event()
        self.error: AuthdemoError | None = None
        self.answer: dict[str, Any] | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The managed login page to open (carries the state and challenge, no secret)."""
        return oauth.authorize_url(
            self.base, self.client_id, self.redirect_uri, oauth.LOGIN_SCOPES, self.state, self.challenge
        )

    def handle(self, query: dict[str, list[str]]) -> CallbackAnswer:
        """The browser's return to `/callback`: only the first one with this run's state counts."""
        with self._lock:
            if self.done.is_set():
                return (
                    410,
                    None,
                    message_page("Already used", "This sign-in was already handled; close this tab."),
                )
            state = (query.get("state") or [""])[0]
            if not secrets.compare_digest(state.encode(), self.state.encode()):
                if self.on_stray is not None:
                    self.on_stray()
                return 400, None, message_page("Not this sign-in", STRAY)
            error = (query.get("error") or [""])[0]
            if error:
                described = (query.get("error_description") or [""])[0]
                fix = _ERROR_FIXES.get(error, "run `authdemo login` again")
                detail = f"{error}: {described}" if described else error
                return self._fail(
                    AuthdemoError(f"Cognito refused the sign-in ({detail}); {fix}.", ExitCode.CREDENTIALS)
                )
            code = (query.get("code") or [""])[0]
            if not code:
                return self._fail(
                    AuthdemoError(
                        "The sign-in's answer carries no code; run `authdemo login` again.",
                        ExitCode.CREDENTIALS,
                    )
                )
            try:
                answer = self.exchange(self.base, self.client_id, code, self.redirect_uri, self.verifier)
                location = self.on_tokens(answer)
            except AuthdemoError as exc:
                return self._fail(exc)
            self.answer = answer
            self.done.set()
            return 303, location, message_page("Signed in", "Signed in; opening the token page.")

    def _fail(self, error: AuthdemoError) -> CallbackAnswer:
        self.error = error
        self.done.set()
        return 400, None, message_page("Sign-in refused", error.message)

    def wait(self, timeout: float) -> dict[str, Any]:
        """The token endpoint's answer, once the browser came back; else one sentence."""
        if not self.done.wait(timeout):
            raise AuthdemoError(
                f"No sign-in came back to {self.redirect_uri} within {timeout:g} s; run `authdemo login` "
                "again (--timeout S waits longer; --no-browser prints the URL to open by hand).",
                ExitCode.UNREACHABLE,
            )
        if self.error is not None:
            raise self.error
        assert self.answer is not None
        return self.answer
