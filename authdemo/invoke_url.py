"""Where a stack's HTTP API is invoked (issue 19: any endpoint, not only ours).

On AWS it is the API's `ApiEndpoint`, which CreateApi and GetApis answer and the state records
(`https://<id>.execute-api.<region>.amazonaws.com`). With `--local` the embedded AWS is ours and
serves `<endpoint>/_aws/execute-api/<id>`. Behind an `--endpoint-url` authdemo did not start,
nothing of ours is assumed: the `ApiEndpoint` that endpoint reported is used when it can be
reached from here; when it cannot (ministack's `http://<id>.execute-api.localhost:<port>` where
`*.localhost` does not resolve, moto's AWS-form URL, LocalStack's URL without a scheme), the
path form LocalStack documents for local DNS issues, `<endpoint>/_aws/execute-api/<id>`, and a
note that says why (docs/aws-notes.md, issue 19).
"""

from __future__ import annotations

import functools
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: How long a reported host may take to resolve before it counts as not resolving (a resolver
#: that cannot be reached would otherwise hold every command for its own timeouts).
RESOLVE_TIMEOUT = 2.0
#: `api_url_source` values: the reported `ApiEndpoint`; our embedded AWS's path (`--local`); the
#: path form at a foreign endpoint (the reported one is unusable); AWS's documented form (on AWS,
#: a state that recorded no `ApiEndpoint`).
REPORTED, EMBEDDED, PATH, AWS_FORM = "reported", "embedded", "path", "aws"


@dataclass(frozen=True)
class InvokeUrl:
    url: str
    source: str
    note: str | None = None  # one sentence, when the reported endpoint was not used


def of_api(
    rec: dict[str, Any], endpoint_url: str | None, local: bool, region: str, dns_suffix: str
) -> InvokeUrl:
    """The invoke URL of the API whose state record is `rec` (`id`, and the reported `endpoint`)."""
    api_id = str(rec["id"])
    reported = str(rec.get("endpoint") or "").rstrip("/")
    if endpoint_url and local:
        return InvokeUrl(path_form(endpoint_url, api_id), EMBEDDED)
    if not endpoint_url:
        if reported:
            return InvokeUrl(reported, REPORTED)
        return InvokeUrl(f"https://{api_id}.execute-api.{region}.{dns_suffix}", AWS_FORM)
    why = unusable(reported, endpoint_url, dns_suffix)
    if why is None:
        return InvokeUrl(reported, REPORTED)
    url = path_form(endpoint_url, api_id)
    return InvokeUrl(url, PATH, f"The API's reported endpoint cannot be used from here ({why}); using {url}.")


def of_rest_api(api_id: str, stage: str, endpoint_url: str | None, region: str, dns_suffix: str) -> str:
    """The invoke URL of a REST API's stage (issue 21). On AWS, its documented hostname form
    `https://<id>.execute-api.<region>.<dns_suffix>/<stage>`; at any endpoint (ours with `--local`,
    or one we did not start: a REST API reports no endpoint to trust), the path form LocalStack
    documents, which the embedded AWS serves too."""
    if endpoint_url:
        return f"{path_form(endpoint_url, api_id)}/{stage}"
    return f"https://{api_id}.execute-api.{region}.{dns_suffix}/{stage}"


def path_form(endpoint_url: str, api_id: str) -> str:
    return f"{endpoint_url.rstrip('/')}/_aws/execute-api/{api_id}"


def unusable(reported: str, endpoint_url: str, dns_suffix: str) -> str | None:
    """Why the `ApiEndpoint` a foreign endpoint reported cannot be used from here, or None."""
    if not reported:
        return "it reported no ApiEndpoint"
    parts = urlsplit(reported)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{reported} is not an http(s) URL"
    host = parts.hostname
    endpoint_host = urlsplit(endpoint_url).hostname or ""
    if _in_domain(host, dns_suffix) and not _in_domain(endpoint_host, dns_suffix):
        # An emulator copying AWS's answer: that name is AWS's, and AWS does not have this API.
        return f"{reported} is in AWS's domain, not this endpoint's"
    if not resolves(host):
        return f"its host {host} does not resolve"
    return None


def _in_domain(host: str, suffix: str) -> bool:
    host = host.lower().rstrip(".")
    return host == suffix or host.endswith("." + suffix)


@functools.lru_cache(maxsize=32)
def resolves(host: str, timeout: float = RESOLVE_TIMEOUT) -> bool:
    """Whether `host` resolves to an address within `timeout` seconds (a daemon thread does the
    lookup: getaddrinfo itself has no timeout). Asked once per host and process: `demo` reads the
    summary for `up` and again for `test`, and an unreachable resolver costs `timeout` each time."""
    found: list[bool] = []

    def look_up() -> None:
        try:
            found.append(bool(socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)))
        except (OSError, UnicodeError):  # UnicodeError: not a valid DNS name (a label too long)
            found.append(False)

    thread = threading.Thread(target=look_up, daemon=True, name="authdemo-resolve")
    thread.start()
    thread.join(timeout)
    return bool(found and found[0])
