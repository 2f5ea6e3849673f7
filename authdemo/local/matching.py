"""Which stage and which route a request to an HTTP API is for, by API Gateway's rules."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """One request's place in an API: the API (moto's object), its stage, and its paths."""

    api: Any
    backend: Any
    stage: str
    path: str  # decoded, stage prefix removed: what routes match
    full_path: str  # decoded, stage prefix kept (`requestContext.http.path`)
    raw_path: str  # as sent, stage prefix kept (`rawPath`)


def stage_for(api: Any, path: str) -> tuple[str, str] | None:
    """(stage name, path within the stage); a named stage wins over `$default`."""
    stages = dict(api.stages)
    first, _, rest = path.lstrip("/").partition("/")
    if first and first != "$default" and first in stages:
        name, inner = first, "/" + rest
    elif "$default" in stages:
        name, inner = "$default", path
    else:
        return None
    stage = stages[name]
    # Without AutoDeploy (or a deployment) a stage serves nothing on AWS; moto cannot deploy.
    if not stage.auto_deploy and not stage.config.get("deploymentId"):
        return None
    return name, inner


def match_route(routes: Iterable[Any], method: str, path: str) -> tuple[Any, dict[str, str]] | None:
    """The most specific route for `METHOD path`, then `ANY path`, then `$default`."""
    best: tuple[tuple[int, ...], Any, dict[str, str]] | None = None
    default = None
    for route in routes:
        key = str(route.route_key or "")
        if key == "$default":
            default = route
            continue
        route_method, _, template = key.partition(" ")
        if route_method not in (method, "ANY"):
            continue
        params = match_template(template, path)
        if params is None:
            continue
        greedy = int(template.endswith("+}"))
        score = (greedy, len(params), int(route_method == "ANY"))
        if best is None or score < best[0]:
            best = (score, route, params)
    if best is not None:
        return best[1], best[2]
    if default is not None:
        return default, {}
    return None


def match_template(template: str, path: str) -> dict[str, str] | None:
    """Path parameters when `path` fits `template` (`{id}` one segment, `{proxy+}` the rest)."""
    if not template.startswith("/") or not path.startswith("/"):
        return None
    want, have = template[1:].split("/"), path[1:].split("/")
    params: dict[str, str] = {}
    for i, part in enumerate(want):
        if part.startswith("{") and part.endswith("+}") and i == len(want) - 1:
            rest = "/".join(have[i:])
            if not rest:
                return None
            params[part[1:-2]] = rest
            return params
        if i >= len(have):
            return None
        if part.startswith("{") and part.endswith("}"):
            if not have[i]:
                return None
            params[part[1:-1]] = have[i]
        elif part != have[i]:
            return None
    return params if len(have) == len(want) else None


def function_arn_of(integration_uri: str) -> str:
    """The Lambda ARN in an integration URI (plain ARN or the apigateway invocation form)."""
    match = re.search(r"/functions/(arn:[^/]+)/invocations", integration_uri)
    return match.group(1) if match else integration_uri
