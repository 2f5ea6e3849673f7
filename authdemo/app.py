"""What each command does, apart from how it is typed or drawn.

Every command opens its stack through `stack.open_stack` (the gate), then plans or runs the
engine, signs in, or reads AWS; it returns plain data, and the cli package prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import engine, external_issuer, paths, planner
from .errors import CredentialsError, StateError
from .show import summary
from .stack import (
    DEFAULT_USERNAME,
    Options,
    Stack,
    cli_flags,
    lock_stack,
    open_stack,
    state_path,
)
from .state import StateStore, quarantine, read_state
from .units import (
    DEFAULT_CALLBACK_PORT,
    Context,
    MemoryRecords,
    Names,
    Rec,
    Records,
    Unit,
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
