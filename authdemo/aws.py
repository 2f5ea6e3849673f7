"""The one module that talks to boto3: a client factory and error translation.

Clients are built on first use (never at import time, so moto's mocks and a fast
`--help` both work), one per service, shared by the worker threads of a run
(boto3 clients are thread-safe; sessions are not, so the session is only touched
under a lock). Every client uses botocore's *standard* retry mode: Cognito answers
throttling with HTTP 400 `TooManyRequestsException`, which the legacy mode does not retry.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import AuthdemoError, CredentialsError, UnreachableError, UsageError

#: Called with (service_name, client) for every client the factory builds. Tests use it
#: to inject faults (botocore event handlers) beside moto; production code leaves it empty.
CLIENT_HOOKS: list[Callable[[str, Any], None]] = []

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account

# Error codes meaning "it is already gone", per service (see aws-facts.md, Teardown).
NOT_FOUND_CODES = frozenset(
    {"ResourceNotFoundException", "NoSuchEntity", "NotFoundException", "UserNotFoundException"}
)
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_BAD_CREDENTIALS = {
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "InvalidAccessKeyId",
    "AuthFailure",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_LOADER: Any = None  # botocore's JSON model loader, shared so models are parsed once per process


def _shared_loader() -> Any:
    global _LOADER
    if _LOADER is None:
        import botocore.loaders

        _LOADER = botocore.loaders.create_loader()
    return _LOADER


@dataclass(frozen=True)
class Target:
    """Where AWS calls go: a region, a profile, and optionally an endpoint (moto, LocalStack)."""

    region: str
    profile: str | None = None
    endpoint_url: str | None = None
    local: bool = False  # the embedded AWS: its own credentials, no account needed
    # With `local`: the key the embedded server generated (authdemo.local.credentials).
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)


class Clients:
    """Builds and caches one boto3 client per service for a target."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._build(service)
                self._clients[service] = client
            return client

    def _build(self, service: str) -> Any:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import ProfileNotFound

        from . import __version__

        if self._session is None:
            try:
                if self.target.local:
                    self._session = boto3.session.Session(
                        aws_access_key_id=self.target.access_key or "authdemo-local",
                        aws_secret_access_key=self.target.secret_key or "authdemo-local",
                        region_name=self.target.region,
                    )
                else:
                    self._session = boto3.session.Session(
                        profile_name=self.target.profile, region_name=self.target.region
                    )
                self._session._session.register_component("data_loader", _shared_loader())
            except ProfileNotFound as exc:
                raise UsageError(
                    f"AWS profile {self.target.profile!r} does not exist; "
                    "list yours with `aws configure list-profiles` or drop --profile."
                ) from exc
        config = Config(
            retries={"mode": "standard", "max_attempts": 8},
            connect_timeout=5,
            read_timeout=30,
            user_agent_extra=f"authdemo/{__version__}",
            max_pool_connections=20,
        )
        client = self._session.client(service, endpoint_url=self.target.endpoint_url or None, config=config)
        for hook in CLIENT_HOOKS:
            hook(service, client)
        return client

    def check_credentials(self) -> None:
        """Fail before any call when no credentials can be found (no network for env/profile keys)."""
        if self.target.local:
            return
        self("sts")  # builds the session (and reports a missing profile)
        if self._session.get_credentials() is None:
            raise translate(_no_credentials()) or RuntimeError("no credentials")

    def account_id(self) -> str:
        """The account of the caller; also the first proof that credentials work."""
        if self.target.local:
            return LOCAL_ACCOUNT_ID
        return call(self("sts").get_caller_identity)["Account"]


def _no_credentials() -> Exception:
    from botocore.exceptions import NoCredentialsError

    return NoCredentialsError()


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in NOT_FOUND_CODES


def call(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call a boto3 method, turning the failures a user can fix into one-sentence errors."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        translated = translate(exc, getattr(fn, "__name__", "the AWS call"))
        if translated is None:
            raise
        raise translated from exc


def translate(exc: BaseException, operation: str = "the AWS call") -> AuthdemoError | None:
    """Map a botocore exception to an AuthdemoError the user can act on (None: not ours)."""
    from botocore import exceptions as bex

    if isinstance(exc, AuthdemoError):
        return exc
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return CredentialsError(
            "No AWS credentials found; run `aws configure` (or set AWS_PROFILE / --profile), "
            "or add --local to run the whole demo without an AWS account."
        )
    if isinstance(exc, bex.TokenRetrievalError | bex.SSOTokenLoadError | bex.UnauthorizedSSOTokenError):
        return CredentialsError("Your AWS SSO session has expired; run `aws sso login` and try again.")
    if isinstance(exc, bex.ProfileNotFound):
        return UsageError(f"{exc}; list your profiles with `aws configure list-profiles`.")
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectTimeoutError):
        url = getattr(exc, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
        return UnreachableError(
            f"Cannot reach {url}; check your network, the --region, or that the server "
            "behind --endpoint-url is running."
        )
    if isinstance(exc, bex.ClientError):
        code = error_code(exc) or "Error"
        message = exc.response.get("Error", {}).get("Message", "")
        op = exc.operation_name or operation
        if code in _EXPIRED:
            return CredentialsError(
                "Your AWS credentials have expired; refresh them (e.g. `aws sso login` or new "
                "session keys) and try again."
            )
        if code in _BAD_CREDENTIALS:
            return CredentialsError(
                f"AWS rejected your credentials ({code}); check the access key, the profile, "
                "or that the region is enabled for your account."
            )
        if code in _DENIED:
            return CredentialsError(
                f"Access denied for {op}: your identity is not allowed to call it; ask for "
                'the permissions listed in the README ("Permissions") or use another profile.'
            )
        error = AuthdemoError(f"{op} failed: {code}: {message}")
        error.aws_code = code
        return error
    return None


def check_region(region: str, endpoint_url: str | None) -> None:
    """Refuse a region AWS does not have before any call (a typo would hang on DNS)."""
    if not _REGION_RE.match(region or ""):
        raise UsageError(f"{region!r} is not an AWS region name; use one like us-west-2 (--region).")
    if endpoint_url:
        return  # moto and LocalStack accept any well-formed region
    # partitions.json is small (unlike endpoints.json, ~0.25 s to parse) and lists every region.
    partitions = _shared_loader().load_data("partitions")["partitions"]
    if not any(region in p.get("regions", {}) for p in partitions):
        raise UsageError(f"Unknown AWS region {region!r}; use one like us-west-2 (--region).")


def probe_endpoint(url: str, timeout: float = 2.0) -> None:
    """Fail in a second, not after botocore's retries, when --endpoint-url has nobody behind it."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--endpoint-url {url!r} is not an http(s) URL; use e.g. http://127.0.0.1:4566.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        raise UnreachableError(
            f"Nothing answers at {url} ({exc.strerror or type(exc).__name__}); start the server "
            "(moto_server, LocalStack, or `authdemo local start`) or fix --endpoint-url."
        ) from exc
