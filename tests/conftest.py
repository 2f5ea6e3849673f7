"""Shared fixtures: fake credentials, a private AUTHDEMO_HOME, moto, the embedded server, and
helpers to run the CLI and to inject AWS faults beside moto (see shared/aws-facts.md)."""

from __future__ import annotations

import functools
import gc
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner, Result
from moto import mock_aws

from authdemo import app, aws
from authdemo.cli import cli

# hypothesis runs its installed plugins when first imported; the one here is trio's (selenium
# needs trio; no test uses it), whose setup makes that import run a full garbage collection and
# a walk of every object: 0.2-0.3 s in each worker, and at the end of the run in the controller.
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")


def _ram_disk(path: str = "/dev/shm", room: int = 256 * 2**20) -> str | None:
    """A writable RAM disk with room to spare (a container's may be only 64 MB), or None."""
    try:
        stats = os.statvfs(path)
    except OSError:
        return None
    writable = os.access(path, os.W_OK | os.X_OK)
    return path if writable and stats.f_bavail * stats.f_frsize >= room else None


# tmp_path (every test's AUTHDEMO_HOME, so every state file) goes on a RAM disk when there is one:
# each state write ends in fsync, as it must (state.atomic_write_json), and on this VM's disk a
# fsync waits 1-3 ms; a run makes ~10 000 of them. PYTEST_DEBUG_TEMPROOT is pytest's setting.
if (_ram := _ram_disk()) is not None:
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", _ram)

#: Name prefixes of the AWS calls that change something (the rest only read): botocore's models
#: do not mark an operation read-only, so this is a naming rule of ours, not a copy of a model.
CHANGING = ("Create", "Put", "Add", "Admin", "Delete", "Update", "Remove", "Tag", "Untag")


#: Files whose tests take seconds each (subprocesses, a browser, servers of their own).
SLOW_FILES = frozenset(
    {
        "test_printed_commands.py",
        "test_local_e2e.py",
        "test_browser.py",
        "test_local_daemon.py",
        "test_any_endpoint.py",
        "test_export_awscli.py",
    }
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`--numprocesses=auto`: two workers more than cores (at most 4, pyproject's --maxprocesses):
    tests that wait (on a subprocess, a browser, a server starting) leave their core to another.
    With `--dist=worksteal` (pyproject) an idle worker takes half of a busy one's queue: xdist's
    default hands out contiguous chunks, so the slow files, sorted first, all went to one worker
    (2 cores: 80 s, one worker busy 24 s after the others had finished; worksteal and 4: 63 s)."""
    return (os.cpu_count() or 1) + 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `aws` need a real account: they run only with `pytest -m aws`.

    By default the slow files run first (xdist hands tests out in this order);
    AUTHDEMO_TEST_ORDER=reverse (or shuffle:<seed>) runs the tests in another order, to show
    that none depends on another having run first."""
    order = os.environ.get("AUTHDEMO_TEST_ORDER", "")
    if not order:  # the long ones first, so that no worker is left with one at the end
        items.sort(key=lambda item: item.path.name not in SLOW_FILES)
    if order == "reverse":
        items.reverse()
    elif order.startswith("shuffle:"):
        random.Random(order.partition(":")[2]).shuffle(items)
    if "aws" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="needs a real AWS account; run with `pytest -m aws`")
    for item in items:
        if "aws" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _parse_once() -> Iterator[None]:
    """Work that gives the same result every time, done once per session and undone at its end
    (all but the freeze, see pytest_unconfigure):

    - moto builds each Cognito user pool's signing key from the same JWK file, recovering the
      RSA primes every time (~0.2 s per pool, the largest cost of an `up` on moto): the key
      is imported once and shared (every pool of moto has this very key anyway),
    - moto finds each call's method by listing its response class's: it is looked up instead,
    - moto makes a new model loader (which lists ~440 folders) per model: one is shared
      (all three as the embedded AWS does, see moto_patches);
    - moto routes each in-process call by trying its URL against every service's patterns,
      then a fresh table of the service's URL regexes: each URL is resolved once instead
      (quick_stubber);
    - where moto answers otherwise than AWS, it is mended as in the embedded AWS
      (moto_patches.fixes: GetAuthorizers, which moto lacks; a user pool read while its domain
      is deleted), so every moto of the suite answers alike whatever ran first (test_doors
      covers authdemo's way round a moto without GetAuthorizers);
    - every new botocore session (tests' own `boto3.client(...)`, moto's) shares authdemo's
      loader, so service models are parsed once, and botocore's census of its ~440 service
      folders (0.04 s, once per kind of model and loader) is one listing;
    - everything imported so far (moto, botocore, authdemo: hundreds of thousands of objects
      that live as long as the process) is moved out of the garbage collector's sight with
      `gc.freeze()`, so its full collections no longer walk them: they took 0.1-0.4 s each,
      several times per `up` (what `authdemo`'s own exit does too, see cli.main), and the
      collector runs once per 100 000 new objects instead of 700 (a sixth of the crash tests' CPU);
    No behaviour of botocore or authdemo changes, nor of moto but for its fixes."""
    import botocore.session
    import quick_stubber
    from moto.core.botocore_stubber import BotocoreStubber

    from authdemo.local import moto_patches

    loader = aws.shared_loader()
    import authdemo.cli  # noqa: F401  (imported now, so that it is frozen with the rest)

    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    with pytest.MonkeyPatch.context() as patch:
        for target, name, value in moto_patches.speedups():
            patch.setattr(target, name, value)
        patch.setattr(botocore.session, "create_loader", lambda *_: loader)
        patch.setattr(BotocoreStubber, "process_request", quick_stubber.process_request)
        for target, name, value in moto_patches.fixes():
            patch.setattr(target, name, value, raising=False)
        yield
    gc.set_threshold(*thresholds)  # what was frozen stays frozen: it lives until the exit


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The session is over: one full collection (a finalizer's unraisable exception is still
    reported), then the whole heap is frozen. pytest's own check then runs its ten collections
    over nothing, and the interpreter's teardown walks nothing: together 1-2 s per worker,
    which the controller waited for at the very end of every run."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch) -> Iterator[None]:
    """No test sees the developer's AWS config, credentials, state or endpoint, nor what another
    test left running in the background."""
    home = tmp_path / "authdemo-home"
    monkeypatch.setenv("AUTHDEMO_HOME", str(home))
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "AUTHDEMO_PASSWORD",
        "AUTHDEMO_STACK",
        "AWS_REGION",
        "AUTHDEMO_DEBUG",
        "UV_RUN_RECURSION_DEPTH",  # `uv run pytest`: the printed lines would start with an activate line
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setattr(aws, "CLIENT_HOOKS", [_forward])
    FAULTS.clear()
    yield
    # A command's background client builds (aws.Clients.prefetch) end within its test: one still
    # running would build with the next test's CLIENT_HOOKS and environment (as the CLI's own exit
    # does, see cli.main; CliRunner does not run it).
    aws.settle()
    FAULTS.clear()


@pytest.fixture
def moto() -> Iterator[None]:
    """In-process moto (no HTTP): for up/down/status flows that need no gateway."""
    with mock_aws():
        yield


@pytest.fixture
def deployed(moto: None) -> Path:
    """The default stack (`authdemo`, us-west-2, no endpoint, moto's account) deployed on
    in-process moto, without the REST half (`--no-rest`: the tests that use it are about
    something else, and the REST half's 22 calls would add a tenth of a second to each; the
    REST half's own tests build it); returns its state file."""
    assert run("up", "--no-rest").exit_code == 0
    return app.state_path(app.Options())


@pytest.fixture(scope="session")
def server() -> Iterator[Any]:
    """The embedded AWS + gateway on 127.0.0.1:<free port>, shared by the session."""
    from authdemo.local.server import EmbeddedServer

    srv = EmbeddedServer(port=0, quiet=True).start()
    yield srv
    srv.stop()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@functools.cache
def ipv6_loopback() -> bool:
    """Whether this machine has ::1 (without it no one can listen there: nothing to intercept)."""
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def free_callback_port() -> int:
    """A port free (just now) on 127.0.0.1 and, where the machine has it, on ::1: `login` holds
    its callback port on both loopback addresses."""
    while True:
        port = free_port()
        if not ipv6_loopback():
            return port
        with socket.socket(socket.AF_INET6) as sock:
            try:
                sock.bind(("::1", port))
            except OSError:
                continue
        return port


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port on 127.0.0.1 where another (non-authdemo) program listens: it accepts each
    connection and hangs up at once, so a health check learns that in milliseconds."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        stop = threading.Event()

        def serve() -> None:
            sock.settimeout(0.05)
            while not stop.is_set():
                try:
                    conn, _ = sock.accept()
                except OSError:  # timeout: look at `stop` again
                    continue
                conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield int(sock.getsockname()[1])
        finally:
            stop.set()
            thread.join(timeout=5)


@pytest.fixture
def server_env(server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The process's AWS credentials are the embedded server's (for `--endpoint-url server.url`)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.credentials.secret_key)
    return server


def server_client(server: Any, service: str, region: str = "us-west-2") -> Any:
    """A boto3 client signed with the embedded server's own credentials."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=server.credentials.access_key,
        aws_secret_access_key=server.credentials.secret_key,
    )


def run(*args: str, input: str | None = None) -> Result:
    """Invoke the CLI in-process; stdout and stderr stay apart (data vs progress)."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def one_error(result: Any) -> str:
    """The one `Error:` sentence of a failed command, line wrapping undone; no traceback."""
    assert "Traceback" not in result.output
    assert result.stderr.count("Error:") == 1, result.stderr
    return " ".join(result.stderr[result.stderr.index("Error:") :].split())


def run_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--output", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def aws_error(code: str, message: str = "", status: int = 400) -> tuple[AWSResponse, dict[str, Any]]:
    """What a `before-call` handler returns to make botocore raise this modelled error."""
    return (
        AWSResponse("https://aws.invalid", status, {}, None),
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
    )


#: The Faults of the running test (or crash scenario): `_forward`, registered once on every
#: client, hands each event to them. Clients themselves are reused across tests (aws._BUILT),
#: so faults are looked up when an event fires, never baked into a client.
FAULTS: list[Faults] = []
_FORWARDED = ("provide-client-params", "before-call", "after-call", "before-send")


def _forward(service: str, client: Any) -> None:
    """The one CLIENT_HOOK of the suite: forwards botocore events to the current FAULTS."""

    alias = client.meta.events._alias_event_name  # "cognito-idp" -> "cognito-identity-provider"

    def dispatch(event_name: str, **kwargs: Any) -> Any:
        for faults in list(FAULTS):
            answer = faults.handle(service, event_name, kwargs, alias)
            if answer is not None:
                return answer
        return None

    for event in _FORWARDED:
        client.meta.events.register_first(event, dispatch)


class Faults:
    """Botocore event handlers for every client authdemo uses, from now until the test ends."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._handlers: list[tuple[str, str, Callable[..., Any], bool]] = []
        FAULTS.append(self)

    def handle(
        self, service: str, event_name: str, kwargs: dict[str, Any], alias: Callable[[str], str]
    ) -> Any:
        """Run this object's handlers for one event, `first` ones first; the first answer wins.
        Handlers name events as botocore's `register` takes them (`alias` makes them canonical)."""
        if event_name.startswith("provide-client-params."):
            self._count(**kwargs)
        matching = []
        for i, (event, svc, handler, first) in enumerate(self._handlers):
            wanted = alias(event)
            if svc in (service, "*") and (event_name == wanted or event_name.startswith(wanted + ".")):
                matching.append((not first, i, handler))
        for _, _, handler in sorted(matching, key=lambda m: (m[0], m[1])):
            answer = handler(event_name=event_name, **kwargs)
            if answer is not None:
                return answer
        return None

    def _count(self, model: Any, **_: Any) -> None:
        """Every API call made (before any fault handler can answer it)."""
        self.calls.append(model.name)

    def on(self, service: str, event: str, handler: Callable[..., Any], first: bool = False) -> None:
        """e.g. on("lambda", "before-call.lambda.CreateFunction", handler)."""
        self._handlers.append((event, service, handler, first))

    def clear(self) -> None:
        """Drop every fault (e.g. "IAM caught up")."""
        self._handlers.clear()

    def fail(
        self, service: str, operation: str, code: str, message: str = "", times: int = 1, status: int = 400
    ) -> list[int]:
        """Make `operation` fail with `code` for its first `times` calls; returns a counter."""
        seen = [0]

        def handler(**_: Any) -> Any:
            seen[0] += 1
            if seen[0] <= times:
                return aws_error(code, message, status)
            return None

        self.on(service, f"before-call.{service}.{operation}", handler)
        return seen

    def count(self, operation: str) -> int:
        return self.calls.count(operation)


@pytest.fixture
def faults() -> Faults:
    return Faults()


def _moto_domains(region: str) -> dict[str, str]:
    """Every user pool domain moto holds in `region` (any account): prefix -> pool ID.

    Read from copies: a call in another thread (the engine's, an embedded server's) may add an
    account's backend or a domain meanwhile, and iterating moto's own dicts would then fail."""
    from moto.cognitoidp.models import cognitoidp_backends

    found: dict[str, str] = {}
    for regions in list(cognitoidp_backends.values()):
        if region in regions:
            domains = list(regions[region].user_pool_domains.items())
            found.update({prefix: domain.user_pool_id for prefix, domain in domains})
    return found


def cognito_domain_rules(faults: Faults) -> Faults:
    """What Cognito enforces about domains and moto does not (docs/aws-notes.md, issue 11):
    DeleteUserPool is refused while the pool has a domain; CreateUserPoolDomain is refused for a
    prefix another pool holds (prefixes are global per region) and on a pool that has a domain."""

    def rules(model: Any, params: Any, request_signer: Any, **_: Any) -> Any:
        if model.name not in ("DeleteUserPool", "CreateUserPoolDomain"):
            return None
        body = json.loads(params.get("body") or b"{}")
        domains = _moto_domains(request_signer._region_name)
        pool = body.get("UserPoolId")
        if model.name == "DeleteUserPool" and pool in domains.values():
            message = "User pool cannot be deleted. It has a domain configured that should be deleted first."
            return aws_error("InvalidParameterException", message)
        if model.name == "CreateUserPoolDomain":
            owner = domains.get(body.get("Domain"))
            if owner is not None and owner != pool:
                return aws_error(
                    "InvalidParameterException", "Domain already associated with another user pool."
                )
            if pool in domains.values():
                return aws_error("InvalidParameterException", "User pool already has a domain configured.")
        return None

    faults.on("cognito-idp", "before-call", rules)
    return faults


@pytest.fixture
def cognito_rules(faults: Faults) -> Faults:
    """`faults` with Cognito's domain rules (see cognito_domain_rules)."""
    return cognito_domain_rules(faults)


def leftovers(
    region: str = "us-west-2", endpoint_url: str | None = None, credentials: Any = None
) -> dict[str, list[str]]:
    """Everything authdemo could have left behind, listed service by service.

    `credentials` (an embedded server's) sign the calls; else the environment's are used."""
    keys = (credentials.access_key, credentials.secret_key) if credentials is not None else None

    def client(service: str) -> Any:
        return plain_client(service, region, endpoint_url, keys)

    found = {
        "user_pools": [p["Name"] for p in client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]],
        "apis": [a["Name"] for a in client("apigatewayv2").get_apis()["Items"]],
        "rest_apis": [a["name"] for a in client("apigateway").get_rest_apis()["items"]],
        "functions": [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]],
        "roles": [r["RoleName"] for r in client("iam").list_roles()["Roles"]],
        "log_groups": [g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]],
    }
    return {k: v for k, v in found.items() if v}


def plain_client(
    service: str,
    region: str = "us-west-2",
    endpoint_url: str | None = None,
    keys: tuple[str, str] | None = None,
) -> Any:
    """A boto3 client without authdemo's hooks, with `keys` (access key, secret) or else the
    credentials of the environment (as `boto3.client` would), built once per session for each
    such combination: building one costs more than the calls made with it. In-process moto
    intercepts it whenever a mock is active."""
    if keys is None:
        keys = (os.environ.get("AWS_ACCESS_KEY_ID", ""), os.environ.get("AWS_SECRET_ACCESS_KEY", ""))
    return _plain_client(service, region, endpoint_url, *keys)


@functools.cache
def _plain_client(
    service: str, region: str, endpoint_url: str | None, key_id: str | None, secret: str | None
) -> Any:
    import boto3

    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


class TtySys:
    """cli.py's view of `sys` with a terminal on stdin and/or stdout (CliRunner has none)."""

    class _Tty:
        def __init__(self, stream: Any) -> None:
            self._stream = stream

        def isatty(self) -> bool:
            return True

        def __getattr__(self, name: str) -> Any:
            return getattr(self._stream, name)

    def __init__(self, stdin: bool = False, stdout: bool = False) -> None:
        self._stdin, self._stdout = stdin, stdout

    def __getattr__(self, name: str) -> Any:
        value = getattr(sys, name)
        if (name == "stdin" and self._stdin) or (name == "stdout" and self._stdout):
            return self._Tty(value)
        return value


# ------------------------------------------------------------------------------- tokens
@functools.cache
def moto_published_key() -> Any:
    """The RSA private key published inside moto (`jwks-private.json`, kid "dummy"): what every
    moto user pool signed with before issue 20, and what an attacker has. Trusted nowhere now."""
    from jwt.algorithms import RSAAlgorithm
    from moto.utilities.utils import load_resource

    return RSAAlgorithm.from_jwk(json.dumps(load_resource("cognitoidp/resources/jwks-private.json")))


def cognito_signing_key() -> Any:
    """The key this process's embedded Cognito signs with (the session `server` runs here), read
    through the in-process hook `moto_patches.pool_key`: no HTTP path gives it."""
    from authdemo.local.moto_patches import pool_key

    return pool_key().private


def mint(
    issuer: str,
    audience: str | list[str],
    *,
    drop: tuple[str, ...] = (),
    headers: dict[str, Any] | None = None,
    key: Any = None,
    alg: str = "RS256",
    lifetime: int = 3600,
    **claims: Any,
) -> str:
    """An ID-token-shaped JWT signed with the embedded Cognito's key and kid unless `key` (and
    `headers`), with `claims` added or overridden and the names in `drop` removed."""
    import jwt

    from authdemo.local.moto_patches import pool_key

    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": "user-1",
        "token_use": "id",
        "cognito:username": "alice",
        "iat": now,
        "exp": now + lifetime,
        **claims,
    }
    for name in drop:
        payload.pop(name, None)
    signing_key = cognito_signing_key() if key is None else key
    return jwt.encode(payload, signing_key, algorithm=alg, headers={"kid": pool_key().kid, **(headers or {})})


#: The token endpoint of a Cognito domain on AWS (in-process moto has none; see token_endpoint).
TOKEN_URL = re.compile(r"^https://[a-z0-9-]+\.auth\.[a-z0-9-]+\.amazoncognito\.com/oauth2/token$")


def client_credentials_answer(request: Any) -> tuple[int, dict[str, str], str]:
    """Cognito's token endpoint for the client-credentials grant, checked against moto's clients
    (Basic auth with the client's secret, the grant allowed, the scopes allowed), answering an
    access token shaped as Cognito's and signed with the embedded Cognito's key."""
    import base64
    from urllib.parse import parse_qs

    from moto.cognitoidp.models import cognitoidp_backends

    refused = (400, {"content-type": "application/json"}, json.dumps({"error": "invalid_client"}))
    form = {k: v[0] for k, v in parse_qs(request.body or "").items()}
    basic = request.headers.get("Authorization", "")
    if not basic.startswith("Basic ") or form.get("grant_type") != "client_credentials":
        return refused
    client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
    for _, regions in cognitoidp_backends.items():
        for region, backend in regions.items():
            for pool_id, pool in backend.user_pools.items():
                client = pool.clients.get(client_id)
                if client is None:
                    continue
                if not client.generate_secret or client.secret != secret:
                    return refused
                allowed = client.extended_config.get("AllowedOAuthScopes") or []
                scopes = form.get("scope", " ".join(allowed)).split()
                if "client_credentials" not in (client.extended_config.get("AllowedOAuthFlows") or []):
                    return 400, {"content-type": "application/json"}, '{"error":"unauthorized_client"}'
                if not set(scopes) <= set(allowed):
                    return 400, {"content-type": "application/json"}, '{"error":"invalid_scope"}'
                now = int(time.time())
                token = mint(
                    f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
                    "",
                    drop=("aud", "cognito:username"),
                    sub=client_id,
                    client_id=client_id,
                    token_use="access",
                    scope=" ".join(scopes),
                    auth_time=now,
                    version=2,
                    jti=f"jti-{now}",
                )
                body = {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
                return 200, {"content-type": "application/json"}, json.dumps(body)
    # Not a client of this process's moto (an embedded AWS in another process, which does not
    # serve the endpoint yet): answer as such a server does.
    return 404, {"content-type": "text/plain"}, "Not Found"


@pytest.fixture(autouse=True)
def token_endpoint() -> Iterator[Any]:
    """In-process moto (`mock_aws`) has no managed login: POSTs to a real AWS Cognito domain's token
    endpoint are answered at the HTTP layer by `client_credentials_answer` (the embedded AWS's
    own endpoint, `/_aws/cognito/<prefix>/oauth2/token`, is the real thing and is not touched);
    every other request goes through untouched."""
    import responses
    from moto.core.models import override_responses_real_send

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, TOKEN_URL, callback=client_credentials_answer)
        mock.add_passthru(re.compile(".*"))
        override_responses_real_send(mock)  # inside mock_aws, moto hands on what is not AWS
        try:
            yield mock
        finally:
            override_responses_real_send(None)


def zipped(name: str, source: str) -> bytes:
    """A function's code as Lambda takes it: one file in a zip."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(name, source)
    return buf.getvalue()


# ------------------------------------------------------------------------ managed login
class FakeManagedLogin:
    """Cognito's managed login endpoints on 127.0.0.1 (`base` = what a stack's domain records),
    until the embedded AWS serves its own: `/oauth2/authorize` (a sign-in form), `/login`,
    `/oauth2/token` (authorization_code with PKCE S256, refresh_token) and `/oauth2/revoke`, with
    Cognito's error bodies. `sign_in(client_id, username, password)` returns the tokens (moto's
    own, through InitiateAuth, so every door of the stack treats them as real), or None."""

    def __init__(self, sign_in: Callable[[str, str, str], dict[str, str] | None]) -> None:
        from http.server import ThreadingHTTPServer

        self.sign_in = sign_in
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, str]] = {}
        self.revoked: list[str] = []
        self.token_requests: list[dict[str, str]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def form(self, params: dict[str, str], message: str = "") -> str:
        from html import escape

        hidden = "".join(
            f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
        )
        return (
            '<!doctype html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>'
            f'<p id="error">{escape(message)}</p><form method="post" action="../login">{hidden}'
            '<label for="username">Username</label><input id="username" name="username">'
            '<label for="password">Password</label><input id="password" name="password" type="password">'
            '<button type="submit" id="signin">Sign in</button></form></body></html>'
        )

    def _handler(self) -> Any:
        import hashlib
        import secrets
        from base64 import urlsafe_b64encode
        from http.server import BaseHTTPRequestHandler
        from urllib.parse import parse_qsl, urlencode, urlsplit

        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, body: str, ctype: str, location: str | None = None) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                if location:
                    self.send_header("Location", location)
                self.end_headers()
                self.wfile.write(data)

            def _error(self, code: str, status: int = 400) -> None:
                self._send(status, json.dumps({"error": code}), "application/json")

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/oauth2/authorize":
                    self._send(404, "not found", "text/plain")
                    return
                params = dict(parse_qsl(parts.query))
                self._send(200, fake.form(params), "text/html; charset=utf-8")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                path = urlsplit(self.path).path
                if path == "/login":
                    tokens = fake.sign_in(
                        form["client_id"], form.get("username", ""), form.get("password", "")
                    )
                    if tokens is None:
                        self._send(
                            200,
                            fake.form(
                                {k: v for k, v in form.items() if k not in ("username", "password")},
                                "Incorrect username or password.",
                            ),
                            "text/html; charset=utf-8",
                        )
                        return
                    code = secrets.token_urlsafe(16)
                    fake.codes[code] = {**form, "tokens": tokens}
                    query = urlencode({"code": code, "state": form.get("state", "")})
                    self._send(302, "", "text/plain", f"{form['redirect_uri']}?{query}")
                elif path == "/oauth2/token":
                    fake.token_requests.append(form)
                    grant = form.get("grant_type")
                    if grant == "authorization_code":
                        issued = fake.codes.pop(form.get("code", ""), None)
                        verifier = form.get("code_verifier", "").encode()
                        challenge = urlsafe_b64encode(hashlib.sha256(verifier).digest()).decode().rstrip("=")
                        if (
                            issued is None
                            or issued["redirect_uri"] != form.get("redirect_uri")
                            or issued["client_id"] != form.get("client_id")
                            or issued.get("code_challenge") != challenge
                        ):
                            self._error("invalid_grant")
                            return
                        tokens = issued["tokens"]
                        refresh = secrets.token_urlsafe(16)
                        fake.refresh_tokens[refresh] = tokens
                        answer = {
                            "id_token": tokens["id"],
                            "access_token": tokens["access"],
                            "refresh_token": refresh,
                            "token_type": "Bearer",
                            "expires_in": 3600,
                        }
                    elif grant == "refresh_token":
                        tokens = fake.refresh_tokens.get(form.get("refresh_token", ""))
                        if tokens is None:
                            self._error("invalid_grant")
                            return
                        answer = {
                            "id_token": tokens["id"],
                            "access_token": tokens["access"],
                            "token_type": "Bearer",
                            "expires_in": 3600,
                        }
                    else:
                        self._error("unsupported_grant_type")
                        return
                    self._send(200, json.dumps(answer), "application/json")
                elif path == "/oauth2/revoke":
                    fake.revoked.append(form.get("token", ""))
                    fake.refresh_tokens.pop(form.get("token", ""), None)
                    self._send(200, "", "application/json")
                else:
                    self._send(404, "not found", "text/plain")

        return Handler


def cognito_sign_in(endpoint_url: str | None) -> Callable[[str, str, str], dict[str, str] | None]:
    """InitiateAuth (USER_PASSWORD_AUTH) at `endpoint_url` (None: in-process moto): moto's tokens."""
    from botocore.exceptions import ClientError

    def sign_in(client_id: str, username: str, password: str) -> dict[str, str] | None:
        cognito = plain_client("cognito-idp", endpoint_url=endpoint_url)
        try:
            result = cognito.initiate_auth(
                ClientId=client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )["AuthenticationResult"]
        except ClientError:
            return None
        return {"id": result["IdToken"], "access": result["AccessToken"]}

    return sign_in


def give_domain(state_file: Path, base: str, callback_port: int) -> None:
    """What `up` records once it creates the domain (helper aws-side): the managed login base URL
    and the callback port. Until then, tests point a deployed stack at FakeManagedLogin."""
    from authdemo.state import StateStore

    store = StateStore.load(state_file)
    assert store is not None
    store.record("domain", id="fake", url=base)
    store.set(callback_port=callback_port)


class LoginRun:
    """`authdemo login`'s work (login/commands.py) in a thread, as the CLI runs it: `url` is the
    sign-in URL it would open, `events` its stderr lines; `finish()` ends the page serving."""

    def __init__(self, opts: Any, timeout: float | None = None) -> None:
        import queue

        from authdemo.login import commands

        self.urls: queue.Queue[str] = queue.Queue()
        self.events: list[str] = []
        self.stop = threading.Event()
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None

        def work() -> None:
            try:
                self.result = commands.login(opts, self.urls.put, self.events.append, timeout, self.stop)
            except BaseException as exc:
                self.error = exc
                self.urls.put("")  # never leave a waiting test hanging

        self.thread = threading.Thread(target=work, daemon=True)
        self.thread.start()

    def url(self) -> str:
        return self.urls.get(timeout=30)

    def finish(self) -> dict[str, Any] | None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error
        return self.result


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
    "--window-size=1280,1400",
)


def start_chromium() -> Any:
    """Headless Chromium from Debian's packages, driven by selenium; Selenium Manager never runs
    (both paths are given), so nothing is downloaded."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} missing: install them with "
            "`sudo apt-get install -y chromium chromium-driver`",
            pytrace=False,
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is missing: uv sync (or pip install -e '.[test]')", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console_errors() reads them
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def console_errors(driver: Any) -> list[str]:
    """The browser console's errors (a failed request included) since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (starting one costs about a second)."""
    driver = start_chromium()
    yield driver
    driver.quit()


# ------------------------------------------------------------------------ OIDC issuers
class FakeIssuer:
    """A tiny OIDC issuer on 127.0.0.1 (http; `host` another address, `tls` a server-side
    SSLContext for https): each path answers what the test set with `serve`, after `delay`
    seconds; `fetches` lists the paths asked for. `publish` sets up a sound one (discovery naming
    `issuer`, a JWKS of one RSA key, kid "k1") and returns its private key. `serve_raw` makes a
    path answer raw bytes, piece by piece (a redirect, a drip-fed body)."""

    def __init__(self, host: str = "127.0.0.1", tls: Any = None) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.routes: dict[str, tuple[int, bytes, float]] = {}
        self.raw: dict[str, tuple[list[bytes], float]] = {}
        self.done: dict[str, threading.Event] = {}
        self.cut: set[str] = set()  # raw paths whose client hung up before the last piece
        self.fetches: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches.append(self.path)
                if self.path in outer.raw:
                    self.close_connection = True
                    pieces, every = outer.raw[self.path]
                    try:
                        for piece in pieces:
                            self.wfile.write(piece)
                            time.sleep(every)
                    except OSError:
                        outer.cut.add(self.path)
                    outer.done[self.path].set()
                    return
                status, body, delay = outer.routes.get(self.path, (404, b"{}", 0.0))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up first (a timeout test)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:  # an ssl.SSLContext for the server side: https
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.base = f"{'https' if tls else 'http'}://{host}:{self.server.server_address[1]}"
        serve = functools.partial(self.server.serve_forever, poll_interval=0.05)
        threading.Thread(target=serve, daemon=True).start()

    def serve(self, path: str, body: Any, status: int = 200, delay: float = 0.0) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.routes[path] = (status, raw, delay)

    def serve_raw(self, path: str, pieces: list[bytes], every: float = 0.0) -> threading.Event:
        """`path` answers these bytes as they are (status line and headers included), `every`
        seconds apart; the event is set once the answer ends (`path in cut`: the client left first)."""
        self.raw[path] = (pieces, every)
        self.done[path] = threading.Event()
        return self.done[path]

    def publish(self, issuer: str, said: str | None = None, keys: list[dict[str, Any]] | None = None) -> Any:
        """A discovery document for `issuer` (naming `said`, default `issuer`) and its JWKS."""
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        from authdemo.oidc import discovery_url

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        path = discovery_url(issuer)[len(self.base) :]
        self.serve(path, {"issuer": issuer if said is None else said, "jwks_uri": f"{self.base}/jwks"})
        self.serve(
            "/jwks",
            {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}] if keys is None else keys},
        )
        return key

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_issuer() -> Iterator[FakeIssuer]:
    issuer = FakeIssuer()
    yield issuer
    issuer.close()


@pytest.fixture
def local_daemon(server: Any) -> Any:
    """The session's embedded AWS, recorded in this test's AUTHDEMO_HOME as the running background
    server (its pid is this process's, which its health check answers): `--local` commands and
    `authdemo local issuer` use it in-process, as they would a server `local start` spawned."""
    from datetime import datetime, timezone

    from authdemo.local import credentials as local_credentials
    from authdemo.local import daemon
    from authdemo.local import issuer as local_issuer

    pid = os.getpid()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    daemon._write(daemon.ServerInfo(pid, server.port, server.url, "start", started))
    local_credentials.save(server.credentials, server.port, pid)
    local_issuer.save(server.issuer_keys, server.port, pid)
    return server


#: The one place ministack's version is pinned (it pins botocore exactly, so it lives in an
#: environment of its own, never in the project's).
MINISTACK_VERSION = "1.5.33"


def ministack_env() -> Path:
    """ministack's own virtualenv under ~/.cache/authdemo-tests/ministack-<version>: made once
    (uv when there is one, else venv + pip; PyPI is the one network it needs), behind a file lock
    so parallel xdist workers build it once, and marked ready only when complete."""
    import fcntl
    import shutil
    import subprocess

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "authdemo-tests"
    cache.mkdir(parents=True, exist_ok=True)
    home = cache / f"ministack-{MINISTACK_VERSION}"
    with open(cache / f"ministack-{MINISTACK_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if (home / ".ready").exists():
            return home
        shutil.rmtree(home, ignore_errors=True)  # a build killed half way
        package = f"ministack=={MINISTACK_VERSION}"
        uv = shutil.which("uv")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PROJECT"))}
        if uv:
            subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(home)], check=True, env=env)
            install = [uv, "pip", "install", "-q", "--python", str(home / "bin" / "python"), package]
        else:
            subprocess.run([sys.executable, "-m", "venv", str(home)], check=True, env=env)
            install = [str(home / "bin" / "python"), "-m", "pip", "install", "-q", package]
        subprocess.run(install, check=True, env=env, timeout=600)
        (home / ".ready").write_text(MINISTACK_VERSION + "\n")
        return home


@pytest.fixture(scope="module")
def ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ministack server (another AWS emulator, not ours) on a free 127.0.0.1 port, for the
    module: started from its own environment with a minimal environment, waited for (its health
    endpoint), stopped at the end. Yields its URL."""
    import subprocess

    import requests

    home = ministack_env()
    work = tmp_path_factory.mktemp("ministack")
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "TMPDIR": str(work),
        "STATE_DIR": str(work / "state"),
        "GATEWAY_PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    url = f"http://127.0.0.1:{port}"
    with open(work / "ministack.log", "wb") as log:
        proc = subprocess.Popen(
            [str(home / "bin" / "ministack")], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/_ministack/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ministack did not start: {(work / 'ministack.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ------------------------------------------------------------------ REST TOKEN authorizers (issue 21)
TOKEN_AUTHORIZER_CODE = """
import json, uuid

def handler(event, context):
    token = event["authorizationToken"]
    kind = token.split("-")[0]
    if kind == "unauth":
        raise Exception("Unauthorized")
    if kind == "boom":
        raise RuntimeError("the authorizer failed")
    if kind == "junk":
        return {"principalId": "p"}
    arn = event["methodArn"]
    resource = {"wild": arn.split("/")[0] + "/*", "elsewhere": arn + "/elsewhere"}.get(kind, arn)
    statement = {"Action": "execute-api:Invoke", "Effect": "Deny" if kind == "deny" else "Allow",
                 "Resource": resource}
    context = {"event": json.dumps(event), "call": uuid.uuid4().hex, "n": 1, "ok": True}
    if kind == "nested":
        context["more"] = {"a": 1}
    return {"principalId": "p-" + token, "context": context,
            "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}
"""


class TokenApi:
    """A REST API on the session server with TOKEN authorizers of one test function (its
    `authorizationToken` picks the answer: `allow-`, `deny-`, `elsewhere-` (an Allow of another
    resource), `wild-` (an Allow of the whole API), `unauth-`, `boom-`, `junk-`, `nested-`), and
    a function runtime that records every event it is asked to run (`events`)."""

    REGION, STAGE = "us-west-2", "demo"

    def __init__(self, server: Any) -> None:
        import uuid

        from authdemo.local.runtime import FunctionRuntime

        class CountingRuntime(FunctionRuntime):
            def __init__(self, endpoint_url: str) -> None:
                super().__init__(endpoint_url)
                self.events: list[dict[str, Any]] = []

            def invoke(self, fn: Any, event: dict[str, Any], max_seconds: float | None = None) -> Any:
                self.events.append(event)
                return super().invoke(fn, event, max_seconds)

        self.server = server
        self.runtime = CountingRuntime(server.url)
        suffix = uuid.uuid4().hex[:8]
        self.role = server_client(server, "iam").create_role(
            RoleName=f"token-{suffix}", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        lam = server_client(server, "lambda")
        code = zipped("auth.py", TOKEN_AUTHORIZER_CODE)
        fns = {
            name: lam.create_function(
                FunctionName=f"{name}-{suffix}",
                Runtime="python3.12",
                Role=self.role,
                Handler="auth.handler",
                Code={"ZipFile": code},
            )["FunctionArn"]
            for name in ("token", "noperm")
        }
        gw = server_client(server, "apigateway")
        self.api_id = gw.create_rest_api(name=f"token-{suffix}")["id"]
        root = gw.get_resources(restApiId=self.api_id)["items"][0]["id"]
        gw.put_method(restApiId=self.api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
        gw.put_integration(restApiId=self.api_id, resourceId=root, httpMethod="GET", type="MOCK")
        gw.create_deployment(restApiId=self.api_id, stageName=self.STAGE)
        lam.add_permission(
            FunctionName=fns["token"],
            StatementId="apigateway-authorizers",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{self.REGION}:{aws.LOCAL_ACCOUNT_ID}:{self.api_id}/authorizers/*",
        )

        def create(name: str, fn: str, **extra: Any) -> str:
            uri = f"arn:aws:apigateway:{self.REGION}:lambda:path/2015-03-31/functions/{fns[fn]}/invocations"
            return str(
                gw.create_authorizer(
                    restApiId=self.api_id,
                    name=name,
                    type="TOKEN",
                    authorizerUri=uri,
                    identitySource="method.request.header.Authorization",
                    **extra,
                )["id"]
            )

        self.ids = {
            "ttl0": create("ttl0", "token", authorizerResultTtlInSeconds=0),
            "cached": create("cached", "token", authorizerResultTtlInSeconds=300),
            "default": create("default", "token"),
            "validated": create(
                "validated",
                "token",
                authorizerResultTtlInSeconds=0,
                identityValidationExpression=r"Bearer [a-z]+-\d",
            ),
            "noperm": create("noperm", "noperm", authorizerResultTtlInSeconds=0),
        }

    def authorizer(self, name: str) -> Any:
        """moto's Authorizer object, as the gateway reads it."""
        from moto.apigateway.models import apigateway_backends

        return (
            apigateway_backends[aws.LOCAL_ACCOUNT_ID][self.REGION]
            .apis[self.api_id]
            .authorizers[self.ids[name]]
        )

    def method_arn(self, path: str, method: str = "GET") -> str:
        api = f"arn:aws:execute-api:{self.REGION}:{aws.LOCAL_ACCOUNT_ID}:{self.api_id}"
        return f"{api}/{self.STAGE}/{method}/{path}"


@pytest.fixture(scope="module")
def token_api(server: Any) -> Iterator[TokenApi]:
    api = TokenApi(server)
    try:
        yield api
    finally:
        api.runtime.close()


def rest_rules(faults: Faults) -> Faults:
    """What API Gateway (REST) enforces and moto does not (docs/aws-notes.md, issue 21): a method
    whose authorizationType is COGNITO_USER_POOLS or CUSTOM needs an authorizer of its API
    (BadRequestException "Invalid authorizer ID specified..."), and a second PutMethod on a
    method is refused (ConflictException; moto replaces the method, its integration lost)."""

    def rules(model: Any, params: Any, **_: Any) -> Any:
        if model.name != "PutMethod":
            return None
        parts = params["url_path"].split("/")  # /restapis/<api>/resources/<resource>/methods/GET
        api_id, resource_id = parts[2], parts[4]
        body = json.loads(params.get("body") or b"{}")
        gateway = plain_client("apigateway")
        if body.get("authorizationType") in ("COGNITO_USER_POOLS", "CUSTOM"):
            ids = {a["id"] for a in gateway.get_authorizers(restApiId=api_id)["items"]}
            if body.get("authorizerId") not in ids:
                return aws_error(
                    "BadRequestException",
                    "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
                    "COGNITO_USER_POOLS requires a valid authorizer.",
                )
        methods = gateway.get_resource(restApiId=api_id, resourceId=resource_id).get("resourceMethods") or {}
        if parts[6] in methods:
            return aws_error("ConflictException", "Method already exists for this resource", 409)
        return None

    faults.on("apigateway", "before-call.apigateway", rules)
    return faults


@pytest.fixture
def aws_rules(faults: Faults) -> Faults:
    """`faults` with Cognito's domain rules and API Gateway's REST rules (see rest_rules)."""
    return rest_rules(cognito_domain_rules(faults))


@pytest.fixture(scope="session")
def fast_aws() -> Iterator[Path]:
    """A directory whose `aws` is the real aws CLI forked from a warm process (tests/fast_aws.py):
    put it first on PATH where a test runs the aws CLI many times (a start costs ~0.35 s of CPU)."""
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="aws-"))
    sock = str(where / "s")
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("fast_aws.py")), "serve", sock],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        from fast_aws import CLIENT

        client = where / "bin" / "aws"
        client.parent.mkdir()
        client.write_text(CLIENT.format(python=sys.executable, socket=sock))
        client.chmod(0o755)
        yield client.parent
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(where, ignore_errors=True)
