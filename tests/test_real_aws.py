"""Opt-in: the whole flow against a real AWS account (`pytest -m aws`; skipped otherwise).

Uses the default credentials and region (AWS_PROFILE / AWS_REGION), a stack of its own,
and sweeps that stack before and after so a failed run leaves nothing billable behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

pytestmark = pytest.mark.aws


@pytest.fixture
def real_aws(monkeypatch, tmp_path):
    """Undo the suite's isolation: real credentials and config, a fresh state directory."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        if name in os.environ:
            monkeypatch.delenv(name)
    for name, value in os.environ.items():
        if name.startswith("AUTHDEMO_REAL_"):
            monkeypatch.setenv(name.removeprefix("AUTHDEMO_REAL_"), value)
    return tmp_path


def _authdemo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "authdemo.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=os.environ.copy(),
    )


def test_up_test_down_on_real_aws(real_aws):
    """On AWS: up works the first time, test passes all checks, down leaves nothing."""
    stack = f"ci-{uuid.uuid4().hex[:8]}"
    _authdemo("down", "--sweep", "--yes", "--stack", stack)
    try:
        up = _authdemo("up", "--stack", stack)
        assert up.returncode == 0, up.stderr
        test = _authdemo("test", "--stack", stack, "--output", "json")
        assert test.returncode == 0, test.stderr + test.stdout
        assert json.loads(test.stdout)["passed"]
    finally:
        down = _authdemo("down", "--stack", stack)
        sweep = _authdemo("down", "--sweep", "--yes", "--stack", stack, "--output", "json")
    assert down.returncode == 0, down.stderr
    assert json.loads(sweep.stdout)["found"] == []
