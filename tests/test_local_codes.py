"""Issue 20, findings 2 and 4: the embedded Cognito's confirmation codes are real (random,
single-use, expiring, delivered only to the owner's inbox) and SignUp respects an admin-only pool.

Each attack is what another local user did: unsigned JSON calls with the standard library, no key."""

from __future__ import annotations

import json
import os
import re
import stat
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from conftest import server_client

from authdemo.local import confirmation, inbox, moto_patches

PASSWORD = "Passw0rd!-demo"


def unsigned(server: Any, operation: str, **body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    """An unsigned Cognito call, as an attacker sends it: status, JSON answer, headers."""
    request = urllib.request.Request(
        server.url + "/",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"{}"), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), dict(error.headers)


def pool(server: Any, self_sign_up: bool = True) -> tuple[str, str]:
    """A pool (self-registration with email verification, or admin-only, as `up` makes them),
    its app client and the presenter user with a permanent password: (pool id, client id)."""
    cognito = server_client(server, "cognito-idp")
    pool_id = cognito.create_user_pool(
        PoolName=f"codes-{uuid.uuid4().hex[:8]}",
        AutoVerifiedAttributes=["email"] if self_sign_up else [],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": not self_sign_up},
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"][
        "ClientId"
    ]
    email = [{"Name": "email", "Value": "demo@example.com"}, {"Name": "email_verified", "Value": "true"}]
    cognito.admin_create_user(
        UserPoolId=pool_id, Username="demo@example.com", UserAttributes=email, MessageAction="SUPPRESS"
    )
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="demo@example.com", Password=PASSWORD, Permanent=True
    )
    return pool_id, client_id


def sign_in(server: Any, client_id: str, username: str, password: str) -> int:
    status, _, _ = unsigned(
        server,
        "InitiateAuth",
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return status


def last_code(username: str) -> str:
    return [m for m in inbox.read() if m["username"] == username][-1]["code"]


def test_forgot_password_with_a_made_up_code_does_not_take_over_the_presenter(server: Any) -> None:
    """An unsigned ConfirmForgotPassword with a guessed code is CodeMismatchException; the
    presenter's password still works and the attacker's does not; the code is never in the answer."""
    _, client_id = pool(server, self_sign_up=False)
    status, answer, headers = unsigned(
        server, "ForgotPassword", ClientId=client_id, Username="demo@example.com"
    )
    assert status == 200
    assert not any("code" in name.lower() for name in headers), headers  # moto's own header is gone
    assert last_code("demo@example.com") not in json.dumps(answer)
    status, answer, _ = unsigned(
        server,
        "ConfirmForgotPassword",
        ClientId=client_id,
        Username="demo@example.com",
        ConfirmationCode="123456" if last_code("demo@example.com") != "123456" else "654321",
        Password="Attacker-0wned!",
    )
    assert (status, answer["__type"]) == (400, "CodeMismatchException")
    assert sign_in(server, client_id, "demo@example.com", "Attacker-0wned!") == 400
    assert sign_in(server, client_id, "demo@example.com", PASSWORD) == 200


def test_forgot_password_without_a_code_sent_is_expired_code(server: Any) -> None:
    """No ForgotPassword first: any code is ExpiredCodeException and the password is unchanged."""
    _, client_id = pool(server, self_sign_up=False)
    status, answer, _ = unsigned(
        server,
        "ConfirmForgotPassword",
        ClientId=client_id,
        Username="demo@example.com",
        ConfirmationCode="123456",
        Password="Attacker-0wned!",
    )
    assert (status, answer["__type"]) == (400, "ExpiredCodeException")
    assert sign_in(server, client_id, "demo@example.com", PASSWORD) == 200


def test_the_inbox_code_resets_the_password_once(server: Any) -> None:
    """The code delivered to the owner's inbox (0600) sets the new password, and only once."""
    _, client_id = pool(server, self_sign_up=False)
    unsigned(server, "ForgotPassword", ClientId=client_id, Username="demo@example.com")
    assert stat.S_IMODE(os.stat(inbox.inbox_file()).st_mode) == 0o600
    code = last_code("demo@example.com")
    new = dict(
        ClientId=client_id, Username="demo@example.com", ConfirmationCode=code, Password="New-passw0rd!"
    )
    assert unsigned(server, "ConfirmForgotPassword", **new)[0] == 200
    assert sign_in(server, client_id, "demo@example.com", "New-passw0rd!") == 200
    status, answer, _ = unsigned(server, "ConfirmForgotPassword", **{**new, "Password": "Again-passw0rd!"})
    assert (status, answer["__type"]) == (400, "ExpiredCodeException")


def test_codes_are_random_six_digits_and_never_in_an_answer(server: Any) -> None:
    """What an unsigned caller sees of the codes it asks for: no code in the answer or its headers;
    the inbox's codes are 6 digits and differ each time (not a fixed or guessable code)."""
    _, client_id = pool(server, self_sign_up=False)
    codes = []
    for _ in range(3):  # under the 5 an hour
        status, answer, headers = unsigned(
            server, "ForgotPassword", ClientId=client_id, Username="demo@example.com"
        )
        code = last_code("demo@example.com")
        assert status == 200 and code not in json.dumps(answer) + json.dumps(headers)
        assert re.fullmatch(r"[0-9]{6}", code), code
        codes.append(code)
    assert len(set(codes)) == 3, codes


def test_confirm_sign_up_needs_the_code_sent(server: Any) -> None:
    """ConfirmSignUp with a wrong code is CodeMismatchException and the user stays unconfirmed
    (cannot sign in); the inbox's code confirms them and verifies their email."""
    pool_id, client_id = pool(server)
    user = dict(ClientId=client_id, Username="eve@example.com")
    status, answer, _ = unsigned(
        server,
        "SignUp",
        **user,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "eve@example.com"}],
    )
    assert status == 200 and answer["UserConfirmed"] is False
    assert answer["CodeDeliveryDetails"] == {
        "Destination": "e***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    code = last_code("eve@example.com")
    wrong = "000000" if code != "000000" else "111111"
    status, answer, _ = unsigned(server, "ConfirmSignUp", **user, ConfirmationCode=wrong)
    assert (status, answer["__type"]) == (400, "CodeMismatchException")
    assert sign_in(server, client_id, "eve@example.com", PASSWORD) == 400
    assert unsigned(server, "ConfirmSignUp", **user, ConfirmationCode=code)[0] == 200
    assert sign_in(server, client_id, "eve@example.com", PASSWORD) == 200
    attributes = server_client(server, "cognito-idp").admin_get_user(
        UserPoolId=pool_id, Username="eve@example.com"
    )
    assert {"Name": "email_verified", "Value": "true"} in attributes["UserAttributes"]


def test_a_resent_code_replaces_the_first(server: Any) -> None:
    """ResendConfirmationCode (which moto lacks) sends a new code; the first no longer works."""
    _, client_id = pool(server)
    user = dict(ClientId=client_id, Username="ann@example.com")
    unsigned(
        server,
        "SignUp",
        **user,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "ann@example.com"}],
    )
    first = last_code("ann@example.com")
    status, answer, _ = unsigned(server, "ResendConfirmationCode", **user)
    assert status == 200 and answer["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    second = last_code("ann@example.com")
    if first != second:
        refused = unsigned(server, "ConfirmSignUp", **user, ConfirmationCode=first)[1]
        assert refused["__type"] == "CodeMismatchException"
    assert unsigned(server, "ConfirmSignUp", **user, ConfirmationCode=second)[0] == 200


def test_codes_expire_and_wrong_tries_are_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sign-up code lives 24 h, a reset code 1 h (then ExpiredCodeException); 5 wrong tries
    drop the code, and a 6th code within the hour is LimitExceededException."""
    now = [1_000_000.0]
    codes = confirmation.ConfirmationCodes(clock=lambda: now[0])
    the_pool = type("Pool", (), {"id": "us-west-2_x", "name": "p"})()
    code = codes.issue(the_pool, "u", confirmation.SIGN_UP, "u@example.com")
    now[0] += 24 * 3600
    with pytest.raises(confirmation.CodeRefused, match="request a code again"):
        codes.use("us-west-2_x", "u", confirmation.SIGN_UP, code)
    code = codes.issue(the_pool, "u", confirmation.PASSWORD_RESET, "u@example.com")
    now[0] += 3600 - 1
    codes.use("us-west-2_x", "u", confirmation.PASSWORD_RESET, code)
    code = codes.issue(the_pool, "v", confirmation.PASSWORD_RESET, "v@example.com")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(confirmation.MAX_WRONG_TRIES):
        with pytest.raises(confirmation.CodeRefused) as refused:
            codes.use("us-west-2_x", "v", confirmation.PASSWORD_RESET, wrong)
        assert refused.value.error == "CodeMismatchException"
    with pytest.raises(confirmation.CodeRefused) as refused:
        codes.use("us-west-2_x", "v", confirmation.PASSWORD_RESET, code)
    assert refused.value.error == "ExpiredCodeException"
    for _ in range(confirmation.MAX_CODES_PER_HOUR - 1):
        codes.issue(the_pool, "v", confirmation.PASSWORD_RESET, "v@example.com")
    with pytest.raises(confirmation.CodeRefused) as refused:
        codes.issue(the_pool, "v", confirmation.PASSWORD_RESET, "v@example.com")
    assert refused.value.error == "LimitExceededException"


def test_sign_up_in_an_admin_only_pool_is_refused(server: Any) -> None:
    """Finding 4: SignUp in a pool with AllowAdminCreateUserOnly is Cognito's NotAuthorizedException,
    and no user is created."""
    pool_id, client_id = pool(server, self_sign_up=False)
    status, answer, _ = unsigned(
        server, "SignUp", ClientId=client_id, Username="mallory@example.com", Password=PASSWORD
    )
    assert (status, answer) == (
        400,
        {"__type": "NotAuthorizedException", "message": "SignUp is not permitted for this user pool"},
    )
    users = server_client(server, "cognito-idp").list_users(UserPoolId=pool_id)["Users"]
    assert [u["Username"] for u in users] == ["demo@example.com"]


def test_the_inbox_never_follows_a_planted_symlink(server: Any, tmp_path: Any) -> None:
    """A symlink planted as the inbox is replaced (its target untouched), never read through."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    inbox.inbox_file().symlink_to(victim)
    _, client_id = pool(server, self_sign_up=False)
    unsigned(server, "ForgotPassword", ClientId=client_id, Username="demo@example.com")
    assert victim.read_text() == "keep me"
    assert not inbox.inbox_file().is_symlink() and len(inbox.read()) == 1


def test_moto_still_lacks_what_the_patch_adds() -> None:
    """moto's own ConfirmSignUp reads no code and it has no ResendConfirmationCode: when moto
    changes this, `moto_patches.confirmation_codes` must be looked at again."""
    import inspect

    from moto.cognitoidp.responses import CognitoIdpResponse

    assert "ConfirmationCode" not in inspect.getsource(CognitoIdpResponse.confirm_sign_up.__wrapped__)
    assert "x-moto-forgot-password-confirmation-code" in inspect.getsource(
        CognitoIdpResponse.forgot_password.__wrapped__
    )
    from moto.cognitoidp import responses

    assert "def resend_confirmation_code" not in inspect.getsource(responses)
    assert CognitoIdpResponse.resend_confirmation_code is moto_patches.resend_confirmation_code


def test_local_inbox_prints_the_codes_to_the_owner(server: Any) -> None:
    """`authdemo local inbox` lists the messages; `--code` prints the newest code alone."""
    from conftest import run

    assert run("local", "inbox", "--code").exit_code == 8  # nothing yet, said in one sentence
    _, client_id = pool(server, self_sign_up=False)
    unsigned(server, "ForgotPassword", ClientId=client_id, Username="demo@example.com")
    code = last_code("demo@example.com")
    result = run("local", "inbox")
    assert result.exit_code == 0 and code in result.output and "demo@example.com" in result.output
    assert run("local", "inbox", "--code").output.strip() == code
    doc = json.loads(run("local", "inbox", "--output", "json").stdout)
    assert [m["code"] for m in doc["messages"]] == [code] and doc["messages"][0]["expired"] is False


def test_login_says_where_the_codes_arrive(local_daemon: Any) -> None:
    """`authdemo login --local` on a `--sign-up` stack says, while it waits, that the sign-up and
    reset codes are read with `authdemo local inbox`."""
    from conftest import LoginRun, free_port, run

    from authdemo.stack import Options

    e = ("--local", "--port", str(local_daemon.port), "--stack", "inboxhint")
    assert run("up", *e, "--sign-up", "--callback-port", str(free_port())).exit_code == 0
    try:
        flow = LoginRun(Options(stack="inboxhint", local=True, port=local_daemon.port), timeout=0.5)
        assert flow.url()
        flow.thread.join(timeout=30)  # no sign-in comes: it ends after its timeout
        assert any("sign up or reset a password" in e and "authdemo local inbox" in e for e in flow.events)
    finally:
        assert run("down", *e).exit_code == 0
