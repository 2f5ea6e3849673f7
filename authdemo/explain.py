"""`up/down --dry-run --explain`: the plan as the `aws` commands the run would send (issue 22).

A resource `up` would create: its declared calls (`Unit.declare`: what the executor sends and
the aws-cli export writes), a variable for each ID not known yet ("$USER_POOL_ID"). A resource
that would be deleted: the unit's own teardown, run against clients that send only reads (an
operation named Get..., List..., Describe...) and keep every other call, answered with {}, without
sending it; nothing changes. (A live run shows its calls as they leave: engine.explaining.)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from . import awscli
from .aws import AwsClient, Clients
from .planner import Planned, units_by_key
from .units import Call, Context, Unit

#: The operations a dry run sends (by AWS's naming: these read); every other one is kept, unsent.
READS = ("get_", "list_", "describe_")


def plan_commands(ctx: Context, planned: list[Planned]) -> dict[str, list[str]]:
    """Each planned step's commands: a creation's declared calls, a deletion's deleting calls
    (a child deleted with its parent has none of its own); none for what is kept or adopted."""
    units = units_by_key()
    out: dict[str, list[str]] = {}
    for step in planned:
        unit = units[step.key]
        if step.action == "create":
            out[step.key] = [awscli.command(call) for call in unit.declare(ctx)]
        elif step.action == "delete" and step.parent is None:
            out[step.key] = [awscli.command(call) for call in deleting(unit, ctx)]
    return out


def deleting(unit: Unit, ctx: Context) -> list[Call]:
    """The calls deleting `unit` would send (its teardown's preparation, then each copy's delete),
    in order; when the teardown needs an answer only AWS could give, it stops there, with what
    it has."""
    kept: list[Call] = []
    dry = dataclasses.replace(ctx, clients=_DryClients(ctx.clients, kept), fresh=set())
    try:
        if unit.prepare_label:
            unit.prepare_teardown(dry)
        rec = ctx.records.resource(unit.key)
        for target in unit.teardown_targets(dry) if unit.parent is None else [rec] if rec else []:
            unit.delete(dry, target)
    except Exception:  # an answer {} could not stand for: what came before is the plan's part
        pass
    return kept


class _DryClients(Clients):
    """The context's clients, each sending only reads (see READS)."""

    def __init__(self, clients: Clients, kept: list[Call]) -> None:
        super().__init__(clients.target)
        self.clients = clients
        self.kept = kept

    def __call__(self, service: str) -> AwsClient:
        return _DryClient(self.clients(service), self.kept)


class _Meta:
    """A raw client's `meta` (its model, its method names) and nothing that sends."""

    def __init__(self, raw: Any) -> None:
        self.meta = raw.meta
        self.exceptions = raw.exceptions


class _DryClient(AwsClient):
    def __init__(self, client: AwsClient, kept: list[Call]) -> None:
        super().__init__(_Meta(client.raw), client.service)
        self.client = client
        self.kept = kept

    def __getattr__(self, operation: str) -> Any:
        if operation.startswith(READS):
            return getattr(self.client, operation)
        name = self.raw.meta.method_to_api_mapping.get(operation, operation)

        def keep(**kwargs: Any) -> dict[str, Any]:
            self.kept.append(Call(self.service, name, kwargs))
            return {}

        return keep

    def pages(self, operation: str, **kwargs: Any) -> Any:
        if not operation.startswith(READS):
            raise RuntimeError(f"a dry run does not page through {operation}")
        return self.client.pages(operation, **kwargs)
