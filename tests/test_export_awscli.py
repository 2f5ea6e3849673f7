"""The aws-cli export (issue 22): a bash script of the units' declared calls, run for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import leftovers, run

BIN = Path(sys.executable).parent  # the project's .venv/bin: `authdemo` and `aws`


def _failing(tmp_path: Path, operation: str, aws: Path) -> Path:
    """A directory whose `aws` fails `operation` as AWS would fail it, and runs every other
    (with the `aws` in the directory `aws`)."""
    fake = tmp_path / "failing-bin"
    fake.mkdir()
    (fake / "aws").write_text(
        "#!/bin/bash\n"
        f'for a in "$@"; do [ "$a" = {operation} ] && {{ echo "An error occurred (InternalErrorException) '
        f'when calling it: injected" >&2; exit 254; }}; done\n'
        f'exec {aws}/aws "$@"\n'
    )
    (fake / "aws").chmod(0o755)
    return fake


def _bash(
    script: Path, aws: Path, *args: str, password: str = "", path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`script` in a clean shell (no AWS variable, no config, no profile) that first does
    `eval "$(authdemo local env)"`, as the README tells a learner to; `aws` is the directory of
    the aws CLI to run (conftest's `fast_aws`: the real one, forked warm)."""
    env = {
        "PATH": ":".join(str(p) for p in (path, aws, BIN, "/usr/bin", "/bin") if p),
        "HOME": str(script.parent),
        "AUTHDEMO_HOME": os.environ["AUTHDEMO_HOME"],
        "AUTHDEMO_PASSWORD": password,
        "AUTHDEMO_STUDENT_PASSWORD": password + "-2nd",
    }
    shell = 'eval "$(authdemo local env)" && exec bash "$@"'
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", shell, "-", str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def test_the_script_builds_a_stack_up_adopts_test_passes_down_deletes(
    local_daemon: Any, fast_aws: Path, tmp_path: Path
) -> None:
    """THE round trip: the exported script, in a clean shell against the embedded AWS, stopped by
    a failure at its sixth step and run again from the top, builds a stack (the first run's roles
    and log groups reused, not refused as taken) that `up --local` adopts with nothing left to
    create, `test --local` passes on, and `down --local` deletes to the last resource; the
    password is never written to the script. Costs ~65 aws CLI runs (~40 s on 2 busy cores)."""
    stack, password = "scripted", "Sc1pted-Pass!"
    script = tmp_path / "build.sh"
    exported = run("export", "--format", "aws-cli", "--local", "--stack", stack, "-o", str(script))
    assert exported.exit_code == 0, exported.output
    assert password not in script.read_text()

    failed = _bash(script, fast_aws, password=password, path=_failing(tmp_path, "create-user-pool", fast_aws))
    assert failed.returncode != 0 and "injected" in failed.stderr, failed.stderr[-3000:]
    made = leftovers(endpoint_url=local_daemon.url, credentials=local_daemon.credentials)
    assert (
        f"authdemo-{stack}-fn-role" in made["roles"]
        and f"/aws/lambda/authdemo-{stack}-hello" in made["log_groups"]
    )

    built = _bash(script, fast_aws, password=password)
    assert built.returncode == 0, built.stderr[-3000:]
    assert "Built the stack" in built.stderr

    up = run("up", "--local", "--stack", stack, "--password", password, "--output", "json")
    assert up.exit_code == 0, up.output
    outcomes = json.loads(up.stdout)["steps"]
    assert outcomes and "created" not in outcomes.values(), outcomes

    tested = run("test", "--local", "--stack", stack, "--output", "json")
    assert tested.exit_code == 0, tested.output
    assert json.loads(tested.stdout)["passed"] is True

    down = run("down", "--local", "--stack", stack)
    assert down.exit_code == 0, down.output
    left = leftovers(endpoint_url=local_daemon.url, credentials=local_daemon.credentials)
    assert not [name for names in left.values() for name in names if f"authdemo-{stack}-" in name], left


def test_the_scripts_cleanup_deletes_what_it_built(local_daemon: Any, fast_aws: Path, tmp_path: Path) -> None:
    """`bash <script> delete` deletes every resource the script built (the smallest stack: an
    external issuer's, no Cognito, no REST half), in down's order. ~25 aws CLI runs (~15 s)."""
    stack = "cleaned"
    script = tmp_path / "build.sh"
    issuer = ("--issuer", "https://issuer.example.test/", "--audience", "https://api.example.test")
    exported = run("export", "--format", "aws-cli", "--local", "--stack", stack, *issuer, "-o", str(script))
    assert exported.exit_code == 0, exported.output
    assert "AUTHDEMO_PASSWORD=" not in script.read_text() and "ask AUTHDEMO" not in script.read_text()

    def ours() -> list[str]:
        left = leftovers(endpoint_url=local_daemon.url, credentials=local_daemon.credentials)
        return sorted(name for names in left.values() for name in names if f"authdemo-{stack}-" in name)

    built = _bash(script, fast_aws)
    assert built.returncode == 0, built.stderr[-3000:]
    assert ours() == sorted(
        [
            f"authdemo-{stack}-api",
            f"authdemo-{stack}-hello",
            f"authdemo-{stack}-fn-role",
            f"/aws/lambda/authdemo-{stack}-hello",
        ]
    )
    deleted = _bash(script, fast_aws, "delete")
    assert deleted.returncode == 0, deleted.stderr[-3000:]
    assert ours() == []


def test_every_shapes_script_is_valid_bash_and_its_look_ups_skip_pages_without_the_resource(
    tmp_path: Path,
) -> None:
    """For every stack shape the script is valid bash holding no password; a look-up keeps its
    first line that is not "None": with --output text the aws CLI runs --query once per page, so
    a resource on the second page of ListUserPools comes after a page's "None"."""
    shapes = [
        (),
        ("--no-rest",),
        ("--sign-up", "--callback-port", "9001"),
        ("--issuer", "https://i.test/", "--audience", "a"),
    ]
    for i, shape in enumerate(shapes):
        script = tmp_path / f"shape{i}.sh"
        exported = run(
            "export", "--format", "aws-cli", "--local", "--stack", f"shape{i}", *shape, "-o", str(script)
        )
        assert exported.exit_code == 0, exported.output
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
        text = script.read_text()
        assert ("ask AUTHDEMO_PASSWORD" in text) is (not shape or shape[0] != "--issuer")
        assert ("create-rest-api" in text) is (not shape or shape[0] == "--sign-up")
    header = script.read_text().split("\nbuild() {")[0].replace('AWS_ACCOUNT_ID="$(aws sts', "# (")
    pages = subprocess.run(
        ["bash", "-c", header + "\nprintf 'None\\nus-west-2_Abc\\tarn:x\\nNone\\n' | first"],
        capture_output=True,
        text=True,
    )
    assert pages.stdout == "us-west-2_Abc\tarn:x\n", pages.stderr
