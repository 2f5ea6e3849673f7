"""What `status` shows of a stack, and what `test`, `login` and `token` read of it: the URLs, IDs
and names from the state file (`summary`), and whether each recorded resource still exists.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import engine, invoke_url, m2m
from .regions import partition
from .stack import DOORS, Options, Stack, cli_flags, open_stack, require, require_server
from .state import StateStore
from .units import REST_DOORS, Context, all_units


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
