"""Where calls go: the regions AWS has (from botocore's partition data, read through botodata.py's
shared loader), a region name checked before any call, and an --endpoint-url probed."""

from __future__ import annotations

import re

from .botodata import shared_loader
from .errors import UnreachableError, UsageError, quoted

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}\Z")


def partition(region: str) -> tuple[str, str]:
    """(ARN partition, DNS suffix) of a region, from botocore's partition data:
    `aws`/`amazonaws.com`, `aws-cn`/`amazonaws.com.cn`, `aws-us-gov`/`amazonaws.com`..."""
    for part in shared_loader().load_data("partitions")["partitions"]:
        if region in part.get("regions", {}) or re.fullmatch(part.get("regionRegex", "^$"), region):
            outputs = part.get("outputs", {})
            return str(outputs.get("name", part.get("id", "aws"))), str(
                outputs.get("dnsSuffix", "amazonaws.com")
            )
    return "aws", "amazonaws.com"


def known_region(region: str) -> bool:
    """Whether botocore's partition data lists `region` (every region of every partition)."""
    # partitions.json is small (unlike endpoints.json, ~0.25 s to parse) and lists every region.
    partitions = shared_loader().load_data("partitions")["partitions"]
    return any(region in p.get("regions", {}) for p in partitions)


def check_region(region: str, endpoint_url: str | None) -> None:
    """Refuse a region AWS does not have before any call (a typo would hang on DNS, or make
    moto answer an HTML 500 page after the global IAM role was already created).

    `endpoint_url`: a foreign server (LocalStack, a moto server) that accepts any well-formed
    region; pass None for real AWS *and* for the embedded AWS, whose moto serves only real
    AWS region names."""
    if not _REGION_RE.match(region or ""):
        raise UsageError(f"{quoted(region)} is not an AWS region name; use one like us-west-2 (--region).")
    if endpoint_url:
        return
    if not known_region(region):
        raise UsageError(f"Unknown AWS region {quoted(region)}; use one like us-west-2 (--region).")


def probe_endpoint(url: str, timeout: float = 2.0) -> None:
    """Fail in a second, not after botocore's retries, when --endpoint-url has nobody behind it."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--endpoint-url {quoted(url)} is not an http(s) URL; use e.g. http://127.0.0.1:4566."
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        raise UnreachableError(
            f"Nothing answers at {url} ({exc.strerror or type(exc).__name__}); start the server "
            "(moto_server, LocalStack, or `authdemo local start`) or fix --endpoint-url."
        ) from exc
