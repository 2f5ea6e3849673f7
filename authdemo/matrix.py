"""`authdemo test`, the running and judging: every credential against every door (issues 10
and 21); what each door should answer, and why, is in expectations.py.

The signed-out row runs after every other token row: GlobalSignOut revokes every token the user
was issued before it. Its `before` first sends the session's token to REST's `/lambda` once (the
Lambda authorizer's Allow is cached), then signs out; the flushed row's `before` empties the
stage's authorizer cache (FlushStageAuthorizersCache) and sends the same token again. The M2M row
and the `/m2m` column need the stack's domain and M2M client (issue 11), the REST columns the
stack's REST API (issue 21): `test` leaves them out, with a note, on a stack without them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .checks import HELLO, SETTLE_CAP, SETTLE_FIX, SETTLE_STATUSES, Prober, body_of
from .errors import AuthdemoError, ExitCode
from .expectations import (
    DOOR_NAMES,
    EXPECTED,
    GUIDE_ROWS,
    IMPLIES,
    LABELS,
    MATRIX_ROWS,
    PATHS,
    REST_DOORS,
    REST_STAGE,
    ROUTES,
)
from .expectations import ROWS as ROWS  # re-exported: `authdemo --help` counts them
from .expectations import SIGNED_UP as SIGNED_UP
from .tokens import shorten

Tokens = dict[str, "str | None"]  # every row's token, by row key
#: Rows whose tokens look alike once shortened (a tampered token keeps its header and signature).
LOOKALIKE = {"tampered": "id", "id": "tampered", "given-tampered": "given", "given": "given-tampered"}


@dataclass
class Credential:
    """One row: what is sent, and how a presenter gets it by hand."""

    key: str
    token: str | None = None  # sent as `Authorization: Bearer`
    user: str | None = None  # whom a 200 must echo (None: an IAM caller ARN)
    sign: Callable[[str], dict[str, str]] | None = None  # SigV4: url -> headers
    #: Run just before the row (sign out, flush); what it returns is said in the reason of the
    #: row's cells in `note_on` (e.g. the priming answer of REST /lambda).
    before: Callable[[], str] | None = None
    doing: str = "sign the session out"  # what `before` does, for the sentence when it fails
    note_on: tuple[str, ...] = ()
    note: str = ""
    path: str | None = None  # sent to this path instead of the door's (the typo row)
    missing: str = ""  # why it could not be had: its cells fail with this, nothing is sent
    title: str = ""  # the label, when it names someone (the signed-up user)

    @property
    def label(self) -> str:
        return self.title or LABELS[self.key]


@dataclass
class Cell:
    credential: Credential
    route: str
    url: str
    expected_status: int
    status: int | None = None
    body: Any = None
    text: str = ""  # the body as the API sent it
    headers: dict[str, str] = field(default_factory=dict)
    passed: bool = False
    reason: str = ""
    seconds: float = 0.0

    @property
    def shown(self) -> bool:
        """Worth a line in the "why" list: every failure, and the cells the lesson is about."""
        return not self.passed or EXPECTED[self.credential.key][self.route].shown

    def as_dict(self, show_token: bool = False, tokens: Tokens | None = None) -> dict[str, Any]:
        """The cell for JSON; `tokens` (every row's, by key) shows where look-alike ones differ."""
        return {
            "credential": self.credential.key,
            "route": self.route,
            "expected_status": self.expected_status,
            "status": self.status,
            "body": self.body,
            "result": "pass" if self.passed else "fail",
            "reason": self.reason,
            **token_fields(self.credential, show_token, tokens or {}),
        }


def token_fields(credential: Credential, show: bool, tokens: Tokens) -> dict[str, str | None]:
    """A row's token for JSON: in full under `token` (with --show-token; None without one), else
    under `token_shortened`, so that a key named `token` never holds anything but the token."""
    token = credential.token
    if token is None or show:
        return {"token": token}
    return {"token_shortened": shown_token(credential, tokens)}


def shown_token(credential: Credential, tokens: Tokens) -> str:
    """The row's token shortened, beside its look-alike (LOOKALIKE) so that both show where they differ."""
    return shorten(credential.token or "", tokens.get(LOOKALIKE.get(credential.key, "")))


def rows_for(routes: Sequence[str]) -> tuple[str, ...]:
    """The rows for these columns: with `protected` alone, the guide's four; else every row that
    has a cell in one of them (`flushed` only with a REST Lambda door, `typo` with a /protected)."""
    if tuple(routes) == ("protected",):
        return GUIDE_ROWS
    return tuple(row for row in MATRIX_ROWS if any(route in EXPECTED[row] for route in routes))


def parse_routes(values: Sequence[str]) -> tuple[str, ...]:
    """`--route protected --route iam` or `--route protected,rest-iam`; in the doors' order, with
    the door a chosen one needs (IMPLIES: `rest-lambda-again` needs `rest-lambda` first)."""
    wanted = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(ROUTES))
    if unknown:
        from .errors import UsageError

        raise UsageError(f"Unknown route {', '.join(unknown)}: choose from {', '.join(ROUTES)}.")
    wanted |= {IMPLIES[r] for r in wanted if r in IMPLIES}
    return tuple(r for r in ROUTES if r in wanted) or ROUTES


def rest_api_of(rest_api_url: str) -> tuple[str, str]:
    """(restApiId, stage) of a REST invoke URL: `https://<id>.execute-api.<region>.<suffix>/<stage>`
    or `<endpoint>/_aws/execute-api/<id>/<stage>` (the two forms invoke_url.py makes)."""
    parts = urlsplit(rest_api_url)
    path = [p for p in parts.path.split("/") if p]
    if path[:2] == ["_aws", "execute-api"] and len(path) >= 4:
        return path[2], path[3]
    return (parts.hostname or "").split(".")[0], path[0] if path else REST_STAGE


def signing_out(
    clients: Any, token: str, prober: Prober | None = None, prime_url: str | None = None
) -> Callable[[], str]:
    """The signed-out row's `before`: with `prime_url` (REST /lambda), one GET with the session's
    token first, so that the authorizer's Allow is cached (its answer is the note); then
    GlobalSignOut, which revokes the token for Cognito, not for a cached policy."""
    from .tokens import sign_out

    def before() -> str:
        note = ""
        if prober is not None and prime_url:
            try:
                status = prober.get(token, prime_url).status_code
                cached = "its Allow is cached" if status == 200 else "no Allow to cache"
                note = f"before the sign-out REST /lambda answered this token {status}: {cached}"
            except prober.requests.RequestException as exc:
                note = f"before the sign-out REST /lambda gave no answer ({type(exc).__name__})"
        sign_out(clients, token)
        return note

    return before


def flushing(clients: Any, rest_api_url: str) -> Callable[[], str]:
    """The flushed row's `before`: FlushStageAuthorizersCache on the REST API's stage, so that
    the authorizer is asked again (and GetUser refuses the revoked token)."""
    api_id, stage = rest_api_of(rest_api_url)

    def before() -> str:
        clients("apigateway").flush_stage_authorizers_cache(restApiId=api_id, stageName=stage)
        return f"FlushStageAuthorizersCache emptied stage {stage}'s authorizer cache first"

    return before


def run_matrix(
    prober: Prober,
    credentials: Sequence[Credential],
    urls: dict[str, str],
    on_wait: Callable[[str], None],
    wait_bound: float = 120.0,
) -> tuple[list[Cell], float]:
    """Warm up (the token-less request until 401), then every credential against every route in
    `urls` it has a cell for, row by row, each row's `before` first. Returns the cells and the
    warm-up seconds. A door still answering 500/503 after a cell's retries is not a race that
    settles (an emulator's, or a broken door): its later cells are not retried again."""
    started = prober.clock()
    waited = prober.wait_ready(wait_bound, on_wait, list(urls.values()))
    cells = []
    stuck: set[str] = set()
    for credential in credentials:
        expected = EXPECTED[credential.key]
        if credential.before is not None and not credential.missing:
            try:
                credential.note = credential.before() or ""
            except AuthdemoError as exc:
                if exc.code == ExitCode.INTERRUPTED:
                    raise
                credential.missing = f"could not {credential.doing}: {exc.message}"
        for route, url in urls.items():
            if route not in expected:
                continue
            if credential.path:
                url = url.removesuffix(PATHS[route]) + credential.path
            cell = Cell(credential, route, url, expected[route].status)
            if credential.missing:
                cell.reason = f"not sent: no {credential.label} ({credential.missing})"
            else:
                left = wait_bound - (prober.clock() - started)  # --wait bounds the retries too
                # a 404 is retried (a route not live yet) unless it is the answer expected
                settle = 0.0 if route in stuck else min(SETTLE_CAP, left)
                probe(prober, cell, settle, 0.0 if cell.expected_status == 404 else left)
                if cell.status in SETTLE_STATUSES and cell.expected_status not in SETTLE_STATUSES:
                    stuck.add(route)
                if credential.note and route in credential.note_on:
                    cell.reason += f" ({credential.note})"
            cells.append(cell)
    return cells, waited


def obtain(key: str, make: Callable[[], Credential]) -> Credential:
    """The credential `make` builds, or, when it cannot be had (a sign-in or token endpoint that
    refuses or does not answer), one whose row fails and says why: one credential never stops
    the matrix (Ctrl-C does)."""
    try:
        return make()
    except AuthdemoError as exc:
        if exc.code == ExitCode.INTERRUPTED:
            raise
        return Credential(key, missing=exc.message)


def probe(prober: Prober, cell: Cell, retry_for: float, not_found_for: float = 0.0) -> None:
    """Send the cell's request (a 500/503 retried for `retry_for` s, a 404 for `not_found_for` s:
    a route not live yet) and judge the answer."""
    credential = cell.credential
    began = time.monotonic()
    detail = ""
    try:
        headers = credential.sign(cell.url) if credential.sign else None
        response = prober.get_settled(credential.token, retry_for, cell.url, headers, not_found_for)
        cell.status, cell.body, cell.text = response.status_code, body_of(response), response.text
        cell.headers = dict(response.headers)
        if cell.status in SETTLE_STATUSES:
            detail = SETTLE_FIX
    except prober.requests.RequestException as exc:
        detail = f"no answer: {type(exc).__name__}"
    except AuthdemoError as exc:  # e.g. no AWS credentials to sign with
        if exc.code == ExitCode.INTERRUPTED:
            raise
        detail = f"not sent: {exc.message}"
    cell.seconds = time.monotonic() - began
    judge(cell, detail)


def judge(cell: Cell, detail: str = "") -> None:
    """PASS when the status is the expected one and, where AWS documents it, the body too."""
    want, why = EXPECTED[cell.credential.key][cell.route][:2]
    if cell.status is None:
        cell.reason = detail or "no answer"
        return
    if cell.status != want:
        said = detail or answered_why(cell)
        cell.reason = f"expected {want} ({why}), got {cell.status}" + (f": {said}" if said else "")
        return
    problem = body_problem(cell)
    if problem:
        cell.reason = f"{problem}; got {as_sent(cell)}"
        return
    cell.passed = True
    answered = answered_why(cell)
    cell.reason = f"{answered}; {why}" if answered and cell.status == 403 else answered or why


def body_problem(cell: Cell) -> str:
    """What is wrong with the body of an answer of the expected status ("" when nothing): the
    expectation's body where AWS documents one; a 200 must be the backend's, echoing the user."""
    expected = EXPECTED[cell.credential.key][cell.route].body
    if expected is not None:
        return "" if cell.body == expected else f"expected the body {compact(expected)}"
    if cell.status != 200:
        return ""  # not documented (an HTTP API's 403s, REST's IAM door): recorded, not asserted
    body = cell.body if isinstance(cell.body, dict) else {}
    user = body.get("user")
    wanted = cell.credential.user
    if body.get("message") != HELLO:
        return f"expected the message {HELLO!r}"
    if wanted is None:
        if not (isinstance(user, str) and user.startswith("arn:")):
            return "expected the backend to echo the caller's ARN"
    elif user != wanted:
        return f"expected the user {wanted!r}"
    return ""


def compact(body: Any) -> str:
    """A body as API Gateway sends it: JSON without spaces."""
    import json

    return json.dumps(body, separators=(",", ":"))


def answered_why(cell: Cell) -> str:
    """The reason the answer itself gives: `www-authenticate`'s error_description (and the scope
    a 403 wants), or whom the backend says it let in; "" when the answer says nothing."""
    header = {k.lower(): v for k, v in cell.headers.items()}.get("www-authenticate", "")
    described = re.search(r'error_description="([^"]*)"', header)
    if described:
        scope = re.search(r'(?:^|[ ,])scope="([^"]+)"', header)
        return described.group(1) + (f" (wants {scope.group(1)})" if scope and cell.status == 403 else "")
    body = cell.body if isinstance(cell.body, dict) else {}
    if cell.status == 200 and cell.route in ("iam", "rest-iam") and body.get("user"):
        return f"caller {body['user']}"
    if cell.status == 200 and cell.route.removeprefix("rest-").startswith("lambda"):
        decision = body.get("lambda")
        if isinstance(decision, dict):
            return f"authorizer let {decision.get('username')} in (groups: {decision.get('groups')})"
    said = body.get("message") or body.get("Message")
    if (
        cell.route in REST_DOORS
        and cell.status == 403
        and EXPECTED[cell.credential.key][cell.route].body is None
    ):
        return f"API Gateway said {said!r}" if isinstance(said, str) else ""  # recorded, not asserted
    return ""


def as_sent(cell: Cell, limit: int = 80) -> str:
    """The body as the API sent it (never parsed and written again), cut at `limit` with "…"."""
    return cell.text if len(cell.text) <= limit else cell.text[: limit - 1] + "…"


def door_of(cell: Cell) -> str:
    """`REST /lambda/again`: the API and the path the cell was sent to (the typo row's own)."""
    api, path = DOOR_NAMES[cell.route].split(" ", 1)
    return f"{api} {cell.credential.path or path}"


def cell_text(cell: Cell) -> str:
    """`200 ✓`, `401 ✗ (want 200)`, `- ✗ (no answer)`."""
    got = str(cell.status) if cell.status is not None else "-"
    if cell.passed:
        return f"{got} ✓"
    if cell.status is not None:
        return f"{got} ✗ (want {cell.expected_status})"
    return f"{got} ✗ (not sent)" if cell.reason.startswith("not sent") else f"{got} ✗ (no answer)"


def expected_text(cell: Cell) -> str:
    """What a pasted curl line should print, for its comment."""
    expect = EXPECTED[cell.credential.key][cell.route]
    if expect.body is not None:
        return f"{expect.status} {compact(expect.body)}"
    if expect.status == 200:
        who = cell.credential.user or "the caller's ARN"
        return f"200 user={who}"
    return str(expect.status)
