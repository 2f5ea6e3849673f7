"""What the units declare (issue 22): the calls `up` sends are the ones every exporter reads."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from conftest import CHANGING, Faults, run

from authdemo import app
from authdemo.awscli import command
from authdemo.planner import profile_units
from authdemo.state import StateStore
from authdemo.units import Call, Context, MemoryRecords, Names, Ref, Secret, resolve
from authdemo.units.declare import refs

ACCOUNT = "123456789012"  # moto's


def _same(value: Any) -> str:
    """A comparable form: tuples as lists, blobs by their bytes."""
    return json.dumps(value, sort_keys=True, default=lambda b: b.hex() if isinstance(b, bytes) else str(b))


def test_up_sends_exactly_what_the_units_declare(moto: None, faults: Faults) -> None:
    """Every call a fresh `up` makes that changes AWS is one a unit declares, sent with the very
    parameters the declaration resolves to (recorded IDs, region, account, stored passwords), and
    every declared call is sent: the executor cannot drift from the exports."""
    sent: list[tuple[str, str]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        sent.append((model.name, _same(copy.deepcopy(params))))

    faults.on("*", "provide-client-params", record)
    assert run("up").exit_code == 0
    store = StateStore.load(app.state_path(app.Options()))
    assert store is not None
    ctx = Context(
        clients=None,  # type: ignore[arg-type]
        records=store,
        names=Names("authdemo"),
        region="us-west-2",
        account_id=ACCOUNT,
        username=store.get("username"),
        password=store.get("password"),
        student_password=store.get("student_password"),
    )
    declared = [
        (call.operation, _same(resolve(call.params, ctx)))
        for unit in profile_units(ctx).values()
        for call in unit.declare(ctx)
    ]
    assert len(declared) > 50
    missing = [d for d in declared if d not in sent]
    assert not missing, missing[:3]
    changing = [s for s in sent if s[0].startswith(CHANGING) and not s[0].startswith("AdminGet")]
    undeclared = [s for s in changing if s not in declared]
    assert not undeclared, undeclared[:3]


class _NoAws:
    """Clients that fail the test when asked for: declarations read no AWS."""

    def __call__(self, service: str) -> Any:
        raise AssertionError(f"declare() asked for a {service} client")


@pytest.mark.parametrize(
    "profile",
    [
        {},
        {"rest": False},
        {"sign_up": True, "callback_port": 9123},
        {"issuer": "https://id.example.test/", "audiences": ("aud",)},
    ],
)
def test_declarations_read_nothing_and_name_only_what_comes_first(profile: dict[str, Any]) -> None:
    """For every stack shape, each unit `up` builds declares its calls without AWS and without a
    recorded ID; each call is an operation of AWS's model with parameters it has (the aws-cli
    formatter checks them); each Ref names a unit the unit needs (made first) and a field that
    unit's creating call returns; a password is only ever a Secret."""
    ctx = Context(
        clients=_NoAws(),  # type: ignore[arg-type]
        records=MemoryRecords({}, {}),
        names=Names("shape"),
        region="eu-central-1",
        account_id=ACCOUNT,
        password="Not-Written-1!",
        student_password="Not-Written-2!",
        **profile,
    )
    units = profile_units(ctx)
    first: dict[str, Call] = {}
    for key, unit in units.items():
        calls = unit.declare(ctx)
        assert calls, key
        first[key] = calls[0]
        for call in calls:
            command(call)  # raises for an operation or parameter AWS's model does not have
            assert "Not-Written" not in _same(call.params), key
            if call.operation in ("AdminSetUserPassword",):
                assert isinstance(call.params["Password"], Secret)

    def before(key: str) -> set[str]:
        needs = set(units[key].needs) & set(units)
        return needs.union(*(before(n) for n in needs))

    for key, unit in units.items():
        for call in unit.declare(ctx):
            for ref in refs(call.params):
                assert ref.key in before(key), (key, ref)
                assert ref.field in first[ref.key].returns, (key, ref)
    if profile.get("issuer"):
        assert not any(
            isinstance(r, Ref) and r.key == "user_pool" for c in first.values() for r in refs(c.params)
        )
