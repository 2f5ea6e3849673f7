"""Issue 8, section 1: every command authdemo prints works when pasted.

`demo --local` runs in a real subprocess against a real embedded AWS on a free port; every
command line it prints (summary, test table, clean-up line) is then run, in order, by one
bash in a clean environment (`env -i`: PATH, HOME, AUTHDEMO_HOME, and an `authdemo` shim
for this worktree), and each answer is checked. Error hints are triggered and run the same way.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest

from authdemo.validate import COGNITO_SYMBOLS

ROOT = Path(__file__).resolve().parents[1]
PREFIXES = (
    "curl ",
    "aws ",
    "authdemo ",
    "python ",
    "export ",
    "eval ",
    "ID_TOKEN=",
    "ACCESS_TOKEN=",
    "TAMPERED_TOKEN=",
    "STUDENT_TOKEN=",
    "SIGNED_OUT_TOKEN=",
    "M2M_TOKEN=",
    "DEMO_PASSWORD=",
    "AUTH_PARAMETERS=",
    "CLIENT_SECRET=",
)
UNAUTHORIZED = '{"message":"Unauthorized"}\n'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def shell(tmp_path: Path, fast_aws: Path) -> Any:
    """A clean environment (env -i) in which `authdemo`, `python` and `aws` resolve (the real aws
    CLI, forked warm: conftest's `fast_aws`)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "authdemo"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m authdemo "$@"\n')
    shim.chmod(0o755)
    venv_bin = Path(sys.executable).parent
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.pathsep.join(
            [str(bin_dir), str(fast_aws), str(venv_bin), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "HOME": str(home),
        "AUTHDEMO_HOME": str(tmp_path / "authdemo-home"),
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
    }

    def run(script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["env", "-i", *(f"{k}={v}" for k, v in env.items()), "bash", "-c", script],
            capture_output=True,
            text=True,
            timeout=300,
        )

    yield run
    run("authdemo local stop")  # whatever a failed test left running


def printed_commands(output: str) -> list[str]:
    """Every line a presenter would paste, in the order printed."""
    commands = []
    for line in output.splitlines():
        line = line.strip()
        for hint in re.findall(r"`((?:authdemo|python) [^`]+)`", line):
            commands.append(hint)
        if line.startswith(PREFIXES) and not re.match(r"authdemo [a-z]+:", line):  # not a title
            commands.append(line)
    return commands


def run_in_order(shell: Any, commands: list[str]) -> list[tuple[str, int, str]]:
    """Run the commands in one bash, in order; (command, exit status, stdout) of each."""
    script = []
    for i, command in enumerate(commands):
        script.append(f"echo '<<begin {i}>>'")
        script.append(command)
        script.append(f'echo "<<end {i} $?>>"')
    result = shell("\n".join(script))
    answers = []
    for i, command in enumerate(commands):
        match = re.search(rf"<<begin {i}>>\n(.*?)<<end {i} (\d+)>>\n", result.stdout, re.S)
        assert match, f"{command!r} did not run:\n{result.stdout}\n{result.stderr}"
        answers.append((command, int(match.group(2)), match.group(1)))
    return answers


def test_every_printed_command_of_demo_local_works_when_pasted(shell: Any, tmp_path: Path) -> None:
    """`python jwt_authorizer_demo.py --local`'s commands (the guide's script, which names its
    cleanup script beside it), pasted in order into a fresh shell: 401, 200, 200, 401, cleanup."""
    port = _free_port()
    copy = tmp_path / "guide"
    copy.mkdir()
    for name in ("jwt_authorizer_demo.py", "jwt_authorizer_cleanup.py"):
        shutil.copy(ROOT / name, copy / name)
    demo = shell(f"cd {copy} && python jwt_authorizer_demo.py --local --port {port} 2>&1")
    assert demo.returncode == 0, demo.stdout
    assert "AUTHDEMO_PASSWORD" not in demo.stdout and '$ACCESS_TOKEN"' in demo.stdout
    commands = printed_commands(demo.stdout)
    flags = f"--local --port {port}"
    # `authdemo demo` itself names `authdemo down` only (tests/test_output.py).
    assert commands[-2:] == [f"python jwt_authorizer_cleanup.py {flags}", f"authdemo down {flags}"]
    assert any(c.startswith("ID_TOKEN=$(aws cognito-idp initiate-auth") for c in commands)

    answers = run_in_order(shell, [f"cd {copy}", *commands])[1:]
    for command, code, _ in answers:
        assert code == 0, f"{command!r} exited {code}"
    curls = [(c, out) for c, _, out in answers if c.startswith("curl ")]
    # the guide's: no token, ID token (from aws cognito-idp); the test table's: no token, ID,
    # access, tampered
    assert [out == UNAUTHORIZED for _, out in curls] == [True, False, True, False, False, True]
    for command, out in curls:
        if out != UNAUTHORIZED:
            body = json.loads(out)
            assert body["message"] == "Hello from protected API!", command
            assert body["user"] == "demo@example.com", command
            assert out.endswith("\n")
    tokens = {c.split("=")[0]: out for c, _, out in answers if c.startswith("authdemo token --decode")}
    assert tokens == {}  # decode is printed without assignment; its output checked below
    decoded = next(out for c, _, out in answers if c.startswith("authdemo token --id --decode"))
    assert json.loads(decoded)["claims"]["token_use"] == "id"
    # down stopped the server that `up --local` started: nothing left behind
    assert "running" not in shell(f"authdemo local status --port {port}").stdout


def test_every_printed_command_of_the_matrix_works_when_pasted(shell: Any) -> None:
    """The hints of `test` before `up` and of `down` with nothing recorded, run as printed, build
    the stack; `status`'s hint prints the password; then `test --local`'s lines, pasted in order:
    each door answers as its cell said, the SigV4 curl (after `eval "$(authdemo local env)"`)
    included, and the signed-out token last. Every printed line carries the stack's flags."""
    port = _free_port()
    flags = f"--local --port {port} --stack hinted"
    before = shell(f"authdemo test {flags}")
    assert before.returncode == 8
    hints = printed_commands(" ".join(before.stderr.split()))
    assert hints == [f"authdemo up {flags}"]
    nothing = shell(f"authdemo down {flags}")
    assert nothing.returncode == 0
    sweep = printed_commands(" ".join(nothing.stderr.split()))
    assert sweep == [f"authdemo down --sweep {flags}"]
    answers = run_in_order(shell, [*sweep, *hints, f"authdemo status {flags} 2>&1"])
    assert [code for _, code, _ in answers] == [0, 0, 0]
    field = [c for c in printed_commands(" ".join(answers[-1][2].split())) if "--field" in c]
    assert field == [f"authdemo status --field password {flags}"]
    [(_, code, password)] = run_in_order(shell, field)
    assert code == 0 and password.startswith("Demo-") and password.count("\n") == 1

    test = shell(f"authdemo test {flags} 2>&1")
    assert test.returncode == 0, test.stdout
    commands = printed_commands(test.stdout)
    assert f'eval "$(authdemo local env --port {port})"' in commands
    rest = any(c.startswith("aws apigateway flush-stage-authorizers-cache") for c in commands)
    if not rest:  # a stack without the REST half (issue 21): a note says how to add it
        assert f"`authdemo up --rest {flags}` adds it" in " ".join(test.stdout.split())
        commands = [c for c in commands if not c.startswith("authdemo up --rest")]
    answers = run_in_order(shell, [*commands, f"authdemo down {flags}"])
    for command, code, _ in answers:
        assert code == 0, f"{command!r} exited {code}"
    curls = [(c, out) for c, _, out in answers if c.startswith("curl ")]
    assert any(c.startswith("M2M_TOKEN=$(authdemo token --m2m") for c in commands)
    demo, arn, m2m = "demo", "arn", "m2m"  # the user echoed, the caller's ARN, the M2M client's scopes
    unauthorized, forbidden, not_found = (
        json.loads(UNAUTHORIZED),
        {"message": "Forbidden"},
        {"message": "Not Found"},
    )
    mat = {"message": "Missing Authentication Token"}
    want = [("protected", unauthorized), ("protected", demo), ("protected", demo), ("scoped", forbidden)]
    want += [("lambda", demo), ("lambda", forbidden), ("iam", arn), ("m2m", m2m), ("m2m", forbidden)]
    if rest:  # the other token at each Cognito door, the cache trap, the explicit Deny, IAM
        no_allow = {"Message": "User is not authorized to access this resource"}
        deny = {"Message": "User is not authorized to access this resource with an explicit deny"}
        want += [("protected", demo), ("protected", unauthorized), ("scoped", demo), ("lambda", demo)]
        want += [("again", no_allow), ("lambda", deny), ("iam", mat), ("iam", arn)]
    want += [("Protected", not_found), *([("Protected", mat)] if rest else [])]
    # signed out: HTTP's JWT door open, its Lambda door shut; REST's cached door open until flushed
    want += [("protected", demo), ("lambda", forbidden)]
    want += [("lambda", demo), ("lambda", unauthorized)] if rest else []

    def said(out: str) -> Any:
        body = json.loads(out)
        user = body.get("user") or ""
        if body.get("scopes") == ["authdemo/read"]:
            return m2m
        return demo if user == "demo@example.com" else arn if user.startswith("arn:aws:iam::") else body

    got = [(re.search(r"/(\w+)'?$", c).group(1), said(out)) for c, out in curls]  # type: ignore[union-attr]
    assert got == want
    assert "--aws-sigv4" in curls[6][0]
    assert "running" not in shell(f"authdemo local status --port {port}").stdout


#: Passwords `up` accepts, each with a character a shell or the aws CLI's shorthand treats
#: specially, and one with every symbol Cognito allows (docs/aws-notes.md) and an inner space.
AWKWARD_PASSWORDS = (
    "Comma,Pass-1a",
    'Double"Quote-1a',
    "Back\\slash-1A",
    "Single'Quote-1a",
    "Dollar$HOME-1a",
    "Inner space-1A",
    "Equals=Pass-1a",
    "Back`tick`-1A",
    "Per%cent%s-1A",
    "Aa1 " + "".join(sorted(COGNITO_SYMBOLS)),
)


def test_the_guides_initiate_auth_line_signs_in_with_every_awkward_password(shell: Any) -> None:
    """`up --local`'s `DEMO_PASSWORD=...`, `AUTH_PARAMETERS=...` and `aws cognito-idp initiate-auth`
    lines, pasted into bash with the real aws CLI, sign in with a password that holds every symbol
    Cognito allows and a space; and for each awkward password alone (a comma, quotes, a backslash,
    `$`, a backtick, `%`, `=`, a space) the pasted `AUTH_PARAMETERS=` line is the JSON of exactly
    that password (one bash for all: the aws CLI's JSON parsing is the same for each)."""
    port = _free_port()
    flags = f"--local --port {port}"
    every = AWKWARD_PASSWORDS[-1]
    first = shell(f"AUTHDEMO_PASSWORD={shlex.quote(every)} authdemo up {flags}")
    assert first.returncode == 0, first.stderr
    guide = [
        c
        for c in printed_commands(first.stdout)
        if c.startswith(("DEMO_PASSWORD=", "AUTH_PARAMETERS=", "ID_TOKEN=$(aws "))
    ]
    assert guide[0].startswith("DEMO_PASSWORD=") and guide[-1].startswith("ID_TOKEN=$(aws ")
    assert not any(password in line for line in guide for password in AWKWARD_PASSWORDS)
    [json_line] = [c for c in guide if c.startswith("AUTH_PARAMETERS=")]
    commands = [*guide, 'printf "%s\\n" "$ID_TOKEN"']
    for password in AWKWARD_PASSWORDS:
        commands += [f"DEMO_PASSWORD={shlex.quote(password)}", json_line, 'printf "%s\\n" "$AUTH_PARAMETERS"']
    answers = run_in_order(shell, [*commands, f"authdemo down {flags}"])
    for command, code, _ in answers:
        assert code == 0, f"{command!r} exited {code}"
    outputs = [out for command, _, out in answers if command.startswith("printf")]
    token = outputs.pop(0).strip()
    assert token.count(".") == 2, f"no token for {every!r}: {token!r}"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["token_use"], claims["cognito:username"]) == ("id", "demo@example.com")
    for password, out in zip(AWKWARD_PASSWORDS, outputs, strict=True):
        assert json.loads(out) == {"USERNAME": "demo@example.com", "PASSWORD": password}, password


def readme_block(marker: str) -> list[str]:
    """The command lines of the README's code block right after `<!-- pasted: MARKER -->`."""
    text = (ROOT / "README.md").read_text()
    found = re.search(rf"<!-- pasted: {re.escape(marker)} -->\n```bash\n(.*?)```", text, re.S)
    assert found, f"README.md has no block marked <!-- pasted: {marker} -->"
    return [line for line in found.group(1).splitlines() if line.strip() and not line.startswith("#")]


def on_port(command: str, port: int) -> str:
    """A README line for the embedded AWS on `port` (the README's use the default one, 4599)."""
    return command.replace("--local", f"--local --port {port}").replace(
        "authdemo local issuer", f"authdemo local issuer --port {port}"
    )


def test_the_readmes_any_oidc_issuer_lines_work_in_order_after_the_lesson(shell: Any) -> None:
    """README "Any OIDC issuer", offline: its lines, run in order where the lesson's stack already
    exists, build an issuer stack beside it, pass `test` and delete only that stack; then the lines
    `authdemo local issuer` prints do the same."""
    port = _free_port()
    flags = f"--local --port {port}"
    lines = [on_port(line, port) for line in readme_block("any-oidc-issuer")]
    assert any("--issuer" in line for line in lines) and lines[-1].startswith("authdemo down")
    answers = run_in_order(shell, [f"authdemo up {flags} >/dev/null 2>&1", *(f"{c} 2>&1" for c in lines)])
    for command, code, out in answers:  # `test` exits 0 only when every check passed
        assert code == 0, f"{command!r} exited {code}: {out}"
    assert "FAIL" not in answers[2][2] and answers[2][2].count("PASS") == 3

    printed = shell(f"authdemo local issuer --port {port}")
    assert printed.returncode == 0, printed.stderr
    commands = printed_commands(printed.stdout)
    assert commands[0].startswith("authdemo up --local")
    answers = run_in_order(shell, [*commands, f"authdemo status {flags} --field api_url"])
    for command, code, out in answers:
        assert code == 0, f"{command!r} exited {code}: {out}"
    assert '"access_token"' in answers[-2][2]  # the token by hand, with the secret of the line before
    assert answers[-1][2].startswith(f"http://127.0.0.1:{port}/")  # the lesson's stack is still there
    stacks = re.findall(r"--stack (\S+)", commands[0])
    down = run_in_order(shell, [f"authdemo down {flags} --stack {stacks[0]}", f"authdemo down {flags}"])
    assert [code for _, code, _ in down] == [0, 0]
    assert "running" not in shell(f"authdemo local status --port {port}").stdout
