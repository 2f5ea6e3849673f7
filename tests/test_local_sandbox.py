"""Function code in the embedded AWS, tried as an attacker would (issue 20, findings 7 and 9):
a function uploaded through the real API tries to read the presenter's files, and a burst of
requests tries to leave workers behind. Loopback only, standard library on the attacker's side."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import server_client, zipped

from authdemo import paths
from authdemo.local import sandbox
from authdemo.local.server import EmbeddedServer
from authdemo.login import store
from authdemo.stack import Options, state_path

REGION = "us-west-2"
ACCOUNT = "123456789012"
INTERNAL_ERROR = {"message": "Internal Server Error"}
PRELOAD = "/nonexistent/authdemo-preload.so"

ATTACKER = """
import json, os, socket

def peek(event, context):
    targets = json.loads(event["body"])
    files = {}
    for path in targets["files"]:
        try:
            with open(path, "rb") as handle:
                files[path] = "read:" + handle.read(4096).decode("latin-1")
        except OSError as exc:
            files[path] = "denied:" + str(exc.strerror)
    try:
        listing = os.listdir(targets["home"])
    except OSError as exc:
        listing = "denied:" + str(exc.strerror)
    def writes(path):
        try:
            with open(path, "w") as handle:
                handle.write("planted")
            return True
        except OSError:
            return False
    return {
        "files": files,
        "listing": listing,
        "env": dict(os.environ),
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "home_writable": writes(os.path.join(os.environ.get("HOME", "/nonexistent"), "scratch")),
        "code_writable": writes(os.path.join(os.getcwd(), "planted.py")),
    }

def hold(event, context):
    port = int(event["queryStringParameters"]["port"])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"in")
        sock.recv(1)
    return {"pid": os.getpid(), "home": os.environ.get("HOME")}
"""


class Gateway:
    """One embedded AWS (publishing its key, as `authdemo local start` does) with an HTTP API
    whose open routes run the attacker's functions, all made through the real API."""

    def __init__(self, server: EmbeddedServer) -> None:
        self.server = server
        self.runtime = server.gateway.execute_api.runtime  # type: ignore[union-attr]
        suffix = uuid.uuid4().hex[:8]
        iam, lam = server_client(server, "iam", REGION), server_client(server, "lambda", REGION)
        gw = server_client(server, "apigatewayv2", REGION)
        role = iam.create_role(
            RoleName=f"attacker-{suffix}",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        self.api = gw.create_api(Name="attacker", ProtocolType="HTTP")["ApiId"]
        code = zipped("attacker.py", ATTACKER)
        for name, route, extra in (
            # A variable the dynamic loader acts on, before any sandbox could.
            ("peek", "POST /peek", {"Environment": {"Variables": {"LD_PRELOAD": PRELOAD}}}),
            ("hold", "GET /hold", {"Timeout": 30}),
            ("none", "GET /none", {"Timeout": 30}),
        ):
            arn = lam.create_function(
                FunctionName=f"{name}-{suffix}",
                Runtime="python3.12",
                Role=role,
                Handler=f"attacker.{'hold' if name == 'none' else name}",
                Code={"ZipFile": code},
                **extra,
            )["FunctionArn"]
            target = gw.create_integration(
                ApiId=self.api, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
            )["IntegrationId"]
            gw.create_route(ApiId=self.api, RouteKey=route, Target=f"integrations/{target}")
            lam.add_permission(
                FunctionName=arn,
                StatementId="apigw",
                Action="lambda:InvokeFunction",
                Principal="apigateway.amazonaws.com",
                SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{self.api}/*/*/*",
            )
        # As on AWS, a reserved concurrency of 0 throttles every invocation of the function.
        lam.put_function_concurrency(FunctionName=f"none-{suffix}", ReservedConcurrentExecutions=0)
        gw.create_stage(ApiId=self.api, StageName="$default", AutoDeploy=True)

    def url(self, path: str) -> str:
        return f"{self.server.url}/_aws/execute-api/{self.api}{path}"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = EmbeddedServer(port=0, quiet=True, publish=True).start()
    try:
        yield Gateway(server)
    finally:
        server.stop()


class Latch:
    """A loopback port the `hold` function connects to and blocks on until `release()`: the test
    knows exactly how many invocations are running, with no sleep."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(20)
        self.port = int(self.sock.getsockname()[1])
        self.held: list[socket.socket] = []

    def wait_for(self, count: int) -> None:
        while len(self.held) < count:
            conn, _ = self.sock.accept()
            conn.recv(2)
            self.held.append(conn)

    def release(self) -> None:
        for conn in self.held:
            conn.sendall(b"x")
            conn.close()
        self.held.clear()
        self.sock.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_function_code_cannot_read_the_presenters_files(gateway: Gateway) -> None:
    """Finding 7: a function reads none of AUTHDEMO_HOME (the server's key, the issuer's private
    key, the state file's password, the kept tokens) where the kernel has Landlock, and finds no
    secret in its environment; it writes only its own private HOME."""
    home = paths.home()
    state = state_path(Options())
    state.write_text(json.dumps({"password": "Presenter-Pass-1!"}))
    tokens = store.tokens_path(state)
    tokens.write_text(json.dumps({"refresh": "kept-refresh-token"}))
    files = [str(home / "local-credentials.json"), str(home / "local-issuer.json"), str(state), str(tokens)]
    files.append(f"/proc/{os.getpid()}/environ")  # the server's own process
    assert all(Path(f).exists() for f in files)  # the attacker's targets are there to be read

    response = requests.post(gateway.url("/peek"), json={"files": files, "home": str(home)}, timeout=30)
    assert response.status_code == 200, response.text
    seen = response.json()

    if sandbox.abi() >= 1:  # what the README promises where Landlock exists
        assert all(value.startswith("denied:") for value in seen["files"].values()), seen["files"]
        assert str(seen["listing"]).startswith("denied:")
        assert seen["code_writable"] is False  # its code (and other functions') stays as uploaded
        assert gateway.runtime.sandbox == f"Landlock ABI {sandbox.abi()}"
    else:  # and what it says elsewhere: no file sandbox
        assert seen["files"][str(state)].startswith("read:")
        assert gateway.runtime.sandbox is None
    secret = gateway.server.credentials.secret_key
    assert not any(secret in value for value in seen["env"].values())
    secret_names = ("AUTHDEMO", "AWS_SECRET", "AWS_ACCESS", "AWS_SESSION")
    assert not [k for k in seen["env"] if k.startswith(secret_names)]
    private = Path(seen["env"]["HOME"])
    assert private != Path.home() and seen["env"]["TMPDIR"] == str(private)
    assert seen["home_writable"] is True
    gateway.server.stop()
    assert not private.exists()  # the private HOME goes with its worker


def test_function_code_cannot_read_the_presenters_aws_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the kernel has Landlock, a function reads neither `~/.aws/credentials` nor
    `~/.aws/config` of the presenter who started the server (HOME here: a directory of the test's)."""
    if sandbox.abi() < 1:
        pytest.skip("no Landlock here: the README promises no file sandbox")
    presenter = tmp_path / "presenter"
    (presenter / ".aws").mkdir(parents=True)
    files = [str(presenter / ".aws" / name) for name in ("credentials", "config")]
    for name in files:
        Path(name).write_text("[default]\naws_secret_access_key = presenter-secret\n")
    monkeypatch.setenv("HOME", str(presenter))
    server = EmbeddedServer(port=0, quiet=True, publish=True).start()
    try:
        response = requests.post(
            Gateway(server).url("/peek"), json={"files": files, "home": str(presenter)}, timeout=30
        )
    finally:
        server.stop()
    assert response.status_code == 200, response.text
    seen = response.json()
    assert all(value.startswith("denied:") for value in seen["files"].values()), seen["files"]
    assert str(seen["listing"]).startswith("denied:")


def test_the_server_log_says_which_sandbox_applies(
    gateway: Gateway, capfd: pytest.CaptureFixture[str]
) -> None:
    """At the first worker the server's log (stderr) says whether function code runs under
    Landlock or can read every file the presenter can, as the README promises."""
    response = requests.post(gateway.url("/peek"), json={"files": [], "home": "/nonexistent"}, timeout=30)
    assert response.status_code == 200, response.text
    log = capfd.readouterr().err
    if sandbox.abi() >= 1:
        assert f"function code runs under Landlock ABI {sandbox.abi()}" in log, log
    else:
        assert "function code runs without a file sandbox" in log and "every file you can" in log, log


def test_the_functions_variables_arrive_only_inside_the_sandbox(gateway: Gateway) -> None:
    """Finding 7: a function's own variables (LD_PRELOAD, ...) are not in its worker's process
    environment, where the loader would act on them before the sandbox; the handler sees them."""
    response = requests.post(gateway.url("/peek"), json={"files": [], "home": "/"}, timeout=30)
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["env"]["LD_PRELOAD"] == PRELOAD
    started_with = Path(f"/proc/{seen['pid']}/environ").read_bytes().split(b"\0")
    assert not [v for v in started_with if v.startswith(b"LD_PRELOAD=")]
    assert not [v for v in started_with if v.startswith(b"AWS_")]  # nor the rest of Lambda's


def test_a_burst_beyond_a_functions_concurrency_is_throttled(gateway: Gateway) -> None:
    """Finding 9: with the function at its concurrency, one more request is throttled (Lambda's
    429 TooManyRequestsException, API Gateway's 500) and starts no worker; a function whose
    reserved concurrency is 0 is always throttled."""
    gateway.runtime.concurrency = 2
    latch = Latch()
    hold = gateway.url(f"/hold?port={latch.port}")
    with ThreadPoolExecutor(max_workers=2) as pool:
        running = [pool.submit(requests.get, hold, timeout=30) for _ in range(2)]
        try:
            latch.wait_for(2)  # two invocations hold the function's two slots
            extra = requests.get(hold, timeout=5)
            assert extra.status_code == 500 and extra.json() == INTERNAL_ERROR
            assert len(gateway.runtime.workers()) == 2  # and no third worker was started
        finally:
            latch.release()
        assert [f.result().status_code for f in running] == [200, 200]
    throttled = requests.get(gateway.url("/none?port=1"), timeout=30)
    assert throttled.status_code == 500 and throttled.json() == INTERNAL_ERROR


def test_idle_workers_are_reaped(gateway: Gateway) -> None:
    """Finding 9: the workers a burst started are stopped (and their private HOMEs removed) once
    idle for the runtime's idle timeout; nothing is left running."""
    gateway.runtime.idle_seconds = 0.5
    latch = Latch()
    hold = gateway.url(f"/hold?port={latch.port}")
    with ThreadPoolExecutor(max_workers=3) as pool:
        running = [pool.submit(requests.get, hold, timeout=30) for _ in range(3)]
        try:
            latch.wait_for(3)
        finally:
            latch.release()
        answers = [f.result() for f in running]
    assert [a.status_code for a in answers] == [200, 200, 200]
    workers: list[dict[str, Any]] = [a.json() for a in answers]
    assert len({w["pid"] for w in workers}) == 3  # three concurrent invocations, three workers
    deadline = time.monotonic() + 20
    while any(_alive(w["pid"]) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w["pid"] for w in workers if _alive(w["pid"])]
    assert not [w["home"] for w in workers if Path(w["home"]).exists()]
    assert gateway.runtime.workers() == []
