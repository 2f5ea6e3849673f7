"""moto's in-process request routing, with each URL's answer remembered (the suite only).

`mock_aws` hands every botocore request to `BotocoreStubber.process_request`, which tries the
URL against 183 service patterns, then rebuilds the matching service's table of ~100 URL
regexes and tries those: an eighth of the CPU of each call the suite makes to in-process moto.
Which handler a URL reaches depends on the URL alone (the patterns and tables are moto's
constants), so `process_request` below looks each URL up once, then calls the handler exactly
as moto does. A URL it cannot resolve, or one moto's config passes through, goes to moto's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import moto.backend_index as backend_index
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.config import passthrough_service, passthrough_url, service_whitelisted
from moto.core.exceptions import HTTPException
from moto.core.request import normalize_request
from moto.core.utils import get_equivalent_url_in_aws_domain

Handler = Callable[..., Any]
MOTO_PROCESS_REQUEST = BotocoreStubber.process_request
_RESOLVED: dict[str, tuple[str, Handler] | None] = {}
_MAX_URLS = 20_000  # REST paths carry IDs: start over rather than grow without end


def resolve(clean_url: str) -> tuple[str, Handler] | None:
    """The service and handler moto's `process_request` would pick for this URL."""
    import moto.backends as backends

    for service, pattern in backend_index.backend_url_patterns:
        if not pattern.match(clean_url):
            continue
        backend_dict: Any = backends.get_backend(service)  # type: ignore[call-overload]
        if isinstance(backend_dict, BackendDict):
            accounts = backend_dict[DEFAULT_ACCOUNT_ID]
            backend = accounts["us-east-1"] if "us-east-1" in accounts else accounts["aws"]
        else:
            backend = backend_dict["global"]
        for url, handler in backend.urls.items():
            if re.compile(url).match(clean_url):
                return service, handler
        return None
    return None


def process_request(self: BotocoreStubber, request: Any) -> Any:
    parsed_url, _ = get_equivalent_url_in_aws_domain(request.url)
    clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
    try:
        hit = _RESOLVED[clean_url]
    except KeyError:
        if len(_RESOLVED) >= _MAX_URLS:
            _RESOLVED.clear()
        hit = _RESOLVED[clean_url] = resolve(clean_url)
    if hit is None or passthrough_url(clean_url):
        return MOTO_PROCESS_REQUEST(self, request)
    service, handler = hit
    if passthrough_service(service) or not service_whitelisted(service):
        return MOTO_PROCESS_REQUEST(self, request)
    from moto.moto_api import recorder

    normalized = normalize_request(request)
    try:
        recorder._record_request(normalized)
        return handler(normalized, normalized.raw_url, normalized.headers)
    except HTTPException as e:
        return e.code, e.get_headers(), e.get_body()
