"""`up/down --explain` (issue 22): every AWS call a run makes, as the `aws` command, under the
row of the step that made it (stderr) and in each step's "cli" (--output json); secrets as ***;
with --dry-run, the plan as commands, sending nothing that changes AWS."""

from __future__ import annotations

import json
from typing import Any

from conftest import CHANGING, run

from authdemo import app, aws


class Calls:
    """Every AWS operation sent (a botocore hook beside authdemo's), in order."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def hook(self, service: str, client: Any) -> None:
        client.meta.events.register("before-send", self._sent)

    def _sent(self, model: Any = None, **kwargs: Any) -> None:
        name = kwargs["event_name"].split(".")[-1]
        self.sent.append(name)


def commands(doc_steps: dict[str, Any]) -> list[str]:
    return [c for step in doc_steps.values() for c in step["cli"]]


def test_up_and_down_explain_every_call_under_its_step(moto: None, monkeypatch) -> None:
    """up --explain --output json: each step's "cli" holds its calls as aws commands, as many as
    were sent (none missed, none invented); the password set is *** and appears nowhere; stderr
    shows each command under its step's row and how to paste them; down --explain likewise."""
    calls = Calls()
    monkeypatch.setattr(aws, "CLIENT_HOOKS", [*aws.CLIENT_HOOKS, calls.hook])
    up = run("up", "--explain", "--no-rest", "--output", "json")
    assert up.exit_code == 0, up.output
    doc = json.loads(up.stdout)
    steps = doc["steps"]
    assert set(steps["role"]) == {"outcome", "cli"} and steps["role"]["outcome"] == "created"
    assert steps["role"]["cli"][0].startswith("aws iam create-role --role-name authdemo-authdemo-fn-role ")
    assert "--assume-role-policy-document '{" in steps["role"]["cli"][0]
    shown = commands(steps)
    assert len(shown) == len(calls.sent) and all(c.startswith("aws ") for c in shown)
    password = app.read_state(app.state_path(app.Options()))["password"]
    setting = [c for c in shown if c.startswith("aws cognito-idp admin-set-user-password")]
    assert setting and all("--password '***'" in c for c in setting)
    assert password not in up.stdout + up.stderr
    # A username is no secret (status shows it): shown, though the model marks it sensitive; a
    # function's environment stays *** (the model's word, nothing said otherwise).
    assert any("--username demo@example.com" in c for c in setting)
    assert any("--username student@example.com" in c for c in setting)
    created = next(c for c in shown if c.startswith("aws cognito-idp admin-create-user"))
    assert '"Value":"true"' in created and "'***'" not in created
    env = [c for c in shown if c.startswith("aws lambda create-function") and "--environment" in c]
    assert env and all('"***"' in c for c in env)
    lines = up.stderr.splitlines()
    row = next(i for i, line in enumerate(lines) if line.lstrip().startswith("Lambda function "))
    assert lines[row + 1].startswith("      aws lambda ")
    assert "to paste them, first run: export AWS_REGION=us-west-2 AWS_DEFAULT_REGION=us-west-2" in up.stderr
    calls.sent.clear()
    down = run("down", "--explain", "--output", "json")
    assert down.exit_code == 0, down.output
    gone = json.loads(down.stdout)["steps"]
    assert "aws lambda delete-function --function-name authdemo-authdemo-hello" in gone["function"]["cli"]
    assert len(commands(gone)) == len(calls.sent)


def test_dry_run_explain_is_the_plan_as_commands_and_changes_nothing(moto: None, monkeypatch) -> None:
    """up --dry-run --explain on a new stack: each resource to create with its declared calls
    (IDs as variables); down --dry-run --explain on a built one: the deleting calls; neither
    sends a call that changes AWS."""
    calls = Calls()
    monkeypatch.setattr(aws, "CLIENT_HOOKS", [*aws.CLIENT_HOOKS, calls.hook])
    plan = json.loads(run("up", "--dry-run", "--explain", "--output", "json").stdout)
    by_key = {p["key"]: p for p in plan["plan"]}
    assert by_key["user_pool"]["cli"][0].startswith("aws cognito-idp create-user-pool --pool-name ")
    assert any('--user-pool-id "$USER_POOL_ID"' in c for c in by_key["app_client"]["cli"])
    assert plan["cli_setup"] == "export AWS_REGION=us-west-2 AWS_DEFAULT_REGION=us-west-2"
    text = run("up", "--dry-run", "--explain")
    assert (
        text.exit_code == 0
        and "# Cognito user pool (create)\naws cognito-idp create-user-pool " in text.stdout
    )
    assert run("up", "--no-rest").exit_code == 0
    calls.sent.clear()
    plan = json.loads(run("down", "--dry-run", "--explain", "--output", "json").stdout)
    by_key = {p["key"]: p for p in plan["plan"]}
    assert by_key["function"]["cli"] == ["aws lambda delete-function --function-name authdemo-authdemo-hello"]
    assert any(c.startswith("aws iam delete-role-policy") for c in by_key["role"]["cli"])
    assert [c for c in calls.sent if c.startswith(CHANGING)] == []
