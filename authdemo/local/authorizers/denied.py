"""The refusal every authorizer raises: API Gateway's status, headers and body."""

from __future__ import annotations

import json
from collections.abc import Sequence

UNAUTHORIZED_BODY = b'{"message":"Unauthorized"}'
FORBIDDEN_BODY = b'{"message":"Forbidden"}'


class Denied(Exception):
    """The request is refused; carries the status, headers and body API Gateway sends."""

    def __init__(
        self,
        description: str,
        status: int = 401,
        scopes: Sequence[str] = (),
        message: str | None = None,
        challenge: bool = True,
        body: bytes | None = None,
    ) -> None:
        """`message` replaces the body's "Unauthorized"/"Forbidden"; `challenge` False leaves
        out `www-authenticate` (JWT authorizers send it, Lambda and IAM refusals do not); `body`
        replaces the whole body (a REST API's `{"Message":...}` 403s)."""
        super().__init__(description)
        self.description = description
        self.status = status
        self.scopes = tuple(scopes)
        self.message = message
        self.challenge = challenge
        self._body = body

    @property
    def body(self) -> bytes:
        if self._body is not None:
            return self._body
        if self.message is not None:
            return json.dumps({"message": self.message}, separators=(",", ":")).encode()
        return UNAUTHORIZED_BODY if self.status == 401 else FORBIDDEN_BODY

    @property
    def headers(self) -> dict[str, str]:
        if not self.challenge:
            return {"content-type": "application/json"}
        # Quotes would break the header's quoted-string; our descriptions never hold any.
        description = self.description.replace('"', "'")
        if self.status == 401:
            error = f'Bearer scope="" error="invalid_token" error_description="{description}"'
        else:
            wanted = " ".join(self.scopes)
            error = f'Bearer scope="{wanted}" error="insufficient_scope" error_description="{description}"'
        return {"content-type": "application/json", "www-authenticate": error}
