"""Authorizers of the embedded HTTP API gateway: one module per API Gateway authorizer type.

Each module decides one request for a route and either returns what the integration sees
in `requestContext.authorizer` or raises :class:`Denied` with API Gateway's own answer.
Today: `jwt` (JWT authorizers). A Lambda (REQUEST) authorizer goes in `lambda_.py`, an
IAM (SigV4, `AWS_IAM` routes) one in `iam.py`; `authdemo.local.execute_api` picks the
module by the route's `AuthorizationType`.
"""

from authdemo.local.authorizers.denied import Denied

__all__ = ["Denied"]
