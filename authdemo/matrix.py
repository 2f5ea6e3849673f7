"""`authdemo test`, the expectations: every credential against every door (issue #10).

Each cell is one request: a credential (row) sent to a route (column). What each door answers
is taken from docs/aws-notes.md ("Three doors, three keys"; AWS's documentation wins): a JWT
authorizer checks signature, issuer, audience/client_id, expiry and scopes, never revocation; the
Lambda (REQUEST) authorizer is not invoked without an Authorization header (401), else it lets
in only an access token Cognito's GetUser accepts whose user is in `presenters` (else 403, no
header); the AWS_IAM door wants a SigV4 signature (else 403). Where AWS documents no body (the
403s), the status is asserted and the body recorded.

The signed-out row runs last: GlobalSignOut revokes every token the user was issued before it.
The M2M row (a client-credentials token) and the `/m2m` column (scope `authdemo/read`) need the
stack's domain and M2M client (issue 11): `test` leaves both out, with a note, on an older stack.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .checks import HELLO, SETTLE_CAP, SETTLE_FIX, SETTLE_STATUSES, UNAUTHORIZED, Prober, body_of
from .errors import AuthdemoError, ExitCode
from .stack import DOORS
from .tokens import shorten

ROUTES = DOORS
GUIDE_ROWS = ("none", "id", "access", "tampered")  # the guide's short table (`--route protected`)
ROWS = (*GUIDE_ROWS, "student", "m2m", "signed-out", "sigv4")
#: The ninth row, after the student's, only while `authdemo login` keeps the tokens of a user who
#: signed up on managed login (issue 20): neither of the stack's two users, so not in `presenters`.
SIGNED_UP = "signed-up"
#: What needs the stack's domain and M2M client (issue 11); a stack made before has neither.
M2M_ROW = M2M_ROUTE = "m2m"
LABELS = {
    "none": "no credential",
    "id": "ID token",
    "access": "access token",
    "tampered": "tampered ID token",
    "student": "student's access token",
    SIGNED_UP: "signed-up user's access token",  # Credential.title names the user
    "signed-out": "signed-out access token",
    "sigv4": "SigV4-signed request",
    "given": "your token",  # `test --token` / `--token-command` (external_issuer.py)
    "given-tampered": "your token, tampered",
    "m2m": "M2M token",  # client credentials: no user, the client itself
}
Tokens = dict[str, "str | None"]  # every row's token, by row key
#: Rows whose tokens look alike once shortened (a tampered token keeps its header and signature).
LOOKALIKE = {"tampered": "id", "id": "tampered", "given-tampered": "given", "given": "given-tampered"}
GROUP = "presenters"
SCOPE = "aws.cognito.signin.user.admin"
NOT_SIGNED = "not SigV4-signed: the IAM door wants a signature, not a bearer token"
REVOKED_YET_OPEN = "revoked by GlobalSignOut, yet let in: a JWT authorizer cannot see revocation"
M2M_SCOPE = "authdemo/read"
NO_M2M_SCOPE = f"valid for the M2M authorizer (its audience has both clients) but no {M2M_SCOPE} scope"
NOT_USER_AUDIENCE = "its client_id is the M2M client, not in this authorizer's audience"

# (expected status, why, shown in the "why" list even when it passes)
Expect = tuple[int, str, bool]
EXPECTED: dict[str, dict[str, Expect]] = {
    "none": {
        "protected": (401, "no token", True),
        "scoped": (401, "no token", False),
        "lambda": (401, "no Authorization header: the authorizer is not invoked", True),
        "iam": (403, "not SigV4-signed", False),
        "m2m": (401, "no token", False),
    },
    "id": {
        "protected": (200, "valid ID token", False),
        "scoped": (403, "an ID token has no scope claim", True),
        "lambda": (403, "GetUser needs an access token: the authorizer refuses an ID token", True),
        "iam": (403, NOT_SIGNED, False),
        "m2m": (403, f"an ID token has no scope claim, so not {M2M_SCOPE}", True),
    },
    "access": {
        "protected": (200, "valid access token", False),
        "scoped": (200, f"carries the scope {SCOPE}", False),
        "lambda": (200, f"GetUser accepts it and the user is in {GROUP}", True),
        "iam": (403, NOT_SIGNED, False),
        "m2m": (403, NO_M2M_SCOPE, True),
    },
    "tampered": {
        "protected": (401, "the signature no longer matches the edited claims", True),
        "scoped": (401, "the signature no longer matches the edited claims", False),
        "lambda": (403, "GetUser refuses it (not a valid access token)", False),
        "iam": (403, NOT_SIGNED, False),
        "m2m": (401, "the signature no longer matches the edited claims", False),
    },
    "student": {
        "protected": (200, "valid token: any user of the pool", False),
        "scoped": (200, f"carries the scope {SCOPE}", False),
        "lambda": (403, f"not in group {GROUP}", True),
        "iam": (403, NOT_SIGNED, False),
        "m2m": (403, NO_M2M_SCOPE, False),
    },
    SIGNED_UP: {
        "protected": (200, "valid token: a user who signed up is a user of the pool", False),
        "scoped": (200, f"managed login's code grant gave it the scope {SCOPE}", False),
        "lambda": (403, f"signed up, so not in group {GROUP}", True),
        "iam": (403, NOT_SIGNED, False),
        "m2m": (403, NO_M2M_SCOPE, False),
    },
    "m2m": {
        "protected": (401, NOT_USER_AUDIENCE, True),
        "scoped": (401, NOT_USER_AUDIENCE, False),
        "lambda": (403, "GetUser needs a user's access token: a client-credentials token has no user", True),
        "iam": (403, NOT_SIGNED, False),
        "m2m": (200, f"client credentials with the scope {M2M_SCOPE}", True),
    },
    "signed-out": {
        "protected": (200, REVOKED_YET_OPEN + " (valid until exp)", True),
        "scoped": (200, REVOKED_YET_OPEN, True),
        "lambda": (403, "token revoked: GetUser refuses it", True),
        "iam": (403, NOT_SIGNED, False),
        "m2m": (403, NO_M2M_SCOPE, False),
    },
    "sigv4": {
        "protected": (401, "a signature is not a JWT", False),
        "scoped": (401, "a signature is not a JWT", False),
        # The Authorization header is present (the signature), so the authorizer IS invoked
        # (docs/aws-notes.md b: 401 only when the identity source is missing); GetUser refuses.
        "lambda": (403, "a signature is not an access token: GetUser refuses it", False),
        "iam": (200, "signed for execute-api", True),
        "m2m": (401, "a signature is not a JWT", False),
    },
    # `test --token`: only /protected, the JWT door any issuer's stack has.
    "given": {"protected": (200, "signature, iss, aud and exp check out", True)},
    "given-tampered": {"protected": (401, "the signature no longer matches the edited claims", True)},
}


@dataclass
class Credential:
    """One row: what is sent, and how a presenter gets it by hand."""

    key: str
    token: str | None = None  # sent as `Authorization: Bearer`
    user: str | None = None  # whom a 200 must echo (None: an IAM caller ARN)
    sign: Callable[[str], dict[str, str]] | None = None  # SigV4: url -> headers
    before: Callable[[], None] | None = None  # run just before the row (GlobalSignOut)
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
        return not self.passed or EXPECTED[self.credential.key][self.route][2]

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
    """The rows for these columns: with `protected` alone, the guide's four."""
    return GUIDE_ROWS if tuple(routes) == ("protected",) else ROWS


def parse_routes(values: Sequence[str]) -> tuple[str, ...]:
    """`--route protected --route iam` or `--route protected,iam`; in the doors' order."""
    wanted = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(ROUTES))
    if unknown:
        from .errors import UsageError

        raise UsageError(f"Unknown route {', '.join(unknown)}: choose from {', '.join(ROUTES)}.")
    return tuple(r for r in ROUTES if r in wanted) or ROUTES


def run_matrix(
    prober: Prober,
    credentials: Sequence[Credential],
    urls: dict[str, str],
    on_wait: Callable[[str], None],
    wait_bound: float = 120.0,
) -> tuple[list[Cell], float]:
    """Warm up (the token-less request until 401), then every credential against every route in
    `urls`, row by row, each row's `before` first. Returns the cells and the warm-up seconds."""
    started = prober.clock()
    waited = prober.wait_ready(wait_bound, on_wait, list(urls.values()))
    cells = []
    for credential in credentials:
        if credential.before is not None and not credential.missing:
            try:
                credential.before()
            except AuthdemoError as exc:
                if exc.code == ExitCode.INTERRUPTED:
                    raise
                credential.missing = f"could not sign the session out: {exc.message}"
        for route, url in urls.items():
            cell = Cell(credential, route, url, EXPECTED[credential.key][route][0])
            if credential.missing:
                cell.reason = f"not sent: no {credential.label} ({credential.missing})"
            else:
                left = wait_bound - (prober.clock() - started)  # --wait bounds the retries too
                probe(prober, cell, min(SETTLE_CAP, left), left)
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
    want, why, _ = EXPECTED[cell.credential.key][cell.route]
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
    """What is wrong with the body of an answer of the expected status ("" when nothing)."""
    if cell.status == 401 and cell.body != UNAUTHORIZED:
        return f"expected the body {UNAUTHORIZED}"
    if cell.status != 200:
        return ""  # a 403's body is not documented for HTTP APIs: recorded, not asserted
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


def answered_why(cell: Cell) -> str:
    """The reason the answer itself gives: `www-authenticate`'s error_description (and the scope
    a 403 wants), or whom the backend says it let in; "" when the answer says nothing."""
    header = {k.lower(): v for k, v in cell.headers.items()}.get("www-authenticate", "")
    described = re.search(r'error_description="([^"]*)"', header)
    if described:
        scope = re.search(r'(?:^|[ ,])scope="([^"]+)"', header)
        return described.group(1) + (f" (wants {scope.group(1)})" if scope and cell.status == 403 else "")
    body = cell.body if isinstance(cell.body, dict) else {}
    if cell.status == 200 and cell.route == "iam" and body.get("user"):
        return f"caller {body['user']}"
    if cell.status == 200 and cell.route == "lambda" and isinstance(body.get("lambda"), dict):
        decision = body["lambda"]
        return f"authorizer let {decision.get('username')} in (groups: {decision.get('groups')})"
    return ""


def as_sent(cell: Cell, limit: int = 80) -> str:
    """The body as the API sent it (never parsed and written again), cut at `limit` with "…"."""
    return cell.text if len(cell.text) <= limit else cell.text[: limit - 1] + "…"


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
    if cell.expected_status == 401:
        return '401 {"message":"Unauthorized"}'
    if cell.expected_status == 200:
        who = cell.credential.user or "the caller's ARN"
        return f"200 user={who}"
    return "403"
