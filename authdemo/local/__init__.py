"""The embedded AWS behind `--local`: moto's server plus an HTTP API gateway, on 127.0.0.1.

Module map (moto-style, one job each):
- `server`      the process/thread that serves it all; `daemon` runs it in the background
                (cheap to import: the CLI loads it); `names` the constants both share.
- `router`      the front door (WSGI): Host check, health, execute-api vs control plane.
- `sigv4`       who may use the control plane (the server's own key, from `credentials`).
- `execute_api` one HTTP API invocation: stage -> route -> authorizer -> permission -> function.
- `matching`    stage and route matching, path templates.
- `authorizers/` one module per authorizer type (`jwt` today; Lambda and IAM go beside it).
- `permissions` Lambda resource-policy evaluation (may API Gateway invoke this function?).
- `runtime`     function code in warm worker processes (`lambda_worker`), timeouts enforced.
- `backends`    every lookup in moto's in-process backends (APIs, functions, Cognito JWKS).
- `moto_patches` what AWS has and moto lacks (GetAuthorizers).
"""
