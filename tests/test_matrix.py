"""Issue #10: `authdemo test` sends every credential to every door of the embedded gateway
(over real HTTP) and judges each cell; a mis-configured door fails its cells with exit 3."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import run, run_json, server_client
from rich.console import Console

from authdemo import console

# What each door answers (docs/aws-notes.md, "Three doors, three keys"), written out here
# independently of authdemo/matrix.py so that a changed expectation there fails this test.
WANT = {
    "none": {"protected": 401, "scoped": 401, "lambda": 401, "iam": 403, "m2m": 401},
    "id": {"protected": 200, "scoped": 403, "lambda": 403, "iam": 403, "m2m": 403},
    "access": {"protected": 200, "scoped": 200, "lambda": 200, "iam": 403, "m2m": 403},
    "tampered": {"protected": 401, "scoped": 401, "lambda": 403, "iam": 403, "m2m": 401},
    "student": {"protected": 200, "scoped": 200, "lambda": 403, "iam": 403, "m2m": 403},
    "m2m": {"protected": 401, "scoped": 401, "lambda": 403, "iam": 403, "m2m": 200},
    "signed-out": {"protected": 200, "scoped": 200, "lambda": 403, "iam": 403, "m2m": 403},
    "sigv4": {"protected": 401, "scoped": 401, "lambda": 403, "iam": 200, "m2m": 401},
    "typo": {"protected": 404},  # no token, at /Protected
}
# The REST doors (issue 21; tests/test_rest_matrix.py has their bodies), when the stack has them.
REST = ("rest-protected", "rest-scoped", "rest-lambda", "rest-lambda-again", "rest-iam")
WANT_REST = {
    "none": dict(zip(REST, (401, 401, 401, 401, 403), strict=True)),
    "id": dict(zip(REST, (200, 401, 401, 401, 403), strict=True)),
    "access": dict(zip(REST, (401, 200, 200, 403, 403), strict=True)),
    "tampered": dict(zip(REST, (401, 401, 401, 401, 403), strict=True)),
    "student": dict(zip(REST, (401, 200, 403, 403, 403), strict=True)),
    "m2m": dict(zip(REST, (401, 401, 401, 401, 403), strict=True)),
    "signed-out": dict(zip(REST, (401, 200, 200, 403, 403), strict=True)),
    "flushed": {"rest-lambda": 401, "rest-lambda-again": 401},
    "sigv4": dict(zip(REST, (401, 401, 401, 401, 200), strict=True)),
    "typo": {"rest-protected": 403},
}
KEYS = {"credential", "route", "expected_status", "status", "body", "result", "reason", "token"}


@pytest.fixture
def stack(server_env: Any) -> Iterator[tuple[str, ...]]:
    """A deployed stack on the shared embedded server, deleted afterwards."""
    e = ("--endpoint-url", server_env.url, "--stack", "matrix")
    assert run("up", *e).exit_code == 0
    yield e
    assert run("down", *e).exit_code == 0


def _cells(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["credential"], c["route"]): c for c in report["checks"]}


def test_the_whole_matrix_passes_offline_twice(stack: tuple[str, ...]) -> None:
    """41 HTTP cells (and the REST API's 43 when the stack has one; else a note says why not),
    each the status AWS documents and PASS; the signed-out row's JWT doors stay open while the
    Lambda door is closed; the M2M token passes /m2m only; a second run signs in again and passes."""
    rest = bool(run_json("status", *stack).get("rest_routes"))
    want = {
        row: {**WANT.get(row, {}), **(WANT_REST.get(row, {}) if rest else {})} for row in {*WANT, *WANT_REST}
    }
    for _ in range(2):
        result = run("test", *stack, "--output", "json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)  # exactly one document
        keys = {"passed", "api_url", "rest_api_url", "waited", "checks", "claims"}
        assert set(report) == keys | (set() if rest else {"skipped"}) and report["passed"]
        assert rest or report["skipped"].startswith("No REST columns or rows: this stack has no REST API")
        cells = _cells(report)
        assert len(report["checks"]) == sum(map(len, want.values())) == (84 if rest else 41)
        for (credential, route), cell in cells.items():
            # the token in full only with --show-token, else as `token_shortened` (no token: null)
            shown = "token" if credential in ("none", "sigv4", "typo") else "token_shortened"
            assert set(cell) == KEYS - {"token"} | {shown}
            assert cell["expected_status"] == want[credential][route], (credential, route)
            assert cell["status"] == want[credential][route], (credential, route, cell)
            assert cell["result"] == "pass" and cell["reason"], (credential, route)
    assert cells["sigv4", "iam"]["body"]["user"].startswith("arn:aws:iam::")
    assert cells["sigv4", "iam"]["reason"].startswith("caller arn:")
    assert cells["access", "lambda"]["body"]["lambda"]["groups"] == "presenters"
    assert cells["student", "protected"]["body"]["user"] == "student@example.com"
    assert "cannot see revocation" in cells["signed-out", "scoped"]["reason"]
    assert "revoked" in cells["signed-out", "lambda"]["reason"]
    assert "aws.cognito.signin.user.admin" in cells["id", "scoped"]["reason"]
    assert cells["none", "lambda"]["body"] == {"message": "Unauthorized"}
    assert cells["tampered", "protected"]["reason"] == "the token signature is invalid"
    client_id = run_json("status", *stack)["m2m_client_id"]
    assert cells["m2m", "m2m"]["body"]["user"] == client_id
    assert cells["m2m", "m2m"]["body"]["scopes"] == ["authdemo/read"]
    assert cells["m2m", "protected"]["reason"] == "the token does not have a valid audience"
    assert "wants authdemo/read" in cells["id", "m2m"]["reason"]
    assert "wants authdemo/read" in cells["access", "m2m"]["reason"]


def test_route_protected_is_the_guides_four_checks(stack: tuple[str, ...]) -> None:
    """`--route protected`: no token, ID, access, tampered on /protected only; other lists too."""
    report = run_json("test", *stack, "--route", "protected")
    assert [(c["credential"], c["route"]) for c in report["checks"]] == [
        ("none", "protected"),
        ("id", "protected"),
        ("access", "protected"),
        ("tampered", "protected"),
    ]
    two = run_json("test", *stack, "--route", "iam,scoped")
    assert {c["route"] for c in two["checks"]} == {"scoped", "iam"} and len(two["checks"]) == 16
    assert two["passed"]
    bad = run("test", *stack, "--route", "door")
    assert bad.exit_code == 2 and "Unknown route door" in bad.stderr


def test_a_misconfigured_door_fails_its_cells_with_exit_3(server_env: Any, stack: tuple[str, ...]) -> None:
    """/scoped made to want another scope (through the embedded AWS's API): the access and
    student rows fail there, with the gateway's reason; everything else still passes."""
    api_id = run_json("status", *stack)["api_url"].rstrip("/").split("/")[-1]
    apigw = server_client(server_env, "apigatewayv2")
    route = next(r for r in apigw.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "GET /scoped")
    apigw.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationScopes=["email"])
    result = run("test", *stack, "--output", "json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    failed = {(c["credential"], c["route"]): c for c in report["checks"] if c["result"] == "fail"}
    assert set(failed) == {("access", "scoped"), ("student", "scoped"), ("signed-out", "scoped")}
    reason = failed["access", "scoped"]["reason"]
    assert reason.startswith("expected 200 (") and "got 403: " in reason and "wants email" in reason
    text = run("test", *stack)
    assert text.exit_code == 3
    assert "403 ✗ (want" in text.stdout and "FAIL" in text.stdout and "3 FAIL" in text.stdout


def test_text_matrix_and_printed_lines(stack: tuple[str, ...]) -> None:
    """The text output: one row per credential, one column per door, why, and curl lines."""
    text = run("test", *stack).stdout
    for label in ("no credential", "student's access token", "signed-out access token", "SigV4-signed"):
        assert label in text
    assert "/protected" in text and "/m2m" in text and "41 checks, all pass" in text
    assert "M2M_TOKEN=$(authdemo token --m2m" in text and "M2M token" in text
    assert "STUDENT_TOKEN=$(authdemo token --user student --access" in text
    assert "curl -s -w '\\n' --aws-sigv4 \"aws:amz:us-west-2:execute-api\"" in text
    assert text.index("SIGNED_OUT_TOKEN=") > text.index("--aws-sigv4")  # signing out comes last


@pytest.mark.parametrize("width", [80, 60])
def test_matrix_tables_fit_and_keep_words_whole(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """At 80 and 60 columns the matrix and its why list fit, and no word is cut."""
    from authdemo.cli.tables import matrix_tables
    from authdemo.matrix import ROWS, Cell, Credential, judge

    narrow = Console(width=width, file=io.StringIO(), highlight=False)
    monkeypatch.setattr(console, "out", lambda: narrow)
    cells = []
    for key in ROWS:
        for route in ("protected", "scoped", "lambda", "iam", "m2m"):
            user = None if key == "sigv4" else "demo@example.com"
            cell = Cell(Credential(key, user=user), route, "u", WANT[key][route])
            cell.status = 403 if (key, route) == ("access", "scoped") else WANT[key][route]
            cell.body = {"message": "Hello from protected API!", "user": "demo@example.com"}
            if cell.status == 401:
                cell.body = {"message": "Unauthorized"}
            if key == "sigv4" and route == "iam":
                cell.body = {"message": "Hello from protected API!", "user": "arn:aws:iam::1:user/x"}
            judge(cell)
            cells.append(cell)
    matrix_tables(
        {"api_url": "https://abc.execute-api.us-west-2.amazonaws.com"},
        cells,
        ("protected", "scoped", "lambda", "iam", "m2m"),
    )
    out = narrow.file.getvalue()
    assert max(map(len, out.splitlines())) <= width
    assert "✗" in out and "(want" in out and "FAIL" in out
    words = {w for c in cells for w in f"{c.credential.label} {c.reason}".split() if c.shown}
    printed = set(re.sub(r"[│┃]", " ", out).split())
    assert words <= printed, words - printed


def test_sign_request_signs_for_execute_api() -> None:
    """aws.sign_request: a SigV4 Authorization for execute-api in the region, with the key."""
    from authdemo import aws

    target = aws.Target(region="eu-west-1", local=True, access_key="AKIDEXAMPLE", secret_key="secret")
    headers = aws.sign_request(aws.Clients(target), "GET", "https://x.example/iam", "eu-west-1")
    assert re.match(
        r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/eu-west-1/execute-api/aws4_request, "
        r"SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}$",
        headers["Authorization"],
    )
    assert re.match(r"\d{8}T\d{6}Z$", headers["X-Amz-Date"])


def test_a_function_created_again_gets_fresh_workers() -> None:
    """The embedded runtime keys warm workers by the function's configuration too: a function
    deleted and created again under its name with another USER_POOL_ID (as `down` then `up`
    does) must not reuse a worker started with the old environment."""
    from types import SimpleNamespace

    from authdemo.local.runtime import FunctionRuntime

    def fn(pool: str) -> Any:
        return SimpleNamespace(
            function_arn="arn:aws:lambda:us-west-2:123456789012:function:authz",
            handler="authorizer.handler",
            run_time="python3.12",
            environment_vars={"USER_POOL_ID": pool, "GROUP": "presenters"},
        )

    old, new = FunctionRuntime._identity(fn("us-west-2_old")), FunctionRuntime._identity(fn("us-west-2_new"))
    assert old != new and old.startswith("arn:aws:lambda:")
    assert FunctionRuntime._identity(fn("us-west-2_old")) == old  # same configuration: same workers
