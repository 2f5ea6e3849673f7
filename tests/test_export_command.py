"""`authdemo export` (issue 22), the command: the stack's profile read from its state file and
the options, the text on stdout or written whole to -o FILE (0644), refusals in one sentence,
and no AWS call at all (what each format holds is tests/test_export.py's)."""

from __future__ import annotations

import os
import stat
from typing import Any

from conftest import run

from authdemo import app, aws
from authdemo.state import atomic_write_json

ACCOUNT = "123456789012"


def test_export_reads_the_state_writes_the_file_whole_and_calls_no_aws(tmp_path, monkeypatch) -> None:
    """A recorded stack (region, account, callback port, --no-rest) is exported as recorded, with
    no client built; -o FILE holds exactly what stdout shows, mode 0644, a link there replaced
    (not written through); --rest on the command line brings the REST API back."""
    built: list[str] = []
    monkeypatch.setattr(aws, "CLIENT_HOOKS", [lambda service, client: built.append(service)])
    path = app.state_path(app.Options(stack="home"))
    path.parent.mkdir(parents=True, exist_ok=True)
    recorded = {"stack": "home", "region": "eu-west-1", "account_id": ACCOUNT, "callback_port": 8411}
    atomic_write_json(path, {"schema_version": 1, "resources": {}, "rest": False, **recorded})
    shown = run("export", "--format", "cloudformation", "--stack", "home")
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert "http://localhost:8411/callback" in text and "eu-west-1" in text
    assert "AWS::ApiGatewayV2::Api" in text and "AWS::ApiGateway::RestApi" not in text
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    target = tmp_path / "stack.yaml"
    target.symlink_to(victim)
    written = run("export", "--format", "cloudformation", "--stack", "home", "-o", str(target))
    assert written.exit_code == 0, written.output
    assert target.read_text() == text and not target.is_symlink() and victim.read_text() == "keep me"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    assert f"Wrote {target}" in written.stderr and written.stdout == ""
    with_rest = run("export", "--format", "cloudformation", "--stack", "home", "--rest").stdout
    assert "AWS::ApiGateway::RestApi" in with_rest
    assert built == []


def test_export_refuses_in_one_sentence(tmp_path) -> None:
    """Unknown format, bad or missing account (no state: it says how to give one), --rest with
    --issuer (as `up`), an unwritable -o: each exit 2, one sentence, nothing written."""
    cases: list[tuple[tuple[str, ...], str]] = [
        (("--format", "yaml"), "'yaml' is not one of 'sam', 'cloudformation', 'serverless', 'aws-cli'"),
        (("--format", "sam", "--account", "12"), "not a 12-digit AWS account ID"),
        (("--format", "sam"), 'add --account, e.g. --account "$(aws sts get-caller-identity'),
        (("--format", "sam", "--issuer", "https://i.example/", "--audience", "a", "--rest"), "--rest builds"),
        (("--format", "sam", "--account", ACCOUNT, "-o", str(tmp_path / "no" / "t.yaml")), "Cannot write"),
    ]
    for args, said in cases:
        result: Any = run("export", *args)
        assert result.exit_code == 2, (args, result.output)
        assert said in " ".join(result.output.split()), (args, result.output)
        assert "Traceback" not in result.output
    assert not (tmp_path / "no").exists()
    # Another stack's state file: refused as every command refuses it (exit 5), with the fix.
    other = tmp_path / "alpha.json"
    atomic_write_json(other, {"schema_version": 1, "stack": "alpha", "region": "us-west-2", "resources": {}})
    refused: Any = run("export", "--format", "sam", "--stack", "beta", "--state-file", str(other))
    assert refused.exit_code == 5, refused.output
    assert "belongs to stack 'alpha', not 'beta'; add --stack alpha" in " ".join(refused.output.split())
