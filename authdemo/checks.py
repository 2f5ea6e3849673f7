"""`authdemo test`, the probing half: requests made patient (the expectations are in matrix.py).

A just-created HTTP API can answer 404, 500 or 503, or not resolve, for a while
(aws-facts.md, HTTP API), and its routes go live one by one (docs/aws-notes.md, issue 19):
so we first poll the token-less request of every route `test` will call with backoff until
each answers (401/403: route and authorizer live), bounded by `--wait`, then run the checks;
each request of a cell retries a 500/503 briefly, and a 404 within what is left of `--wait`.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from typing import Any

from .errors import UnreachableError

NOT_READY_STATUSES = frozenset({404, 500, 502, 503, 504})
SETTLE_STATUSES = frozenset({500, 502, 503})  # an authorized call retried briefly on these
NOT_FOUND = 404  # a route not deployed yet: retried within what is left of --wait
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


def _path(url: str) -> str:
    """The route a URL calls (`/scoped`), for the progress line."""
    from urllib.parse import urlsplit

    return "/" + urlsplit(url).path.rsplit("/", 1)[-1]


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

    def wait_ready(self, bound: float, on_wait: Callable[[str], None], urls: Sequence[str] = ()) -> float:
        """Poll every URL in `urls` (and the warm-up URL) without a token until each answers
        something else than 404/5xx or no answer; returns the seconds waited."""
        start = self.clock()
        delay = 0.25
        pending = list(dict.fromkeys([self.url, *urls]))
        last = "no answer yet"
        while True:
            for url in list(pending):
                try:
                    response = self.get(None, url)
                    if response.status_code not in NOT_READY_STATUSES:
                        pending.remove(url)
                        continue
                    last = f"HTTP {response.status_code}"
                except self.requests.RequestException as exc:
                    last = type(exc).__name__
                break  # routes go live one by one: ask the next one once this one answers
            if not pending:
                return self.clock() - start
            waited = self.clock() - start
            if waited + delay > bound:
                raise UnreachableError(
                    f"The API at {pending[0]} still answers {last} after {waited:.0f} s; "
                    "check it with `authdemo status`, or wait a minute and rerun `authdemo test`."
                )
            on_wait(f"API not ready ({_path(pending[0])}: {last}), waited {waited:.1f}s")
            self.sleep(delay)
            delay = min(delay * 1.5, 5.0)

    def get_settled(
        self,
        token: str | None,
        retry_for: float = SETTLE_CAP,
        url: str | None = None,
        headers: dict[str, str] | None = None,
        not_found_for: float = 0.0,
    ) -> Any:
        """A request that retries 500/502/503 (permission or deployment race) for a short while:
        at most `retry_for` seconds (the caller passes what is left of `--wait`, capped), and a
        404 (a route not live yet) for at most `not_found_for` seconds (what is left of `--wait`)."""
        began = self.clock()
        delay = 0.25
        while True:
            try:
                response = self.get(token, url, headers)
                status = response.status_code
                if status in SETTLE_STATUSES:
                    bound = retry_for
                elif status == NOT_FOUND:
                    bound = not_found_for
                else:
                    return response
                if self.clock() + delay > began + bound:
                    return response
            except self.requests.RequestException:
                if self.clock() + delay > began + max(retry_for, 0.0):
                    raise
            self.sleep(delay)
            delay = min(delay * 1.5, 2.0)
