"""Never leak, never lose: bad input ends in one `Error:` line with a documented exit code and
changes nothing (no AWS resource, no state file); an unreadable state file is kept aside, never
overwritten; and the password and tokens do not leak onto the screen or to other users."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from conftest import Faults, TtySys, aws_error, free_port, leftovers, run, run_json

from authdemo import app, aws, paths
from authdemo.cli import lesson
from authdemo.local import daemon
from authdemo.state import StackLock
from authdemo.tokens import shorten


def flat(text: str) -> str:
    """Output with rich's line wrapping undone (all whitespace runs become one space)."""
    return " ".join(text.split())


def squashed(text: str) -> str:
    """Output with all whitespace removed (rich may fold a long path in the middle)."""
    return "".join(text.split())


def one_error(result: Any, alone: bool = True) -> str:
    """The single `Error:` line of a failed command (wrapping undone), the last thing on stderr
    (the only thing when `alone`); no traceback, no data on stdout."""
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.count("Error:") == 1, result.stderr
    if alone:
        assert result.stderr.lstrip().startswith("Error:"), result.stderr
        assert result.stdout == ""
    return flat(result.stderr[result.stderr.index("Error:") :])


def state_file(stack: str = "authdemo") -> Path:
    return app.state_path(app.Options(stack=stack))


def assert_one_stack() -> None:
    """Exactly one of each top-level resource: nothing was created twice (two functions, the demo
    one and the Lambda authorizer's, each with its role and log group)."""
    assert {k: len(v) for k, v in leftovers().items()} == {
        "user_pools": 1,
        "apis": 1,
        "rest_apis": 1,
        "functions": 2,
        "roles": 2,
        "log_groups": 2,
    }


# ----------------------------------------------------------------------------- the table
def no_credentials(monkeypatch: pytest.MonkeyPatch, faults: Faults) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask 169.254.169.254


def every_call_fails(code: str) -> Callable[[pytest.MonkeyPatch, Faults], None]:
    """As on AWS with expired or revoked keys: every call answers `code`."""

    def setup(monkeypatch: pytest.MonkeyPatch, faults: Faults) -> None:
        faults.on("*", "before-call", lambda **_: aws_error(code, "The security token is bad"))

    return setup


def nothing(monkeypatch: pytest.MonkeyPatch, faults: Faults) -> None:
    pass


BAD_INPUT = [
    # id, args, setup, exit code, what the message says
    ("no credentials", ["up"], no_credentials, 4, "No AWS credentials found"),
    ("expired credentials", ["up"], every_call_fails("ExpiredToken"), 4, "credentials have expired"),
    (
        "rejected credentials",
        ["up"],
        every_call_fails("InvalidClientTokenId"),
        4,
        "AWS rejected your credentials (InvalidClientTokenId)",
    ),
    (
        "unknown profile",
        ["up", "--profile", "no-such-profile"],
        nothing,
        2,
        "AWS profile 'no-such-profile' does not exist",
    ),
    ("region typo", ["up", "--region", "us-wst-2"], nothing, 2, "region 'us-wst-2'"),
    ("region nonsense", ["up", "--region", "nowhere"], nothing, 2, "'nowhere' is not an AWS region name"),
    ("region nonsense, down", ["down", "--region", "nowhere"], nothing, 2, "is not an AWS region name"),
    ("stack with space", ["up", "--stack", "bad name"], nothing, 2, "stack name 'bad name' is not valid"),
    ("stack with digit first", ["up", "--stack", "9lives"], nothing, 2, "stack name '9lives' is not valid"),
    ("stack of 40 chars", ["up", "--stack", "s" * 40], nothing, 2, "use 1-32 letters, digits and hyphens"),
    ("stack, down", ["down", "--stack", "bad name"], nothing, 2, "stack name 'bad name' is not valid"),
    # `$` matches before a final newline: such a stack was built, then no down could delete it
    ("stack ending in a newline", ["up", "--stack", "nl\n"], nothing, 2, "stack name 'nl\\n' is not"),
    ("stack ending in a newline, sweep", ["down", "--sweep", "--stack", "nl\n"], nothing, 2, "not valid"),
    ("region ending in a newline", ["up", "--region", "us-west-2\n"], nothing, 2, "is not an AWS region"),
    (
        "username with space",
        ["up", "--username", "has space"],
        nothing,
        2,
        "contains whitespace or a control character",
    ),
    ("username of 200 chars", ["up", "--username", "u" * 200], nothing, 2, "must be 1 to 128 characters"),
    ("guide's password", ["up", "--password", "DemoPass123"], nothing, 2, "must contain a symbol"),
    ("short password", ["up", "--password", "Sh0rt!"], nothing, 2, "be at least 8 characters long"),
    ("no uppercase", ["up", "--password", "lower-case-1"], nothing, 2, "contain an uppercase letter"),
    ("no digit", ["up", "--password", "No-Digits-Here"], nothing, 2, "contain a digit"),
    ("padded password", ["up", "--password", " Padded-Pass1 "], nothing, 2, "not start or end with a space"),
]


@pytest.mark.parametrize(
    ("args", "setup", "code", "says"), [row[1:] for row in BAD_INPUT], ids=[row[0] for row in BAD_INPUT]
)
def test_bad_input_is_one_line_and_changes_nothing(
    moto: None, faults: Faults, monkeypatch, args: list[str], setup: Any, code: int, says: str
) -> None:
    """Each bad input: its exit code, one `Error:` line naming the problem, nothing created."""
    setup(monkeypatch, faults)
    result = run(*args)
    assert result.exit_code == code, result.output
    # Refused credentials surface at the first AWS call, after the progress display started;
    # every other bad input is refused before any call, so its error comes alone.
    failed_call = bool(faults.calls)
    message = one_error(result, alone=not failed_call)
    assert says in message
    assert result.stdout == ""
    if not failed_call:
        assert faults.calls == []  # bad input is refused before any AWS call
    assert not list(paths.home().glob("*.json"))  # no state file for any stack
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # leftovers() needs credentials
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert leftovers() == {}


@pytest.mark.parametrize("command", ["up", "down", "status"])
def test_expired_credentials_on_an_existing_stack_change_nothing(
    moto: None, faults: Faults, command: str
) -> None:
    """STS answers ExpiredToken when a recorded stack is checked: exit 4 before any change."""
    assert run("up", "--no-rest").exit_code == 0
    saved = state_file().read_bytes()
    before = leftovers()
    faults.calls.clear()
    faults.fail("sts", "GetCallerIdentity", "ExpiredToken", "The security token included has expired")
    result = run(command)
    assert result.exit_code == 4, result.output
    assert "Your AWS credentials have expired" in one_error(result)
    assert faults.calls == ["GetCallerIdentity"]
    assert state_file().read_bytes() == saved
    assert leftovers() == before


def test_a_password_without_a_symbol_is_refused_before_any_call(moto: None, faults: Faults) -> None:
    """The guide's DemoPass123 is refused before a single AWS call (not half-way through up)."""
    result = run("up", "--no-rest", "--password", "DemoPass123")
    assert result.exit_code == 2
    assert faults.calls == []
    assert "DemoPass123" not in result.output


def test_endpoint_where_nothing_listens_is_exit_7_at_once(moto: None) -> None:
    """--endpoint-url at a closed port: exit 7 in a few seconds, not after botocore's retries."""
    port = free_port()
    began = time.monotonic()
    result = run("up", "--no-rest", "--endpoint-url", f"http://127.0.0.1:{port}")
    assert time.monotonic() - began < 5
    assert result.exit_code == 7, result.output
    assert f"Nothing answers at http://127.0.0.1:{port}" in one_error(result)
    assert not state_file().exists()


def test_endpoint_that_is_not_a_url_is_a_usage_error(moto: None) -> None:
    """--endpoint-url without http(s):// is refused as bad input (2)."""
    result = run("up", "--no-rest", "--endpoint-url", "127.0.0.1:4566")
    assert result.exit_code == 2
    assert "is not an http(s) URL" in one_error(result)


def test_local_start_on_a_taken_port_names_it(held_port: int) -> None:
    """`local start --port P` with P taken by another program: exit 7 naming P; no server left."""
    try:
        result = run("local", "start", "--port", str(held_port))
        assert result.exit_code == 7, result.output
        assert f"Port {held_port} is already in use" in one_error(result)
        assert daemon.status() is None
    finally:
        daemon.stop()


def test_up_local_on_a_taken_port_names_it(held_port: int) -> None:
    """`up --local --port P` with P taken: exit 7 naming P, and no state file."""
    try:
        result = run("up", "--no-rest", "--local", "--port", str(held_port))
        assert result.exit_code == 7, result.output
        assert f"Port {held_port} is already in use" in one_error(result)
        assert not state_file().with_name("authdemo.local.json").exists()
    finally:
        daemon.stop()


# ----------------------------------------------------------------------------- access denied
def test_access_denied_midway_keeps_every_id_and_a_rerun_completes(moto: None, faults: Faults) -> None:
    """AccessDenied on CreateUserPool: exit 4; everything created is recorded; up again completes."""
    faults.fail("cognito-idp", "CreateUserPool", "AccessDeniedException", "not allowed")
    result = run("up")
    assert result.exit_code == 4, result.output
    assert "Access denied for CreateUserPool" in one_error(result, alone=False)
    recorded = json.loads(state_file().read_text())["resources"]
    left = leftovers()
    assert "user_pool" not in recorded and "user_pools" not in left
    # whatever exists in AWS is recorded, and the other way round
    assert ("role" in recorded) == bool(left.get("roles"))
    assert ("log_group" in recorded) == bool(left.get("log_groups"))
    assert ("api" in recorded) == bool(left.get("apis"))
    assert ("function" in recorded) == bool(left.get("functions"))
    assert recorded, "nothing at all was created before the failure"
    again = run_json("up")
    assert again["user_pool_id"] and again["client_id"]
    assert_one_stack()
    assert run("down").exit_code == 0
    assert leftovers() == {}


# ----------------------------------------------------------------------------- state files
CORRUPT = {
    "empty": b"",
    "whitespace": b"  \n",
    "truncated": b'{"schema_version": 1, "stack": "authdemo", "resour',
    "not json": b"stack=authdemo\nregion=us-west-2\n",
    "not an object": b"[1, 2, 3]",
    "schema 0": b'{"schema_version": 0}',
    "schema as text": b'{"schema_version": "1", "resources": {}}',
    "not utf-8": b'{"schema_version": 1, "stack": "authdemo\xff", "resources": {}}',
    "deeply nested": b'{"schema_version": 1, "resources": {}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "region a number": b'{"schema_version": 1, "stack": "authdemo", "region": 5, "resources": {}}',
    "port a string": b'{"schema_version": 1, "stack": "authdemo", "callback_port": "8400", "resources": {}}',
    "local a string": b'{"schema_version": 1, "stack": "authdemo", "local": "no", "resources": {}}',
    "audience of numbers": b'{"schema_version": 1, "stack": "authdemo", "audience": [1], "resources": {}}',
    "resource a string": b'{"schema_version": 1, "stack": "authdemo", "resources": {"user_pool": "x"}}',
    "resource id a list": b'{"schema_version": 1, "stack": "authdemo", "resources": {"api": {"id": [1]}}}',
    "schema true": b'{"schema_version": true, "resources": {}}',
}


@pytest.mark.parametrize("command", ["up", "down"])
@pytest.mark.parametrize("content", list(CORRUPT.values()), ids=list(CORRUPT))
def test_unreadable_state_is_kept_aside_unchanged(
    moto: None, faults: Faults, command: str, content: bytes
) -> None:
    """An unreadable state file: exit 5, moved to <name>.corrupt-* byte for byte, nothing called."""
    path = state_file()
    path.write_bytes(content)
    result = run(command)
    assert result.exit_code == 5, result.output
    message = one_error(result)
    (kept,) = path.parent.glob("authdemo.json.corrupt-*")
    assert kept.read_bytes() == content
    assert not path.exists()
    assert squashed(str(kept)) in squashed(message)
    assert faults.calls == []
    assert leftovers() == {}


def test_after_a_corrupt_state_up_adopts_the_stack_without_duplicates(moto: None) -> None:
    """A truncated state of a deployed stack: exit 5, then up adopts every resource by name and tag."""
    first = run_json("up")
    path = state_file()
    path.write_bytes(path.read_bytes()[:40])
    assert run("up", "--no-rest").exit_code == 5
    again = run_json("up")
    assert again["user_pool_id"] == first["user_pool_id"]
    assert again["client_id"] == first["client_id"]
    assert again["api_url"] == first["api_url"]
    assert_one_stack()
    assert run("down").exit_code == 0
    assert leftovers() == {}


@pytest.mark.parametrize("command", ["up", "down", "status"])
def test_state_of_a_newer_authdemo_is_left_untouched(moto: None, faults: Faults, command: str) -> None:
    """schema_version 99: exit 5, "newer authdemo", the file stays where it is, byte for byte."""
    path = state_file()
    content = json.dumps({"schema_version": 99, "stack": "authdemo", "resources": {"x": {"id": "1"}}})
    path.write_text(content)
    mtime = path.stat().st_mtime_ns
    result = run(command)
    assert result.exit_code == 5, result.output
    assert "was written by a newer authdemo (schema 99)" in one_error(result)
    assert path.read_text() == content and path.stat().st_mtime_ns == mtime
    assert not list(path.parent.glob("*.corrupt-*"))
    assert faults.calls == []


# ----------------------------------------------------------------------------- secrets
def test_state_file_and_its_directory_are_private(moto: None, tmp_path: Path) -> None:
    """The state file (it holds the password) is 0600 in a 0700 directory, default or --state-file."""
    assert run("up", "--no-rest").exit_code == 0
    assert stat.S_IMODE(state_file().stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.home().stat().st_mode) == 0o700
    custom = tmp_path / "new" / "dir" / "stack.json"
    assert run("up", "--no-rest", "--stack", "custom", "--state-file", str(custom)).exit_code == 0
    assert stat.S_IMODE(custom.stat().st_mode) == 0o600
    assert stat.S_IMODE(custom.parent.stat().st_mode) == 0o700
    with StackLock(custom, "test") as lock:  # it names its holder: private too, while it exists
        assert stat.S_IMODE(lock.path.stat().st_mode) == 0o600
    assert json.loads(custom.read_text())["password"]  # (which is why)


def test_state_file_stays_private_after_rewrites(moto: None) -> None:
    """Every atomic rewrite keeps 0600 (a second up rewrites the file)."""
    assert run("up", "--no-rest").exit_code == 0
    os.chmod(state_file(), 0o644)  # even if someone loosened it
    assert run("up", "--no-rest").exit_code == 0
    assert stat.S_IMODE(state_file().stat().st_mode) == 0o600


SECRET = "Sekr3t-Passw0rd!"


def test_password_never_printed_in_the_whole_flow(server, server_env) -> None:
    """up, test, status, token and down (text and json) never show the password."""
    e = ("--endpoint-url", server.url, "--stack", "secret")
    outputs = []
    for args in (
        ("up", *e, "--password", SECRET),
        ("up", *e),
        ("test", *e),
        ("status", *e),
        ("token", *e),
        ("status", *e, "--output", "json"),
        ("test", *e, "--output", "json"),
    ):
        result = run(*args)
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout + result.stderr)
    down = run("down", *e)
    assert down.exit_code == 0
    outputs.append(down.stdout + down.stderr)
    for out in outputs:
        assert SECRET not in out


def test_password_not_in_sign_in_or_policy_errors(moto: None, faults: Faults) -> None:
    """A wrong password at sign-in, and one the pool refuses, are not echoed in the error."""
    assert run("up", "--no-rest").exit_code == 0
    wrong = "Wrong-but-secret9"
    result = run("token", "--password", wrong)
    assert result.exit_code == 2
    assert "Cognito refused to sign in 'demo@example.com'" in one_error(result)
    assert wrong not in result.output
    # the pool refuses it (e.g. a stricter policy than ours): the message is AWS's, not the password
    faults.fail(
        "cognito-idp",
        "AdminSetUserPassword",
        "InvalidPasswordException",
        "Password does not conform to policy: Password must have symbol characters",
    )
    result = run("up", "--no-rest", "--password", wrong)
    assert result.exit_code == 1
    assert "InvalidPasswordException" in one_error(result, alone=False)
    assert wrong not in result.output
    no_symbol = "NoSymbolSecret9"
    result = run("up", "--no-rest", "--password", no_symbol)
    assert result.exit_code == 2 and no_symbol not in result.output


def test_shorten_keeps_a_token_recognisable_but_unusable() -> None:
    """shorten: 12 first + … + 6 last characters; the signature and claims are not shown."""
    token = "eyJhbGciOiJSUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" * 4 + ".c2lnbmF0dXJlLXZlcnktbG9uZy1zaWc"
    short = shorten(token)
    assert short == token[:12] + "…" + token[-6:]
    assert len(short) == 19 and token.split(".")[2] not in short and token.split(".")[1] not in short
    assert shorten("abc.def.ghi") == "abc.def.ghi"  # nothing to hide in a short one


def test_token_is_full_when_piped(deployed: Path) -> None:
    """Piped (not a terminal), `token` prints the whole JWT and nothing else on stdout."""
    result = run("token")
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert jwt.decode(token, options={"verify_signature": False})["token_use"] == "id"
    assert "shortened" not in result.stderr


def test_token_is_shortened_on_a_terminal(deployed: Path, monkeypatch) -> None:
    """On a terminal `token` shows a shortened token and says how to get it in full."""
    piped = run("token", "--access").stdout.strip()
    monkeypatch.setattr(lesson, "sys", TtySys(stdout=True))
    result = run("token", "--access")
    assert result.exit_code == 0
    shown = result.stdout.strip()
    assert "…" in shown and len(shown) == 19
    assert piped.split(".")[1] not in result.output and piped.split(".")[2] not in result.output
    assert "shortened on screen; add --show-token" in flat(result.stderr)
    as_json = json.loads(run("token", "--output", "json").stdout)
    assert "…" in as_json["token_shortened"] and len(as_json["token_shortened"]) == 19
    assert "token" not in as_json  # a key named `token` holds the token itself or nothing
    full = run("token", "--access", "--show-token").stdout.strip()
    assert jwt.decode(full, options={"verify_signature": False})["token_use"] == "access"


def test_sessions_are_reused_only_under_the_same_aws_environment(monkeypatch) -> None:
    """A process reuses botocore sessions (aws._BUILT), never across AWS_* variables: a session
    whose credential chain was built with the instance metadata allowed must not serve a command
    that disables it (under moto, that metadata would even answer with credentials)."""
    target = aws.Target(region="us-west-2")
    first = aws.Clients(target)._ensure_session()
    assert aws.Clients(target)._ensure_session() is first
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    second = aws.Clients(target)._ensure_session()
    assert second is not first
    monkeypatch.setenv("AWS_CONFIG_FILE", "/another/path/that/does/not/exist")
    assert aws.Clients(target)._ensure_session() is second  # same (absent) content: reused


# ----------------------------------------------------------------------------- anchored patterns
def _anchored_patterns() -> list[tuple[str, Any, str]]:
    """Every pattern that validates input, with a string it accepts."""
    from authdemo import regions, validate
    from authdemo.local import backends, moto_patches, router, sigv4
    from authdemo.local.cognito_login import codes

    issuer = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_x"
    return [
        ("stack", validate.STACK_RE, "class-42"),
        ("region", regions._REGION_RE, "us-west-2"),
        ("api host", router._API_HOST, "abc123.execute-api.localhost"),
        ("openid path", router._OPENID_CONFIGURATION, "/us-west-2_x/.well-known/openid-configuration"),
        ("public path", sigv4._cognito_wire()[2], "/us-west-2_x/.well-known/jwks.json"),
        ("pkce verifier", codes.VERIFIER, "v" * 43),
        ("pkce challenge", codes.S256_CHALLENGE, "c" * 43),
        ("issuer (backends)", backends._COGNITO_ISSUER, issuer),
        ("issuer (moto patch)", moto_patches._COGNITO_ISSUER, issuer),
    ]


@pytest.mark.parametrize("index", range(9), ids=lambda i: _anchored_patterns()[i][0])
def test_no_input_pattern_accepts_a_trailing_newline(index: int) -> None:
    """Each validating pattern accepts its sample but not the sample plus a final newline."""
    _, pattern, sample = _anchored_patterns()[index]
    assert pattern.match(sample)
    assert pattern.match(sample + "\n") is None
    assert pattern.search(sample + "\n") is None


def test_partition_regex_is_matched_whole() -> None:
    """A region with a final newline is in no partition: `aws-cn`'s data regex is not fooled either."""
    from authdemo import regions

    assert regions.partition("cn-north-1") == ("aws-cn", "amazonaws.com.cn")
    assert regions.partition("cn-north-9\n") == ("aws", "amazonaws.com")


def test_stack_with_a_final_newline_is_refused_before_any_file(moto: None) -> None:
    """`--stack $'nl\\n'`: exit 2 for up, down and down --sweep; no state or lock file appears."""
    for args in (["up"], ["down"], ["down", "--sweep", "--yes"]):
        result = run(*args, "--stack", "nl\n")
        assert result.exit_code == 2, result.output
        assert "'nl\\n' is not valid" in one_error(result)
    assert list(paths.home().iterdir()) == []
