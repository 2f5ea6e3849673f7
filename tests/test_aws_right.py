"""Issue 8 section 6, "right on real AWS, not only on moto": ARNs and the issuer in the China
and GovCloud partitions, AddPermission's two kinds of ResourceConflictException, and `status`
reporting an error (not "missing") when AWS answers something other than "not found"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Faults, run

from authdemo.aws import Clients, Target
from authdemo.regions import partition
from authdemo.units import Context, MemoryRecords, Names, base
from authdemo.units.apigateway import Authorizer
from authdemo.units.awslambda import Permission
from authdemo.units.iam import RolePolicy

IN_PROGRESS = (
    "The operation cannot be performed at this time. An update is in progress for resource: "
    "arn:aws:lambda:us-west-2:123456789012:function:authdemo-authdemo-hello"
)
ALREADY_EXISTS = (
    "The statement id (authdemo-authdemo-invoke) provided already exists. Please provide a new "
    "statement id, or remove the existing statement."
)


def context(region: str) -> Context:
    arn_partition, dns_suffix = partition(region)
    return Context(
        clients=Clients(Target(region=region)),  # never called: the account is known
        records=MemoryRecords({"user_pool": {"id": f"{region}_AbC123xyz"}, "api": {"id": "a1b2c3"}}, {}),
        names=Names("authdemo"),
        region=region,
        partition=arn_partition,
        dns_suffix=dns_suffix,
        account_id="123456789012",
    )


@pytest.mark.parametrize(
    ("region", "arn_partition", "issuer_host"),
    [
        ("cn-north-1", "aws-cn", "cognito-idp.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", "aws-us-gov", "cognito-idp.us-gov-west-1.amazonaws.com"),
        ("us-west-2", "aws", "cognito-idp.us-west-2.amazonaws.com"),
    ],
)
def test_arns_and_issuer_follow_the_partition(region: str, arn_partition: str, issuer_host: str) -> None:
    """The role policy's log-group ARN, the invoke permission's source ARN and the issuer use
    the region's partition and DNS suffix (PutRolePolicy fails in us-gov-* with `arn:aws:`)."""
    ctx = context(region)
    document = json.loads(RolePolicy().document(ctx))
    log_group = (
        f"arn:{arn_partition}:logs:{region}:123456789012:log-group:/aws/lambda/authdemo-authdemo-hello"
    )
    assert document["Statement"][0]["Resource"] == [f"{log_group}:*", f"{log_group}:log-stream:*"]
    assert Permission().source_arn(ctx) == (
        f"arn:{arn_partition}:execute-api:{region}:123456789012:a1b2c3/*/GET/*"
    )
    assert Authorizer().issuer(ctx) == f"https://{issuer_host}/{region}_AbC123xyz"


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(base, "sleep", slept.append)
    return slept


def test_add_permission_in_progress_is_retried(moto: None, faults: Faults, no_sleep: list[float]) -> None:
    """ResourceConflictException "An update is in progress" twice, then success: `up` succeeds,
    and AddPermission was called four times (the two refusals, then each function's permission;
    the HTTP half only: `--no-rest`)."""
    faults.fail("lambda", "AddPermission", "ResourceConflictException", IN_PROGRESS, times=2)
    result = run("up", "--no-rest")
    assert result.exit_code == 0, result.output
    assert faults.count("AddPermission") == 4
    assert len(no_sleep) >= 2


def test_add_permission_statement_exists_is_not_retried(
    moto: None, faults: Faults, no_sleep: list[float]
) -> None:
    """ResourceConflictException "already exists": the statement is ours; one call per function's
    permission (the HTTP half only: `--no-rest`), no retry."""
    faults.fail("lambda", "AddPermission", "ResourceConflictException", ALREADY_EXISTS, times=5)
    result = run("up", "--no-rest")
    assert result.exit_code == 0, result.output
    assert faults.count("AddPermission") == 2


def test_status_reports_throttling_as_an_error_not_missing(moto: None, faults: Faults) -> None:
    """Only "not found" is missing: a ThrottlingException on a describe call fails `status` with
    one sentence naming the call."""
    assert run("up").exit_code == 0
    faults.fail("cognito-idp", "DescribeUserPool", "ThrottlingException", "Rate exceeded", times=100)
    result = run("status", "--output", "json")
    assert result.exit_code == 1, result.output
    assert result.stdout == "" and "missing" not in result.output
    error = " ".join(result.stderr.split())
    assert error.count("Error:") == 1 and "DescribeUserPool failed: ThrottlingException" in error
    assert "Traceback" not in result.output


def _enum_values(shape: Any, value: Any, path: str) -> Iterator[tuple[str, Any, list[str]]]:
    """(where, value, the model's enum) for every enum-typed value in `value` of `shape`."""
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, item in value.items():
            if name in shape.members:
                yield from _enum_values(shape.members[name], item, f"{path}.{name}")
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _enum_values(shape.member, item, f"{path}[{i}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from _enum_values(shape.value, item, f"{path}[{key}]")
    elif getattr(shape, "enum", None):
        yield path, value, list(shape.enum)


def test_every_enum_value_authdemo_sends_is_one_the_model_lists(faults: Faults, moto: None) -> None:
    """botocore does not check enums before sending; its model lists them. Every enum-typed value
    up, token and down send (auth and OAuth flows, runtime, architecture, feature plan, protocol,
    authorizer and integration types...) is one of AWS's, read from the model of the client."""
    sent: list[tuple[Any, dict[str, Any]]] = []
    faults.on("*", "provide-client-params", lambda model, params, **_: sent.append((model, dict(params))))
    for args in (("up",), ("token",), ("down",)):
        assert run(*args).exit_code == 0, args
    checked = [
        (f"{model.name}{where}", value, enum)
        for model, params in sent
        if model.input_shape is not None
        for where, value, enum in _enum_values(model.input_shape, params, "")
    ]
    assert {"CreateUserPool.UserPoolTier", "CreateFunction.Architectures[0]", "InitiateAuth.AuthFlow"} <= {
        c[0] for c in checked
    }
    assert [(where, value) for where, value, enum in checked if value not in enum] == []


def test_every_gone_code_is_an_error_a_service_of_authdemo_models() -> None:
    """NOT_FOUND_CODES is our choice of which error means "already gone"; each is an error code
    botocore's model of a service authdemo calls has (a typo would never match an answer)."""
    from conftest import plain_client

    from authdemo.aws import NOT_FOUND_CODES

    codes = set()
    for service in ("iam", "lambda", "logs", "cognito-idp", "apigatewayv2"):
        for shape in plain_client(service).meta.service_model.error_shapes:
            codes.add(shape.metadata.get("error", {}).get("code", shape.name))
    assert sorted(NOT_FOUND_CODES - codes) == []
