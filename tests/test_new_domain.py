"""A Cognito prefix domain takes up to a minute to come online after `up` creates it
(docs/aws-notes.md, "Issue 11: polish"): `test` asks its token endpoint again within `--wait`,
`token --m2m` and `login` say in one sentence that the domain is new (exit 7). The unreachable
domain is simulated at the HTTP layer (`responses` raising the ConnectionError that requests
raises for a name that does not resolve); clocks and sleeps are injected, nothing sleeps long."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import responses
from conftest import TOKEN_URL, client_credentials_answer, free_port, run

from authdemo import app, m2m
from authdemo.aws import Target
from authdemo.errors import ExitCode
from authdemo.managed_login import Endpoints
from authdemo.oauth import NotAnswering
from authdemo.state import StateStore

NOT_RESOLVED = requests.ConnectionError(
    "HTTPSConnectionPool: Failed to resolve 'authdemo-x.auth.us-west-2.amazoncognito.com'"
)
BASE = "https://authdemo-x-0a1b2c3d.auth.us-west-2.amazoncognito.com"


def one_sentence(stderr: str) -> str:
    assert "Traceback" not in stderr and stderr.count("Error:") == 1, stderr
    return " ".join(stderr[stderr.index("Error:") :].split())


def unresolved_then_answering(mock: Any, failures: int | None) -> None:
    """The domain's token endpoint: `failures` connection errors first (None: never answers)."""
    mock.remove(responses.POST, TOKEN_URL)
    for _ in range(1 if failures is None else failures):
        mock.add(responses.POST, TOKEN_URL, body=NOT_RESOLVED)
    if failures is not None:
        mock.add_callback(responses.POST, TOKEN_URL, callback=client_credentials_answer)


class FakeClock:
    """Time that moves only when slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def recorded(tmp_path: Path) -> StateStore:
    store = StateStore.new(tmp_path / "s.json", stack="s", region="us-west-2")
    store.record("user_pool", id="us-west-2_pool")
    store.record("domain", id="authdemo-x-0a1b2c3d", url=BASE)
    store.record("m2m_client", id="m2mclient")
    return store


class StubClients:
    """DescribeUserPoolClient's answer, the secret's only reader (m2m.secret); on AWS (no endpoint)."""

    target = Target(region="us-west-2")

    def __call__(self, _service: str) -> Any:
        return SimpleNamespace(
            describe_user_pool_client=lambda **_: {"UserPoolClient": {"ClientSecret": "s3cret"}}
        )


CLIENTS: Any = StubClients()


def test_m2m_token_waits_for_a_new_domain_within_the_budget(
    recorded: StateStore, token_endpoint: Any
) -> None:
    """Two unresolved answers, then the token: backoff 0.25 s, 0.375 s, each wait reported."""
    token_endpoint.remove(responses.POST, TOKEN_URL)
    for _ in range(2):
        token_endpoint.add(responses.POST, TOKEN_URL, body=NOT_RESOLVED)
    token_endpoint.add(responses.POST, TOKEN_URL, json={"access_token": "tok", "token_type": "Bearer"})
    clock, waits = FakeClock(), []
    token, waited = m2m.token_when_ready(CLIENTS, recorded, 5.0, waits.append, clock.sleep, clock)
    assert token == "tok" and clock.slept == [0.25, 0.375] and waited == 0.625
    assert len(waits) == 2 and "Cognito domain not answering yet (ConnectionError)" in waits[0]


def test_m2m_token_gives_up_at_the_budget_with_one_sentence(
    recorded: StateStore, token_endpoint: Any
) -> None:
    """Never answering: asked until the next wait would pass the budget, then exit 7 saying why."""
    unresolved_then_answering(token_endpoint, None)
    clock = FakeClock()
    with pytest.raises(NotAnswering) as gone:
        m2m.token_when_ready(CLIENTS, recorded, 1.0, lambda _: None, clock.sleep, clock)
    assert clock.slept == [0.25, 0.375]  # a third wait (0.5625 s) would end past 1 s
    assert gone.value.code == ExitCode.UNREACHABLE
    message = gone.value.message
    assert "authdemo-x-0a1b2c3d.auth.us-west-2.amazoncognito.com does not answer yet" in message
    assert "retry in a minute" in message and "s3cret" not in message


def test_an_emulators_domain_is_not_waited_for(recorded: StateStore) -> None:
    """A domain on an emulator (127.0.0.1) that refuses: no retry, whatever the budget."""
    recorded.record("domain", url="http://127.0.0.1:9/_aws/cognito/authdemo-x-0a1b2c3d")
    clock = FakeClock()
    with pytest.raises(NotAnswering, match=re.escape("Nothing answers at http://127.0.0.1:9/")):
        m2m.token_when_ready(CLIENTS, recorded, 60.0, lambda _: None, clock.sleep, clock)
    assert clock.slept == []


def test_token_m2m_says_the_domain_is_new(moto: None, token_endpoint: Any) -> None:
    """`token --m2m` right after `up`: one sentence, exit 7, asked once."""
    assert run("up").exit_code == 0
    unresolved_then_answering(token_endpoint, None)
    result = run("token", "--m2m")
    assert result.exit_code == ExitCode.UNREACHABLE, result.output
    message = one_sentence(result.stderr)
    assert "does not answer yet" in message and "new domain" in message and "retry in a minute" in message
    assert result.stdout == "" and len(token_endpoint.calls) == 1


def test_login_says_the_domain_is_new_before_sending_a_browser(deployed: Path, token_endpoint: Any) -> None:
    """`login` asks the sign-in page first: no answer is one sentence, no URL to open, exit 7."""
    token_endpoint.add(
        responses.GET, re.compile(r"^https://.*\.amazoncognito\.com/oauth2/authorize"), body=NOT_RESOLVED
    )
    store = StateStore.load(deployed)
    assert store is not None
    store.set(callback_port=free_port())  # not 8400: another test's login may hold it
    result = run("login", "--no-browser", "--timeout", "1")
    assert result.exit_code == ExitCode.UNREACHABLE, result.output
    assert "does not answer yet" in one_sentence(result.stderr) and "oauth2/authorize?" not in result.output


def test_test_waits_for_the_domain_within_wait(server_env: Any, token_endpoint: Any) -> None:
    """`test` on a stack whose domain is on AWS and new: the M2M token is asked again until the
    domain answers (the row then passes); with nothing left of `--wait`, the M2M row fails saying
    why (one sentence), the other rows run, exit 3."""
    e = ("--endpoint-url", server_env.url, "--stack", "newdomain")
    assert run("up", *e).exit_code == 0
    try:
        path = app.state_path(app.Options(stack="newdomain"))
        data = json.loads(path.read_text())
        prefix = data["resources"]["domain"]["id"]
        base = f"https://{prefix}.auth.us-west-2.amazoncognito.com"
        data["resources"]["domain"].update(url=base, endpoints=Endpoints.under(base).record())
        path.write_text(json.dumps(data))
        unresolved_then_answering(token_endpoint, 1)
        result = run("test", *e, "--route", "m2m", "--output", "json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        m2m_cell = next(c for c in report["checks"] if c["credential"] == "m2m")
        assert m2m_cell["status"] == 200 and m2m_cell["result"] == "pass"
        assert len(token_endpoint.calls) == 2
        unresolved_then_answering(token_endpoint, None)
        gone = run("test", *e, "--route", "m2m", "--wait", "0", "--output", "json")
        assert gone.exit_code == ExitCode.CHECK_FAILED, gone.output
        checks = json.loads(gone.stdout)["checks"]
        failed = {c["credential"] for c in checks if c["result"] == "fail"}
        assert failed == {"m2m"} and "Traceback" not in gone.stderr
        assert all("retry in a minute" in c["reason"] for c in checks if c["credential"] == "m2m")
    finally:
        assert run("down", *e).exit_code == 0
