"""`authdemo test`, the expectations: what every door answers every credential, and why.

Each cell is one request: a credential (row) sent to a door (column). The HTTP API's doors are
`protected, scoped, lambda, iam, m2m`; the REST API's (issue 21) `rest-protected, rest-scoped,
rest-lambda, rest-lambda-again, rest-iam`. What each answers is taken from AWS's documentation
(docs/aws-notes.md, "Three doors, three keys" and "REST API (issue 21): the test matrix"; AWS
wins): an HTTP JWT authorizer takes an ID or an access token and checks scopes (403); a REST
Cognito user pool authorizer takes an ID token on a door without scopes and an access token on a
door with them (401 otherwise); the HTTP Lambda authorizer answers a simple response, uncached;
the REST one returns an IAM policy, cached 300 s per token, so the policy it returned for
`/lambda` is served at `/lambda/again` too (the cache trap). A body is asserted where AWS
documents it (`Expect.body`), else the status alone and the body is recorded.

Rows may have cells in only some columns (`flushed`: the REST Lambda doors; `typo`: the two
`/protected` doors): a column a row does not list is not sent.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .checks import UNAUTHORIZED
from .stack import DOORS

#: The REST API's doors, by matrix column, → the key of `status`'s `rest_routes` (issue 21).
REST_DOORS = {
    "rest-protected": "protected",
    "rest-scoped": "scoped",
    "rest-lambda": "lambda",
    "rest-lambda-again": "lambda_again",
    "rest-iam": "iam",
}
ROUTES = (*DOORS, *REST_DOORS)
#: The path each column calls, after its API's base URL.
PATHS = {**{d: f"/{d}" for d in DOORS}, **{k: "/" + v.replace("_", "/") for k, v in REST_DOORS.items()}}
#: A column in words: which API, which path (the text table and the "why" list).
DOOR_NAMES = {r: f"{'REST' if r in REST_DOORS else 'HTTP'} {PATHS[r]}" for r in ROUTES}
#: A column that needs another one before it: the cache trap needs the first door's answer cached.
IMPLIES = {"rest-lambda-again": "rest-lambda"}

GUIDE_ROWS = ("none", "id", "access", "tampered")  # the guide's short table (`--route protected`)
#: The credentials (`authdemo --help` counts them): each row of the matrix but the two below.
ROWS = (*GUIDE_ROWS, "student", "m2m", "signed-out", "sigv4")
#: The signed-out token again after FlushStageAuthorizersCache (REST's Lambda doors only), and
#: the ID token at a path that does not exist (the two `/protected` doors only).
FLUSHED, TYPO = "flushed", "typo"
MATRIX_ROWS = (*GUIDE_ROWS, "student", "m2m", "signed-out", FLUSHED, "sigv4", TYPO)
#: The ninth row, after the student's, only while `authdemo login` keeps the tokens of a user who
#: signed up on managed login (issue 20): neither of the stack's two users, so not in `presenters`.
SIGNED_UP = "signed-up"
#: What needs the stack's domain and M2M client (issue 11); a stack made before has neither.
M2M_ROW = M2M_ROUTE = "m2m"
TYPO_PATH = "/Protected"  # paths are case-sensitive on both APIs
LABELS = {
    "none": "no credential",
    "id": "ID token",
    "access": "access token",
    "tampered": "tampered ID token",
    "student": "student's access token",
    SIGNED_UP: "signed-up user's access token",  # Credential.title names the user
    "signed-out": "signed-out access token",
    FLUSHED: "signed-out, cache flushed",
    "sigv4": "SigV4-signed request",
    TYPO: "mistyped path, no token",
    "given": "your token",  # `test --token` / `--token-command` (external_issuer.py)
    "given-tampered": "your token, tampered",
    "m2m": "M2M token",  # client credentials: no user, the client itself
}
GROUP = "presenters"
SCOPE = "aws.cognito.signin.user.admin"
M2M_SCOPE = "authdemo/read"
REST_STAGE = "demo"  # Names.rest_stage (issue 21): the stage FlushStageAuthorizersCache names

# The bodies AWS documents (docs/aws-notes.md, "REST API (issue 21): the test matrix").
MISSING_TOKEN = {"message": "Missing Authentication Token"}
EXPLICIT_DENY = {"Message": "User is not authorized to access this resource with an explicit deny"}
NO_ALLOW = {"Message": "User is not authorized to access this resource"}
NOT_FOUND = {"message": "Not Found"}


class Expect(NamedTuple):
    """What a cell should answer: the status, why, whether the "why" list shows it even when it
    passes, and the body when AWS documents it (None: recorded, not asserted)."""

    status: int
    why: str
    shown: bool = False
    body: Any = None


def u(why: str, shown: bool = False) -> Expect:
    """401 `{"message":"Unauthorized"}`: both APIs send this body."""
    return Expect(401, why, shown, UNAUTHORIZED)


def mat(why: str, shown: bool = False) -> Expect:
    """REST's 403 "Missing Authentication Token": unsigned at AWS_IAM, or no such resource."""
    return Expect(403, why, shown, MISSING_TOKEN)


NOT_SIGNED = "not SigV4-signed: the IAM door wants a signature, not a bearer token"
REVOKED_YET_OPEN = "revoked by GlobalSignOut, yet let in: a JWT authorizer cannot see revocation"
NO_M2M_SCOPE = f"valid for the M2M authorizer (its audience has both clients) but no {M2M_SCOPE} scope"
NOT_USER_AUDIENCE = "its client_id is the M2M client, not in this authorizer's audience"
# REST: the Cognito user pool authorizer reads a door without scopes as wanting an ID token, a
# door with scopes as wanting an access token carrying one of them; else 401.
WANTS_ID = "a REST door without scopes wants an ID token: an access token is refused"
NO_SCOPE_REST = "an ID token has no scope: a REST door with scopes wants an access token (401; unverified)"
REST_NOT_SIGNED = "REST's IAM door refuses a bearer token (403, body recorded)"
GETUSER_REFUSES = "GetUser refuses it: the TOKEN authorizer raises Unauthorized"
TAMPERED = "the signature no longer matches the edited claims"
TRAP = "the cache trap: the policy cached at /lambda names /lambda only"

#: The HTTP doors of every row (issue 10), then the REST doors (issue 21).
HTTP: dict[str, dict[str, Expect]] = {
    "none": {
        "protected": u("no token", True),
        "scoped": u("no token"),
        "lambda": u("no Authorization header: the authorizer is not invoked", True),
        "iam": Expect(403, "not SigV4-signed"),
        "m2m": u("no token"),
    },
    "id": {
        "protected": Expect(200, "valid ID token"),
        "scoped": Expect(403, "an ID token has no scope claim", True),
        "lambda": Expect(403, "GetUser needs an access token: the authorizer refuses an ID token", True),
        "iam": Expect(403, NOT_SIGNED),
        "m2m": Expect(403, f"an ID token has no scope claim, so not {M2M_SCOPE}", True),
    },
    "access": {
        "protected": Expect(200, "valid access token"),
        "scoped": Expect(200, f"carries the scope {SCOPE}"),
        "lambda": Expect(200, f"GetUser accepts it and the user is in {GROUP}", True),
        "iam": Expect(403, NOT_SIGNED),
        "m2m": Expect(403, NO_M2M_SCOPE, True),
    },
    "tampered": {
        "protected": u(TAMPERED, True),
        "scoped": u(TAMPERED),
        "lambda": Expect(403, "GetUser refuses it (not a valid access token)"),
        "iam": Expect(403, NOT_SIGNED),
        "m2m": u(TAMPERED),
    },
    "student": {
        "protected": Expect(200, "valid token: any user of the pool"),
        "scoped": Expect(200, f"carries the scope {SCOPE}"),
        "lambda": Expect(403, f"not in group {GROUP}", True),
        "iam": Expect(403, NOT_SIGNED),
        "m2m": Expect(403, NO_M2M_SCOPE),
    },
    SIGNED_UP: {
        "protected": Expect(200, "valid token: a user who signed up is a user of the pool"),
        "scoped": Expect(200, f"managed login's code grant gave it the scope {SCOPE}"),
        "lambda": Expect(403, f"signed up, so not in group {GROUP}", True),
        "iam": Expect(403, NOT_SIGNED),
        "m2m": Expect(403, NO_M2M_SCOPE),
    },
    "m2m": {
        "protected": u(NOT_USER_AUDIENCE, True),
        "scoped": u(NOT_USER_AUDIENCE),
        "lambda": Expect(
            403, "GetUser needs a user's access token: a client-credentials token has no user", True
        ),
        "iam": Expect(403, NOT_SIGNED),
        "m2m": Expect(200, f"client credentials with the scope {M2M_SCOPE}", True),
    },
    "signed-out": {
        "protected": Expect(200, REVOKED_YET_OPEN + " (valid until exp)", True),
        "scoped": Expect(200, REVOKED_YET_OPEN, True),
        "lambda": Expect(403, "token revoked: GetUser refuses it (no cache: asked every time)", True),
        "iam": Expect(403, NOT_SIGNED),
        "m2m": Expect(403, NO_M2M_SCOPE),
    },
    FLUSHED: {},
    "sigv4": {
        "protected": u("a signature is not a JWT"),
        "scoped": u("a signature is not a JWT"),
        # The Authorization header is present (the signature), so the authorizer IS invoked
        # (docs/aws-notes.md b: 401 only when the identity source is missing); GetUser refuses.
        "lambda": Expect(403, "a signature is not an access token: GetUser refuses it"),
        "iam": Expect(200, "signed for execute-api", True),
        "m2m": u("a signature is not a JWT"),
    },
    TYPO: {"protected": Expect(404, f"no route {TYPO_PATH}: paths are case-sensitive", True, NOT_FOUND)},
    # `test --token`: only /protected, the JWT door any issuer's stack has.
    "given": {"protected": Expect(200, "signature, iss, aud and exp check out", True)},
    "given-tampered": {"protected": u(TAMPERED, True)},
}

REST: dict[str, dict[str, Expect]] = {
    "none": {
        "rest-protected": u("no token"),
        "rest-scoped": u("no token"),
        "rest-lambda": u("no Authorization header: the TOKEN authorizer is not invoked"),
        "rest-lambda-again": u("no Authorization header"),
        "rest-iam": mat("not SigV4-signed: REST answers Missing Authentication Token", True),
    },
    "id": {
        "rest-protected": Expect(200, "a REST door without scopes takes an ID token", True),
        "rest-scoped": u(NO_SCOPE_REST, True),
        "rest-lambda": u("GetUser needs an access token: the TOKEN authorizer raises Unauthorized", True),
        "rest-lambda-again": u("GetUser refuses an ID token (a refusal is not cached as a policy)"),
        "rest-iam": Expect(403, REST_NOT_SIGNED),
    },
    "access": {
        "rest-protected": u(WANTS_ID, True),
        "rest-scoped": Expect(200, f"a REST door with scopes takes an access token carrying {SCOPE}", True),
        "rest-lambda": Expect(
            200, f"the policy Allows this method (the user is in {GROUP}); cached 300 s", True
        ),
        "rest-lambda-again": Expect(403, TRAP + ": no Allow here", True, NO_ALLOW),
        "rest-iam": Expect(403, REST_NOT_SIGNED),
    },
    "tampered": {
        "rest-protected": u(TAMPERED),
        "rest-scoped": u(TAMPERED),
        "rest-lambda": u(GETUSER_REFUSES),
        "rest-lambda-again": u(GETUSER_REFUSES),
        "rest-iam": Expect(403, REST_NOT_SIGNED),
    },
    "student": {
        "rest-protected": u(WANTS_ID),
        "rest-scoped": Expect(200, f"an access token carrying {SCOPE}: any user of the pool"),
        "rest-lambda": Expect(403, f"not in group {GROUP}: the policy's explicit Deny", True, EXPLICIT_DENY),
        "rest-lambda-again": Expect(403, "the cached Deny names /lambda only: no Allow here", True, NO_ALLOW),
        "rest-iam": Expect(403, REST_NOT_SIGNED),
    },
    "m2m": {
        "rest-protected": u("a client-credentials token is an access token: this door wants an ID token"),
        "rest-scoped": u(f"its scope is {M2M_SCOPE}, not {SCOPE}", True),
        "rest-lambda": u("no user: GetUser refuses a client-credentials token"),
        "rest-lambda-again": u("no user: GetUser refuses it"),
        "rest-iam": Expect(403, REST_NOT_SIGNED),
    },
    "signed-out": {
        "rest-protected": u(WANTS_ID),
        "rest-scoped": Expect(
            200, "revoked, yet let in: a Cognito authorizer checks signature and exp, not revocation", True
        ),
        "rest-lambda": Expect(
            200, "the Allow cached before the sign-out outlives it (300 s, or a flush)", True
        ),
        "rest-lambda-again": Expect(403, TRAP + " (cached before the sign-out)", False, NO_ALLOW),
        "rest-iam": Expect(403, REST_NOT_SIGNED),
    },
    FLUSHED: {
        "rest-lambda": u("cache flushed: asked again, GetUser refuses the revoked token", True),
        "rest-lambda-again": u("cache flushed: GetUser refuses the revoked token"),
    },
    "sigv4": {
        "rest-protected": u("a signature is not a JWT"),
        "rest-scoped": u("a signature is not a JWT"),
        "rest-lambda": u("a signature is not an access token: " + GETUSER_REFUSES),
        "rest-lambda-again": u("a new signature each path: not cached; " + GETUSER_REFUSES),
        "rest-iam": Expect(200, "signed for execute-api", True),
    },
    TYPO: {
        "rest-protected": mat(f"no resource {TYPO_PATH}: a REST API answers this, not 404", True),
    },
}
REST[SIGNED_UP] = {
    **REST["student"],
    "rest-lambda": Expect(403, f"signed up, so not in group {GROUP}: the explicit Deny", True, EXPLICIT_DENY),
}

#: Every cell: row → column → Expect.
EXPECTED: dict[str, dict[str, Expect]] = {row: {**cells, **REST.get(row, {})} for row, cells in HTTP.items()}

#: The doors where the kind of token decides (`token --compare`, the token page).
TOKEN_DOORS = ("protected", "scoped", "lambda", "rest-protected", "rest-scoped", "rest-lambda")


def which_token(rest: bool = True) -> list[dict[str, Any]]:
    """Which door takes the ID token and which the access token, and why, read from EXPECTED:
    an HTTP JWT door takes either (scopes aside); a REST Cognito door one kind only."""
    doors = [d for d in TOKEN_DOORS if rest or d not in REST_DOORS]
    return [
        {
            "door": DOOR_NAMES[door],
            **{kind: EXPECTED[kind][door].status for kind in ("id", "access")},
            **{f"{kind}_why": EXPECTED[kind][door].why for kind in ("id", "access")},
        }
        for door in doors
    ]
