"""Issue 21, `authdemo test` with both halves: the REST doors' expectations, the rows the REST half
needs (signed out after a cached Allow, the cache flushed, a typo in the path), their `before`
steps, rendering rows that have cells in some columns only, `--route`, and the printed lines.

A fake gateway answers as AWS documents (the table below, written out independently of
authdemo/expectations.py so that a changed expectation fails here), through the real Prober,
run_matrix and judge; a fake clients object records the Cognito and API Gateway calls.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from rich.console import Console

from authdemo import console

U = {"message": "Unauthorized"}
MAT = {"message": "Missing Authentication Token"}
DENY = {"Message": "User is not authorized to access this resource with an explicit deny"}
NOALLOW = {"Message": "User is not authorized to access this resource"}
REST_COLUMNS = ("rest-protected", "rest-scoped", "rest-lambda", "rest-lambda-again", "rest-iam")
HTTP_COLUMNS = ("protected", "scoped", "lambda", "iam", "m2m")
# COMMON21's table: (status, body AWS documents or None) per REST door.
R = {
    "none": [(401, U), (401, U), (401, U), (401, U), (403, MAT)],
    "id": [(200, None), (401, U), (401, U), (401, U), (403, None)],
    "access": [(401, U), (200, None), (200, None), (403, NOALLOW), (403, None)],
    "tampered": [(401, U), (401, U), (401, U), (401, U), (403, None)],
    "student": [(401, U), (200, None), (403, DENY), (403, NOALLOW), (403, None)],
    "signed-up": [(401, U), (200, None), (403, DENY), (403, NOALLOW), (403, None)],
    "m2m": [(401, U), (401, U), (401, U), (401, U), (403, None)],
    "signed-out": [(401, U), (200, None), (200, None), (403, NOALLOW), (403, None)],
    "sigv4": [(401, U), (401, U), (401, U), (401, U), (200, None)],
}
WANT_REST = {row: dict(zip(REST_COLUMNS, cells, strict=True)) for row, cells in R.items()}
WANT_REST["flushed"] = {"rest-lambda": (401, U), "rest-lambda-again": (401, U)}
WANT_REST["typo"] = {"rest-protected": (403, MAT)}
# The HTTP doors (tests/test_matrix.py's WANT) and the typo's 404.
H = {
    "none": (401, 401, 401, 403, 401),
    "id": (200, 403, 403, 403, 403),
    "access": (200, 200, 200, 403, 403),
    "tampered": (401, 401, 403, 403, 401),
    "student": (200, 200, 403, 403, 403),
    "signed-up": (200, 200, 403, 403, 403),
    "m2m": (401, 401, 403, 403, 200),
    "signed-out": (200, 200, 403, 403, 403),
    "sigv4": (401, 401, 403, 200, 401),
}
WANT_HTTP: dict[str, dict[str, tuple[int, Any]]] = {
    row: {c: (s, U if s == 401 else None) for c, s in zip(HTTP_COLUMNS, statuses, strict=True)}
    for row, statuses in H.items()
}
WANT_HTTP["flushed"] = {}
WANT_HTTP["typo"] = {"protected": (404, {"message": "Not Found"})}
ROW_ORDER = ("none", "id", "access", "tampered", "student", "m2m", "signed-out", "flushed", "sigv4", "typo")

HTTP_BASE = "http://127.0.0.1:9/_aws/execute-api/httpapi"
REST_BASE = "http://127.0.0.1:9/_aws/execute-api/restapi1/demo"
TOKENS = {"id": "tok-id", "access": "tok-access", "tampered": "tok-tampered", "student": "tok-student"}
TOKENS |= {"m2m": "tok-m2m", "signed-out": "tok-session"}
USER = "demo@example.com"


def urls() -> dict[str, str]:
    from authdemo.expectations import PATHS

    return {
        r: (REST_BASE if r.startswith("rest-") else HTTP_BASE) + PATHS[r]
        for r in (*HTTP_COLUMNS, *REST_COLUMNS)
    }


class Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code, self.headers = status, {"content-type": "application/json"}
        self.text = json.dumps(body, separators=(",", ":"))

    def json(self) -> Any:
        return json.loads(self.text)


class FakeGateway:
    """Answers each request as the tables above say, from its token and path; the signed-out
    token counts as the flushed row once the stage's cache was flushed. `log` keeps every call."""

    def __init__(self, wrong: dict[tuple[str, str], tuple[int, Any]] | None = None) -> None:
        self.flushed = False
        self.log: list[str] = []
        self.wrong = wrong or {}
        self.rows = {v: k for k, v in TOKENS.items()}

    def get(self, url: str, headers: dict[str, str], timeout: float) -> Answer:
        path = urlsplit(url).path
        sent = headers.get("Authorization", "")
        self.log.append(f"GET {path} {sent}")
        base = REST_BASE if url.startswith(REST_BASE) else HTTP_BASE
        route = next((r for r, u in urls().items() if u == url), None)
        if route is None:  # the typo: /Protected
            rest = base == REST_BASE
            return Answer(403, MAT) if rest else Answer(404, {"message": "Not Found"})
        if sent.startswith("AWS4-HMAC-SHA256"):
            row = "sigv4"
        elif not sent:
            row = "none"
        else:
            row = self.rows[sent.removeprefix("Bearer ")]
            row = (
                "flushed" if row == "signed-out" and self.flushed and route.startswith("rest-lambda") else row
            )
        want = WANT_HTTP[row].get(route) or WANT_REST[row][route]
        status, body = self.wrong.get((row, route), want)
        if status == 200:
            body = {
                "message": "Hello from protected API!",
                "user": {"sigv4": "arn:aws:iam::1:user/x", "m2m": "m2m-client"}.get(row, USER),
            }
        elif body is None:
            body = (
                {"message": "Forbidden"}
                if not route.startswith("rest-")
                else {"message": "Authorization header requires 'Credential' parameter."}
            )
        return Answer(status, body)


class FakeClients:
    """`clients(service).operation(**kwargs)`: records the call in the gateway's log."""

    def __init__(self, gateway: FakeGateway, refuse: str = "") -> None:
        self.gateway, self.refuse = gateway, refuse

    def __call__(self, service: str) -> Any:
        gateway, refuse = self.gateway, self.refuse

        class Client:
            def __getattr__(self, operation: str) -> Any:
                def call(**kwargs: Any) -> dict[str, Any]:
                    from authdemo.errors import AuthdemoError

                    gateway.log.append(f"{service}.{operation} {sorted(kwargs.items())}")
                    if operation == refuse:
                        raise AuthdemoError(f"{operation} failed: AccessDeniedException: no")
                    if operation == "flush_stage_authorizers_cache":
                        gateway.flushed = True
                    return {}

                return call

        return Client()


def run_fake(
    gateway: FakeGateway, clients: FakeClients | None = None, routes: tuple[str, ...] = ()
) -> list[Any]:
    """The whole matrix (or `routes`' part of it) against the fake gateway, as lesson.test builds it."""
    from authdemo.checks import Prober
    from authdemo.matrix import Credential, flushing, rows_for, run_matrix, signing_out

    clients = clients or FakeClients(gateway)
    every = urls()
    chosen = {r: every[r] for r in (routes or every)}
    now = [0.0]  # a clock that moves only when the prober sleeps: retries take no real time
    prober = Prober(every["protected"], sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    prober.session = gateway  # type: ignore[assignment]
    made = {key: Credential(key, token, USER) for key, token in TOKENS.items()}
    made["none"] = Credential("none")
    made["tampered"].user = None
    made["m2m"].user = "m2m-client"
    made["sigv4"] = Credential("sigv4", sign=lambda url: {"Authorization": "AWS4-HMAC-SHA256 Credential=x"})
    made["typo"] = Credential("typo", path="/Protected")  # no token: REST would read one as SigV4
    made["signed-out"].before = signing_out(clients, TOKENS["signed-out"], prober, chosen.get("rest-lambda"))
    made["signed-out"].note_on = ("rest-lambda",)
    made["flushed"] = Credential("flushed", TOKENS["signed-out"], USER, note_on=("rest-lambda",))
    made["flushed"].before = flushing(clients, REST_BASE)
    made["flushed"].doing = "flush the stage's authorizer cache"
    cells, _ = run_matrix(prober, [made[k] for k in rows_for(tuple(chosen))], chosen, lambda _: None, 60.0)
    return cells


def test_every_cell_has_a_status_a_why_and_the_body_aws_documents() -> None:
    """expectations.EXPECTED is COMMON21's table: every row and door above, no more; each cell has
    a why; U, MAT, DENY and NOALLOW are asserted bodies, a bearer token's 403 at the IAM doors is
    not; `rest-lambda-again` implies `rest-lambda`; --compare's doors read the same table."""
    from authdemo.expectations import DOOR_NAMES, EXPECTED, IMPLIES, MATRIX_ROWS, which_token

    assert MATRIX_ROWS == ROW_ORDER
    for row in (*ROW_ORDER, "signed-up"):
        want = {**WANT_HTTP[row], **WANT_REST[row]}
        got = {route: (e.status, e.body) for route, e in EXPECTED[row].items()}
        assert got == want, row
        assert all(len(e.why.split()) >= 2 for e in EXPECTED[row].values()), row
    assert (
        EXPECTED["access"]["rest-lambda-again"].shown
        and "cache trap" in EXPECTED["access"]["rest-lambda-again"].why
    )
    assert "unverified" in EXPECTED["id"]["rest-scoped"].why
    assert IMPLIES == {"rest-lambda-again": "rest-lambda"}
    assert (
        DOOR_NAMES["rest-lambda-again"] == "REST /lambda/again"
        and DOOR_NAMES["protected"] == "HTTP /protected"
    )
    doors = {d["door"]: (d["id"], d["access"]) for d in which_token()}
    assert doors["HTTP /protected"] == (200, 200) and doors["REST /protected"] == (200, 401)
    assert doors["REST /scoped"] == (401, 200) and doors["REST /lambda"] == (401, 200)
    assert [d["door"] for d in which_token(rest=False)] == ["HTTP /protected", "HTTP /scoped", "HTTP /lambda"]


def test_the_matrix_with_both_halves_passes_against_a_gateway_that_answers_as_aws() -> None:
    """84 cells: the signed-out row primes REST /lambda (200, said in its reason) before
    GlobalSignOut, REST's cached door lets it in, HTTP's refuses; the flushed row flushes the
    stage (the REST API's id and stage read from the local URL form) and sends 2 cells only; the
    typo row 2 cells only, at /Protected; a 403 at REST's IAM door is recorded, not asserted."""
    gateway = FakeGateway()
    cells = run_fake(gateway)
    failed = [(c.credential.key, c.route, c.reason) for c in cells if not c.passed]
    assert failed == []
    assert len(cells) == 84
    by = {(c.credential.key, c.route): c for c in cells}
    assert {r for k, r in by if k == "flushed"} == {"rest-lambda", "rest-lambda-again"}
    assert {r for k, r in by if k == "typo"} == {"protected", "rest-protected"}
    assert by["typo", "rest-protected"].url == REST_BASE + "/Protected"
    assert "answered this token 200: its Allow is cached" in by["signed-out", "rest-lambda"].reason
    assert "emptied stage demo's authorizer cache" in by["flushed", "rest-lambda"].reason
    assert "answered" not in by["signed-out", "protected"].reason
    log = gateway.log
    primed = log.index("GET /_aws/execute-api/restapi1/demo/lambda Bearer tok-session")
    signed_out = log.index("cognito-idp.global_sign_out [('AccessToken', 'tok-session')]")
    flushed = log.index(
        "apigateway.flush_stage_authorizers_cache [('restApiId', 'restapi1'), ('stageName', 'demo')]"
    )
    assert primed < signed_out < flushed
    assert "Credential" in by["id", "rest-iam"].reason  # what API Gateway said, recorded


def test_a_wrong_body_fails_and_a_failed_before_step_says_which() -> None:
    """DENY with a lowercase "message" (the Knowledge Center's spelling) fails its cell; a flush
    refused fails the flushed row's cells, not sent, with the step's sentence; --route
    rest-lambda-again runs rest-lambda first, and no HTTP cell."""
    lower = {"message": DENY["Message"]}
    cells = run_fake(FakeGateway({("student", "rest-lambda"): (403, lower)}))
    (bad,) = [c for c in cells if not c.passed]
    assert (bad.credential.key, bad.route) == ("student", "rest-lambda")
    assert bad.reason.startswith('expected the body {"Message":"User is not authorized')
    gateway = FakeGateway()
    cells = run_fake(gateway, FakeClients(gateway, refuse="flush_stage_authorizers_cache"))
    refused = [c for c in cells if c.credential.key == "flushed"]
    assert [c.passed for c in refused] == [False, False]
    assert refused[0].reason.startswith("not sent: no signed-out, cache flushed (could not flush")
    from authdemo.matrix import parse_routes

    routes = parse_routes(["rest-lambda-again"])
    assert routes == ("rest-lambda", "rest-lambda-again")
    cells = run_fake(FakeGateway(), routes=routes)
    assert all(c.passed for c in cells) and {c.route for c in cells} == set(routes)
    assert [c.route for c in cells if c.credential.key == "access"] == ["rest-lambda", "rest-lambda-again"]


def test_route_parsing_and_rows() -> None:
    """--route takes the REST keys; protected alone is still the guide's four; rows without a
    cell in the chosen doors are left out; an unknown one names every door; the flush finds the
    REST API's id and stage in both invoke URL forms."""
    from authdemo.errors import UsageError
    from authdemo.matrix import parse_routes, rest_api_of, rows_for

    assert rest_api_of("https://a1b2c3.execute-api.eu-west-1.amazonaws.com/demo") == ("a1b2c3", "demo")
    assert rest_api_of("http://localhost:4566/_aws/execute-api/a1b2c3/demo") == ("a1b2c3", "demo")

    assert parse_routes(["protected,rest-iam"]) == ("protected", "rest-iam")
    assert rows_for(("protected",)) == ("none", "id", "access", "tampered")
    assert "flushed" not in rows_for(("iam", "rest-iam")) and "typo" not in rows_for(("iam",))
    assert rows_for(("protected", "rest-lambda"))[-3:] == ("flushed", "sigv4", "typo")
    with pytest.raises(UsageError, match="rest-lambda-again, rest-iam"):
        parse_routes(["rest-typo"])


@pytest.mark.parametrize("width", [120, 80])
def test_both_tables_fit_with_empty_cells_and_json_lists_only_the_cells_sent(
    monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """Two tables, HTTP then REST, the same rows where they have cells (the flushed row in REST's
    only; the typo's empty cells blank), a why list naming the API; they fit; JSON has only the
    cells that ran."""
    from authdemo.cli.tables import matrix_tables, row_tokens

    cells = run_fake(FakeGateway())
    out = Console(width=width, file=io.StringIO(), highlight=False)
    monkeypatch.setattr(console, "out", lambda: out)
    info = {"api_url": HTTP_BASE, "rest_api_url": REST_BASE}
    matrix_tables(info, cells, (*HTTP_COLUMNS, *REST_COLUMNS))
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert max(map(len, text.splitlines())) <= width
    flat = " ".join(re.sub(r"[\u2500-\u257f]", " ", text).split())  # box drawing: gone
    http, rest, why = flat.index("HTTP API"), flat.index("REST API"), flat.index("why cell reason")
    assert "(41 checks, all pass)" in flat[http:rest] and "(43 checks, all pass)" in flat[rest:why]
    assert "flushed" not in flat[http:rest] and "flushed" in flat[rest:why]
    assert not re.search(
        r"│ \d{3} +│", text[: text.index("\nwhy")]
    )  # a status never wraps away from its ✓: the labels fold
    assert "/lambda/again" in flat[rest:why] and "the cache trap" in flat[why:] and "REST" in flat[why:]
    typo = next(line for line in text[: text.index("REST API")].splitlines() if "mistyped" in line)
    assert typo.count("✓") == 1 and typo.count("│") == 7  # one cell, four empty ones
    doc = [c.as_dict(False, row_tokens(cells)) for c in cells]
    assert [(d["route"], d["status"]) for d in doc if d["credential"] == "flushed"] == [
        ("rest-lambda", 401),
        ("rest-lambda-again", 401),
    ]
    assert {d["credential"] for d in doc} == set(ROW_ORDER)


class Recorder(BaseHTTPRequestHandler):
    """API Gateway's FlushStageAuthorizersCache, as far as the aws CLI can tell: 202, no body."""

    seen: ClassVar[list[str]] = []

    def do_DELETE(self) -> None:
        Recorder.seen.append(f"DELETE {self.path} {self.headers.get('Authorization', '')[:16]}")
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_printed_lines_teach_the_cache_and_the_flush_line_works_when_pasted(tmp_path: Path) -> None:
    """The REST lines: the other token refused at each Cognito door, the cache trap, and last the
    access token let in after `token --sign-out` (its cached Allow), the flush (an aws line with
    the endpoint, region, id and stage), the same curl refused; the flush line, run by a shell,
    sends the signed DELETE AWS documents to the endpoint it names."""
    from authdemo.printed import test_commands

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    info = {"local": True, "port": 4599, "endpoint_url": endpoint, "region": "us-west-2"}
    info |= {"cli_flags": " --local", "rest_api_url": REST_BASE}
    lines = test_commands(info, run_fake(FakeGateway()))
    commands = [c for _, c in lines]
    text = "\n".join(f"# {c}\n{cmd}" for c, cmd in lines)
    flush = next(c for c in commands if c.startswith("aws apigateway flush-stage-authorizers-cache"))
    assert flush == (
        f"aws apigateway flush-stage-authorizers-cache --endpoint-url {endpoint} --region us-west-2 "
        "--rest-api-id restapi1 --stage-name demo"
    )
    cached = f"curl -s -w '\\n' -H \"Authorization: Bearer $ACCESS_TOKEN\" {REST_BASE}/lambda"
    order = [i for i, c in enumerate(commands) if c == cached]
    signing_out = commands.index("SIGNED_OUT_TOKEN=$(authdemo token --sign-out --local)")
    assert len(order) == 3 and order[0] < signing_out < order[1] < commands.index(flush) < order[2]
    assert commands.count('eval "$(authdemo local env --port 4599)"') == 1
    assert f"{REST_BASE}/lambda/again" in text and '403 {"Message":"User is not authorized' in text
    assert 'on REST /protected: 401 {"message":"Unauthorized"}' in text
    assert (
        f"{HTTP_BASE}/Protected" in text
        and 'mistyped path, no token on HTTP /Protected: 404 {"message":"Not Found"}' in text
    )
    assert "revoked by that sign-out, on REST /lambda: 200" in text and "asked again after the flush" in text
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE"}
    env |= {"AWS_SECRET_ACCESS_KEY": "secret", "HOME": str(tmp_path), "AWS_CONFIG_FILE": "/dev/null"}
    try:
        ran = subprocess.run(["bash", "-c", flush], env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert ran.returncode == 0, ran.stderr
    assert Recorder.seen == ["DELETE /restapis/restapi1/stages/demo/cache/authorizers AWS4-HMAC-SHA256"]
    assert not re.search(r"\$\{?[A-Z_]+\}?", flush)  # nothing the shell must have set


def test_the_token_page_says_which_door_takes_which_token() -> None:
    """With REST doors among its routes the page's table has the REST rows (ID token only without
    scopes, access token only with them) and buttons named for their API; without, HTTP's only."""
    import jwt as pyjwt

    from authdemo.login.page import render

    tokens = {
        kind: pyjwt.encode({"token_use": kind, "cognito:username": USER}, "k" * 32, algorithm="HS256")
        for kind in ("id", "access")
    }
    html = render(
        tokens,
        {"protected": HTTP_BASE + "/protected", **{r: u for r, u in urls().items() if "rest" in r}},
        "t",
    )
    which = html[html.index('<table id="which">') : html.index('<section id="routes">')]
    assert '<th scope="row">REST /protected</th><td class="id">200: takes it</td>' in which
    assert "401: a REST door without scopes wants an ID token" in which
    assert "only the ID token</strong>" in html and "<code>GET REST /lambda/again</code>" in html
    http_only = render(tokens, {"protected": HTTP_BASE + "/protected"}, "t")
    assert "REST /" not in http_only and '<th scope="row">HTTP /scoped</th>' in http_only


def test_a_door_still_failing_after_its_retries_is_not_retried_at_every_cell() -> None:
    """A door answering 500 after one cell's retries (an emulator's broken door, not the race after
    `up`) fails each of its cells with the 500, retried for the first cell only: ministack's REST
    Lambda doors once cost 5 s a cell."""
    broken = {(row, "rest-lambda"): (500, {"message": None}) for row in ROW_ORDER if row != "none"}
    gateway = FakeGateway(wrong=broken)
    cells = run_fake(gateway)
    lambda_cells = [c for c in cells if c.route == "rest-lambda" and c.credential.key != "none"]
    assert lambda_cells and all(c.status == 500 and not c.passed for c in lambda_cells)
    sent = [line for line in gateway.log if line.startswith("GET /_aws/execute-api/restapi1/demo/lambda ")]
    # the warm-up and the signed-out row's priming once each, every later cell once: the rest is
    # the first cell's retries (backoff within SETTLE_CAP: a handful, not one per cell)
    first_retries = len(sent) - 2 - (len(lambda_cells) - 1)
    assert 3 < first_retries < 10, len(sent)
    others = [c for c in cells if c.route != "rest-lambda" or c.credential.key == "none"]
    assert all(c.passed for c in others)
