"""The HTTP API Lambda (REQUEST) authorizer, as API Gateway applies it.

`LambdaAuthorizer.authorize()` decides one request for a `CUSTOM` route:
1. every identity source (`$request.header.X`, `$request.querystring.X`, `$context.X`,
   `$stageVariables.X`) must be present and non-empty, else 401 `Unauthorized` and the
   function is not invoked;
2. with `AuthorizerResultTtlInSeconds` > 0 a decision cached for the same identity values
   is reused (TTL 0: the function decides every request, so a revocation shows at once);
3. API Gateway needs a `lambda:InvokeFunction` permission whose source is
   `arn:aws:execute-api:<region>:<account>:<apiId>/authorizers/<authorizerId>`;
4. the function gets the payload 2.0 authorizer event and at most 10 s;
5. its reply is a simple response (`{"isAuthorized", "context"}`, with
   `EnableSimpleResponses`) or an IAM policy (`{"principalId", "policyDocument", "context"}`):
   Deny anywhere, or no Allow of `execute-api:Invoke` on the route's ARN, is 403 `Forbidden`.

A missing permission, an unknown function, a function that fails, times out or replies in
another shape raise :class:`AuthorizerError`: API Gateway's 500. Payload format 1.0 is not
served (500, with a line in the server log saying so).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from authdemo.local.authorizers.denied import Denied
from authdemo.local.backends import find_function
from authdemo.local.matching import function_arn_of
from authdemo.local.permissions import arn_like, invoke_allowed
from authdemo.local.runtime import FunctionError, FunctionRuntime

# API Gateway waits at most 10 s for a Lambda authorizer (quotas: "Authorizer ... timeout").
AUTHORIZER_TIMEOUT_SECONDS = 10.0
MAX_TTL_SECONDS = 3600
MAX_CACHED_DECISIONS = 10_000


class AuthorizerError(Exception):
    """The authorizer could not decide (no permission, failed, timed out, bad reply): a 500."""


@dataclass(frozen=True)
class LambdaAuthorizerConfig:
    """One REQUEST authorizer, as CreateAuthorizer stored it."""

    authorizer_id: str
    function_arn: str
    payload_version: str
    simple_responses: bool
    identity_sources: tuple[str, ...]
    ttl_seconds: int

    @classmethod
    def from_api(cls, authorizer: Any) -> LambdaAuthorizerConfig:
        sources = authorizer.identity_source or []
        if isinstance(sources, str):
            sources = [s.strip() for s in sources.split(",")]
        try:
            ttl = int(authorizer.auth_result_ttl or 0)
        except (TypeError, ValueError):
            ttl = 0
        return cls(
            authorizer_id=str(authorizer.id),
            function_arn=function_arn_of(str(authorizer.authorizer_uri or "")),
            payload_version=str(authorizer.auth_payload_format_version or ""),
            simple_responses=bool(authorizer.enable_simple_response),
            identity_sources=tuple(str(s) for s in sources if str(s).strip()),
            ttl_seconds=max(0, min(ttl, MAX_TTL_SECONDS)),
        )


@dataclass(frozen=True)
class RequestView:
    """What identity sources and the authorizer event read from one request."""

    route_arn: str
    route_key: str
    raw_path: str
    raw_query: str
    cookies: list[str]
    headers: dict[str, str]  # lower-cased names, repeated values joined by ","
    query: dict[str, str]
    path_parameters: dict[str, str]
    stage_variables: dict[str, str]
    request_context: dict[str, Any]


def identity_values(sources: tuple[str, ...], view: RequestView) -> list[str]:
    """The value of each identity source, in order; Denied (401) when one is absent or empty."""
    values: list[str] = []
    for source in sources:
        value = _lookup(source, view)
        if value is None or not value.strip():
            raise Denied(f"identity source {source} is missing", challenge=False)
        values.append(value)
    return values


def _lookup(source: str, view: RequestView) -> str | None:
    if source.lower().startswith("$request.header."):
        return view.headers.get(source[len("$request.header.") :].lower())
    if source.startswith("$request.querystring."):
        return view.query.get(source[len("$request.querystring.") :])
    if source.startswith("$stageVariables."):
        return view.stage_variables.get(source[len("$stageVariables.") :])
    if source.startswith("$context."):
        node: Any = view.request_context
        for part in source[len("$context.") :].split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return None if node is None or isinstance(node, dict | list) else str(node)
    return None


def authorizer_event(view: RequestView, identity: list[str]) -> dict[str, Any]:
    """The payload 2.0 event a Lambda authorizer receives (no body)."""
    event: dict[str, Any] = {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": view.route_arn,
        "identitySource": identity,
        "routeKey": view.route_key,
        "rawPath": view.raw_path,
        "rawQueryString": view.raw_query,
        "headers": dict(view.headers),
        "requestContext": view.request_context,
    }
    if view.cookies:
        event["cookies"] = list(view.cookies)
    if view.query:
        event["queryStringParameters"] = dict(view.query)
    if view.path_parameters:
        event["pathParameters"] = dict(view.path_parameters)
    if view.stage_variables:
        event["stageVariables"] = dict(view.stage_variables)
    return event


@dataclass(frozen=True)
class Decision:
    """A parsed reply: a simple yes/no, or a policy evaluated per route ARN."""

    simple: bool | None
    policy: Mapping[str, Any] | None
    context: dict[str, Any] | None

    def allows(self, route_arn: str) -> bool:
        if self.simple is not None:
            return self.simple
        return policy_allows(self.policy or {}, route_arn)


def parse_reply(reply: Any, simple_responses: bool) -> Decision:
    """The function's reply as a Decision; AuthorizerError when it has neither shape."""
    if not isinstance(reply, dict):
        raise AuthorizerError(f"the authorizer replied {type(reply).__name__}, not a JSON object")
    context = reply.get("context")
    if context is not None and not isinstance(context, dict):
        raise AuthorizerError("the authorizer's context is not a JSON object")
    if simple_responses and "isAuthorized" in reply:
        if not isinstance(reply["isAuthorized"], bool):
            raise AuthorizerError("isAuthorized is not a boolean")
        return Decision(reply["isAuthorized"], None, context)
    policy = reply.get("policyDocument")
    if not isinstance(policy, dict) or not isinstance(reply.get("principalId", ""), str):
        wanted = "isAuthorized or policyDocument" if simple_responses else "policyDocument"
        raise AuthorizerError(f"the authorizer's reply has no valid {wanted}")
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise AuthorizerError("the policy document has no valid Statement")
    return Decision(None, {"Statement": statements}, context)


def _as_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [i for i in items if isinstance(i, str)]


def _action_matches(pattern: str) -> bool:
    service, _, action = pattern.lower().partition(":")
    return pattern == "*" or (
        service == "execute-api" and arn_like(f"a:b:c:d:e:{action}", "a:b:c:d:e:invoke")
    )


def _resource_matches(pattern: str, route_arn: str) -> bool:
    return pattern == "*" or arn_like(pattern, route_arn)


def _applies(statement: Mapping[str, Any], route_arn: str) -> bool:
    """Whether the statement covers `execute-api:Invoke` on the ARN: its Action (or every action
    but its NotAction) and its Resource (or every resource but its NotResource)."""
    if "Action" in statement:
        action = any(_action_matches(a) for a in _as_list(statement["Action"]))
    else:
        action = "NotAction" in statement and not any(
            _action_matches(a) for a in _as_list(statement["NotAction"])
        )
    if not action:
        return False
    if "Resource" in statement:
        return any(_resource_matches(r, route_arn) for r in _as_list(statement["Resource"]))
    return "NotResource" in statement and not any(
        _resource_matches(r, route_arn) for r in _as_list(statement["NotResource"])
    )


def policy_effect(policy: Mapping[str, Any], route_arn: str) -> str | None:
    """IAM's rule for one action: "Deny" when a statement denies it explicitly (that wins),
    else "Allow" when one allows it, else None (no matching Allow: an implicit deny)."""
    allowed = False
    for statement in policy.get("Statement") or []:
        if not _applies(statement, route_arn):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return "Deny"
        if effect == "Allow":
            allowed = True
    return "Allow" if allowed else None


def policy_allows(policy: Mapping[str, Any], route_arn: str) -> bool:
    """Whether the policy allows invoking the ARN (no explicit Deny, some Allow)."""
    return policy_effect(policy, route_arn) == "Allow"


class DecisionCache:
    """Decisions per (API, authorizer, identity values), each kept for the authorizer's TTL;
    at most `max_entries` (the expired ones go first, then the oldest). `clock`: seconds, for
    tests that move time without sleeping."""

    def __init__(
        self, max_entries: int = MAX_CACHED_DECISIONS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, ...], tuple[float, Decision]] = {}
        self._max = max_entries
        self._clock = clock

    def get(self, key: tuple[str, ...]) -> Decision | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: tuple[str, ...], decision: Decision, ttl: float) -> None:
        now = self._clock()
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                while len(self._entries) >= self._max:
                    del self._entries[next(iter(self._entries))]
            self._entries[key] = (now + ttl, decision)

    def forget(self, prefix: tuple[str, ...]) -> int:
        """Drop every decision whose key starts with `prefix`; how many were dropped."""
        with self._lock:
            gone = [k for k in self._entries if k[: len(prefix)] == prefix]
            for key in gone:
                del self._entries[key]
        return len(gone)


class LambdaAuthorizer:
    """Runs REQUEST authorizers in the gateway's function runtime, with a decision cache."""

    def __init__(self, runtime: FunctionRuntime) -> None:
        self.runtime = runtime
        self.cache = DecisionCache()

    def authorize(
        self, config: LambdaAuthorizerConfig, api_id: str, region: str, account: str, view: RequestView
    ) -> dict[str, Any] | None:
        """The context for `requestContext.authorizer.lambda`; Denied (401/403) or AuthorizerError."""
        if config.payload_version != "2.0":
            raise AuthorizerError(
                f"authdemo-local serves Lambda authorizers with payload format 2.0 only, "
                f"not {config.payload_version or 'none'!r}"
            )
        identity = identity_values(config.identity_sources, view)
        # The function and reply form are part of the key, so an UpdateAuthorizer is seen at once.
        key = (api_id, config.authorizer_id, config.function_arn, str(config.simple_responses), *identity)
        caching = config.ttl_seconds > 0 and bool(config.identity_sources)
        decision = self.cache.get(key) if caching else None
        if decision is None:
            decision = self._invoke(config, api_id, region, account, view, identity)
            if caching:
                self.cache.put(key, decision, config.ttl_seconds)
        if not decision.allows(view.route_arn):
            raise Denied("the authorizer denied the request", status=403, challenge=False)
        return decision.context

    def _invoke(
        self,
        config: LambdaAuthorizerConfig,
        api_id: str,
        region: str,
        account: str,
        view: RequestView,
        identity: list[str],
    ) -> Decision:
        fn = find_function(config.function_arn)
        if fn is None:
            raise AuthorizerError(f"the authorizer function {config.function_arn} does not exist")
        source_arn = f"arn:aws:execute-api:{region}:{account}:{api_id}/authorizers/{config.authorizer_id}"
        if not invoke_allowed(list(fn.policy.statements), source_arn, account):
            raise AuthorizerError(f"no permission for {source_arn} to invoke {fn.function_name}")
        event = authorizer_event(view, identity)
        try:
            reply = self.runtime.invoke(fn, event, max_seconds=AUTHORIZER_TIMEOUT_SECONDS)
        except FunctionError as exc:
            raise AuthorizerError(f"the authorizer {fn.function_name} failed: {exc}") from exc
        return parse_reply(reply, config.simple_responses)
