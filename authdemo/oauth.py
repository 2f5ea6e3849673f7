"""The client side of OAuth 2.0 against a Cognito domain (managed login): PKCE, the authorize URL,
and the token endpoint's grants, with `requests`.

Every call goes to the token endpoint (`<domain>/oauth2/token` on a Cognito domain, or what an
emulator's discovery document names: managed_login.py), or the revocation endpoint, as a form
POST, as Cognito's token endpoint requires; a 400/401 `{"error": ...}` becomes one sentence with
its fix (docs/aws-notes.md, "Issue 11: login"). Nothing here prints or stores a token.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from .errors import AuthdemoError, ExitCode, UnreachableError
from .managed_login import Endpoints

#: A Cognito domain's base URL (its endpoints are Cognito's paths under it), or the endpoints
#: themselves (discovered at an endpoint we did not start: managed_login.py).
Where = str | Endpoints

#: What `authdemo login` asks for: the ID token needs `openid`; `aws.cognito.signin.user.admin`
#: lets the access token call Cognito's own API (GetUser: the /lambda door) and open /scoped.
LOGIN_SCOPES = ("openid", "email", "profile", "aws.cognito.signin.user.admin")

#: Cognito's token endpoint errors (RFC 6749 §5.2), each with what to do about it.
_FIXES = {
    "invalid_grant": "the code or token is used up, expired, or does not match the PKCE verifier "
    "or redirect URI; run `authdemo login` again",
    "invalid_client": "Cognito does not know this app client, or its secret is wrong; "
    "run `authdemo up` to repair the stack",
    "unauthorized_client": "the app client is not allowed this OAuth flow or scope; "
    "run `authdemo up` to bring its OAuth settings up to date",
    "unsupported_grant_type": "the app client does not take this grant; "
    "run `authdemo up` to bring its OAuth settings up to date",
    "invalid_scope": "the app client does not allow a requested scope; "
    "run `authdemo up` to bring its OAuth settings up to date",
    "invalid_request": "a parameter is missing or malformed (is the stack's domain URL right?); "
    "run `authdemo status` to check the login URL",
}


class NotAnswering(UnreachableError):
    """No HTTP answer at all: the name does not resolve, or the connection is refused, reset or
    times out. A new Cognito prefix domain does this for up to a minute (docs/aws-notes.md,
    "Issue 11: polish"), so `test` retries it within `--wait`."""


def is_cognito_domain(base: str) -> bool:
    """A prefix domain on AWS (`<prefix>.auth.<region>.amazoncognito.com`), not an emulator's."""
    host = (urlsplit(base).hostname or "").lower()
    return host.endswith(".amazoncognito.com")


#: What Cognito's managed login (version 2) shows for an app client without a branding style
#: (docs/aws-notes.md, issue 19); matched in the page, case-insensitively.
NO_BRANDING_PAGE = "login pages unavailable"
#: Cognito's `/error?error=...` page (e.g. redirect_mismatch), with what to do.
_PAGE_FIXES = {
    "redirect_mismatch": "the app client does not list this callback URL; run `authdemo up` to bring "
    "its OAuth settings up to date, then `authdemo login`",
}


def check_sign_in_page(
    url: str, redirect_uri: str, no_branding_fix: str, timeout: float = 10.0, hops: int = 5
) -> None:
    """Read what the domain answers at the sign-in URL before a browser is sent there, following
    its redirects only on its own host (never to `redirect_uri`, where nothing listens yet): no
    answer, an error page ("Login pages unavailable", `/error?error=...`, a 4xx/5xx) or a redirect
    back with `?error=` is one sentence with its fix, not a browser left waiting until --timeout."""
    import requests

    host = urlsplit(url).netloc
    for _ in range(hops):
        try:
            response = requests.get(url, timeout=timeout, allow_redirects=False)
        except requests.ConnectionError as exc:
            raise _not_answering(url, exc) from exc
        except requests.RequestException:
            return  # an answer too slow or odd is for the browser to show
        location = response.headers.get("location") if response.is_redirect else None
        if location:
            url = urljoin(url, location)
            if url.startswith(redirect_uri):
                error = parse_qs(urlsplit(url).query).get("error")
                if error:
                    raise _page_error(f"redirected back with error={error[0]}", "run `authdemo login` again")
                return
            if urlsplit(url).netloc != host:
                return  # an identity provider's page: for the browser
            continue
        _read_page(response, url, no_branding_fix)
        return


def _read_page(response: Any, url: str, no_branding_fix: str) -> None:
    """One sentence for an error page; nothing for a sign-in form."""
    text = response.text[:20000] if response.content else ""
    if NO_BRANDING_PAGE in text.lower():
        raise _page_error('"Login pages unavailable": no managed login branding style', no_branding_fix)
    error = parse_qs(urlsplit(url).query).get("error")
    if urlsplit(url).path.rstrip("/").endswith("/error") and error:
        fix = _PAGE_FIXES.get(error[0], "run `authdemo up` to repair the app client, then `authdemo login`")
        raise _page_error(f"an error page ({error[0]})", fix)
    if response.status_code >= 400:
        title = re.search(r"<title>([^<]{1,120})</title>", text, re.IGNORECASE)
        said = f" ({title.group(1).strip()})" if title else ""
        raise _page_error(
            f"HTTP {response.status_code}{said}",
            "check the login URL with `authdemo status`, then `authdemo login` again",
        )


def _page_error(what: str, fix: str) -> AuthdemoError:
    return AuthdemoError(f"The sign-in page answered {what}, so no browser was sent there; {fix}.")


def _not_answering(url: str, exc: Exception) -> NotAnswering:
    host = urlsplit(url).hostname or url
    if is_cognito_domain(url):
        return NotAnswering(
            f"The stack's Cognito domain {host} does not answer yet ({type(exc).__name__}): a new domain "
            "takes up to a minute to come online, so retry in a minute (else check your network)."
        )
    return NotAnswering(
        f"Nothing answers at {url} ({type(exc).__name__}); check the login URL with "
        "`authdemo status`, or your network."
    )


def endpoints(where: Where) -> Endpoints:
    return where if isinstance(where, Endpoints) else Endpoints.under(where)


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge): a 64-character verifier (RFC 7636 allows 43-128 of
    [A-Za-z0-9-._~]); Cognito supports only the S256 method."""
    verifier = secrets.token_urlsafe(48)  # 48 random bytes -> 64 base64url characters
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorize_url(
    base: Where, client_id: str, redirect_uri: str, scopes: Sequence[str], state: str, challenge: str
) -> str:
    """The managed login page for the authorization-code flow with PKCE (no secret in it)."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
            "code_challenge_method": "S256",
            "code_challenge": challenge,
        }
    )
    return f"{endpoints(base).need('authorize', 'open the sign-in page')}?{query}"


def exchange_code(
    base: Where, client_id: str, code: str, redirect_uri: str, verifier: str, timeout: float = 10.0
) -> dict[str, Any]:
    """authorization_code grant: the code and the PKCE verifier for ID, access and refresh tokens."""
    data = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    return _token_request(base, data, None, timeout, "exchange the sign-in code")


def refresh(base: Where, client_id: str, refresh_token: str, timeout: float = 10.0) -> dict[str, Any]:
    """refresh_token grant: new ID and access tokens (Cognito returns no new refresh token)."""
    data = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}
    return _token_request(base, data, None, timeout, "refresh the tokens")


def client_credentials(
    base_url: Where, client_id: str, client_secret: str, scopes: Sequence[str], timeout: float = 10.0
) -> dict[str, Any]:
    """client_credentials grant (a backend service, no user): HTTP Basic with the client's id and
    secret; returns the token endpoint's JSON (an access token only)."""
    data = {"grant_type": "client_credentials"}
    if scopes:
        data["scope"] = " ".join(scopes)
    return _token_request(base_url, data, (client_id, client_secret), timeout, "get an M2M token")


def revoke(base: Where, client_id: str, refresh_token: str, timeout: float = 10.0) -> None:
    """/oauth2/revoke: revokes the refresh token and the access tokens issued with it (a public
    client sends its client_id in the body)."""
    _post(
        endpoints(base).need("revoke", "revoke the tokens"),
        {"token": refresh_token, "client_id": client_id},
        None,
        timeout,
        "revoke the tokens",
    )


def _token_request(
    base: Where, data: dict[str, str], auth: tuple[str, str] | None, timeout: float, what: str
) -> dict[str, Any]:
    url = endpoints(base).need("token", what)
    answer = _post(url, data, auth, timeout, what)
    if not isinstance(answer, dict) or "access_token" not in answer:
        raise AuthdemoError(
            f"Cognito's token endpoint at {url} answered without an access token; "
            "run `authdemo status` to check the login URL."
        )
    return answer


def _post(url: str, data: dict[str, str], auth: tuple[str, str] | None, timeout: float, what: str) -> Any:
    import requests

    try:
        response = requests.post(
            url, data=data, auth=auth, timeout=timeout, headers={"Accept": "application/json"}
        )
    except requests.ConnectionError as exc:  # DNS, refused, reset, connect timeout
        raise _not_answering(url, exc) from exc
    except requests.RequestException as exc:
        raise UnreachableError(
            f"Nothing answers at {url} ({type(exc).__name__}); check the login URL with "
            "`authdemo status`, or your network."
        ) from exc
    if response.status_code == 200:
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise AuthdemoError(
                f"{url} answered 200 without JSON; run `authdemo status` to check the login URL."
            ) from exc
    raise _refusal(response, what)


def _refusal(response: Any, what: str) -> AuthdemoError:
    """Cognito's `{"error": ...}` (400, or 401 for client authentication) as one sentence."""
    try:
        body = response.json()
        code = str(body.get("error", "")) if isinstance(body, dict) else ""
    except ValueError:
        code = ""
    fix = _FIXES.get(code)
    if fix is None and response.status_code >= 500:
        return UnreachableError(
            f"Cognito failed to {what} (HTTP {response.status_code}); it is Cognito's trouble, "
            "not yours: retry in a minute."
        )
    if fix is None:
        return AuthdemoError(
            f"Cognito refused to {what} (HTTP {response.status_code}{': ' + code if code else ''}); "
            "run `authdemo status` to check the login URL, then `authdemo login` again."
        )
    exit_code = ExitCode.CREDENTIALS if code in ("invalid_grant", "invalid_client") else ExitCode.ERROR
    error = AuthdemoError(f"Cognito refused to {what} ({code}): {fix}.", exit_code)
    error.aws_code = code
    return error
