"""moto_patches.fixes: where moto answers otherwise than AWS, mended in the embedded AWS and in
the suite's in-process moto alike; and a speedup of moto's error answers, which must read as
moto's own (the other speedups are tested beside the gateway, test_local_gateway)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cognitoidp.models import CognitoIdpUserPool, cognitoidp_backends

from authdemo.local import moto_patches


def test_a_pool_read_while_its_domain_is_deleted_is_described_without_it() -> None:
    """`down` deletes the pool's domain while it lists pools: moto read the domain, found it
    gone on the second look and answered ListUserPools with a 500. Now the pool reads as
    domainless, as AWS would describe it a moment later."""
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-west-2")
        pool_id = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
        cognito.create_user_pool_domain(Domain="p-race", UserPoolId=pool_id)
        pool = cognitoidp_backends["123456789012"]["us-west-2"].user_pools[pool_id]

        class Racing:
            """The pool, but its domain is there when moto checks it, gone when moto reads it."""

            looks = 0

            @property
            def domain(self) -> Any:
                Racing.looks += 1
                return pool.domain if Racing.looks == 1 else None

            def __getattr__(self, name: str) -> Any:
                return getattr(pool, name)

        racing = Racing()
        moto_own = CognitoIdpUserPool.to_json.__wrapped__  # type: ignore[attr-defined]
        with pytest.raises(AttributeError):
            moto_own(racing)
        Racing.looks = 0
        assert "Domain" not in CognitoIdpUserPool.to_json(racing)
        assert cognito.list_user_pools(MaxResults=5)["UserPools"][0]["Id"] == pool_id


def test_fixes_are_set_once_whatever_wraps_them_again() -> None:
    """apply() and the suite both set the fixes: wrapping the wrapper again changes nothing."""
    [(target, name, value)] = [f for f in moto_patches.fixes() if f[1] == "to_json"]
    assert getattr(target, name).domain_safe and moto_patches._pool_to_json(value) is value
    assert moto_patches.fixes()[0][1] == "get_authorizers"


def test_error_answers_share_one_lookup_factory_and_read_as_moto_s_own() -> None:
    """moto_patches.shared_error_lookups (a speedup): every error moto answers is looked up in
    one factory, moto's own; set twice, it is still that one."""
    from botocore.exceptions import ClientError
    from moto.core import errors

    shared = errors.ErrorLookupFactory  # the session sets moto_patches.speedups()
    assert shared() is shared()  # moto's class would make a new one each time
    assert type(shared()).__module__ == "moto.core.errors"
    assert type(shared()).__name__ == "ErrorLookupFactory"
    assert moto_patches.shared_error_lookups(shared)() is shared()
    missing = [
        ("cognito-idp", "describe_user_pool", {"UserPoolId": "us-west-2_none"}, "ResourceNotFoundException"),
        ("lambda", "get_function", {"FunctionName": "none"}, "ResourceNotFoundException"),
        ("iam", "get_role", {"RoleName": "none"}, "NoSuchEntity"),
    ]
    with mock_aws():
        for service, operation, params, code in missing:
            client = boto3.client(service, region_name="us-west-2")
            for _ in range(2):  # the second answer comes from the shared table
                with pytest.raises(ClientError) as caught:
                    getattr(client, operation)(**params)
                assert caught.value.response["Error"]["Code"] == code
