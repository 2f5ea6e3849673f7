"""The one module that builds boto3 clients and translates botocore's errors (botodata.py
reads botocore's data files: models and partitions, for these clients and regions.py).

Clients are built on first use (never at import time, so moto's mocks and a fast
`--help` both work), one per service, shared by the worker threads of a run
(boto3 clients are thread-safe; sessions are not, so the session is only touched
under a lock). Every client uses botocore's *standard* retry mode: Cognito answers
throttling with HTTP 400 `TooManyRequestsException`, which the legacy mode does not retry.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from . import botodata
from .botodata import shared_loader
from .errors import AuthdemoError, CredentialsError, NotFound, UnreachableError, UsageError

#: Called with (service_name, client) for every client the factory builds. Tests use it
#: to inject faults (botocore event handlers) beside moto; production code leaves it empty.
CLIENT_HOOKS: list[Callable[[str, Any], None]] = []

#: Run once, in the background, after `Clients.prefetch` has built its clients: what a command
#: needs when the first answer arrives, done while that answer is on its way. The CLI adds the
#: import of its display (rich: ~40 ms, otherwise paid after the first round trip).
AFTER_PREFETCH: list[Callable[[], None]] = []

#: `up/down --explain`: told of every AWS call as it leaves, by a botocore hook on every client
#: built here: (service, operation, its parameters as given). See `explaining`.
_LISTENERS: list[Callable[[str, str, Mapping[str, Any]], None]] = []

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account

# Error codes meaning "it is already gone", per service (see aws-facts.md, Teardown). Not read
# from the models: they list every error an operation may raise, never which one means "gone"
# (a choice of ours, made per service); tests/test_aws_right.py checks each is a modelled error.
# The credential codes below are common errors no service model lists (AWS's "Common Errors").
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
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
#: Attempts per call where not 8. API Gateway (REST) answers its fixed control-plane quotas (one
#: DeleteRestApi per 30 s per account...) with 429 TooManyRequestsException: botocore's standard
#: mode would retry it 7 times, silently, after random waits (0-20 s each); two attempts absorb a
#: burst, then units/apigateway_rest.py waits out the quota itself, with a progress note.
MAX_ATTEMPTS = {"apigateway": 3}


#: botocore sessions and raw clients already built in this process, reused by its later commands
#: (`demo` runs up then test; the test suite thousands): building a client costs tens of ms. The
#: key is what one depends on: the target, every AWS_*/BOTO_* environment variable, the config
#: files' content, and (a client) its service and the CLIENT_HOOKS it was built with.
_BUILT: dict[tuple[Any, ...], Any] = {}
_BUILD_LOCK = threading.RLock()  # sessions are not thread-safe: building goes one at a time
_BACKGROUND: list[threading.Thread] = []  # prefetch threads (daemons: Ctrl-C never waits on them)


def settle(timeout: float = 2.0) -> None:
    """Let background builds finish before the interpreter does: a daemon thread still parsing
    a model or importing rich while Python finalizes can crash it (a pasted `down --sweep`
    that found nothing exited 139 once, under load). Called by the CLI on its way out."""
    deadline = time.monotonic() + timeout
    while _BACKGROUND:
        _BACKGROUND.pop().join(max(0.0, deadline - time.monotonic()))


def _built_key(target: Target) -> tuple[Any, ...]:
    def content(variable: str, default: str) -> bytes | None:
        try:
            with open(os.path.expanduser(os.environ.get(variable) or default), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    # Every AWS_* variable: botocore's credential chain reads many (container, web identity,
    # AWS_EC2_METADATA_DISABLED...) when a session first resolves credentials. The two files'
    # paths are not part of it: their content is.
    paths = ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(("AWS_", "BOTO_")) and k not in paths)
    files = (
        content("AWS_CONFIG_FILE", "~/.aws/config"),
        content("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
    )
    return (target, tuple(env), files)


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
        self._lock = _BUILD_LOCK  # one lock for every Clients: they share sessions (see below)
        self._session: Any = None
        self._key: tuple[Any, ...] | None = None
        self._clients: dict[str, AwsClient] = {}
        self._building: dict[str, threading.Event] = {}  # service -> set once it is built (or failed)
        self._claim = threading.Lock()  # guards _building; never held while building

    def __call__(self, service: str) -> AwsClient:
        """The client for `service`, built at most once. A thread that needs a client another
        thread is building waits for that one client, not for the build lock: the lock is not
        fair, and `prefetch` takes it again at once for its next client (a 0.1-0.2 s stall of the
        first AWS call, measured by benchmarks/bench_up.py)."""
        while True:
            client = self._clients.get(service)
            if client is not None:
                return client
            with self._claim:
                event = self._building.get(service)
                mine = event is None
                if event is None:
                    event = self._building[service] = threading.Event()
            if not mine:
                event.wait()  # built, or failed: then the loop builds (and fails) here
                continue
            try:
                with self._lock:
                    hooks = tuple(CLIENT_HOOKS)  # read once: built with the very hooks its key names
                    key = (service, hooks, *self._depends_on())
                    raw = _BUILT.get(key)
                    if raw is None:
                        raw = _BUILT[key] = self._build(service, hooks)
                    self._clients[service] = client = AwsClient(raw, service)
                return client
            finally:
                if service not in self._clients:  # failed: the next caller claims it anew
                    with self._claim:
                        del self._building[service]
                event.set()

    def _depends_on(self) -> tuple[Any, ...]:
        """What this command's sessions and clients depend on (_built_key), read once."""
        self._key = self._key or _built_key(self.target)
        return self._key

    def _ensure_session(self) -> Any:
        """A botocore session (boto3's layer on top adds nothing authdemo uses, and costs time)."""
        if self._session is not None:  # built: no need to queue behind `prefetch` for the lock
            return self._session
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> Any:
        import botocore.session
        from botocore.exceptions import ProfileNotFound

        key = ("session", *self._depends_on())
        self._session = self._session or _BUILT.get(key)
        if self._session is None:
            try:
                session = botocore.session.Session(profile=None if self.target.local else self.target.profile)
                session.register_component("data_loader", shared_loader())
                if self.target.local:
                    session.set_credentials(
                        self.target.access_key or "authdemo-local", self.target.secret_key or "authdemo-local"
                    )
                else:
                    session.get_scoped_config()  # a missing profile is reported here, not mid-run
                self._session = _BUILT[key] = session
            except ProfileNotFound as exc:
                raise UsageError(
                    f"AWS profile {self.target.profile!r} does not exist; "
                    "list yours with `aws configure list-profiles` or drop --profile."
                ) from exc
        return self._session

    def _build(self, service: str, hooks: tuple[Callable[[str, Any], None], ...]) -> Any:
        from botocore.config import Config

        from . import __version__

        session = self._session_locked()  # __call__ holds the lock
        config = Config(
            retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS.get(service, 8)},
            connect_timeout=5,
            read_timeout=30,
            user_agent_extra=f"authdemo/{__version__}",
            max_pool_connections=20,
        )
        client = session.create_client(
            service,
            region_name=self.target.region,
            endpoint_url=self.target.endpoint_url or None,
            config=config,
        )
        client.meta.events.register("before-parameter-build", _told)
        for hook in hooks:
            hook(service, client)
        return client

    def prefetch(self, services: list[str]) -> threading.Thread:
        """Build these clients in the background, in this order, while the first calls are in
        flight (building one parses its service model: tens of ms each, off the critical path)."""

        def build() -> None:
            for service in services:
                try:
                    self(service)
                except Exception:
                    return
            for warm in AFTER_PREFETCH:
                try:
                    warm()
                except Exception:
                    return

        thread = threading.Thread(target=build, name="authdemo-clients", daemon=True)
        thread.start()
        _BACKGROUND[:] = [t for t in _BACKGROUND if t.is_alive()]  # a long process runs many
        _BACKGROUND.append(thread)
        return thread

    def check_credentials(self) -> None:
        """Fail before any call when no credentials can be found (no network for env/profile keys).

        Called before `prefetch`: credentials are resolved once, here (an SSO or assume-role
        profile may prompt or call STS), and the clients built later in the background reuse them.
        """
        if self.target.local:
            return
        with self._lock:
            session = self._session_locked()  # reports a missing profile
            credentials = session.get_credentials()
        if credentials is None:
            raise translate(_no_credentials()) or RuntimeError("no credentials")

    def account_id(self) -> str:
        """The account of the caller; also the first proof that credentials work."""
        if self.target.local:
            return LOCAL_ACCOUNT_ID
        return str(self("sts").get_caller_identity()["Account"])


@contextlib.contextmanager
def explaining(listener: Callable[[str, str, Mapping[str, Any]], None]) -> Iterator[None]:
    """While inside: `listener` is told of each AWS call of this process as it leaves, whichever
    thread makes it (a paginator's pages and a retried call's first attempt included)."""
    _LISTENERS.append(listener)
    try:
        yield
    finally:
        _LISTENERS.remove(listener)


def _told(params: Mapping[str, Any], model: Any, **_: Any) -> None:
    for listener in tuple(_LISTENERS):
        with contextlib.suppress(Exception):  # showing a call never stops it
            listener(model.service_model.service_name, model.name, params)


def sign_request(
    clients: Clients, method: str, url: str, region: str, service: str = "execute-api"
) -> dict[str, str]:
    """The headers of a SigV4-signed request (Authorization, X-Amz-Date, and the session token
    when the credentials have one), signed with the clients' own credentials: the presenter's on
    AWS, the embedded AWS's key offline. The body is empty (a GET)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = clients._ensure_session().get_credentials()
    if credentials is None:
        missing = _no_credentials()
        raise translate(missing, "signing the request") or missing
    request = AWSRequest(method=method, url=url, data=b"")
    SigV4Auth(credentials.get_frozen_credentials(), service, region).add_auth(request)
    return {k: str(v) for k, v in request.headers.items()}


def _no_credentials() -> Exception:
    from botocore.exceptions import NoCredentialsError

    return NoCredentialsError()


def error_code(exc: BaseException) -> str | None:
    """The AWS error code behind an exception (botocore's or one we translated), else None."""
    if isinstance(exc, AuthdemoError):
        return exc.aws_code
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def translate(exc: BaseException, operation: str = "the AWS call") -> AuthdemoError | None:
    """Map a botocore exception to an AuthdemoError the user can act on (None: not botocore's).

    Every ClientError becomes an AuthdemoError carrying `aws_code` (a "gone" code becomes
    :class:`NotFound`), so callers compare codes and never import botocore.
    """
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
        message = str(exc.response.get("Error", {}).get("Message", ""))
        op = exc.operation_name or operation
        error: AuthdemoError
        if code in _EXPIRED:
            error = CredentialsError(
                "Your AWS credentials have expired; refresh them (e.g. `aws sso login` or new "
                "session keys) and try again."
            )
        elif code in _BAD_CREDENTIALS:
            error = CredentialsError(
                f"AWS rejected your credentials ({code}); check the access key, the profile, "
                "or that the region is enabled for your account."
            )
        elif code in DENIED:
            error = CredentialsError(
                f"Access denied for {op}: your identity is not allowed to call it; add the "
                "permission `authdemo policy` prints, or use another profile."
            )
        elif code in NOT_FOUND_CODES:
            error = NotFound(f"{op} failed: {code}: {message}")
        else:
            error = AuthdemoError(f"{op} failed: {code}: {message}")
        error.aws_code = code
        error.aws_message = message
        retry_after = exc.response.get("retryAfterSeconds")  # API Gateway's 429 (its Retry-After)
        error.aws_retry_after = str(retry_after) if retry_after is not None else None
        return error
    return None


class AwsClient:
    """A boto3 client whose every call raises authdemo's errors, never botocore's.

    `client.create_role(...)` returns AWS's answer (a dict: boto3's answers are the one place
    `Any` comes in) or raises an :class:`AuthdemoError` (:class:`NotFound` when the resource
    is gone). `raw` is the boto3 client, for botocore event hooks in tests.
    """

    def __init__(self, raw: Any, service: str) -> None:
        self.raw = raw
        self.service = service

    def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
        method = getattr(self.raw, operation)

        def invoke(**kwargs: Any) -> dict[str, Any]:
            try:
                answer: dict[str, Any] = method(**kwargs)
                return answer
            except Exception as exc:
                translated = translate(exc, operation)
                if translated is None:
                    raise
                raise translated from exc

        return invoke

    def shape(self, operation: str, *path: str, output: bool = False) -> Any:
        """The botocore shape at `path` (member names) of `operation`'s input (or output), in the
        model this very client validates and sends with: what AWS's API has, read at run time
        (a field AWS adds later is there, never missing from a copy of ours). Cached per model."""
        return botodata.shape(self.raw.meta.service_model, operation, path, output)

    def pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated call, errors translated as for a single call."""
        try:
            yield from self.raw.get_paginator(operation).paginate(**kwargs)
        except Exception as exc:
            translated = translate(exc, operation)
            if translated is None:
                raise
            raise translated from exc


def get(call: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | None:
    """The answer of a read, or None when AWS says the resource is not there."""
    try:
        return call(**kwargs)
    except NotFound:
        return None


def default_region(profile: str | None) -> str | None:
    """The region of the user's AWS config (profile, env), or None; read once per process for
    the same profile, environment and config files (a botocore session costs ~20 ms)."""
    import botocore.session

    key = ("region", *_built_key(Target(region="", profile=profile)))
    with _BUILD_LOCK:
        if key not in _BUILT:
            try:
                _BUILT[key] = botocore.session.Session(profile=profile).get_config_variable("region") or None
            except Exception:
                _BUILT[key] = None
        return cast("str | None", _BUILT[key])
