"""The embedded AWS behind `--local`: moto's server plus an API gateway (HTTP and REST), on 127.0.0.1.

Module map (moto-style, one job each):
- `server`      the process/thread that serves it all; `daemon` runs it in the background
                (cheap to import: the CLI loads it); `names` the constants both share.
- `router`      the front door (WSGI): Host check, health, execute-api vs control plane;
                every body read there, at most a cap (`bodies`).
- `connections` deadlines for a request's headers and body, a bound on connections served.
- `sigv4`       who may use the control plane and `AWS_IAM` routes (the server's own key, from
                `credentials`).
- `execute_api` one HTTP API invocation: stage -> route -> authorizer -> permission -> function.
- `matching`    stage and route matching, path templates.
- `rest_api`    one REST API (v1) invocation: stage -> resource -> method -> authorizer
                (`authorizers/cognito_pool`: COGNITO_USER_POOLS; TOKEN: `token_authorizer`)
                -> permission -> function; `rest_event` its payload 1.0 event and answer.
- `authorizers/` one module per route AuthorizationType: `jwt` (JWT), `lambda_` (CUSTOM: a
                Lambda REQUEST authorizer, its identity sources, event, reply rules and TTL
                cache), `iam` (AWS_IAM: SigV4 for execute-api, verified by `sigv4`), `token`
                (a REST API's TOKEN authorizer: IAM policy, per-token cache, flush); `denied`
                the refusal they raise.
- `permissions` Lambda resource-policy evaluation (may API Gateway invoke this function?).
- `runtime`     function code in warm worker processes (`lambda_worker`), timeouts enforced;
                functions' boto3 reaches this server (`AWS_ENDPOINT_URL`), with no credentials.
- `sandbox`     the workers' Landlock confinement (their code, HOME, Python and system files);
                the runtime also caps each function's concurrency and reaps idle workers.
- `issuer`      the server's own Auth0-like OIDC issuer (`/_authdemo/issuer/`: discovery, JWKS,
                client-credentials tokens), for `up --issuer` offline; `issuer_client` is the
                CLI's side of it (`authdemo local issuer`).
- `backends`    every lookup in moto's in-process backends (APIs, functions, Cognito JWKS).
- `moto_patches` what AWS has and moto lacks (GetAuthorizers; unsigned Cognito calls
                answered in the region of their access token's pool; the pools' own signing
                key; Cognito's sign-in answers, with `lockout` its temporary lockout; real
                confirmation codes; FlushStageAuthorizersCache).
- `confirmation` Cognito's sign-up and password-reset codes (single-use, expiring), sent to
                `inbox`, the owner's 0600 file that `authdemo local inbox` reads.
"""
