"""What each command does, apart from how it is typed or drawn.

`open_stack` is the gate every command passes: it validates input, reads the state file,
refuses a state made for another region, endpoint or account *before anything changes
AWS*, takes the stack's lock for commands that write, and builds the clients. The
commands below return plain data; cli.py prints it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import engine, paths, planner
from .aws import LOCAL_ACCOUNT_ID, Clients, Target, check_region, default_region, partition, probe_endpoint
from .errors import NotDeployedError, StateError, UsageError
from .state import CorruptStateError, StackLock, StateStore, quarantine, read_state
from .units import Context, MemoryRecords, Names, Rec, Records, Unit, all_units
from .validate import check_password, check_stack, check_username, generate_password

DEFAULT_REGION = "us-west-2"  # the course guide's region
DEFAULT_USERNAME = "demo@example.com"


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
            raise NotDeployedError(_not_deployed(self.opts))
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
    lock = _lock(path, command) if write else None
    try:
        try:
            store = StateStore.load(path)
        except CorruptStateError as exc:
            raise exc.kept_aside(quarantine(path)) from exc
        if require_state and store is None:
            raise NotDeployedError(_not_deployed(opts))
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
        if write:
            # Build the clients `up`/`down` will use while the first call is in flight.
            first = ["sts"] if recorded_account and not opts.local else []
            stack.clients.prefetch([*first, "iam", "lambda", "apigatewayv2", "cognito-idp", "logs"])
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
        elif store is not None or command != "down":  # a `down` with nothing recorded needs none
            # A new stack: nothing to compare with, so no STS round trip in front of CreateRole;
            # the account comes from CreateRole's ARN. Missing credentials still fail here.
            stack.clients.check_credentials()
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


def _lock(path: Path, command: str) -> StackLock:
    try:
        return StackLock(path, command).acquire()
    except (PermissionError, FileNotFoundError, NotADirectoryError) as exc:
        raise UsageError(
            f"Cannot write authdemo's state in {path.parent} ({exc.strerror}); make it writable, "
            "or point AUTHDEMO_HOME (or --state-file) at a directory you can write."
        ) from exc


def _not_deployed(opts: Options, missing: list[str] | None = None) -> str:
    detail = f" (missing: {', '.join(missing)})" if missing else ""
    return f"Stack {opts.stack!r} is not deployed{detail}; run `authdemo up{cli_flags(opts)}` first."


def _require(stack: Stack, *keys: str) -> StateStore:
    store = stack.store
    missing = [k for k in keys if not (store and store.resource(k))]
    if store is None or missing:
        raise NotDeployedError(_not_deployed(stack.opts, missing))
    return store


# ---------------------------------------------------------------------------------- commands
def up(
    opts: Options, observer_factory: Callable[[], Any]
) -> tuple[dict[str, Any], engine.RunResult, list[str]]:
    """Create (or complete, or confirm) the whole stack; returns its summary."""
    if opts.password is not None:
        check_password(opts.password)  # before anything is created or locked
    with open_stack(opts, "up", write=True) as stack:
        store = stack.store
        password = opts.password or (store.get("password") if store else None) or generate_password()
        check_password(password)
        username = opts.username or (store.get("username") if store else None) or DEFAULT_USERNAME
        check_username(username)
        if store is None:
            store = StateStore.new(
                stack.path,
                stack=opts.stack,
                region=stack.region,
                endpoint_url=None if opts.local else stack.target.endpoint_url,
                local=opts.local,
            )
            stack.store = store
        store.set(username=username, password=password)
        if stack.account_id:
            store.set(account_id=stack.account_id)
        if opts.local:
            store.set(server_pid=stack.server.pid)
        with observer_factory() as observer:
            result = engine.up(stack.context(), store, observer)
        return summary(stack), result, stack.notes


def plan(opts: Options, command: str) -> dict[str, Any]:
    """What `up` or `down` would do, read from the state and AWS; nothing is changed or written."""
    with open_stack(opts, f"{command} --dry-run", write=False, start_server=False) as stack:
        records: Records = stack.store or MemoryRecords({}, {"username": opts.username})
        units = planner.units_by_key()
        if opts.local and stack.server is None:
            # No embedded AWS running: nothing exists in it; `up` would create everything.
            steps = [
                planner.Planned(k, units[k].label, "create" if command == "up" else "gone")
                for k in planner.up_order(units)
            ]
        elif command == "down" and stack.store is None:
            steps = []
        else:
            ctx = stack.context(records)
            steps = planner.plan_up(ctx) if command == "up" else planner.plan_down(ctx)
        return {
            "command": command,
            "dry_run": True,
            "stack": opts.stack,
            "region": stack.region,
            "local": opts.local,
            "state_file": str(stack.path),
            "plan": [step.as_dict() for step in steps],
        }


def summary(stack: Stack) -> dict[str, Any]:
    store = stack.store
    res = store.resources() if store else {}
    api = res.get("api", {})
    endpoint = stack.target.endpoint_url
    api_url = None
    if api.get("id"):
        if endpoint:
            api_url = f"{endpoint.rstrip('/')}/_aws/execute-api/{api['id']}"
        else:
            api_url = api.get("endpoint") or f"https://{api['id']}.execute-api.{stack.region}.amazonaws.com"
    names = stack.names
    out: dict[str, Any] = {
        "stack": stack.opts.stack,
        "region": stack.region,
        "account_id": (store.get("account_id") if store else None) or stack.account_id,
        "local": stack.opts.local,
        "endpoint_url": endpoint,
        "api_url": api_url,
        "protected_url": f"{api_url}/protected" if api_url else None,
        "user_pool_id": res.get("user_pool", {}).get("id"),
        "client_id": res.get("app_client", {}).get("id"),
        "issuer": res.get("authorizer", {}).get("issuer"),
        "username": store.get("username") if store else None,
        "function_name": res.get("function", {}).get("name") or names.function,
        "role_name": res.get("role", {}).get("name") or names.role,
        "log_group": names.log_group,
        "state_file": str(stack.path),
        "cli_flags": cli_flags(
            stack.opts, stack.server.port if stack.server else None, stack.target.endpoint_url
        ),
    }
    if stack.opts.show_password and store:
        out["password"] = store.get("password")
    return out


def cli_flags(
    opts: Options, port: int | None = None, endpoint_url: str | None = None, region: str | None = None
) -> str:
    """The options a follow-up command needs to reach this same stack (for printed commands).

    Every printed command and hint ends with these, so it works when pasted: `--local` with
    `--port` (when not the default), `--endpoint-url`, `--region` (when one was given),
    `--profile`, `--stack` and `--state-file`; each value shell-quoted.
    """
    from .local.daemon import DEFAULT_PORT

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


def guide_commands(info: dict[str, Any]) -> list[tuple[str, str]]:
    """The course guide's commands, filled in for this stack (comment, command).

    Each works when pasted in order into a fresh shell: whatever a line uses is set by an
    earlier one. InitiateAuth is an unauthenticated call, so the aws line needs no credentials.
    """
    q = shlex.quote
    endpoint = f" --endpoint-url {q(info['endpoint_url'])}" if info.get("endpoint_url") else ""
    url = q(info["protected_url"])
    flags = info.get("cli_flags", "")
    return [
        ("WITHOUT token - expect 401", f"curl -s -w '\\n' {url}"),
        (
            "The test user's password, for the guide's command",
            f"DEMO_PASSWORD=$(authdemo status --field password{flags})",
        ),
        (
            "Get an ID token: the guide's command (InitiateAuth needs no AWS credentials)",
            f"ID_TOKEN=$(aws cognito-idp initiate-auth{endpoint} --region {q(info['region'])} "
            "--no-sign-request "
            f"--auth-flow USER_PASSWORD_AUTH --client-id {q(info['client_id'])} "
            f'--auth-parameters USERNAME={q(info["username"])},PASSWORD="$DEMO_PASSWORD" '
            "--query AuthenticationResult.IdToken --output text)",
        ),
        ("... or simply", f"ID_TOKEN=$(authdemo token --id{flags})"),
        ("WITH valid token - expect 200", f"curl -s -w '\\n' -H \"Authorization: Bearer $ID_TOKEN\" {url}"),
        ("Decode the token", f"authdemo token --id --decode{flags}"),
        ("The ID token beside the access token", f"authdemo token --compare{flags}"),
        ("Clean up", f"authdemo down{flags}"),
    ]


def test_commands(info: dict[str, Any], checks: list[Any]) -> list[tuple[str, str]]:
    """The curl line of each check, each token variable set by an earlier line (comment, command)."""
    flags = info.get("cli_flags", "")
    lines: list[tuple[str, str]] = []
    for check in checks:
        if check.token_var:
            lines.append(
                (
                    f"{check.name}: {check.expected}",
                    f"{check.token_var}=$(authdemo token --{check.token_kind}{flags})",
                )
            )
            lines.append(("", check.curl))
        else:
            lines.append((f"{check.name}: {check.expected}", check.curl))
    return lines


def test(opts: Options, on_wait: Callable[[str], None]) -> tuple[dict[str, Any], list[Any], float]:
    """Sign in and run the checks; `info["claims"]` holds both tokens' claims, side by side."""
    from .checks import Prober, run_checks
    from .tokens import decode, sign_in

    with open_stack(opts, "test", write=False, start_server=False, require_state=True) as stack:
        _require_server(stack)
        store = _require(stack, "api", "app_client", "user")
        info = summary(stack)
        password = opts.password or store.get("password")
        tokens = sign_in(stack.clients, info["client_id"], info["username"], password)
        checks, waited = run_checks(
            Prober(info["protected_url"]), tokens, info["username"], on_wait, opts.wait
        )
        info["claims"] = {kind: decode(tokens[kind])[1] for kind in ("id", "access")}
        return info, checks, waited


def token(opts: Options, kind: str) -> str:
    """A fresh token of `kind`: "id", "access", or "tampered" (the ID token, one claim edited)."""
    from .tokens import sign_in, tamper

    with open_stack(opts, "token", write=False, start_server=False, require_state=True) as stack:
        _require_server(stack)
        store = _require(stack, "app_client", "user")
        info = summary(stack)
        tokens = sign_in(
            stack.clients, info["client_id"], info["username"], opts.password or store.get("password")
        )
        return tamper(tokens["id"]) if kind == "tampered" else tokens[kind]


def tokens(opts: Options) -> dict[str, str]:
    """Both tokens of one sign-in (for `token --compare`)."""
    from .tokens import sign_in

    with open_stack(opts, "token", write=False, require_state=True) as stack:
        store = _require(stack, "app_client", "user")
        info = summary(stack)
        return sign_in(
            stack.clients, info["client_id"], info["username"], opts.password or store.get("password")
        )


def status(opts: Options) -> dict[str, Any]:
    with open_stack(opts, "status", write=False, start_server=False, require_state=True) as stack:
        _require_server(stack)
        info = summary(stack)
        store = _require(stack)
        ctx = stack.context()
        resources = {}
        for unit in all_units():
            rec = store.resource(unit.key)
            if not rec:
                continue
            # Only "not found" is missing: any other error (throttling, denied) is reported as such.
            exists = unit.exists(ctx, rec)
            resources[unit.key] = {"label": unit.label, "id": unit.describe(rec), "exists": exists}
        info["resources"] = resources
        if opts.local:
            info["server"] = stack.server.url if stack.server else None
        return info


def down(
    opts: Options, observer_factory: Callable[[], Any]
) -> tuple[list[str], engine.RunResult | None, list[str]]:
    """Delete what the state records (plus any copy found by name and tag), in reverse order."""
    with open_stack(opts, "down", write=True, start_server=False) as stack:
        notes = list(stack.notes)
        if stack.store is None:
            notes.append(
                f"Nothing recorded for stack {opts.stack!r} ({stack.path}); nothing to delete. "
                f"Lost the state file? `authdemo down --sweep{cli_flags(opts)}` finds leftovers by tag."
            )
            return [], None, notes
        if opts.local and stack.server is None:
            stack.store.remove_file()
            notes.append("The embedded AWS is not running, so its resources are already gone.")
            return [], None, notes
        if opts.local and stack.store.get("server_pid") not in (None, stack.server.pid):
            notes.append("The embedded AWS was restarted since `up`; its old resources are gone.")
        forget_only = _unreachable(stack, notes)
        with observer_factory() as observer:
            result = engine.down(stack.context(), stack.store, observer, forget_only=forget_only)
        deleted = [k for k, v in result.outcomes.items() if v == "deleted" and ":" not in k]
        if not stack.store.resources():
            stack.store.remove_file()
        if opts.local:
            notes.extend(_maybe_stop_server(stack))
        return deleted, result, notes


def _unreachable(stack: Stack, notes: list[str]) -> frozenset[str]:
    """In a recorded region AWS does not have, only global (IAM) resources can exist: `down`
    deletes those and forgets the regional records without calling AWS there."""
    if not stack.bad_region:
        return frozenset()
    notes.append(
        f"{stack.region!r} is not an AWS region, so only the stack's IAM role can exist; "
        "the other records are forgotten."
    )
    return planner.regional_keys()


def _maybe_stop_server(stack: Stack) -> list[str]:
    """`down --local` stops a server that `up --local` started, once no stack remains in it."""
    from .local import daemon

    server = stack.server
    if server is None or server.started_by != "up":
        return []
    iam = stack.clients("iam")
    if iam.list_roles(PathPrefix="/authdemo/").get("Roles"):
        return ["The embedded AWS keeps running: other stacks remain in it."]
    daemon.stop()
    return ["Stopped the embedded AWS (it was started by `up --local`)."]


def sweep_find(stack: Stack, store: StateStore) -> list[tuple[Unit, Rec]]:
    """Every top-level resource of the stack found in AWS by name and tag or path."""
    ctx = stack.context(store)
    units = planner.units_by_key()
    skip = planner.regional_keys() if stack.bad_region else frozenset()
    return [
        (units[key], rec)
        for key in planner.down_order(units)
        if key not in skip
        for rec in units[key].teardown_targets(ctx)
    ]


def sweep(
    opts: Options,
    confirm: Callable[[list[tuple[Unit, Rec]]], bool],
    observer_factory: Callable[[], Any],
) -> tuple[list[tuple[Unit, Rec]], bool]:
    """Find a stack's resources without trusting the state file, confirm, delete them all."""
    with open_stack(opts, "down --sweep", write=True, start_server=False) as stack:
        if opts.local and stack.server is None:
            if stack.store:
                stack.store.remove_file()
            return [], True
        store = stack.store or StateStore.new(stack.path, stack=opts.stack)  # never saved: no IDs
        found = sweep_find(stack, store)
        if not found or not confirm(found):
            return found, False
        skip = planner.regional_keys() if stack.bad_region else frozenset()
        with observer_factory() as observer:
            engine.down(stack.context(store), store, observer, forget_only=skip)
        store.remove_file()
        return found, True


def _require_server(stack: Stack) -> None:
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
        f"The embedded AWS was {what} since `authdemo up --local`, so stack {stack.opts.stack!r}'s "
        f"resources are gone; recreate them with `authdemo up{flags}`."
    )


def forget(opts: Options, confirm: Callable[[Path, dict[str, Any] | None], bool]) -> Path | None:
    """Drop a stack's state file whatever its state (corrupt, another region, a stopped server),
    keeping a copy `<file>.forgotten-<time>`; no AWS call. Returns the copy (None: nothing
    recorded, or not confirmed). Resources it recorded stay where they are."""
    check_stack(opts.stack)
    path = state_path(opts)
    lock = _lock(path, "forget")
    try:
        if not path.exists():
            return None
        try:
            data = read_state(path)
        except StateError:
            data = None  # unreadable or of a newer authdemo: forgotten all the same
        if not confirm(path, data):
            return None
        return quarantine(path, "forgotten")
    finally:
        lock.release()


def local_stacks() -> list[str]:
    """The stacks recorded in the embedded AWS (their state files), by name."""
    return sorted(p.name.removesuffix(".local.json") for p in paths.home().glob("*.local.json"))
