"""Managed login (the Hosted UI) of the embedded Cognito: OAuth 2.0 / OIDC for moto's user pools.

On AWS a user pool domain `<prefix>` serves `https://<prefix>.auth.<region>.amazoncognito.com`;
here the same endpoints live under `http://127.0.0.1:<port>/_aws/cognito/<prefix>/`.
- `endpoints`  the URL layout and each endpoint (authorize, login, userInfo, logout, discovery).
- `authorize`  checking an authorization request (client, redirect_uri first: never an open redirect).
- `token`      `/oauth2/token` and `/oauth2/revoke`: client authentication and the three grants.
- `codes`      authorization codes (one use, 5 minutes) and PKCE S256.
- `minting`    tokens, minted by moto's pool so GetUser, GlobalSignOut and the gateway trust them.
- `clients`    an app client's OAuth settings as moto holds them.
- `pages`      the sign-in form and the error page (no external content, strict CSP).
- `self_service` "Sign up" and "Forgot your password?", with `confirmation`'s codes.
"""

from authdemo.local.cognito_login.endpoints import ManagedLogin

__all__ = ["ManagedLogin"]
