"""The client factory (aws.Clients): what makes a command's first AWS call leave early.

A command builds the client its first call needs, then the others in the background
(`prefetch`) while that call is in flight. These tests slow builds down through CLIENT_HOOKS
(which run inside each build) and check who waits for what; no timing is asserted.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import botocore.loaders
import pytest
from botocore.exceptions import UnknownServiceError

from authdemo import aws, botodata


def _target(region: str = "eu-north-1") -> aws.Target:
    """A target no other test builds for, so nothing comes from the process-wide cache."""
    return aws.Target(region=region, endpoint_url=f"http://127.0.0.1:9/{time.monotonic_ns()}")


def test_a_client_is_handed_over_as_soon_as_it_is_built(monkeypatch) -> None:
    """The thread that needs sts gets it while `prefetch` builds the next client, not after:
    the build lock is not fair, and waiting on it once cost the first call 0.1-0.2 s."""
    events: list[str] = []

    def slow_after_sts(service: str, client: Any) -> None:
        if service != "sts":
            time.sleep(0.15)
        events.append(f"built {service}")

    monkeypatch.setattr(aws, "CLIENT_HOOKS", [*aws.CLIENT_HOOKS, slow_after_sts])
    clients = aws.Clients(_target())
    clients.check_credentials()
    background = clients.prefetch(["sts", "iam", "lambda"])
    sts = clients("sts")
    events.append("got sts")
    assert sts.service == "sts"
    assert clients("lambda").service == "lambda"  # waits for the background build, then has it
    background.join(10)
    assert events == ["built sts", "got sts", "built iam", "built lambda"], events


def test_a_build_that_fails_fails_for_every_thread_and_never_hangs(monkeypatch) -> None:
    """A client the background thread could not build is built (and fails) again by the thread
    that needs it: same error, no deadlock, and a later call tries again."""
    attempts: list[str] = []

    def broken_lambda(service: str, client: Any) -> None:
        if service == "lambda":
            attempts.append(threading.current_thread().name)
            time.sleep(0.05)
            raise RuntimeError("lambda's model is broken")

    monkeypatch.setattr(aws, "CLIENT_HOOKS", [*aws.CLIENT_HOOKS, broken_lambda])
    clients = aws.Clients(_target())
    background = clients.prefetch(["lambda"])
    for _ in range(2):
        with pytest.raises(RuntimeError, match="broken"):
            clients("lambda")
    background.join(10)
    assert sorted(attempts) == ["MainThread", "MainThread", "authdemo-clients"], attempts


def test_after_prefetch_runs_once_the_clients_are_built(monkeypatch) -> None:
    """aws.AFTER_PREFETCH (the CLI imports rich there) runs in the background, after the clients."""
    order: list[str] = []
    done = threading.Event()
    monkeypatch.setattr(aws, "CLIENT_HOOKS", [*aws.CLIENT_HOOKS, lambda service, _: order.append(service)])
    monkeypatch.setattr(aws, "AFTER_PREFETCH", [lambda: (order.append("warm"), done.set())])
    aws.Clients(_target()).prefetch(["iam", "logs"]).join(10)
    assert done.is_set()
    assert order == ["iam", "logs", "warm"]


def test_the_model_loader_knows_what_botocores_knows() -> None:
    """authdemo's loader skips botocore's census of every service folder: the same names are
    known, and an unknown one still gets botocore's own error."""
    ours = botodata._loader_class()()
    theirs = botocore.loaders.create_loader()
    assert ours.list_available_services("service-2") == theirs.list_available_services("service-2")
    assert ours.load_service_model("iam", "service-2") == theirs.load_service_model("iam", "service-2")
    with pytest.raises(UnknownServiceError):
        ours.load_service_model("no-such-service", "service-2")


def test_the_default_region_follows_the_config_file_and_the_environment(tmp_path, monkeypatch) -> None:
    """The region read once per process is read again when what it comes from changes: the
    config file's content, the profile, an AWS_* variable."""
    config = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert aws.default_region(None) is None
    config.write_text("[default]\nregion = eu-west-1\n[profile other]\nregion = ap-south-1\n")
    assert aws.default_region(None) == "eu-west-1"
    assert aws.default_region("other") == "ap-south-1"
    config.write_text("[default]\nregion = eu-central-1\n")
    assert aws.default_region(None) == "eu-central-1"
    assert aws.default_region("other") is None  # a missing profile: no region, not an error
    monkeypatch.setenv("AWS_DEFAULT_REGION", "sa-east-1")
    assert aws.default_region(None) == "sa-east-1"


def test_a_client_is_built_with_the_hooks_its_cache_key_names(monkeypatch) -> None:
    """CLIENT_HOOKS changing while a client is built (a background build of one test running on
    while the next one's fixtures swap the hooks) cannot cache a client without the hooks its
    key names, which every later command would then use (blind to the suite's fault hooks)."""
    seen: list[str] = []

    def first(service: str, _: Any) -> None:
        aws.CLIENT_HOOKS.clear()  # the swap, in the middle of the build

    def second(service: str, _: Any) -> None:
        seen.append(service)

    hooks = [first, second]
    monkeypatch.setattr(aws, "CLIENT_HOOKS", hooks)
    target = _target()
    aws.Clients(target)("sts")
    assert seen == ["sts"]
    monkeypatch.setattr(aws, "CLIENT_HOOKS", [first, second])
    aws.Clients(target)("sts")  # the cached client, which was built with both hooks
    assert seen == ["sts"]


def test_the_cli_waits_for_background_builds_before_it_exits(monkeypatch, moto: None) -> None:
    """A command that ends while `prefetch` still builds (or imports rich) lets it finish before
    Python finalizes: a daemon thread cut off mid-import can crash the interpreter."""
    from authdemo import cli

    finished = threading.Event()

    def slow_warm() -> None:
        time.sleep(0.3)
        finished.set()

    monkeypatch.setattr(aws, "AFTER_PREFETCH", [slow_warm])
    with pytest.raises(SystemExit):
        cli.main(["down", "--stack", "settles"])  # nothing recorded: ends at once
    assert finished.is_set()
    assert aws._BACKGROUND == []
