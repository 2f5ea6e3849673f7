"""`authdemo test`, the probing half: requests made patient (the expectations are in matrix.py).

A just-created HTTP API can answer 404, 500 or 503, or not resolve, for a while
(aws-facts.md, HTTP API). So we first poll the token-less request with backoff until
it answers 401 (route and authorizer live), bounded, then run the checks; each
request of a cell retries a 500/503 briefly.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from typing import Any

from .errors import UnreachableError

NOT_READY_STATUSES = frozenset({404, 500, 502, 503, 504})
SETTLE_STATUSES = frozenset({500, 502, 503})  # an authorized call retried briefly on these
SETTLE_CAP = 5.0  # seconds of retries per authorized check, at most (and never beyond --wait)
SETTLE_FIX = (
    "the API cannot invoke the function yet (or its invoke permission is missing); wait a "
    "minute and rerun `authdemo test`, or run `authdemo up` again to repair the stack"
)
UNAUTHORIZED = {"message": "Unauthorized"}
HELLO = "Hello from protected API!"


def body_of(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def curl(url: str, token_label: str | None) -> str:
    """The guide's curl line; `-w '\\n'` ends the body with a newline, as a terminal wants."""
    header = f' -H "Authorization: Bearer ${token_label}"' if token_label else ""
    return f"curl -s -w '\\n'{header} {shlex.quote(url)}"


def curl_sigv4(url: str, region: str) -> str:
    """A SigV4-signed curl line (curl >= 7.75) with the AWS_* variables of the shell; the session
    token header only when there is one (temporary credentials)."""
    return (
        f"curl -s -w '\\n' --aws-sigv4 \"aws:amz:{region}:execute-api\" "
        '--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" '
        '${AWS_SESSION_TOKEN:+-H "x-amz-security-token: $AWS_SESSION_TOKEN"} '
        f"{shlex.quote(url)}"
    )


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

    def get(self, token: str | None, url: str | None = None, headers: dict[str, str] | None = None) -> Any:
        """GET `url` (default: the warm-up URL) with a bearer token, or with `headers` as given."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return self.session.get(url or self.url, headers=sent, timeout=self.timeout)

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

    def get_settled(
        self,
        token: str | None,
        retry_for: float = SETTLE_CAP,
        url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """A request that retries 500/502/503 (permission or deployment race) for a short while:
        at most `retry_for` seconds (the caller passes what is left of `--wait`, capped)."""
        deadline = self.clock() + max(retry_for, 0.0)
        delay = 0.25
        while True:
            try:
                response = self.get(token, url, headers)
                if response.status_code not in SETTLE_STATUSES or self.clock() + delay > deadline:
                    return response
            except self.requests.RequestException:
                if self.clock() + delay > deadline:
                    raise
            self.sleep(delay)
            delay = min(delay * 1.5, 2.0)
