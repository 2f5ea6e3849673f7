"""Every lookup in moto's in-process backends, in one place.

The gateway reads APIs, functions and user pools live from moto, so what was created
through the AWS APIs is the only configuration. `dict.*` views avoid BackendDict's
create-on-read of accounts and regions.
"""

from __future__ import annotations

import re
from typing import Any

_COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/([^/\s]+)\Z")


def find_api(api_id: str) -> tuple[Any, Any] | None:
    """(backend, api) for this id in any account and region moto holds."""
    from moto.apigatewayv2.models import apigatewayv2_backends

    for regions in list(dict.values(apigatewayv2_backends)):
        for backend in list(dict.values(regions)):
            api = backend.apis.get(api_id)
            if api is not None:
                return backend, api
    return None


def find_rest_api(api_id: str) -> tuple[Any, Any] | None:
    """(backend, rest api) for this id in any account and region moto holds (API Gateway v1)."""
    from moto.apigateway.models import apigateway_backends

    for regions in list(dict.values(apigateway_backends)):
        for backend in list(dict.values(regions)):
            api = backend.apis.get(api_id)
            if api is not None:
                return backend, api
    return None


def find_function(arn: str) -> Any:
    """moto's LambdaFunction for this ARN, or None."""
    from moto.awslambda.models import lambda_backends

    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "lambda":
        return None
    region, account = parts[3], parts[4]
    regions = dict.get(lambda_backends, account)
    backend = dict.get(regions, region) if regions is not None else None
    if backend is None:
        return None
    try:
        return backend.get_function(arn)
    except Exception:
        return None


def pools_public_jwks() -> dict[str, Any]:
    """The JWKS the embedded Cognito signs every token with: this server's own key (never the
    one published inside moto, see moto_patches.own_signing_key)."""
    from authdemo.local.moto_patches import pool_key

    return pool_key().jwks


def moto_cognito_jwks(issuer: str) -> dict[str, Any] | None:
    """The pools' JWKS when `issuer` names a user pool of the embedded Cognito, else None."""
    match = _COGNITO_ISSUER.match(issuer)
    if not match:
        return None
    from moto.cognitoidp.models import cognitoidp_backends

    region, pool_id = match.groups()
    for regions in list(dict.values(cognitoidp_backends)):
        backend = dict.get(regions, region)
        if backend is not None and pool_id in backend.user_pools:
            return pools_public_jwks()
    return None


def find_pool_by_domain(prefix: str) -> Any:
    """moto's CognitoIdpUserPool whose (Amazon Cognito) domain prefix is `prefix`, in any
    account and region, or None. Domain prefixes are unique across AWS, so one match."""
    from moto.cognitoidp.models import cognitoidp_backends

    for regions in list(dict.values(cognitoidp_backends)):
        for backend in list(dict.values(regions)):
            domain = backend.user_pool_domains.get(prefix)
            if domain is not None:
                return backend.user_pools.get(domain.user_pool_id)
    return None


def find_user_pool(pool_id: str) -> Any:
    """moto's CognitoIdpUserPool with this id (its region is the id's prefix), or None."""
    from moto.cognitoidp.models import cognitoidp_backends

    region = pool_id.partition("_")[0]
    for regions in list(dict.values(cognitoidp_backends)):
        backend = dict.get(regions, region)
        if backend is not None and pool_id in backend.user_pools:
            return backend.user_pools[pool_id]
    return None


def find_client_pool(client_id: str) -> tuple[Any, Any]:
    """(moto's Cognito backend, user pool) holding the app client, in any account and region."""
    from moto.cognitoidp.models import cognitoidp_backends

    for regions in list(dict.values(cognitoidp_backends)):
        for backend in list(dict.values(regions)):
            for pool in list(backend.user_pools.values()):
                if client_id in pool.clients:
                    return backend, pool
    return None, None
