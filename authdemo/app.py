"""What each command does, apart from how it is typed or drawn.

Every command opens its stack through `stack.open_stack` (the gate), then plans or runs the
engine, signs in, or reads AWS; it returns plain data, and the cli package prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import engine, external_issuer, invoke_url, m2m, paths, planner
from .errors import CredentialsError, StateError
from .regions import partition
from .stack import (
    DEFAULT_USERNAME,
    DOORS,
    Options,
    Stack,
    cli_flags,
    lock_stack,
    open_stack,
    require,
    require_server,
    state_path,
)
from .state import StateStore, quarantine, read_state
from .units import (
    DEFAULT_CALLBACK_PORT,
    REST_DOORS,
    Context,
    MemoryRecords,
    Names,
    Rec,
    Records,
    Unit,
    all_units,
)
from .validate import check_password, check_stack, check_username, generate_password


# ---------------------------------------------------------------------------------- commands
def up(
    opts: Options, observer_factory: Callable[[], Any]
) -> tuple[dict[str, Any], engine.RunResult, list[str]]:
    """Create (or complete, or confirm) the whole stack; returns its summary. With --explain,
    every AWS call of the command as an `aws` command (the result's `calls`, per step)."""
    relay = engine.Relay()
    with engine.explaining(relay, opts.explain, shown_in_explain(opts)) as calls:
        info, result, notes = _build(opts, relay.attach(observer_factory))
    result.calls = calls
    return info, result, notes


def shown_in_explain(opts: Options) -> tuple[str, ...]:
    """What `--explain` shows though the model marks it sensitive: the stack's two usernames
    (their emails too), which `status` shows anyway, and `true` (email_verified). Passwords and
    everything else the model marks stay ***."""
    return (opts.username or DEFAULT_USERNAME, Names(opts.stack).student, "true")


def _build(
    opts: Options, observer_factory: Callable[[], Any]
) -> tuple[dict[str, Any], engine.RunResult, list[str]]:
    if opts.password is not None:
        check_password(opts.password)  # before anything is created or locked
    with open_stack(opts, "up", write=True) as stack:
        store = stack.store
        issuer, audiences, notes = external_issuer.resolve(opts, store)
        stack.notes.extend(notes)
        if issuer:
            external_issuer.check(stack, issuer)  # before anything is created or recorded
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
        if issuer:  # no user pool, so no users or passwords (external_issuer.py)
            store.set(issuer=issuer, audience=list(audiences))
        else:
            callback_port = opts.callback_port or store.get("callback_port") or DEFAULT_CALLBACK_PORT
            sign_up = bool(store.get("sign_up")) if opts.sign_up is None else opts.sign_up
            store.set(username=username, password=password, callback_port=callback_port, sign_up=sign_up)
            rest = store.get("rest") is not False if opts.rest is None else opts.rest
            store.set(rest=rest)  # kept by later runs; `--no-rest` on a stack with it deletes it
        if not issuer and not store.get("student_password"):  # the second user's, kept like the first's
            store.set(student_password=generate_password())
        if stack.account_id:
            store.set(account_id=stack.account_id)
        if opts.local:
            store.set(server_pid=stack.server.pid)
        had_file = store.path.exists()
        with observer_factory() as observer:
            try:
                result = engine.up(stack.context(), store, observer)
            except CredentialsError:
                # AWS refused the credentials, so no call did anything: the file written before
                # the first create (StateStore.before_create) would only be clutter.
                if not had_file and not store.resources():
                    store.remove_file()
                raise
        info = summary(stack)
        if info["api_url_note"]:
            stack.notes.append(info["api_url_note"])
        if opts.explain:
            stack.notes.append(_explained(stack))
        return info, result, stack.notes


def plan(opts: Options, command: str) -> dict[str, Any]:
    """What `up` or `down` would do, read from the state and AWS; nothing is changed or written."""
    with open_stack(opts, f"{command} --dry-run", write=False, start_server=False) as stack:
        records: Records = stack.store or MemoryRecords({}, {"username": opts.username})
        if stack.store and _restarted(stack):  # recorded IDs name nothing in this server
            records = MemoryRecords({}, {k: v for k, v in stack.store.snapshot().items() if k != "resources"})
        units = planner.units_by_key()
        ctx = _planned_context(stack, records)
        if opts.local and stack.server is None:
            # No embedded AWS running: nothing exists in it; `up` would create everything.
            if command == "up":
                units = planner.profile_units(ctx)
            steps = [
                planner.Planned(k, units[k].label, "create" if command == "up" else "gone")
                for k in planner.up_order(units)
            ]
        elif command == "down" and stack.store is None:
            steps = []
        else:
            steps = planner.plan_up(ctx) if command == "up" else planner.plan_down(ctx)
        plan = [step.as_dict() for step in steps]
        if opts.explain:  # each step's commands (explain.py): declared, or the deleting calls
            from .explain import plan_commands

            commands = plan_commands(ctx, steps)
            for step in plan:
                step["cli"] = commands.get(str(step["key"]), [])
        doc = {
            "command": command,
            "dry_run": True,
            "stack": opts.stack,
            "region": stack.region,
            "local": opts.local,
            "state_file": str(stack.path),
            "plan": plan,
        }
        return {**doc, "cli_setup": _explained(stack, setup_only=True)} if opts.explain else doc


def _planned_context(stack: Stack, records: Records) -> Any:
    """The stack's context, with the profile `up --issuer` (or `--rest/--no-rest`) would give it."""
    ctx = stack.context(records)
    if stack.opts.issuer:
        ctx.issuer, ctx.audiences = stack.opts.issuer, stack.opts.audiences
    if stack.opts.rest is not None:
        ctx.rest = stack.opts.rest
    return ctx


def summary(stack: Stack) -> dict[str, Any]:
    store = stack.store
    res = store.resources() if store else {}
    api = res.get("api", {})
    endpoint = stack.target.endpoint_url
    invoke = None
    if api.get("id"):
        dns_suffix = partition(stack.region)[1]
        invoke = invoke_url.of_api(api, endpoint, stack.target.local, stack.region, dns_suffix)
    api_url = invoke.url if invoke else None
    rest_url = None
    if res.get("rest_api", {}).get("id"):
        rest_url = invoke_url.of_rest_api(
            res["rest_api"]["id"], stack.names.rest_stage, endpoint, stack.region, partition(stack.region)[1]
        )
    domain = res.get("domain", {})
    names = stack.names
    out: dict[str, Any] = {
        "stack": stack.opts.stack,
        "region": stack.region,
        "account_id": (store.get("account_id") if store else None) or stack.account_id,
        "local": stack.opts.local,
        "endpoint_url": endpoint,
        "api_url": api_url,
        "api_url_source": invoke.source if invoke else None,
        "api_url_note": invoke.note if invoke else None,
        "protected_url": f"{api_url}/protected" if api_url else None,
        "routes": {d: f"{api_url}/{d}" for d in DOORS if d != "m2m" or "route_m2m" in res}
        if api_url
        else None,
        "rest_api_url": rest_url,
        "rest_routes": {d.name: f"{rest_url}{d.path}" for d in REST_DOORS} if rest_url else None,
        "user_pool_id": res.get("user_pool", {}).get("id"),
        "client_id": res.get("app_client", {}).get("id"),
        "login_url": domain.get("url"),
        # Why there is none (recorded by `up`: managed_login.discover's sentence).
        "login_url_note": None if domain.get("url") else domain.get("login"),
        "callback_port": store.get("callback_port") if store else None,
        "sign_up": bool(store.get("sign_up")) if store else None,
        "m2m_client_id": res.get("m2m_client", {}).get("id"),
        "issuer": res.get("authorizer", {}).get("issuer") or (store.get("issuer") if store else None),
        "audience": (store.get("audience") if store else None) or None,
        "username": store.get("username") if store else None,
        "student_username": names.student if "student" in res else None,
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


def status(opts: Options, secret: bool = False, check: bool = True) -> dict[str, Any]:
    """`secret`: also the M2M client's secret (`status --field m2m_client_secret` only).
    `check`: ask AWS whether each recorded resource still exists (`resources`); `--field`
    needs only the state (`$(authdemo status --field password)`: no call but the account's)."""
    with open_stack(opts, "status", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        info = summary(stack)
        store = require(stack)
        if secret:
            info["m2m_client_secret"] = m2m.secret(stack.clients, require(stack, "user_pool", "m2m_client"))
        if check:
            info["resources"] = _existing(stack.context(), store)
        if opts.local:
            info["server"] = stack.server.url if stack.server else None
        return info


def _existing(ctx: Context, store: StateStore) -> dict[str, dict[str, Any]]:
    """Each recorded resource and whether it still exists, asked side by side (one round trip
    of time, not ~30 in a row). Only "not found" is missing: any other error (throttling,
    denied) is raised as such."""
    recorded = [(unit, rec) for unit in all_units() if (rec := store.resource(unit.key))]
    with ThreadPoolExecutor(max_workers=engine.MAX_WORKERS, thread_name_prefix="authdemo-status") as pool:
        found = list(pool.map(lambda pair: pair[0].exists(ctx, pair[1]), recorded))
    return {
        unit.key: {"label": unit.label, "id": unit.describe(rec), "exists": exists}
        for (unit, rec), exists in zip(recorded, found, strict=True)
    }


def down(
    opts: Options, observer_factory: Callable[[], Any]
) -> tuple[list[str], engine.RunResult | None, list[str]]:
    """Delete what the state records (plus any copy found by name and tag), in reverse order.
    With --explain, as `up`."""
    relay = engine.Relay()
    with engine.explaining(relay, opts.explain, shown_in_explain(opts)) as calls:
        deleted, result, notes = _delete(opts, relay.attach(observer_factory))
    if result is not None:
        result.calls = calls
    return deleted, result, notes


def _delete(
    opts: Options, observer_factory: Callable[[], Any]
) -> tuple[list[str], engine.RunResult | None, list[str]]:
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
            _forget_login(stack)
            notes.append("The embedded AWS is not running, so its resources are already gone.")
            return [], None, notes
        if _restarted(stack):
            notes.append("The embedded AWS was restarted since `up`; its old resources are gone.")
            # Their IDs name nothing in this server: look by name and tag only, delete what is found.
            stack.store.forget(*stack.store.resources())
        forget_only = _unreachable(stack, notes)
        with observer_factory() as observer:
            result = engine.down(stack.context(), stack.store, observer, forget_only=forget_only)
        if opts.explain:
            notes.append(_explained(stack))
        deleted = [k for k, v in result.outcomes.items() if v == "deleted" and ":" not in k]
        if not stack.store.resources():
            stack.store.remove_file()
            _forget_login(stack)
        if opts.local:
            notes.extend(_maybe_stop_server(stack))
        return deleted, result, notes


def _explained(stack: Stack, setup_only: bool = False) -> str:
    """`--explain`'s last line: how to paste the commands shown (printed.explain_setup)."""
    from .printed import explain_setup

    setup = explain_setup(stack.target, stack.server.port if stack.server else stack.opts.port)
    return (
        setup
        if setup_only
        else f"The aws commands above are the calls made; to paste them, first run: {setup}"
    )


def _restarted(stack: Stack) -> bool:
    """A --local stack whose embedded AWS restarted since `up`: its resources went with the old one."""
    server, store = stack.server, stack.store
    return bool(stack.opts.local and server and store and store.get("server_pid") not in (None, server.pid))


def _forget_login(stack: Stack) -> None:
    """The stack is gone, and so is any use of `authdemo login`'s tokens (login/store.py)."""
    from .login import store

    store.remove(stack.path)


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
    if server is None or server.started_by not in ("up", "local issuer"):
        return []
    iam = stack.clients("iam")
    if iam.list_roles(PathPrefix="/authdemo/").get("Roles"):
        return ["The embedded AWS keeps running: other stacks remain in it."]
    daemon.stop()
    starter = "up --local" if server.started_by == "up" else server.started_by
    return [f"Stopped the embedded AWS (it was started by `authdemo {starter}`)."]


def sweep_find(stack: Stack, store: StateStore) -> list[tuple[Unit, Rec]]:
    """Every top-level resource of the stack that exists in AWS: found by name and tag or path,
    or recorded and still there (a record alone proves nothing: a restarted embedded AWS, or a
    deletion by hand, leaves records of what is gone)."""
    ctx = stack.context(store)
    units = planner.units_by_key()
    skip = planner.regional_keys() if stack.bad_region else frozenset()
    return [
        (units[key], rec)
        for key in planner.down_order(units)
        if key not in skip
        for rec in _in_aws(units[key], ctx)
    ]


def _in_aws(unit: Unit, ctx: Context) -> list[Rec]:
    """The unit's copies in AWS: the discovered ones, and the recorded one if AWS still has it."""
    found = unit.discover(ctx)
    rec = ctx.records.resource(unit.key)
    if rec is None:
        return found
    others = [f for f in found if unit.describe(f) != unit.describe(rec)]
    return [rec, *others] if len(others) < len(found) or unit.exists(ctx, rec) else found


def sweep(
    opts: Options,
    confirm: Callable[[list[tuple[Unit, Rec]]], bool],
    observer_factory: Callable[[], Any],
) -> tuple[list[tuple[Unit, Rec]], bool]:
    """Find a stack's resources without trusting the state file, confirm, delete them all."""
    relay = engine.Relay()
    with engine.explaining(relay, opts.explain, shown_in_explain(opts)):
        return _sweep(opts, confirm, relay.attach(observer_factory))


def _sweep(
    opts: Options,
    confirm: Callable[[list[tuple[Unit, Rec]]], bool],
    observer_factory: Callable[[], Any],
) -> tuple[list[tuple[Unit, Rec]], bool]:
    with open_stack(opts, "down --sweep", write=True, start_server=False) as stack:
        if opts.local and stack.server is None:
            if stack.store:
                stack.store.remove_file()
                _forget_login(stack)
            return [], True
        store = stack.store or StateStore.new(stack.path, stack=opts.stack)  # never saved: no IDs
        found = sweep_find(stack, store)
        # What AWS no longer has is forgotten, not "deleted" (nor kept to be found again).
        units = planner.units_by_key()
        kept = {unit.key for unit, _ in found}
        gone = [key for key in planner.down_order(units) if key not in kept]
        store.forget(*gone, *(child for key in gone for child in planner.children(units, key)))
        if not found and stack.store and not store.resources():
            store.remove_file()  # the stack is gone: nothing left to record
            _forget_login(stack)
        if not found or not confirm(found):
            return found, False
        skip = planner.regional_keys() if stack.bad_region else frozenset()
        with observer_factory() as observer:
            engine.down(stack.context(store), store, observer, forget_only=skip)
        store.remove_file()
        _forget_login(stack)
        return found, True


def forget(opts: Options, confirm: Callable[[Path, dict[str, Any] | None], bool]) -> Path | None:
    """Drop a stack's state file whatever its state (corrupt, another region, a stopped server),
    keeping a copy `<file>.forgotten-<time>`; no AWS call. Returns the copy (None: nothing
    recorded, or not confirmed). Resources it recorded stay where they are."""
    check_stack(opts.stack)
    path = state_path(opts)
    lock = lock_stack(path, "forget")
    try:
        if not path.exists():
            return None
        try:
            data = read_state(path)
        except StateError:
            data = None  # unreadable or of a newer authdemo: forgotten all the same
        if not confirm(path, data):
            return None
        kept = quarantine(path, "forgotten")
        from .login import store as login_store

        login_store.set_aside(path, kept)  # nothing of the stack left under its name
        return kept
    finally:
        lock.release()


def local_stacks() -> list[str]:
    """The stacks recorded in the embedded AWS (their state files), by name."""
    return sorted(p.name.removesuffix(".local.json") for p in paths.home().glob("*.local.json"))
