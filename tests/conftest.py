"""Shared fixtures: fake credentials, a private AUTHDEMO_HOME, moto, the embedded server, and
helpers to run the CLI and to inject AWS faults beside moto (see shared/aws-facts.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner, Result
from moto import mock_aws

from authdemo import aws
from authdemo.cli import cli


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `aws` need a real account: they run only with `pytest -m aws`."""
    if "aws" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="needs a real AWS account; run with `pytest -m aws`")
    for item in items:
        if "aws" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch) -> Iterator[None]:
    """No test sees the developer's AWS config, credentials, state or endpoint."""
    home = tmp_path / "authdemo-home"
    monkeypatch.setenv("AUTHDEMO_HOME", str(home))
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "AUTHDEMO_PASSWORD",
        "AUTHDEMO_STACK",
        "AWS_REGION",
        "AUTHDEMO_DEBUG",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setattr(aws, "CLIENT_HOOKS", [])
    yield


@pytest.fixture
def moto() -> Iterator[None]:
    """In-process moto (no HTTP): for up/down/status flows that need no gateway."""
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def server() -> Iterator[Any]:
    """The embedded AWS + gateway on 127.0.0.1:<free port>, shared by the session."""
    from authdemo.local.server import EmbeddedServer

    srv = EmbeddedServer(port=0, quiet=True).start()
    yield srv
    srv.stop()


@pytest.fixture
def server_env(server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The process's AWS credentials are the embedded server's (for `--endpoint-url server.url`)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.credentials.secret_key)
    return server


def server_client(server: Any, service: str, region: str = "us-west-2") -> Any:
    """A boto3 client signed with the embedded server's own credentials."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=server.credentials.access_key,
        aws_secret_access_key=server.credentials.secret_key,
    )


def run(*args: str, input: str | None = None) -> Result:
    """Invoke the CLI in-process; stdout and stderr stay apart (data vs progress)."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def run_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--output", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def aws_error(code: str, message: str = "", status: int = 400) -> tuple[AWSResponse, dict[str, Any]]:
    """What a `before-call` handler returns to make botocore raise this modelled error."""
    return (
        AWSResponse("https://aws.invalid", status, {}, None),
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
    )


class Faults:
    """Registers botocore event handlers on every client authdemo builds."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._handlers: list[tuple[str, str, Callable[..., Any], bool]] = []
        aws.CLIENT_HOOKS.append(self._hook)

    def _hook(self, service: str, client: Any) -> None:
        client.meta.events.register("provide-client-params", self._count)
        for event, svc, handler, first in self._handlers:
            if svc == service or svc == "*":
                if first:
                    client.meta.events.register_first(event, handler)
                else:
                    client.meta.events.register(event, handler)

    def _count(self, model: Any, **_: Any) -> None:
        """Every API call made (before any fault handler can answer it)."""
        self.calls.append(model.name)

    def on(self, service: str, event: str, handler: Callable[..., Any], first: bool = False) -> None:
        """e.g. on("lambda", "before-call.lambda.CreateFunction", handler)."""
        self._handlers.append((event, service, handler, first))

    def fail(
        self, service: str, operation: str, code: str, message: str = "", times: int = 1, status: int = 400
    ) -> list[int]:
        """Make `operation` fail with `code` for its first `times` calls; returns a counter."""
        seen = [0]

        def handler(**_: Any) -> Any:
            seen[0] += 1
            if seen[0] <= times:
                return aws_error(code, message, status)
            return None

        self.on(service, f"before-call.{service}.{operation}", handler)
        return seen

    def count(self, operation: str) -> int:
        return self.calls.count(operation)


@pytest.fixture
def faults() -> Faults:
    return Faults()


def leftovers(
    region: str = "us-west-2", endpoint_url: str | None = None, credentials: Any = None
) -> dict[str, list[str]]:
    """Everything authdemo could have left behind, listed service by service.

    `credentials` (an embedded server's) sign the calls; else the environment's are used."""
    import boto3

    kw: dict[str, Any] = {"region_name": region}
    if endpoint_url:
        kw["endpoint_url"] = endpoint_url
    if credentials is not None:
        kw["aws_access_key_id"] = credentials.access_key
        kw["aws_secret_access_key"] = credentials.secret_key
    cognito = boto3.client("cognito-idp", **kw)
    found = {
        "user_pools": [p["Name"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"]],
        "apis": [a["Name"] for a in boto3.client("apigatewayv2", **kw).get_apis()["Items"]],
        "functions": [f["FunctionName"] for f in boto3.client("lambda", **kw).list_functions()["Functions"]],
        "roles": [r["RoleName"] for r in boto3.client("iam", **kw).list_roles()["Roles"]],
        "log_groups": [
            g["logGroupName"] for g in boto3.client("logs", **kw).describe_log_groups()["logGroups"]
        ],
    }
    return {k: v for k, v in found.items() if v}


class TtySys:
    """cli.py's view of `sys` with a terminal on stdin and/or stdout (CliRunner has none)."""

    class _Tty:
        def __init__(self, stream: Any) -> None:
            self._stream = stream

        def isatty(self) -> bool:
            return True

        def __getattr__(self, name: str) -> Any:
            return getattr(self._stream, name)

    def __init__(self, stdin: bool = False, stdout: bool = False) -> None:
        self._stdin, self._stdout = stdin, stdout

    def __getattr__(self, name: str) -> Any:
        value = getattr(sys, name)
        if (name == "stdin" and self._stdin) or (name == "stdout" and self._stdout):
            return self._Tty(value)
        return value
