"""`authdemo test`: the guide's curl checks, made patient and exact.

A just-created HTTP API can answer 404, 500 or 503, or not resolve, for a while
(aws-facts.md, HTTP API). So we first poll the token-less request with backoff until
it answers 401 (route and authorizer live), bounded, then run the checks; each
authorized call retries a 500/503 briefly. Results map onto one status enum.
"""

from __future__ import annotations

import enum
import json
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import UnreachableError
from .tokens import shorten, tamper

NOT_READY_STATUSES = frozenset({404, 500, 502, 503, 504})
SETTLE_STATUSES = frozenset({500, 502, 503})  # an authorized call retried briefly on these
SETTLE_CAP = 5.0  # seconds of retries per authorized check, at most (and never beyond --wait)
SETTLE_FIX = (
    "the API cannot invoke the function yet (or its invoke permission is missing); wait a "
    "minute and rerun `authdemo test`, or run `authdemo up` again to repair the stack"
)
UNAUTHORIZED = {"message": "Unauthorized"}
HELLO = "Hello from protected API!"


class Outcome(enum.Enum):
    PASS = "pass"
    FAIL = "fail"


@dataclass
class Check:
    name: str
    curl: str
    expected: str
    status: int | None = None
    body: Any = None
    outcome: Outcome = Outcome.FAIL
    detail: str = ""
    seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    token_var: str | None = None  # the shell variable the printed curl line reads
    token_kind: str | None = None  # `authdemo token --<kind>` sets it
    token: str | None = None  # the token sent

    @property
    def why(self) -> str:
        """Why the API answered so: API Gateway's `www-authenticate` error_description on a 401/403."""
        header = {k.lower(): v for k, v in self.headers.items()}.get("www-authenticate", "")
        match = re.search(r'error_description="([^"]*)"', header)
        if match:
            return match.group(1)
        if self.status == 200:
            return "valid token"
        return header or self.detail

    def as_dict(self, show_token: bool = False) -> dict[str, Any]:
        token = self.token if show_token or self.token is None else shorten(self.token)
        return {
            "name": self.name,
            "expected": self.expected,
            "status": self.status,
            "body": self.body,
            "why": self.why,
            "passed": self.outcome is Outcome.PASS,
            "detail": self.detail,
            "seconds": round(self.seconds, 3),
            "token": token,
        }


def _body(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def curl(url: str, token_label: str | None) -> str:
    """The guide's curl line; `-w '\\n'` ends the body with a newline, as a terminal wants."""
    header = f' -H "Authorization: Bearer ${token_label}"' if token_label else ""
    return f"curl -s -w '\\n'{header} {shlex.quote(url)}"


class Prober:
    """Sends the requests; one `requests.Session` keeps the TLS connection warm."""

    def __init__(
        self,
        url: str,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        import requests

        self.url = url
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock  # what retry budgets are measured with (tests pass a fake one)
        self.session = requests.Session()
        self.requests = requests

    def get(self, token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.session.get(self.url, headers=headers, timeout=self.timeout)

    def wait_ready(self, bound: float, on_wait: Callable[[str], None]) -> float:
        """Poll without a token until the API answers 401; returns the seconds waited."""
        start = time.monotonic()
        delay = 0.25
        last = "no answer yet"
        while True:
            try:
                response = self.get(None)
                if response.status_code not in NOT_READY_STATUSES:
                    return time.monotonic() - start
                last = f"HTTP {response.status_code}"
            except self.requests.RequestException as exc:
                last = type(exc).__name__
            waited = time.monotonic() - start
            if waited + delay > bound:
                raise UnreachableError(
                    f"The API at {self.url} still answers {last} after {waited:.0f} s; "
                    "check it with `authdemo status`, or wait a minute and rerun `authdemo test`."
                )
            on_wait(f"API not ready ({last}), waited {waited:.1f}s")
            self.sleep(delay)
            delay = min(delay * 1.5, 5.0)

    def get_settled(self, token: str | None, retry_for: float = SETTLE_CAP) -> Any:
        """A request that retries 500/502/503 (permission or deployment race) for a short while:
        at most `retry_for` seconds (the caller passes what is left of `--wait`, capped)."""
        deadline = self.clock() + max(retry_for, 0.0)
        delay = 0.25
        while True:
            try:
                response = self.get(token)
                if response.status_code not in SETTLE_STATUSES or self.clock() + delay > deadline:
                    return response
            except self.requests.RequestException:
                if self.clock() + delay > deadline:
                    raise
            self.sleep(delay)
            delay = min(delay * 1.5, 2.0)


def run_checks(
    prober: Prober,
    tokens: dict[str, str],
    username: str,
    on_wait: Callable[[str], None],
    wait_bound: float = 120.0,
) -> tuple[list[Check], float]:
    """Run the four checks of the guide (plus the access token); returns them and the warm-up."""
    started = prober.clock()
    waited = prober.wait_ready(wait_bound, on_wait)
    url = prober.url
    plan = [
        ("no token", None, None, None, 401),
        ("ID token", tokens["id"], "ID_TOKEN", "id", 200),
        ("access token", tokens["access"], "ACCESS_TOKEN", "access", 200),
        ("tampered ID token", tamper(tokens["id"]), "TAMPERED_TOKEN", "tampered", 401),
    ]
    checks = []
    for name, token, label, kind, want in plan:
        expected = f"401 {json.dumps(UNAUTHORIZED)}" if want == 401 else f"200 user={username}"
        check = Check(
            name=name,
            curl=curl(url, label),
            expected=expected,
            token_var=label,
            token_kind=kind,
            token=token,
        )
        began = time.monotonic()
        left = wait_bound - (prober.clock() - started)  # --wait bounds the retries too
        try:
            response = prober.get_settled(token, min(SETTLE_CAP, left)) if token else prober.get(None)
            check.status, check.body = response.status_code, _body(response)
            check.headers = dict(response.headers)
            if token and check.status in SETTLE_STATUSES:
                check.detail = f"expected HTTP {want}, got {check.status}: {SETTLE_FIX}"
        except prober.requests.RequestException as exc:
            check.detail = f"no answer: {type(exc).__name__}"
        check.seconds = time.monotonic() - began
        judge(check, want, username)
        checks.append(check)
    return checks, waited


def judge(check: Check, want: int, username: str) -> None:
    if check.status is None:
        return
    if check.status != want:
        check.detail = check.detail or f"expected HTTP {want}, got {check.status}"
        return
    if want == 401 and check.body != UNAUTHORIZED:
        check.detail = f"expected body {json.dumps(UNAUTHORIZED)}"
        return
    if want == 200:
        body = check.body if isinstance(check.body, dict) else {}
        if body.get("message") != HELLO or body.get("user") != username:
            check.detail = f"expected message {HELLO!r} and user {username!r}"
            return
    check.outcome = Outcome.PASS
