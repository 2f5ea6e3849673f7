"""`up --dry-run` / `down --dry-run`: the plan is read from the state and AWS, and nothing changes."""

from __future__ import annotations

import json

from conftest import Faults, leftovers, run, run_json

from authdemo import paths
from authdemo.units import UNITS

# Name prefixes of reads: botocore's models do not mark an operation read-only (a rule of ours).
READS = ("Get", "List", "Describe", "AdminGet", "AdminList")


def actions(plan: dict) -> dict[str, str]:
    return {step["key"]: step["action"] for step in plan["plan"]}


def test_up_dry_run_on_nothing_plans_every_creation_and_changes_nothing(moto, faults: Faults):
    """A new stack: every unit 'create', no AWS write call, no state file, nothing in AWS."""
    plan = run_json("up", "--dry-run")
    assert plan["dry_run"] is True and plan["command"] == "up"
    assert actions(plan) == {cls.key: "create" for cls in UNITS}
    assert [step["key"] for step in plan["plan"]] == [cls.key for cls in UNITS]  # creation order
    assert all(call.startswith(READS) for call in faults.calls), faults.calls
    assert not (paths.home() / "authdemo.json").exists()
    assert leftovers() == {}


def test_up_dry_run_after_up_keeps_everything(moto, faults: Faults):
    assert run("up").exit_code == 0
    faults.calls.clear()
    before = json.loads((paths.home() / "authdemo.json").read_text())
    plan = run_json("up", "--dry-run")
    assert set(actions(plan).values()) == {"keep"}
    assert all(step["ids"] for step in plan["plan"])
    assert all(call.startswith(READS) for call in faults.calls), faults.calls
    assert json.loads((paths.home() / "authdemo.json").read_text()) == before


def test_up_dry_run_with_a_lost_state_file_plans_adoption(moto):
    """Without the state file, the stack's resources are found by name and tag: 'adopt'."""
    assert run("up").exit_code == 0
    (paths.home() / "authdemo.json").unlink()
    plan = actions(run_json("up", "--dry-run"))
    for key in ("role", "log_group", "user_pool", "api", "function"):
        assert plan[key] == "adopt", (key, plan)
    assert not (paths.home() / "authdemo.json").exists()


def test_down_dry_run_lists_what_down_deletes_and_deletes_nothing(moto, faults: Faults):
    assert run("up").exit_code == 0
    faults.calls.clear()
    plan = run_json("down", "--dry-run")
    steps = {step["key"]: step for step in plan["plan"]}
    assert {k for k, s in steps.items() if s["with"] is None} == {
        "api",
        "function",
        "log_group",
        "role",
        "user_pool",
        "authorizer_function",
        "authorizer_log_group",
        "authorizer_role",
        "rest_api",  # the REST half (issue 21): its children go with it
    }
    assert steps["rest_stage"]["with"] == "rest_api"
    assert all(s["action"] == "delete" and s["ids"] for s in steps.values())
    assert steps["route"]["with"] == "api" and steps["user"]["with"] == "user_pool"
    assert all(call.startswith(READS) for call in faults.calls), faults.calls
    assert all(r["exists"] for r in run_json("status")["resources"].values())


def test_down_dry_run_text_is_a_table_on_stdout(moto):
    assert run("up").exit_code == 0
    result = run("down", "--dry-run")
    assert result.exit_code == 0
    assert "nothing was changed" in result.stdout and "HTTP API" in result.stdout
    assert "delete" in result.stdout


def test_down_dry_run_refuses_sweep():
    result = run("down", "--dry-run", "--sweep")
    assert result.exit_code == 2
    assert "--dry-run only prints the plan" in result.stderr


def test_up_dry_run_local_starts_no_server():
    """Offline with no embedded AWS running: everything would be created, and no server starts."""
    from authdemo.local import daemon

    plan = run_json("up", "--local", "--dry-run")
    assert set(actions(plan).values()) == {"create"}
    assert daemon.status() is None
