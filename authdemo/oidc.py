"""An external OIDC issuer, checked as API Gateway will use it (`up --issuer URL --audience AUD`).

API Gateway accepts a JWT authorizer's configuration without looking at the issuer; it is
on the first request that it fetches `{issuer}/.well-known/openid-configuration`, then its
`jwks_uri`, each within 1500 ms, the JWKS at most 150000 bytes, and verifies RSA signatures
only (docs/aws-notes.md, "Issue 11: any OIDC issuer"). An issuer it cannot use would leave a
stack whose every request is 401, so `up` fetches both documents the same way first and
refuses, in one sentence, what API Gateway would refuse. The embedded gateway finds keys the
same way (`discovery_url`, `fetch_json`), so the two cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from .errors import UsageError, quoted

if TYPE_CHECKING:
    import requests

    from .deadline import Watchdog

#: API Gateway's timeouts for the discovery and JWKS endpoints (HTTP API quotas).
TIMEOUT_SECONDS = 1.5
#: API Gateway's cap on the JWKS it fetches (HTTP API quotas).
MAX_JWKS_BYTES = 150_000
#: Ours, not AWS's: a discovery document is a few kilobytes; this bounds a hostile one.
MAX_DISCOVERY_BYTES = 1_000_000
#: "Audiences per authorizer" (HTTP API quotas; cannot be increased).
MAX_AUDIENCES = 50
#: JWT algorithms API Gateway verifies ("only RSA-based algorithms are supported").
RSA_KEY_TYPE = "RSA"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Ours: AWS documents no redirect handling; we follow a few, each hop checked like the issuer.
MAX_REDIRECTS = 5
READ_SIZE = 16384
#: identity: the cap counts the bytes sent (requests would ask for, and inflate, gzip).
HEADERS = {"Accept": "application/json", "Accept-Encoding": "identity"}


class IssuerError(UsageError):
    """An issuer API Gateway would not use (exit 2)."""


@dataclass(frozen=True)
class Issuer:
    """What `up` learned of an issuer: its discovery document's `jwks_uri` and RSA key IDs."""

    url: str
    jwks_uri: str
    rsa_kids: tuple[str, ...]


def discovery_url(issuer: str) -> str:
    """`{issuer}/.well-known/openid-configuration`, one trailing slash of the issuer dropped
    (Auth0's issuer ends in "/"; its discovery document is not at `...//.well-known`)."""
    base = issuer[:-1] if issuer.endswith("/") else issuer
    return f"{base}/.well-known/openid-configuration"


def is_loopback(url: str | None) -> bool:
    try:
        return bool(url) and urlsplit(str(url)).hostname in LOOPBACK_HOSTS
    except ValueError:
        return False


NOT_A_URL = "it is not an http(s) URL"


def url_problem(url: str, allow_http_loopback: bool, origin: str | None = None) -> str | None:
    """Why `url` may not be fetched (a clause), or None: https only; http only on loopback, only
    for an emulated AWS (`--local`) and, for a URL an issuer named (`origin`: its jwks_uri, a
    redirect), only when that issuer is itself on loopback, so that no issuer elsewhere can send
    our fetch to this machine's own services."""
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # a bad port raises here, not at connect
    except ValueError:
        return NOT_A_URL
    if parts.scheme not in ("https", "http") or not host:
        return NOT_A_URL
    if parts.scheme == "https":
        return None
    if not allow_http_loopback:
        return (
            "API Gateway accepts only https:// issuers (http:// only for an issuer on 127.0.0.1 with --local)"
        )
    if host not in LOOPBACK_HOSTS:
        return "http:// is accepted only on 127.0.0.1 or localhost"
    if origin is not None and not is_loopback(origin):
        return "http:// is accepted only when the issuer is itself on 127.0.0.1 or localhost"
    return None


def check_url(url: str, what: str, allow_http_loopback: bool, origin: str | None = None) -> None:
    """IssuerError, one sentence, when `url_problem` finds one."""
    problem = url_problem(url, allow_http_loopback, origin)
    if problem == NOT_A_URL:
        raise IssuerError(
            f"{what} {quoted(url)} is not a URL; give the issuer's https:// URL, e.g. --issuer https://example.auth0.com/."
        )
    if problem is not None:
        raise IssuerError(f"{what} {url} is http://: {problem}; use the issuer's https:// URL.")


def check_audiences(audiences: tuple[str, ...]) -> tuple[str, ...]:
    """At least one (API Gateway has no wildcard audience), at most 50, none empty, each once."""
    cleaned = tuple(dict.fromkeys(a.strip() for a in audiences))
    if not cleaned:
        raise IssuerError(
            "--issuer needs --audience AUD (repeatable): API Gateway has no wildcard audience, so "
            "name the API identifier your tokens carry in `aud` (e.g. Okta's api://default)."
        )
    if "" in cleaned:
        raise IssuerError("An --audience is empty; give the API identifier your tokens carry in `aud`.")
    if len(cleaned) > MAX_AUDIENCES:
        raise IssuerError(
            f"{len(cleaned)} audiences given; API Gateway allows at most {MAX_AUDIENCES} per authorizer."
        )
    return cleaned


def fetch_json(
    url: str,
    what: str,
    limit: int,
    timeout: float | None = None,
    allow_http_loopback: bool = False,
    origin: str | None = None,
) -> Any:
    """GET a JSON document as API Gateway would: within `timeout` seconds for the whole fetch
    (connect, headers, body, redirects; 1.5 s; the DNS lookup is not bounded), at most `limit`
    bytes read, `url` and every redirect hop passing `url_problem` (`origin`: the issuer that
    named `url`); IssuerError with one sentence otherwise."""
    import requests

    from .deadline import Watchdog

    seconds = TIMEOUT_SECONDS if timeout is None else timeout
    check_url(url, what, allow_http_loopback, origin)
    watchdog = Watchdog(seconds)
    try:
        with watchdog, requests.Session() as session:
            session.mount("https://", watchdog)
            session.mount("http://", watchdog)
            body = _get(session, url, what, limit, watchdog, allow_http_loopback, origin or url)
    except (requests.RequestException, OSError, ValueError) as exc:  # RequestException is an OSError
        if not (watchdog.expired or isinstance(exc, (requests.Timeout, TimeoutError))):
            raise IssuerError(
                f"{what} at {url} could not be fetched ({type(exc).__name__}); check --issuer "
                "(API Gateway must reach it from the internet)."
            ) from exc
        raise IssuerError(
            f"{what} at {url} did not answer within {seconds:g} s, API Gateway's limit; "
            "check the issuer URL, or use an issuer that answers faster."
        ) from exc
    try:
        return json.loads(body)
    except ValueError as exc:
        raise IssuerError(f"{what} at {url} is not JSON; check --issuer.") from exc


def _get(
    session: requests.Session, url: str, what: str, limit: int, watchdog: Watchdog, allow: bool, origin: str
) -> bytes:
    """The body of `url`'s 200 answer, following at most MAX_REDIRECTS checked redirects, each
    request given what is left of the deadline (the watchdog ends whatever outlasts it)."""
    first = url
    for _ in range(MAX_REDIRECTS + 1):
        left = watchdog.left()
        with session.get(
            url, headers=HEADERS, allow_redirects=False, stream=True, timeout=(left, left)
        ) as answer:
            location = session.get_redirect_target(answer)
            if location is not None:
                target = urljoin(url, location)
                problem = url_problem(target, allow, origin)
                if problem is not None:
                    raise IssuerError(
                        f"{what} at {url} redirects to {quoted(target)}, which is not fetched: {problem}; "
                        "check --issuer."
                    )
                url = target
                continue
            if answer.status_code != 200:
                raise IssuerError(
                    f"{what} at {url} answered HTTP {answer.status_code}; check --issuer "
                    "(API Gateway fetches it to find the issuer's keys)."
                )
            body = bytearray()
            for piece in answer.iter_content(READ_SIZE):  # counted as read: chunked has no length to check
                body += piece
                if len(body) > limit:
                    raise IssuerError(
                        f"{what} at {url} is larger than {limit} bytes, which API Gateway refuses; "
                        "publish fewer keys."
                        if limit == MAX_JWKS_BYTES
                        else f"{what} at {url} is larger than {limit} bytes; check --issuer."
                    )
            watchdog.left()  # a body cut by the watchdog may look complete (no Content-Length)
            return bytes(body)
    raise IssuerError(f"{what} at {first} makes more than {MAX_REDIRECTS} redirects; check --issuer.")


def rsa_kids(jwks: Any) -> tuple[str, ...]:
    """The IDs of the signing keys API Gateway can use (kty RSA, not marked for encryption)."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        return ()
    return tuple(
        str(k.get("kid", ""))
        for k in keys
        if isinstance(k, dict) and k.get("kty") == RSA_KEY_TYPE and k.get("use", "sig") == "sig"
    )


def check_issuer(issuer: str, allow_http_loopback: bool = False) -> Issuer:
    """Fetch the issuer's discovery document and JWKS as API Gateway will; refuse (IssuerError)
    an issuer it would not use: not https, unreachable or slow, a discovery `issuer` other than
    `issuer` (exactly: a trailing slash counts), no `jwks_uri`, an oversize JWKS, no RSA key."""
    check_url(issuer, "The issuer", allow_http_loopback)
    where = discovery_url(issuer)
    doc = fetch_json(where, "The issuer's discovery document", MAX_DISCOVERY_BYTES, None, allow_http_loopback)
    if not isinstance(doc, dict):
        raise IssuerError(f"The discovery document at {where} is not a JSON object; check --issuer.")
    said = doc.get("issuer")
    if said != issuer:
        hint = (
            " (the trailing slash counts)"
            if isinstance(said, str) and said.rstrip("/") == issuer.rstrip("/")
            else ""
        )
        raise IssuerError(
            f"The discovery document at {where} names the issuer {said!r}, not {issuer!r}{hint}; tokens "
            f"carry its `iss` and API Gateway compares it exactly, so use --issuer {said}."
            if isinstance(said, str)
            else f"The discovery document at {where} names no issuer; check --issuer."
        )
    jwks_uri = doc.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise IssuerError(f"The discovery document at {where} has no jwks_uri, so API Gateway finds no keys.")
    check_url(jwks_uri, "The issuer's jwks_uri", allow_http_loopback, origin=issuer)
    jwks = fetch_json(jwks_uri, "The issuer's JWKS", MAX_JWKS_BYTES, None, allow_http_loopback, issuer)
    kids = rsa_kids(jwks)
    if not kids:
        kinds = (
            sorted({str(k.get("kty")) for k in (jwks.get("keys") or []) if isinstance(k, dict)})
            if isinstance(jwks, dict)
            else []
        )
        held = f"it holds {', '.join(kinds)} keys only" if kinds else "it holds no keys"
        raise IssuerError(
            f"The issuer's JWKS at {jwks_uri} has no RSA signing key ({held}); API Gateway verifies "
            "RSA signatures only, so make the issuer sign with RS256."
        )
    return Issuer(issuer, jwks_uri, kids)
