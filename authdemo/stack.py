"""Opening a stack: the gate every command passes.

`open_stack` validates input, reads the state file, refuses a state made for another stack,
region, endpoint or account *before anything changes AWS*, takes the stack's lock for
commands that write, and builds the clients. `cli_flags` says which options reach this same
stack again, for every command authdemo prints.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .aws import LOCAL_ACCOUNT_ID, Clients, Target, default_region
from .errors import NotDeployedError, StateError, UsageError
from .regions import check_region, partition, probe_endpoint
from .state import CorruptStateError, StackLock, StateStore, quarantine
from .units import DEFAULT_CALLBACK_PORT, Context, Names, Records
from .validate import check_stack, check_username

DEFAULT_REGION = "us-west-2"  # the course guide's region


DEFAULT_USERNAME = "demo@example.com"
#: The API's routes, one per kind of key (issues #10, #11): see units/apigateway_routes.py.
DOORS = ("protected", "scoped", "lambda", "iam", "m2m")


@dataclass
class Options:
    """Every command's options, as typed (None: not given)."""

    stack: str = "authdemo"
    region: str | None = None
    profile: str | None = None
    state_file: Path | None = None
    username: str | None = None
    password: str | None = None
    endpoint_url: str | None = None
    local: bool = False
    port: int | None = None
    output: str = "text"
    show_token: bool = False
    show_password: bool = False
    wait: float = 120.0
    issuer: str | None = None  # `up --issuer`: trust this OIDC issuer instead of a user pool
    audiences: tuple[str, ...] = ()  # `up --audience` (repeatable)
    token: str | None = None  # `test --token`
    token_command: str | None = None  # `test --token-command`
    callback_port: int | None = None  # `up --callback-port`: the app client's loopback callback
    sign_up: bool | None = None  # `up --sign-up/--no-sign-up`: self-registration on the pool
    rest: bool | None = None  # `up --rest/--no-rest`: the REST API half (issue 21)
    explain: bool = False  # `up/down --explain`: each AWS call shown as the `aws` command (issue 22)


@dataclass
class Stack:
    """An opened stack: where its state is, where AWS is, and the clients to reach it."""

    opts: Options
    path: Path
    store: StateStore | None
    region: str
    target: Target
    clients: Clients
    account_id: str | None = None
    server: Any = None  # authdemo.local.daemon.ServerInfo in --local mode
    lock: StackLock | None = None
    notes: list[str] = field(default_factory=list)
    bad_region: bool = False  # a recorded region AWS does not have (only `down` gets this far)

    @property
    def names(self) -> Names:
        return Names(self.opts.stack)

    def context(self, records: Records | None = None) -> Context:
        records = records or self.store
        if records is None:
            raise NotDeployedError(not_deployed(self.opts))
        arn_partition, dns_suffix = partition(self.region)
        return Context(
            clients=self.clients,
            records=records,
            names=self.names,
            region=self.region,
            partition=arn_partition,
            dns_suffix=dns_suffix,
            account_id=self.account_id or "",
            username=records.get("username") or self.opts.username or DEFAULT_USERNAME,
            password=records.get("password") or "",
            student_password=records.get("student_password") or "",
            issuer=records.get("issuer") or "",
            audiences=tuple(records.get("audience") or ()),
            callback_port=int(records.get("callback_port") or DEFAULT_CALLBACK_PORT),
            sign_up=bool(records.get("sign_up")),
            rest=records.get("rest") is not False,  # built unless `up --no-rest` said otherwise
        )


def state_path(opts: Options) -> Path:
    if opts.state_file:
        return Path(opts.state_file).expanduser()
    suffix = ".local.json" if opts.local else ".json"
    return paths.home() / f"{opts.stack}{suffix}"


def _default_region(opts: Options) -> str:
    if opts.local:
        return DEFAULT_REGION
    return default_region(opts.profile) or DEFAULT_REGION


@contextlib.contextmanager
def open_stack(
    opts: Options, command: str, *, write: bool, start_server: bool = True, require_state: bool = False
) -> Iterator[Stack]:
    """Validate, read state, guard region/endpoint/account, lock (writers), build clients.

    `require_state`: fail at once (no AWS call, no boto3 import) when nothing is recorded.
    """
    check_stack(opts.stack)
    if opts.username is not None:
        check_username(opts.username)
    path = state_path(opts)
    lock = lock_stack(path, command) if write else None
    try:
        try:
            store = StateStore.load(path)
        except CorruptStateError as exc:
            raise exc.kept_aside(quarantine(path)) from exc
        if require_state and store is None:
            raise NotDeployedError(not_deployed(opts))
        recorded_region = _recorded_region(opts, path, store)
        region = opts.region or recorded_region or _default_region(opts)
        endpoint = opts.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        server = keys = None
        if opts.local:
            # Before anything is created, and before the embedded AWS starts: it is moto, which
            # serves real AWS region names only (a typo created the global IAM role, then failed).
            bad_region = _check_region(opts, command, region, recorded_region, endpoint)
            from .local import daemon

            port = opts.port or daemon.DEFAULT_PORT
            server = daemon.ensure(port, started_by=command) if start_server else daemon.status()
            endpoint = server.url if server else None
            keys = daemon.server_credentials(server) if server else None
        else:
            recorded_endpoint = store.get("endpoint_url") if store else None
            if store and (endpoint or None) != (recorded_endpoint or None):
                where = recorded_endpoint or "real AWS (no endpoint)"
                raise StateError(
                    f"Stack {opts.stack!r} was created against {where}; use the same "
                    "--endpoint-url (or none), or pick another --stack or --state-file."
                )
            bad_region = _check_region(opts, command, region, recorded_region, endpoint)
            if endpoint:
                probe_endpoint(endpoint)
        target = Target(
            region=region,
            profile=opts.profile,
            endpoint_url=endpoint,
            local=opts.local,
            access_key=keys.access_key if keys else None,
            secret_key=keys.secret_key if keys else None,
        )
        stack = Stack(opts, path, store, region, target, Clients(target), server=server, lock=lock)
        stack.bad_region = bad_region
        recorded_account = store.get("account_id") if store else None
        # A `down` with nothing recorded needs no credentials; anything else fails here, before
        # any call, when there are none. The session resolves them once, before any client is built.
        if store is not None or command != "down":
            stack.clients.check_credentials()
        if write:
            # Build the clients `up`/`down` will use while the first call is in flight, the one the
            # first call needs first (`up`'s is CreateRole; an existing stack's GetCallerIdentity).
            first = ["sts"] if recorded_account and not opts.local else []
            services = ["iam", "lambda", "apigatewayv2", "cognito-idp", "logs", "apigateway"]
            stack.clients.prefetch([*first, *services])
        # A new stack has nothing to compare with: no STS round trip in front of CreateRole (the
        # account comes from CreateRole's ARN).
        if opts.local:
            stack.account_id = LOCAL_ACCOUNT_ID
        elif recorded_account:
            # An existing stack: prove these credentials are for its account before any change.
            stack.account_id = stack.clients.account_id()
            if recorded_account != stack.account_id:
                raise StateError(
                    f"Stack {opts.stack!r} belongs to AWS account {recorded_account}, but your "
                    f"credentials are for {stack.account_id}; switch --profile, or use another --stack."
                )
        if lock and lock.took_over_from:
            holder = lock.took_over_from
            stack.notes.append(
                f"Took over the lock of a stopped `authdemo {holder.get('command')}` "
                f"(pid {holder.get('pid')}); its work is resumed from the state file."
            )
        yield stack
    finally:
        if lock:
            lock.release()


#: Commands that still work on a stack whose state records a region AWS does not have: they
#: delete (or forget) what could have been created there, i.e. only global (IAM) resources.
TOLERATE_BAD_REGION = frozenset({"down", "down --sweep"})


def _recorded_region(opts: Options, path: Path, store: StateStore | None) -> str | None:
    """The region the state records, after refusing a state made for another stack, or an
    explicit --region other than the recorded one (both before anything changes AWS)."""
    recorded_stack = store.get("stack") if store else None
    if recorded_stack and recorded_stack != opts.stack:
        raise StateError(
            f"The state file {path} belongs to stack {recorded_stack!r}, not {opts.stack!r}; "
            f"add --stack {recorded_stack} to use it, or pick another --state-file."
        )
    recorded_region = store.get("region") if store else None
    if opts.region and recorded_region and opts.region != recorded_region:
        raise StateError(
            f"Stack {opts.stack!r} was created in {recorded_region}, not {opts.region}; "
            f"drop --region (or use --region {recorded_region}), or pick another --stack."
        )
    return str(recorded_region) if recorded_region else None


def _check_region(
    opts: Options, command: str, region: str, recorded_region: str | None, endpoint: str | None
) -> bool:
    """Refuse a bad region before anything is created; returns True for a recorded bad region
    that `down` may still clean up (see TOLERATE_BAD_REGION)."""
    lenient_endpoint = None if opts.local else endpoint
    try:
        check_region(region, lenient_endpoint)
        return False
    except UsageError as exc:
        if region != recorded_region:
            raise
        if command in TOLERATE_BAD_REGION:
            return True
        flags = cli_flags(opts)
        raise UsageError(
            f"Stack {opts.stack!r} was recorded in {region!r}, which is not an AWS region; "
            f"`authdemo down{flags}` deletes what it created, or `authdemo forget{flags}` forgets it."
        ) from exc


def lock_stack(path: Path, command: str) -> StackLock:
    try:
        return StackLock(path, command).acquire()
    except (PermissionError, FileNotFoundError, NotADirectoryError) as exc:
        raise UsageError(
            f"Cannot write authdemo's state in {path.parent} ({exc.strerror}); make it writable, "
            "or point AUTHDEMO_HOME (or --state-file) at a directory you can write."
        ) from exc


def not_deployed(opts: Options, missing: list[str] | None = None) -> str:
    detail = f" (missing: {', '.join(missing)})" if missing else ""
    return f"Stack {opts.stack!r} is not deployed{detail}; run `authdemo up{cli_flags(opts)}` first."


def require(stack: Stack, *keys: str) -> StateStore:
    store = stack.store
    missing = [k for k in keys if not (store and store.resource(k))]
    if store is not None and missing and store.get("issuer"):
        # A stack of another issuer (`up --issuer`) has no pool to sign in to, by design.
        raise UsageError(
            f"Stack {stack.opts.stack!r} trusts {store.get('issuer')} and has no Cognito user pool, so "
            "authdemo cannot sign in for it; get a token from that issuer and run "
            f'`authdemo test --token "$TOKEN"{cli_flags(stack.opts)}`.'
        )
    if store is None or missing:
        raise NotDeployedError(not_deployed(stack.opts, missing))
    return store


def require_server(stack: Stack) -> None:
    """A --local stack lives in the embedded AWS's memory: once that server stopped (or another
    one runs in its place), the stack's resources are gone, whatever the state file says."""
    if not stack.opts.local or stack.store is None:
        return
    if stack.server is None:
        what = "stopped"
    elif stack.store.get("server_pid") not in (None, stack.server.pid):
        what = "restarted"
    else:
        return
    flags = cli_flags(stack.opts, stack.opts.port)
    raise NotDeployedError(
        f"The embedded AWS was {what} since `authdemo up --local`, so the resources of stack "
        f"{stack.opts.stack!r} are gone; recreate them with `authdemo up{flags}`."
    )


def cli_flags(
    opts: Options, port: int | None = None, endpoint_url: str | None = None, region: str | None = None
) -> str:
    """The options a follow-up command needs to reach this same stack (for printed commands).

    Every printed command and hint ends with these, so it works when pasted: `--local` with
    `--port` (when not the default), `--endpoint-url`, `--region` (when one was given),
    `--profile`, `--stack` and `--state-file`; each value shell-quoted.
    """
    from .local.names import DEFAULT_PORT  # constants only: no daemon, no cryptography

    q = shlex.quote
    flags = ""
    if opts.local:
        flags += " --local"
        port = port or opts.port
        if port and port != DEFAULT_PORT:
            flags += f" --port {port}"
    else:
        endpoint = endpoint_url or opts.endpoint_url
        if endpoint and endpoint != os.environ.get("AWS_ENDPOINT_URL"):
            flags += f" --endpoint-url {q(endpoint)}"
        if opts.profile and opts.profile != os.environ.get("AWS_PROFILE"):
            flags += f" --profile {q(opts.profile)}"
    if opts.region or region:
        flags += f" --region {q(str(opts.region or region))}"
    if opts.stack != "authdemo":
        flags += f" --stack {q(opts.stack)}"
    if opts.state_file:
        flags += f" --state-file {q(str(state_path(opts)))}"
    return flags


class _NoAws(Clients):
    """The clients of a context that must call no AWS (`export`): asking for one is a bug, and
    for the account (which the state did not record) a sentence that says how to give it."""

    def __init__(self, target: Target, stack: str) -> None:
        super().__init__(target)
        self.stack = stack

    def __call__(self, service: str) -> Any:
        raise RuntimeError(f"an offline context asked for a {service} client")

    def account_id(self) -> str:
        raise UsageError(
            f"Stack {self.stack!r} records no AWS account, and the export needs one (the managed-login "
            "domain's prefix is derived from it): add --account, e.g. --account "
            '"$(aws sts get-caller-identity --query Account --output text)", or run `authdemo up` first.'
        )


def offline_context(opts: Options, account: str | None = None) -> tuple[Context, list[str]]:
    """The context `up` would build the stack with, from its state file (if any) and the options
    alone, and `up`'s notes: no lock, no server, no credentials, no AWS call, nothing written.
    Its records are empty (every ID is a reference) and it holds no password (`export`). The
    account: `account`, else the recorded one (the embedded AWS's with --local)."""
    from .external_issuer import resolve
    from .units import MemoryRecords

    check_stack(opts.stack)
    if opts.username is not None:
        check_username(opts.username)
    path = state_path(opts)
    store = StateStore.load(path)  # a corrupt file is refused, and left where it is
    recorded_region = _recorded_region(opts, path, store)
    region = opts.region or recorded_region or _default_region(opts)
    check_region(region, None)
    issuer, audiences, notes = resolve(opts, store)  # refuses what `up` refuses (--rest with --issuer...)
    settings = {k: v for k, v in (store.snapshot() if store else {}).items() if k in _PROFILE}
    settings.update(username=opts.username or settings.get("username") or DEFAULT_USERNAME)
    arn_partition, dns_suffix = partition(region)
    rest = settings.get("rest") is not False if opts.rest is None else opts.rest
    ctx = Context(
        clients=_NoAws(Target(region=region), opts.stack),
        records=MemoryRecords({}, settings),
        names=Names(opts.stack),
        region=region,
        partition=arn_partition,
        dns_suffix=dns_suffix,
        account_id=account
        or (store.get("account_id") if store else None)
        or (LOCAL_ACCOUNT_ID if opts.local else ""),
        username=settings["username"],
        issuer=issuer,
        audiences=audiences,
        callback_port=opts.callback_port or int(settings.get("callback_port") or DEFAULT_CALLBACK_PORT),
        sign_up=bool(settings.get("sign_up")) if opts.sign_up is None else opts.sign_up,
        rest=rest and not issuer,
    )
    return ctx, notes


#: The state's settings that say what `up` builds (never a password, an ID or an account).
_PROFILE = ("username", "callback_port", "sign_up", "rest", "issuer", "audience")
