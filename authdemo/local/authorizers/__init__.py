"""Authorizers of the embedded HTTP API gateway: one module per API Gateway authorizer type.

Each module decides one request for a route and either returns what the integration sees
in `requestContext.authorizer` or raises :class:`Denied` with API Gateway's own answer.
`jwt` (JWT authorizers), `lambda_` (Lambda REQUEST authorizers, `CUSTOM` routes) and
`iam` (SigV4, `AWS_IAM` routes), and for REST APIs `token` (Lambda TOKEN authorizers:
an IAM policy, cached per token); `authdemo.local.execute_api` picks the module by the
route's `AuthorizationType`. A Lambda authorizer that cannot decide raises
`lambda_.AuthorizerError` instead: API Gateway's 500.
"""

from authdemo.local.authorizers.denied import Denied

__all__ = ["Denied"]
