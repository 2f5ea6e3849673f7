"""The plan: in which order units are made and deleted, and what a run would do to each.

`up_order` and `down_order` derive the graphs from each unit's `needs`, `parent` and
`create_only_needs`; `plan_up` / `plan_down` read AWS and the state and say, for each unit,
what would happen (create, adopt, keep / delete, gone) without changing anything: what
`up --dry-run` and `down --dry-run` print, and what the executor (engine.py) then does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import AuthdemoError
from .units import Context, MemoryRecords, Rec, Unit, all_units


def units_by_key() -> dict[str, Unit]:
    """Every unit, whatever the stack's profile: what `down` and `down --sweep` look for."""
    return {u.key: u for u in all_units()}


def profile_units(ctx: Context) -> dict[str, Unit]:
    """The units `up` builds for this stack's profile (see `Unit.applies`: an external issuer
    leaves out the Cognito ones)."""
    return {k: u for k, u in units_by_key().items() if u.applies(ctx)}


def removed_keys(ctx: Context) -> list[str]:
    """What the stack has but its profile no longer builds (`up --no-rest` on a stack with the REST
    half): each such top-level unit (its children go with it), and each such child of a unit that
    stays (the REST API's invoke permission on the function); only what the state records."""
    every, kept = units_by_key(), profile_units(ctx)
    found: list[str] = []
    for key in every:
        if key in kept or not ctx.records.resource(key):
            continue
        target = key if top(every, key) in kept else top(every, key)
        if target not in found:
            found.append(target)
    return found


def regional_keys() -> frozenset[str]:
    """Top-level units that live in a region (what a region AWS does not have cannot hold)."""
    return frozenset(u.key for u in all_units() if u.regional and u.parent is None)


def up_order(units: Mapping[str, Unit]) -> dict[str, set[str]]:
    """Each unit's creation needs, among `units` (a need the profile leaves out is not waited
    for: the JWT authorizer of an external issuer needs no pool)."""
    return {k: set(u.needs) & set(units) for k, u in units.items()}


def top(units: Mapping[str, Unit], key: str) -> str:
    """The top-level unit whose deletion takes `key` with it."""
    parent = units[key].parent
    while parent:
        key, parent = parent, units[parent].parent
    return key


def down_order(units: Mapping[str, Unit]) -> dict[str, set[str]]:
    """Top-level units only; X waits for every top-level unit whose subtree needs X."""
    deps: dict[str, set[str]] = {k: set() for k, u in units.items() if u.parent is None}
    for key, unit in units.items():
        for need in set(unit.needs) - set(unit.create_only_needs):
            a, b = top(units, key), top(units, need)
            if a != b:
                deps[b].add(a)  # delete the dependant (a) before what it needs (b)
    return deps


def children(units: Mapping[str, Unit], key: str) -> list[str]:
    """Units deleted together with `key` (transitively)."""
    return [k for k in units if k != key and top(units, k) == key] if units[key].parent is None else []


# ------------------------------------------------------------------------------ planning
@dataclass(frozen=True)
class Planned:
    """What a run would do to one resource: create, adopt, keep / delete, gone."""

    key: str
    label: str
    action: str
    ids: tuple[str, ...] = ()
    parent: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "action": self.action,
            "ids": list(self.ids),
            "with": self.parent,
        }


def decide(unit: Unit, ctx: Context) -> tuple[str, Rec | None]:
    """What `up` does with one unit: ('create', None), ('adopt', found) or ('keep', recorded)."""
    rec = ctx.records.resource(unit.key)
    if unit.parent in ctx.fresh:
        return "create", None  # inside a container created this run: nothing to look for
    if rec and unit.exists(ctx, rec):
        return "keep", rec
    found = unit.discover(ctx)
    if found:
        return "adopt", found[0]
    return "create", None


def plan_up(ctx: Context) -> list[Planned]:
    """What `up` would do, unit by unit in creation order; nothing is changed or written."""
    units = profile_units(ctx)
    records = MemoryRecords(
        {k: r for k in units if (r := ctx.records.resource(k))}, {"account_id": ctx.account_id}
    )
    dry = dataclasses.replace(ctx, records=records, fresh=set())
    plan: list[Planned] = []
    for key in _topological(up_order(units)):
        unit = units[key]
        try:
            action, rec = decide(unit, dry)
        except AuthdemoError:
            if not any(n in dry.fresh for n in unit.needs):
                raise
            # It names something this run would create first (no ID yet in a dry run).
            action, rec = ("update", records.resource(key)) if records.resource(key) else ("create", None)
        if action == "create":
            dry.fresh.add(key)
            records.resources.pop(key, None)
        elif rec is not None:
            records.resources[key] = rec
        plan.append(Planned(key, unit.label, action, (unit.describe(rec),) if rec else (), unit.parent))
    every = units_by_key()
    for key in removed_keys(ctx):
        rec = ctx.records.resource(key)
        plan.append(Planned(key, every[key].label, "delete", (every[key].describe(rec),) if rec else ()))
    return plan


def plan_down(ctx: Context) -> list[Planned]:
    """What `down` would delete: each top-level unit's recorded and discovered copies, then
    the children that go with them."""
    units = units_by_key()
    plan: list[Planned] = []
    for key in _topological(down_order(units)):
        targets = units[key].teardown_targets(ctx)
        plan.append(
            Planned(
                key,
                units[key].label,
                "delete" if targets else "gone",
                tuple(units[key].describe(t) for t in targets),
            )
        )
        for child in children(units, key):
            rec = ctx.records.resource(child)
            if rec or targets:
                ids = (units[child].describe(rec),) if rec else ()
                plan.append(Planned(child, units[child].label, "delete" if targets else "gone", ids, key))
    return plan


def _topological(deps: Mapping[str, set[str]]) -> list[str]:
    """Keys in an order where each comes after its needs; otherwise in their given order."""
    order: list[str] = []
    pending = dict(deps)
    while pending:
        key = next((k for k, d in pending.items() if d <= set(order)), None)
        if key is None:
            raise RuntimeError(f"dependency cycle among {sorted(pending)}")
        order.append(key)
        del pending[key]
    return order
