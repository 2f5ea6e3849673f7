"""Exit statuses and the one exception type that carries a user-facing sentence.

Every failure a user can cause ends as an :class:`AuthdemoError`: the CLI prints its
message (one sentence that names the fix) and exits with its code. Nothing else is
allowed to reach the user as a traceback.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Documented exit statuses (README, "Exit codes")."""

    OK = 0
    ERROR = 1  # an AWS error we did not expect; the message says which call failed
    USAGE = 2  # bad input: option, password, username, stack name, region
    CHECK_FAILED = 3  # `authdemo test`: at least one check did not get the expected answer
    CREDENTIALS = 4  # missing, expired or invalid credentials, or access denied
    STATE = 5  # state file corrupt, of an unknown/newer schema, or of another account/region
    BUSY = 6  # another authdemo process holds the stack's lock
    UNREACHABLE = 7  # an endpoint does not answer, a port is taken, the API never became ready
    NOT_FOUND = 8  # nothing deployed for this stack (e.g. `test` before `up`)
    INTERRUPTED = 130  # Ctrl-C; the state file stays consistent; the message says what to rerun


def quoted(value: str, limit: int = 60) -> str:
    """A value the user gave, quoted for an error sentence: a long one (a stack name pasted 300
    characters long) is cut in the middle and its length said, so the sentence stays readable."""
    if len(value) <= limit:
        return repr(value)
    keep = limit - 12
    return f"{value[:keep] + '…' + value[-8:]!r} ({len(value)} characters)"


class AuthdemoError(Exception):
    """A failure explained in one sentence, with the exit status to use."""

    code: ExitCode = ExitCode.ERROR
    aws_code: str | None = None  # the AWS error code behind it, when there is one
    aws_message: str = ""  # and AWS's own message
    aws_retry_after: str | None = None  # a throttling answer's Retry-After (API Gateway's 429)

    def __init__(self, message: str, code: ExitCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFound(AuthdemoError):
    """AWS says the resource is not there (each service's "gone" code): units catch this one."""


class UsageError(AuthdemoError):
    code = ExitCode.USAGE


class CredentialsError(AuthdemoError):
    code = ExitCode.CREDENTIALS


class StateError(AuthdemoError):
    code = ExitCode.STATE


class BusyError(AuthdemoError):
    code = ExitCode.BUSY


class UnreachableError(AuthdemoError):
    code = ExitCode.UNREACHABLE


class NotDeployedError(AuthdemoError):
    code = ExitCode.NOT_FOUND


class PortInUseError(UnreachableError):
    """The embedded server's port is taken by another program."""
