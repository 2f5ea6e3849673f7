"""Small additions to moto for the embedded AWS, where AWS has an API that moto lacks.

moto 5 implements GetAuthorizer but not GetAuthorizers (list); `up` uses the list to find
an authorizer that a killed run created but never recorded. Applied once, in the
embedded server's process only.
"""

from __future__ import annotations

import json
from typing import Any

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.apigatewayv2.responses import ApiGatewayV2Response

    if not hasattr(ApiGatewayV2Response, "get_authorizers"):

        def get_authorizers(self: Any) -> tuple[int, dict[str, str], str]:
            api_id = self.path.split("/")[-2]
            api = self.apigatewayv2_backend.get_api(api_id)
            items = [a.to_json() for a in api.authorizers.values()]
            return 200, {}, json.dumps({"items": items})

        ApiGatewayV2Response.get_authorizers = get_authorizers  # type: ignore[attr-defined]
    _applied = True
