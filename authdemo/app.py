"""What each command does, apart from how it is typed or drawn.

`open_stack` is the gate every command passes: it validates input, reads the state file,
refuses a state made for another region, endpoint or account *before anything changes
AWS*, takes the stack's lock for commands that write, and builds the clients. The
commands below return plain data; cli.py prints it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import engine, paths
from .aws import LOCAL_ACCOUNT_ID, Clients, Target, check_region, default_region, partition, probe_endpoint
from .errors import AuthdemoError, NotDeployedError, StateError
from .state import CorruptStateError, StackLock, StateStore, quarantine
from .units import Context, MemoryRecords, Names, Rec, Records, Unit, all_units
from .validate import check_password, check_stack, check_username, generate_password

DEFAULT_REGION = "us-west-2"  # the course guide's region
DEFAULT_USERNAME = "demo@example.com"
#: The API's four routes, one per kind of key (issue #10): see units/apigateway_routes.py.
DOORS = ("protected", "scoped", "lambda", "iam")


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
            student_password=records.get("student_password") or "",
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
    lock = StackLock(path, command).acquire() if write else None
    try:
        try:
            store = StateStore.load(path)
        except CorruptStateError as exc:
            raise exc.kept_aside(quarantine(path)) from exc
        if require_state and store is None:
            raise NotDeployedError(_not_deployed(opts))
        recorded_region = store.get("region") if store else None
        if opts.region and recorded_region and opts.region != recorded_region:
            raise StateError(
                f"Stack {opts.stack!r} was created in {recorded_region}, not {opts.region}; "
                f"drop --region (or use --region {recorded_region}), or pick another --stack."
            )
        region = opts.region or recorded_region or _default_region(opts)
        endpoint = opts.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        server = None
        if opts.local:
            from .local import daemon

            port = opts.port or daemon.DEFAULT_PORT
            server = daemon.ensure(port, started_by=command) if start_server else daemon.status()
            endpoint = server.url if server else None
        else:
            recorded_endpoint = store.get("endpoint_url") if store else None
            if store and (endpoint or None) != (recorded_endpoint or None):
                where = recorded_endpoint or "real AWS (no endpoint)"
                raise StateError(
                    f"Stack {opts.stack!r} was created against {where}; use the same "
                    "--endpoint-url (or none), or pick another --stack or --state-file."
                )
            check_region(region, endpoint)
            if endpoint:
                probe_endpoint(endpoint)
        target = Target(region=region, profile=opts.profile, endpoint_url=endpoint, local=opts.local)
        stack = Stack(opts, path, store, region, target, Clients(target), server=server, lock=lock)
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


def _not_deployed(opts: Options, missing: list[str] | None = None) -> str:
    local = " --local" if opts.local else ""
    stack_opt = "" if opts.stack == "authdemo" else f" --stack {opts.stack}"
    detail = f" (missing: {', '.join(missing)})" if missing else ""
    return f"Stack {opts.stack!r} is not deployed{detail}; run `authdemo up{local}{stack_opt}` first."


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
        if not store.get("student_password"):  # the second user's (issue #10), kept like the first's
            store.set(student_password=generate_password())
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
        units = engine.units_by_key()
        if opts.local and stack.server is None:
            # No embedded AWS running: nothing exists in it; `up` would create everything.
            steps = [
                engine.Planned(k, units[k].label, "create" if command == "up" else "gone")
                for k in engine.up_order(units)
            ]
        elif command == "down" and stack.store is None:
            steps = []
        else:
            ctx = stack.context(records)
            steps = engine.plan_up(ctx) if command == "up" else engine.plan_down(ctx)
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
        "routes": {door: f"{api_url}/{door}" for door in DOORS} if api_url else None,
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
        out["student_password"] = store.get("student_password")
    return out


def cli_flags(opts: Options, port: int | None = None, endpoint_url: str | None = None) -> str:
    """The options a follow-up command needs to reach this same stack (for printed commands)."""
    from .local.daemon import DEFAULT_PORT

    flags = ""
    if opts.local:
        flags += " --local"
        if port and port != DEFAULT_PORT:
            flags += f" --port {port}"
    elif endpoint_url and not os.environ.get("AWS_ENDPOINT_URL"):
        flags += f" --endpoint-url {endpoint_url}"
    if opts.stack != "authdemo":
        flags += f" --stack {opts.stack}"
    if opts.state_file:
        flags += f" --state-file {state_path(opts)}"
    return flags


def guide_commands(info: dict[str, Any]) -> list[tuple[str, str]]:
    """The course guide's commands, filled in for this stack (comment, command)."""
    endpoint = f" --endpoint-url {info['endpoint_url']}" if info.get("endpoint_url") else ""
    region = info["region"]
    url = info["protected_url"]
    local = info.get("cli_flags", "")
    stack = ""
    return [
        ("WITHOUT token - expect 401", f'curl -s "{url}"'),
        (
            "Get an ID token (the guide's command; the password is in `authdemo status --show-password`)",
            f"ID_TOKEN=$(aws cognito-idp initiate-auth{endpoint} --region {region} "
            f"--auth-flow USER_PASSWORD_AUTH --client-id {info['client_id']} "
            f'--auth-parameters USERNAME={info["username"]},PASSWORD="$AUTHDEMO_PASSWORD" '
            "--query AuthenticationResult.IdToken --output text)",
        ),
        ("... or simply", f"ID_TOKEN=$(authdemo token --id{local}{stack})"),
        ("WITH valid token - expect 200", f'curl -s -H "Authorization: Bearer $ID_TOKEN" "{url}"'),
        ("Decode the token", f"authdemo token --id --decode{local}{stack}"),
        ("Clean up", f"authdemo down{local}{stack}"),
    ]


def test(opts: Options, on_wait: Callable[[str], None]) -> tuple[dict[str, Any], list[Any], float]:
    from .checks import Prober, run_checks
    from .tokens import sign_in

    with open_stack(opts, "test", write=False, require_state=True) as stack:
        store = _require(stack, "api", "app_client", "user")
        info = summary(stack)
        password = opts.password or store.get("password")
        tokens = sign_in(stack.clients, info["client_id"], info["username"], password)
        checks, waited = run_checks(
            Prober(info["protected_url"]), tokens, info["username"], on_wait, opts.wait
        )
        return info, checks, waited


def token(opts: Options, kind: str) -> str:
    from .tokens import sign_in

    with open_stack(opts, "token", write=False, require_state=True) as stack:
        store = _require(stack, "app_client", "user")
        info = summary(stack)
        tokens = sign_in(
            stack.clients, info["client_id"], info["username"], opts.password or store.get("password")
        )
        return tokens[kind]


def token_action(opts: Options, kind: str, *, user: str = "demo", action: str = "") -> dict[str, Any]:
    """`token --user student`, `--refresh` (REFRESH_TOKEN_AUTH after signing in) and `--sign-out`
    (GlobalSignOut; the signed-out access token is kept in the state file for `test`)."""
    from . import tokens as tok

    with open_stack(opts, "token", write=action == "sign-out", require_state=True) as stack:
        store = _require(stack, "app_client", "student" if user == "student" else "user")
        info = summary(stack)
        if user == "student":
            username, password = stack.names.student, store.get("student_password")
        else:
            username, password = info["username"], opts.password or store.get("password")
        signed_in = tok.sign_in(stack.clients, info["client_id"], username, password)
        out: dict[str, Any] = {"user": username, "kind": kind}
        if action == "refresh":
            refresh_token = signed_in.get("refresh", "")
            fresh = tok.refresh(stack.clients, info["client_id"], refresh_token)
            out.update(
                token=fresh[kind],
                refreshed=True,
                refresh_token=tok.opacity(refresh_token),
                new_refresh_token="refresh" in fresh,
            )
        elif action == "sign-out":
            tok.sign_out(stack.clients, signed_in["access"])
            store.set(signed_out_access_token=signed_in["access"], signed_out_user=username)
            try:
                stack.clients("cognito-idp").get_user(AccessToken=signed_in["access"])
                verdict = "accepted"
            except AuthdemoError as exc:
                verdict = f"refused: {exc.aws_code} {exc.aws_message}".strip()
            out.update(token=signed_in["access"], kind="access", signed_out=True, get_user=verdict)
        else:
            out["token"] = signed_in[kind]
        return out


def status(opts: Options) -> dict[str, Any]:
    with open_stack(opts, "status", write=False, start_server=False, require_state=True) as stack:
        info = summary(stack)
        server_gone = opts.local and stack.server is None
        store = _require(stack)
        ctx = stack.context()
        resources = {}
        for unit in all_units():
            rec = store.resource(unit.key)
            if not rec:
                continue
            # Only "not found" is missing: any other error (throttling, denied) is reported as such.
            exists = False if server_gone else unit.exists(ctx, rec)
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
                "Lost the state file? `authdemo down --sweep` finds leftovers by tag."
            )
            return [], None, notes
        if opts.local and stack.server is None:
            stack.store.remove_file()
            notes.append("The embedded AWS is not running, so its resources are already gone.")
            return [], None, notes
        if opts.local and stack.store.get("server_pid") not in (None, stack.server.pid):
            notes.append("The embedded AWS was restarted since `up`; its old resources are gone.")
        with observer_factory() as observer:
            result = engine.down(stack.context(), stack.store, observer)
        deleted = [k for k, v in result.outcomes.items() if v == "deleted" and ":" not in k]
        if not stack.store.resources():
            stack.store.remove_file()
        if opts.local:
            notes.extend(_maybe_stop_server(stack))
        return deleted, result, notes


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
    units = engine.units_by_key()
    return [(units[key], rec) for key in engine.down_order(units) for rec in units[key].teardown_targets(ctx)]


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
        with observer_factory() as observer:
            engine.down(stack.context(store), store, observer)
        store.remove_file()
        return found, True
