"""`authdemo up --sign-up` (issue 20, "Sign up as the blog does"): the pool accepts
self-registration with email verification only when asked, kept in the state like
--callback-port; without it the pool stays admin-only and SignUp is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import plain_client, run, run_json

from authdemo import app


def state() -> dict[str, Any]:
    return dict(json.loads(app.state_path(app.Options()).read_text()))


def pool() -> dict[str, Any]:
    pool_id = state()["resources"]["user_pool"]["id"]
    return dict(plain_client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"])


def sign_up(username: str) -> Any:
    client_id = state()["resources"]["app_client"]["id"]
    return plain_client("cognito-idp").sign_up(
        ClientId=client_id,
        Username=username,
        Password="Passw0rd!-new",
        UserAttributes=[{"Name": "email", "Value": username}],
    )


def test_without_sign_up_the_pool_is_admin_only(deployed: Any) -> None:
    """The default stack refuses SignUp as Cognito does (NotAuthorizedException)."""
    assert pool()["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    with pytest.raises(ClientError) as refused:
        sign_up("new@example.com")
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert run_json("status")["sign_up"] is False


def test_sign_up_is_set_in_place_kept_and_undone(deployed: Any) -> None:
    """`up --sign-up` on an existing stack updates the pool in place (its password policy
    kept), a later `up` keeps it, and `up --no-sign-up` makes the pool admin-only again."""
    policy = pool()["Policies"]["PasswordPolicy"]
    assert run("up", "--sign-up").exit_code == 0
    now = pool()
    assert now["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert now["AutoVerifiedAttributes"] == ["email"]
    assert now["Policies"]["PasswordPolicy"] == policy
    assert state()["sign_up"] is True
    assert sign_up("new@example.com")["UserConfirmed"] is False
    assert run("up").exit_code == 0
    assert pool()["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert run("up", "--no-sign-up").exit_code == 0
    assert pool()["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert run_json("status")["sign_up"] is False


def test_a_new_stack_with_sign_up(moto: None) -> None:
    """`up --sign-up` creates the pool self-registering, with email verification."""
    assert run("up", "--sign-up").exit_code == 0
    assert pool()["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert pool()["AutoVerifiedAttributes"] == ["email"]


def test_sign_up_with_issuer_is_refused(moto: None) -> None:
    """--sign-up on a stack without a user pool is refused in one sentence (exit 2)."""
    result = run("up", "--sign-up", "--issuer", "https://example.auth0.com/", "--audience", "a")
    assert result.exit_code == 2
    assert "has no user pool" in result.output and "Traceback" not in result.output
