"""Issue 19 §5, what a newcomer met: a `token` hint that reproduces the token asked for, in a
variable named for it (and none that pretends to reproduce a signed-out token); `--username`
honoured where authdemo can sign in as that user and refused where not; exclusive flags
refused; whom `login` signs in as and where the passwords are (`status`)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import jwt
import pytest
from conftest import TtySys, run

from authdemo.cli import lesson
from authdemo.state import read_state

HINT = re.compile(r"([A-Z0-9_]+)=\$\(authdemo (token[^)]*)\)")


def flat(text: str) -> str:
    return " ".join(text.split())


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def who(token: str) -> str:
    c = claims(token)
    return str(c.get("cognito:username") or c.get("username") or c.get("client_id"))


def error_of(result) -> str:  # type: ignore[no-untyped-def]
    assert "Traceback" not in result.output and result.stderr.count("Error:") == 1, result.output
    return flat(result.stderr)


@pytest.mark.parametrize(
    ("args", "variable", "token_use", "user"),
    [
        ((), "ID_TOKEN", "id", "demo@example.com"),
        (("--access",), "ACCESS_TOKEN", "access", "demo@example.com"),
        (("--user", "student", "--access"), "STUDENT_TOKEN", "access", "student@example.com"),
        (("--user", "student"), "STUDENT_ID_TOKEN", "id", "student@example.com"),
        (("--refresh", "--access"), "REFRESHED_ACCESS_TOKEN", "access", "demo@example.com"),
        (("--tampered",), "TAMPERED_TOKEN", "id", "admin"),  # the claim tamper() edits
        (("--username", "student@example.com", "--access"), "STUDENT_TOKEN", "access", "student@example.com"),
    ],
)
def test_the_pipe_hint_reproduces_the_token_asked_for(
    deployed: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    variable: str,
    token_use: str,
    user: str,
) -> None:
    """On a terminal, `token ARGS` hints `VAR=$(authdemo token ...)`: VAR names what it holds, and
    the pasted command prints a token of the same kind and user (and tampered when asked)."""
    with monkeypatch.context() as terminal:
        terminal.setattr(lesson, "sys", TtySys(stdout=True))
        shown = run("token", *args)
    assert shown.exit_code == 0, shown.output
    [(name, command)] = HINT.findall(flat(shown.stderr))
    assert name == variable
    pasted = run(*shlex.split(command))
    assert pasted.exit_code == 0, pasted.output
    token = pasted.stdout.strip()
    assert (claims(token)["token_use"], who(token)) == (token_use, user)


def test_the_m2m_hint_is_the_m2m_token(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`token --m2m` on a terminal hints M2M_TOKEN=$(authdemo token --m2m), the client's own token."""
    monkeypatch.setattr(lesson, "sys", TtySys(stdout=True))
    shown = run("token", "--m2m")
    assert shown.exit_code == 0, shown.output
    assert HINT.findall(flat(shown.stderr)) == [("M2M_TOKEN", "token --m2m")]


def test_a_signed_out_token_is_not_promised_again(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`token --sign-out` on a terminal: no `ID_TOKEN=$(...)`; the hint says this token cannot be
    printed again and that the command signs out a new session, named SIGNED_OUT_TOKEN."""
    monkeypatch.setattr(lesson, "sys", TtySys(stdout=True))
    shown = run("token", "--sign-out")
    assert shown.exit_code == 0, shown.output
    said = flat(shown.stderr)
    assert "pipe it" not in said and "ID_TOKEN" not in said
    assert HINT.findall(said) == [("SIGNED_OUT_TOKEN", "token --sign-out")]
    assert "cannot be printed again" in said and "signs out a new session" in said


# ------------------------------------------------------------------ --username, exclusive flags
def test_token_honours_the_username_of_a_user_the_stack_made(deployed: Path) -> None:
    """`--username` names one of the stack's users: `token` signs in as that one."""
    student = run("token", "--access", "--username", "student@example.com")
    assert student.exit_code == 0, student.output
    assert who(student.stdout.strip()) == "student@example.com"
    demo = run("token", "--username", "demo@example.com")
    assert demo.exit_code == 0 and who(demo.stdout.strip()) == "demo@example.com"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("token", "--username", "nobody@example.com"),
            "Stack 'authdemo' has no user nobody@example.com: its users are demo@example.com and "
            "student@example.com",
        ),
        (("token", "--user", "student", "--username", "demo@example.com"), "name different users"),
        (("token", "--id", "--access"), "--id and --access each choose the token: give one"),
        (("token", "--access", "--m2m"), "--access and --m2m each choose the token: give one"),
        (("token", "--user", "student", "--password", "Other-Pass-1!"), "drop --password"),
        (("test", "--wait", "0", "--username", "nobody@example.com"), "drop --username"),
        (("test", "--wait", "0", "--username", "student@example.com"), "drop --username"),
    ],
)
def test_what_cannot_be_honoured_is_refused_in_one_sentence(
    deployed: Path, args: tuple[str, ...], said: str
) -> None:
    """A user the stack did not make, two users at once, two kinds of token, the student's
    password typed, `test` as another user: one sentence, exit 2."""
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert said in error_of(result)


def test_test_takes_the_username_it_signs_in_as(deployed: Path) -> None:
    """`test --username <the stack's user>` is the user `test` signs in as: not refused."""
    result = run("test", "--wait", "0", "--route", "iam", "--username", "demo@example.com")
    assert result.exit_code != 2, result.output


# ------------------------------------------------------------------ whom to sign in as
def test_status_shows_the_students_password_when_asked(deployed: Path) -> None:
    """`status --field student_password` and `status --show-password` show the second user's too."""
    state = read_state(deployed)
    assert state is not None
    field = run("status", "--field", "student_password")
    assert field.exit_code == 0, field.output
    assert field.stdout == state["student_password"] + "\n"
    shown = run("status", "--show-password")
    assert shown.exit_code == 0, shown.output
    assert f"student_password: {state['student_password']}" in shown.stdout
    hidden = run("status")
    assert state["student_password"] not in hidden.output and state["password"] not in hidden.output
