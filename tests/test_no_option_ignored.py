"""Issue 11's options, none silently ignored: `--callback-port` on a stack without an app client
(`--issuer`), `--username`/`--password` typed beside `test --token` or `token --m2m` (where nobody
signs in). Each is one sentence, exit 2, before anything is created or asked."""

from __future__ import annotations

import pytest
from conftest import leftovers, run

from authdemo import app


def error_of(result) -> str:  # type: ignore[no-untyped-def]
    assert "Traceback" not in result.output and result.stderr.count("Error:") == 1, result.output
    return " ".join(result.stderr.split())


def test_callback_port_with_issuer_is_refused(moto: None) -> None:
    """`up --issuer ... --callback-port N`: an issuer stack has no app client to call back."""
    result = run("up", "--issuer", "https://example.auth0.com/", "--audience", "a", "--callback-port", "8401")
    assert result.exit_code == 2
    assert "--callback-port is the Cognito app client's sign-in callback" in error_of(result)
    assert not app.state_path(app.Options()).exists() and leftovers() == {}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("test", "--token", "x.y.z", "--username", "someone@example.com"),
            "signs no one in: drop --username",
        ),
        (("test", "--token-command", "echo x.y.z", "--password", "Pw-1234567!"), "drop --password"),
        (
            ("token", "--m2m", "--username", "a@example.com", "--password", "Pw-1!"),
            "drop --username and --password",
        ),
    ],
)
def test_a_sign_in_option_where_nobody_signs_in_is_refused(
    moto: None, args: tuple[str, ...], said: str
) -> None:
    assert run("up").exit_code == 0
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert said in error_of(result)


def test_the_password_from_the_environment_is_not_refused(
    moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AUTHDEMO_PASSWORD is set for every command of a session: `token --m2m` just goes on."""
    assert run("up").exit_code == 0
    monkeypatch.setenv("AUTHDEMO_PASSWORD", "Whatever-123!")
    result = run("token", "--m2m")
    assert result.exit_code == 0, result.output
