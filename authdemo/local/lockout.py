"""Cognito's temporary lockout after repeated wrong passwords, for the embedded user pools.

Cognito (developer guide, "Lockout behavior for failed sign-in attempts"): after five failed
sign-in attempts with a password, the user is locked out for 1 s, then 2^(n-5) s for n failures
(at most about 15 minutes); attempts during a lockout get `NotAuthorizedException: Password
attempts exceeded` and do not count; a successful sign-in after a lockout, or 15 minutes without
any attempt, start again from nothing. Without it, anyone on the machine could try passwords
against the presenter's user as fast as the server answers (issue 20, finding 12).

Kept per (pool id, username) as typed, known user or not, so that an unknown name locks out
like a real one (PreventUserExistenceErrors); in memory only, at most `MAX_ENTRIES` names.
`clock` (seconds, monotonic) is injectable: tests move it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES = 5
MAX_LOCKOUT_SECONDS = 15 * 60  # "up to a maximum of approximately 15 minutes"
QUIET_RESET_SECONDS = 15 * 60  # "not initiate any sign-in attempts for 15 consecutive minutes"
MAX_ENTRIES = 10_000
LOCKED_MESSAGE = "Password attempts exceeded"
WRONG_MESSAGE = "Incorrect username or password."

Key = tuple[str, str]


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last_attempt: float = 0.0


class Lockout:
    """`attempt` before checking a password (False: locked out), then `failed` or `succeeded`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._records: dict[Key, _Record] = {}

    def attempt(self, key: Key) -> bool:
        """Note an attempt; False while the user is locked out (the attempt does not count)."""
        now = self.clock()
        with self._lock:
            record = self._records.get(key)
            if record is None:
                self._make_room(now)
                record = self._records[key] = _Record()
            elif now - record.last_attempt >= QUIET_RESET_SECONDS:
                record.failures, record.locked_until = 0, 0.0
            record.last_attempt = now
            return now >= record.locked_until

    def failed(self, key: Key) -> None:
        """A wrong password (or an unknown user): from the fifth on, lock out 2^(n-5) s."""
        now = self.clock()
        with self._lock:
            record = self._records.setdefault(key, _Record(last_attempt=now))
            record.failures += 1
            if record.failures >= FREE_FAILURES:
                lockout = min(2.0 ** (record.failures - FREE_FAILURES), MAX_LOCKOUT_SECONDS)
                record.locked_until = now + lockout

    def succeeded(self, key: Key) -> None:
        with self._lock:
            self._records.pop(key, None)

    def _make_room(self, now: float) -> None:
        """Forget quiet names first, then the longest quiet, so made-up names cannot fill memory."""
        if len(self._records) < MAX_ENTRIES:
            return
        for key in [k for k, r in self._records.items() if now - r.last_attempt >= QUIET_RESET_SECONDS]:
            del self._records[key]
        while len(self._records) >= MAX_ENTRIES:
            oldest = min(self._records, key=lambda k: self._records[k].last_attempt)
            del self._records[oldest]


#: The embedded AWS's one lockout book: InitiateAuth, AdminInitiateAuth and managed login share it.
SIGN_INS = Lockout()
