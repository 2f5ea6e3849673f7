"""Issue 20, finding 3: the embedded Cognito signs with a key of its own, never moto's published one.

Every moto user pool signed its tokens with the private key that ships inside moto
(`cognitoidp/resources/jwks-private.json`), and the gateway trusted it: anyone could mint ID,
access and M2M tokens that got 200. The attacker here has only that public file and the
standard library's view of the server (loopback, no key).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
import jwt
import requests
from botocore import UNSIGNED
from botocore.config import Config
from conftest import moto_published_key, run, server_client
from moto.utilities.utils import load_resource

from authdemo import app, paths
from authdemo.state import read_state

REGION = "us-west-2"
MOTO_PUBLIC = load_resource("cognitoidp/resources/jwks-public.json")


def forged(claims: dict[str, Any], key: Any = None, kid: str = "dummy") -> str:
    """A token as the attacker signs it: moto's published key unless `key`, a one-hour life."""
    now = int(time.time())
    payload = {"iat": now, "auth_time": now, "exp": now + 3600, "jti": str(uuid.uuid4()), **claims}
    return jwt.encode(
        payload, moto_published_key() if key is None else key, algorithm="RS256", headers={"kid": kid}
    )


def test_tokens_signed_with_motos_published_key_get_401_at_every_jwt_door(local_daemon: Any) -> None:
    """ID, access and M2M tokens minted with moto's key (its kid, or the server's) get 401 at
    /protected, /scoped and /m2m; the server's own tokens still get 200 there."""
    stack = f"keys-{uuid.uuid4().hex[:6]}"
    assert run("up", "--local", "--stack", stack).exit_code == 0
    try:
        state = read_state(app.state_path(app.Options(stack=stack, local=True)))
        resources = state["resources"]
        pool_id = resources["user_pool"]["id"]
        client_id, m2m_id = resources["app_client"]["id"], resources["m2m_client"]["id"]
        api = f"{local_daemon.url}/_aws/execute-api/{resources['api']['id']}"
        issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
        user = {"sub": str(uuid.uuid4()), "iss": issuer}
        tokens = {
            "id": {**user, "aud": client_id, "token_use": "id", "cognito:username": "demo@example.com"},
            "access": {
                **user,
                "client_id": client_id,
                "token_use": "access",
                "scope": "aws.cognito.signin.user.admin",
                "username": "demo@example.com",
            },
            "m2m": {
                "sub": m2m_id,
                "iss": issuer,
                "client_id": m2m_id,
                "token_use": "access",
                "scope": "authdemo/read",
            },
        }
        doors = {"id": ["/protected"], "access": ["/protected", "/scoped"], "m2m": ["/m2m"]}

        def status(path: str, token: str) -> int:
            return requests.get(api + path, headers={"Authorization": token}, timeout=10).status_code

        for kind, claims in tokens.items():
            token = forged(claims)  # moto's key, moto's kid "dummy"
            assert {door: status(door, token) for door in doors[kind]} == dict.fromkeys(doors[kind], 401)
        from authdemo.local.moto_patches import pool_key

        for kind, claims in tokens.items():
            token = forged(claims, kid=pool_key().kid)  # moto's key under the server's kid
            assert {door: status(door, token) for door in doors[kind]} == dict.fromkeys(doors[kind], 401)
        # The doors are open to the server's own tokens (and to a token it would sign: the hook).
        access = run("token", "--local", "--stack", stack, "--access").stdout.strip()
        m2m = run("token", "--local", "--stack", stack, "--m2m").stdout.strip()
        assert (status("/scoped", access), status("/m2m", m2m)) == (200, 200)
        assert status("/m2m", forged(tokens["m2m"], key=pool_key().private, kid=pool_key().kid)) == 200
    finally:
        assert run("down", "--local", "--stack", stack).exit_code == 0


def test_pools_serve_only_the_servers_own_key_and_sign_with_it(server: Any) -> None:
    """A pool's JWKS (unsigned, as on AWS) holds one RSA key that is not moto's; InitiateAuth's
    and managed login's tokens carry its kid and verify with it, not with moto's public key."""
    from authdemo.local.moto_patches import pool_key

    idp = server_client(server, "cognito-idp", REGION)
    pool_id = idp.create_user_pool(PoolName=f"keys-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=flows)[
        "UserPoolClient"
    ]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password="Pass-word-1!", Permanent=True)

    jwks = requests.get(f"{server.url}/{pool_id}/.well-known/jwks.json", timeout=10).json()
    assert len(jwks["keys"]) == 1
    (key,) = jwks["keys"]
    assert key["kid"] != "dummy" and key["n"] != MOTO_PUBLIC["keys"][0]["n"]
    assert "d" not in key and key == pool_key().jwks["keys"][0]

    anonymous = boto3.client(
        "cognito-idp",
        endpoint_url=server.url,
        region_name=REGION,
        config=Config(signature_version=UNSIGNED),
    )
    params = {"USERNAME": "alice", "PASSWORD": "Pass-word-1!"}
    result = anonymous.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)
    own = jwt.PyJWK.from_dict(key).key
    moto_public = jwt.PyJWK.from_dict(MOTO_PUBLIC["keys"][0]).key
    for name in ("IdToken", "AccessToken"):
        token = result["AuthenticationResult"][name]
        assert jwt.get_unverified_header(token)["kid"] == key["kid"]
        jwt.decode(token, own, algorithms=["RS256"], options={"verify_aud": False})
        try:
            jwt.decode(token, moto_public, algorithms=["RS256"], options={"verify_aud": False})
        except jwt.InvalidSignatureError:
            pass
        else:
            raise AssertionError(f"the {name} verifies with moto's published key")


def test_the_pool_key_is_never_written(local_daemon: Any) -> None:
    """Nothing the server publishes in AUTHDEMO_HOME holds the pool key's private part."""
    from authdemo.local.moto_patches import pool_key

    private = pool_key().jwk.as_dict(private=True)
    for path in paths.home().rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert private["d"] not in text and private["p"] not in text, path
    assert json.dumps(pool_key().jwks).count('"d"') == 0
