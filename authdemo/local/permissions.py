"""Lambda resource-policy evaluation: may API Gateway invoke this function from this route?

On AWS a missing `lambda:InvokeFunction` permission makes the HTTP API answer 500; the
embedded gateway reads the policy `AddPermission` stored in moto and applies the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any


def arn_like(pattern: str, arn: str) -> bool:
    """IAM's ArnLike: each of the six ARN parts matched with `*` and `?` wildcards."""
    want = pattern.split(":", 5)
    have = arn.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(_wildcard(p).fullmatch(h) is not None for p, h in zip(want, have, strict=True))


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), re.DOTALL)


def _lower_keys(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in mapping.items()}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def invoke_allowed(statements: Iterable[Mapping[str, Any]], source_arn: str, account: str) -> bool:
    """Whether a function policy lets API Gateway invoke it from `source_arn`."""
    allowed = False
    for statement in statements:
        if not _statement_applies(statement, source_arn, account):
            continue
        if statement.get("Effect", "Allow") == "Deny":
            return False
        allowed = True
    return allowed


def _statement_applies(statement: Mapping[str, Any], source_arn: str, account: str) -> bool:
    principal = statement.get("Principal")
    if principal != "*":
        services = _as_list((principal or {}).get("Service")) if isinstance(principal, dict) else []
        if "apigateway.amazonaws.com" not in services:
            return False
    actions = _as_list(statement.get("Action", []))
    if not any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions):
        return False
    for operator, conditions in (statement.get("Condition") or {}).items():
        op = operator.lower()
        for key, expected in _lower_keys(conditions).items():
            values = [str(v) for v in _as_list(expected)]
            if key == "aws:sourcearn":
                if op in ("arnlike", "stringlike"):
                    ok = any(arn_like(v, source_arn) for v in values)
                else:
                    ok = source_arn in values
            elif key == "aws:sourceaccount":
                ok = account in values
            else:
                ok = True  # conditions on other keys do not concern this call
            if not ok:
                return False
    return True
