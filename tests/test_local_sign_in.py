"""Issue 20, finding 12: password sign-in to the embedded Cognito answers as Cognito does.

The attacker sends unsigned InitiateAuth calls over loopback (requests, no key): with
`PreventUserExistenceErrors` ENABLED (authdemo's clients) an unknown user must look like a
wrong password, repeated wrong passwords lock the user out for a while (developer guide,
"Lockout behavior for failed sign-in attempts"), and moto's SRP, which accepts any proof, gives
no tokens. The lockout's clock is injected (`lockout.SIGN_INS.clock`), never slept on.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from conftest import server_client

from authdemo.local import lockout

REGION = "us-west-2"
PASSWORD = "Corr3ct-Horse!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@dataclass
class Pool:
    id: str
    enabled: str  # PreventUserExistenceErrors=ENABLED, as authdemo's app client
    legacy: str  # the API's default (LEGACY)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pool(server: Any) -> Pool:
    idp = server_client(server, "cognito-idp", REGION)
    pool_id = idp.create_user_pool(PoolName=f"sign-in-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]

    def client(name: str, **extra: Any) -> str:
        made = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName=name, ExplicitAuthFlows=FLOWS, **extra
        )
        return str(made["UserPoolClient"]["ClientId"])

    enabled = client("web", PreventUserExistenceErrors="ENABLED")
    legacy = client("legacy")
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
    return Pool(pool_id, enabled, legacy)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(lockout.SIGN_INS, "clock", fake)
    return fake


def call(server: Any, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """An unsigned Cognito call, as the attacker (or botocore) sends it."""
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
    }
    answer = requests.post(server.url + "/", data=json.dumps(body), headers=headers, timeout=10)
    return answer.status_code, answer.json()


def sign_in(server: Any, client_id: str, username: str, password: str) -> tuple[int, str, str]:
    """(status, error code or "", message or "") of an unsigned USER_PASSWORD_AUTH InitiateAuth."""
    params = {"USERNAME": username, "PASSWORD": password}
    status, body = call(
        server,
        "InitiateAuth",
        {"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": params},
    )
    if status == 200:
        assert "AuthenticationResult" in body
        return status, "", ""
    return status, str(body.get("__type", "")).rpartition("#")[2], str(body.get("message", ""))


WRONG = (400, "NotAuthorizedException", "Incorrect username or password.")
LOCKED = (400, "NotAuthorizedException", "Password attempts exceeded")
SIGNED_IN = (200, "", "")


def test_an_unknown_user_gets_the_wrong_password_answer(server: Any, pool: Pool, clock: Clock) -> None:
    """With PreventUserExistenceErrors ENABLED, an unknown user and a wrong password get the same
    answer (InitiateAuth and AdminInitiateAuth); a LEGACY client still says UserNotFoundException."""
    assert sign_in(server, pool.enabled, "nobody-here", "Whatever-1!") == WRONG
    assert sign_in(server, pool.enabled, "alice", "Wrong-pass-1!") == WRONG
    assert sign_in(server, pool.legacy, "nobody-here", "Whatever-1!")[:2] == (400, "UserNotFoundException")
    idp = server_client(server, "cognito-idp", REGION)
    for username, password in (("nobody-here", "Whatever-1!"), ("alice", "Wrong-pass-1!")):
        with pytest.raises(ClientError) as caught:
            idp.admin_initiate_auth(
                UserPoolId=pool.id,
                ClientId=pool.enabled,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        error = caught.value.response["Error"]
        assert (error["Code"], error["Message"]) == WRONG[1:]
    assert sign_in(server, pool.enabled, "alice", PASSWORD) == SIGNED_IN


@pytest.mark.parametrize("username", ["alice", "nobody-here"])
def test_five_wrong_passwords_lock_the_user_out_for_doubling_times(
    server: Any, pool: Pool, clock: Clock, username: str
) -> None:
    """After five wrong passwords even the right one gets "Password attempts exceeded" for 1 s,
    then 2 s after a sixth failure; an unknown name locks out alike. A success starts again."""
    for _ in range(5):
        assert sign_in(server, pool.enabled, username, "Wrong-pass-1!") == WRONG
    right = PASSWORD if username == "alice" else "Wrong-pass-1!"
    answer_when_open = SIGNED_IN if username == "alice" else WRONG
    assert sign_in(server, pool.enabled, username, right) == LOCKED
    clock.now += 0.9
    assert sign_in(server, pool.enabled, username, right) == LOCKED  # does not count, nor extend
    clock.now += 0.1
    assert sign_in(server, pool.enabled, username, "Wrong-pass-1!") == WRONG  # the sixth: 2 s
    clock.now += 1.5
    assert sign_in(server, pool.enabled, username, right) == LOCKED
    clock.now += 0.5
    assert sign_in(server, pool.enabled, username, right) == answer_when_open
    if username == "alice":  # counted from nothing again
        for _ in range(4):
            assert sign_in(server, pool.enabled, username, "Wrong-pass-1!") == WRONG
        assert sign_in(server, pool.enabled, username, PASSWORD) == SIGNED_IN


def test_srp_sign_in_without_the_password_gets_no_tokens(server: Any, pool: Pool) -> None:
    """moto's USER_SRP_AUTH accepts any PASSWORD_VERIFIER proof: an unsigned caller who knows only
    the username must not get tokens (and an unknown username gets the wrong-password answer)."""
    start = {
        "ClientId": pool.enabled,
        "AuthFlow": "USER_SRP_AUTH",
        "AuthParameters": {"USERNAME": "alice", "SRP_A": "ab"},
    }
    status, challenge = call(server, "InitiateAuth", start)
    if status == 200:
        assert challenge.get("ChallengeName") == "PASSWORD_VERIFIER"
        proof = {
            "USERNAME": "alice",
            "PASSWORD_CLAIM_SIGNATURE": "forged",
            "PASSWORD_CLAIM_SECRET_BLOCK": challenge["ChallengeParameters"]["SECRET_BLOCK"],
            "TIMESTAMP": "Sun Dec 6 07:00:00 UTC 2026",
        }
        respond = {
            "ClientId": pool.enabled,
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": proof,
        }
        status, body = call(server, "RespondToAuthChallenge", respond)
        assert "AuthenticationResult" not in body
        assert (status, body.get("message")) == (400, "Incorrect username or password.")
    unknown = {**start, "AuthParameters": {"USERNAME": "nobody-here", "SRP_A": "ab"}}
    status, body = call(server, "InitiateAuth", unknown)
    assert (status, body.get("message")) == (400, "Incorrect username or password.")


def test_lockout_is_forgotten_after_fifteen_quiet_minutes() -> None:
    """Cognito resets the count after 15 minutes without attempts; locked-out attempts do not count."""
    clock = Clock()
    book = lockout.Lockout(clock)
    key = ("pool", "alice")
    for _ in range(5):
        assert book.attempt(key)
        book.failed(key)
    assert not book.attempt(key) and not book.attempt(key)  # locked: these two are not failures
    clock.now += lockout.QUIET_RESET_SECONDS
    assert book.attempt(key)
    book.failed(key)  # the first failure of a fresh count: no lockout
    assert book.attempt(key)


def test_lockout_never_exceeds_fifteen_minutes_and_forgets_old_names() -> None:
    """The lockout is capped at about 15 minutes, and made-up names cannot grow the book forever."""
    clock = Clock()
    book = lockout.Lockout(clock)
    key = ("pool", "alice")
    assert book.attempt(key)
    for _ in range(40):  # 2^35 s, were it not capped
        book.failed(key)
    clock.now += lockout.MAX_LOCKOUT_SECONDS - 1
    assert not book.attempt(key)
    clock.now += 1
    assert book.attempt(key)
    for n in range(lockout.MAX_ENTRIES + 10):
        book.attempt(("pool", f"made-up-{n}"))
    assert len(book._records) <= lockout.MAX_ENTRIES
