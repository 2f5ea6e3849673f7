"""The suite's quick routing of in-process moto calls (quick_stubber) answers as moto does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
import quick_stubber
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber


def _new_api(gateway: Any) -> str:
    return str(gateway.create_api(Name="a", ProtocolType="HTTP")["ApiId"])


def _calls() -> list[tuple[str, Callable[[Any], Any]]]:
    """One call of each kind authdemo makes: query, JSON, REST paths with IDs, and errors."""
    return [
        ("sts", lambda c: c.get_caller_identity()["Account"]),
        ("iam", lambda c: c.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["RoleName"]),
        ("iam", lambda c: c.get_role(RoleName="nope")),
        ("logs", lambda c: c.create_log_group(logGroupName="/g") and sorted(c.describe_log_groups())),
        ("apigatewayv2", lambda c: c.get_routes(ApiId=_new_api(c))["Items"]),
        ("apigatewayv2", lambda c: c.get_api(ApiId="missing")),
        ("lambda", lambda c: c.list_functions()["Functions"]),
        ("lambda", lambda c: c.get_function(FunctionName="missing")),
        ("cognito-idp", lambda c: c.list_user_pools(MaxResults=5)["UserPools"]),
        ("cognito-idp", lambda c: c.describe_user_pool(UserPoolId="us-west-2_missing")),
    ]


def _answers() -> list[Any]:
    answers = []
    with mock_aws():
        for service, call in _calls():
            client = boto3.client(service, region_name="us-west-2")
            try:
                answers.append(call(client))
            except ClientError as exc:
                error = exc.response
                answers.append((error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]))
    return answers


def test_quick_routing_answers_every_kind_of_call_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    quick = _answers()
    assert any(isinstance(a, tuple) and a[1] == 404 for a in quick)  # errors went through too
    resolved = [url for url, hit in quick_stubber._RESOLVED.items() if hit is not None]
    assert any("apigateway" in u and "/routes" in u for u in resolved)
    monkeypatch.setattr(BotocoreStubber, "process_request", quick_stubber.MOTO_PROCESS_REQUEST)
    assert _answers() == quick


def test_a_url_moto_does_not_serve_goes_to_moto_itself() -> None:
    assert quick_stubber.resolve("https://example.invalid/") is None
    service, handler = quick_stubber.resolve("https://iam.amazonaws.com/") or ("", None)
    assert service == "iam" and callable(handler)
