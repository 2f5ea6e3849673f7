"""The refusal every authorizer raises: API Gateway's status, headers and body."""

from __future__ import annotations

from collections.abc import Sequence

UNAUTHORIZED_BODY = b'{"message":"Unauthorized"}'
FORBIDDEN_BODY = b'{"message":"Forbidden"}'


class Denied(Exception):
    """The request is refused; carries the status, headers and body API Gateway sends."""

    def __init__(self, description: str, status: int = 401, scopes: Sequence[str] = ()) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.scopes = tuple(scopes)

    @property
    def body(self) -> bytes:
        return UNAUTHORIZED_BODY if self.status == 401 else FORBIDDEN_BODY

    @property
    def headers(self) -> dict[str, str]:
        # Quotes would break the header's quoted-string; our descriptions never hold any.
        description = self.description.replace('"', "'")
        if self.status == 401:
            error = f'Bearer scope="" error="invalid_token" error_description="{description}"'
        else:
            wanted = " ".join(self.scopes)
            error = f'Bearer scope="{wanted}" error="insufficient_scope" error_description="{description}"'
        return {"content-type": "application/json", "www-authenticate": error}
