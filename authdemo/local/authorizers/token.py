"""The REST API's Lambda TOKEN authorizer, as API Gateway applies it (a `CUSTOM` method whose
authorizer has type `TOKEN`).

`TokenAuthorizer.authorize()` decides one request:
1. the identity source (one header) must be present and non-empty, and match the authorizer's
   `identityValidationExpression` when it has one, else 401 `{"message":"Unauthorized"}` and
   the function is not invoked;
2. with `authorizerResultTtlInSeconds` > 0 (300 when unset, at most 3600) an answer cached for
   (API, stage, authorizer, token) is reused, and its POLICY is evaluated again for this method:
   a policy that names only the method it was first asked about refuses the API's other methods
   for that token until the TTL ends (the cache trap); `flush()` is FlushStageAuthorizersCache;
3. API Gateway needs a `lambda:InvokeFunction` permission whose source is
   `arn:aws:execute-api:<region>:<account>:<restApiId>/authorizers/<authorizerId>`;
4. the function gets `{"type": "TOKEN", "authorizationToken", "methodArn"}` and at most 10 s;
   its error "Unauthorized" is a 401;
5. its answer must hold `principalId` and `policyDocument`, and a `context` of string, number or
   boolean values; the policy is evaluated as IAM does (`lambda_.policy_effect`): an explicit
   Deny is 403 "...with an explicit deny", no matching Allow is 403 "...access this resource".
Anything else (no function, no permission, another error, a timeout, a malformed answer) raises
`AuthorizerError`: the REST API's 500 `{"message": null}`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authdemo.local.authorizers.denied import Denied
from authdemo.local.authorizers.lambda_ import (
    AUTHORIZER_TIMEOUT_SECONDS,
    MAX_TTL_SECONDS,
    AuthorizerError,
    Decision,
    DecisionCache,
    parse_reply,
    policy_effect,
)
from authdemo.local.backends import find_function
from authdemo.local.matching import function_arn_of
from authdemo.local.permissions import invoke_allowed
from authdemo.local.runtime import FunctionError, FunctionRuntime

DEFAULT_TTL_SECONDS = 300  # "If this field is not set, the default value is 300" (the API reference)
HEADER_SOURCE = "method.request.header."
EXPLICIT_DENY = b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
NO_ALLOW = b'{"Message":"User is not authorized to access this resource"}'
UNAUTHORIZED = "Unauthorized"  # the function's error message API Gateway answers with 401


@dataclass(frozen=True)
class TokenAuthorizerConfig:
    """One TOKEN authorizer, as CreateAuthorizer stored it in moto."""

    authorizer_id: str
    function_arn: str
    header: str  # the identity source's header name ("" when it names no header)
    validation: str | None
    ttl_seconds: int

    @classmethod
    def from_api(cls, authorizer: Any) -> TokenAuthorizerConfig:
        raw_ttl = getattr(authorizer, "authorizer_result_ttl", None)
        try:
            ttl = DEFAULT_TTL_SECONDS if raw_ttl is None else int(raw_ttl)
        except (TypeError, ValueError):
            ttl = DEFAULT_TTL_SECONDS
        return cls(
            authorizer_id=str(authorizer.id),
            function_arn=function_arn_of(str(authorizer.authorizer_uri or "")),
            header=identity_header(authorizer),
            validation=getattr(authorizer, "identity_validation_expression", None) or None,
            ttl_seconds=max(0, min(ttl, MAX_TTL_SECONDS)),
        )


def identity_header(authorizer: Any) -> str:
    """The header a TOKEN authorizer reads (`method.request.header.<Name>`), "" for anything else."""
    source = str(getattr(authorizer, "identity_source", None) or "").strip()
    return source[len(HEADER_SOURCE) :] if source.startswith(HEADER_SOURCE) else ""


def _context_string(value: Any) -> str:
    """A context value as the integration sees it: booleans as `true`/`false`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_token_reply(reply: Any) -> Decision:
    """The function's answer as a Decision whose context is `{"principalId", **context}` (every
    value a string); AuthorizerError when it is not a TOKEN authorizer's answer."""
    decision = parse_reply(reply, simple_responses=False)  # a JSON object with a policy's Statement
    principal = reply.get("principalId")
    if not isinstance(principal, str):
        raise AuthorizerError("the authorizer's answer has no principalId string")
    context = decision.context or {}
    for key, value in context.items():
        if not isinstance(value, str | int | float | bool):
            raise AuthorizerError(
                f"the authorizer's context value {key!r} is not a string, number or boolean"
            )
    strings = {str(k): _context_string(v) for k, v in context.items()}
    return Decision(None, decision.policy, {**strings, "principalId": principal})


class TokenAuthorizer:
    """Runs TOKEN authorizers in the gateway's function runtime, with their TTL cache.

    `clock` (seconds) is the cache's: tests move it instead of sleeping."""

    def __init__(self, runtime: FunctionRuntime, clock: Callable[[], float] = time.monotonic) -> None:
        self.runtime = runtime
        self.cache = DecisionCache(clock=clock)

    def authorize(
        self,
        authorizer: Any,
        rest_api_id: str,
        stage: str,
        region: str,
        account: str,
        header_value: str | None,
        method_arn: str,
    ) -> dict[str, Any]:
        """`authorizer`: moto's apigateway Authorizer (type TOKEN). What payload 1.0 puts at
        `requestContext.authorizer` (`principalId` and the context, as strings); Denied (401,
        403 explicit deny, 403 no Allow) or AuthorizerError (500)."""
        config = TokenAuthorizerConfig.from_api(authorizer)
        if header_value is None or not header_value.strip():
            raise Denied("the identity source is missing", challenge=False)
        if config.validation is not None and not _validates(config.validation, header_value):
            raise Denied("the token does not match the identityValidationExpression", challenge=False)
        key = (rest_api_id, stage, config.authorizer_id, header_value)
        caching = config.ttl_seconds > 0
        decision = self.cache.get(key) if caching else None
        if decision is None:
            decision = self._invoke(config, rest_api_id, region, account, header_value, method_arn)
            if caching:
                self.cache.put(key, decision, config.ttl_seconds)
        effect = policy_effect(decision.policy or {}, method_arn)
        if effect == "Deny":
            raise Denied(
                "the policy denies the method explicitly", status=403, challenge=False, body=EXPLICIT_DENY
            )
        if effect is None:
            raise Denied(
                "no statement of the policy allows the method", status=403, challenge=False, body=NO_ALLOW
            )
        return dict(decision.context or {})

    def flush(self, rest_api_id: str, stage: str) -> None:
        """FlushStageAuthorizersCache: forget every answer cached for this stage of this API."""
        self.cache.forget((rest_api_id, stage))

    def _invoke(
        self,
        config: TokenAuthorizerConfig,
        rest_api_id: str,
        region: str,
        account: str,
        token: str,
        method_arn: str,
    ) -> Decision:
        fn = find_function(config.function_arn)
        if fn is None:
            raise AuthorizerError(f"the authorizer function {config.function_arn or '(none)'} does not exist")
        source_arn = (
            f"arn:aws:execute-api:{region}:{account}:{rest_api_id}/authorizers/{config.authorizer_id}"
        )
        if not invoke_allowed(list(fn.policy.statements), source_arn, account):
            raise AuthorizerError(f"no permission for {source_arn} to invoke {fn.function_name}")
        event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        try:
            reply = self.runtime.invoke(fn, event, max_seconds=AUTHORIZER_TIMEOUT_SECONDS)
        except FunctionError as exc:
            # The worker reports "<ErrorType>: <message>"; API Gateway reads the message alone.
            if str(exc).partition(": ")[2] == UNAUTHORIZED:
                raise Denied(
                    f"the authorizer {fn.function_name} answered Unauthorized", challenge=False
                ) from exc
            raise AuthorizerError(f"the authorizer {fn.function_name} failed: {exc}") from exc
        return parse_token_reply(reply)


def _validates(expression: str, token: str) -> bool:
    """Whether the whole token matches the expression; AuthorizerError for one that is no regex."""
    try:
        return re.fullmatch(expression, token) is not None
    except re.error as exc:
        raise AuthorizerError(f"the identityValidationExpression is not a regular expression: {exc}") from exc
