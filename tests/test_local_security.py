"""The embedded AWS lets in only its owner: its host names, its own SigV4 key, and only what
AWS itself serves unsigned. Real HTTP on 127.0.0.1 against the session's server."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError
from conftest import server_client

from authdemo import aws
from authdemo.errors import CredentialsError
from authdemo.local.credentials import Credentials

REGION = "us-west-2"
EVIL_HOSTS = ["rebound.evil.example", "rebound.evil.example:{port}", "127.0.0.1:1", "localhost.evil.example"]


def client_with(server: Any, service: str, access_key: str, secret_key: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 1}),
    )


def signed_post(
    server: Any, service: str, body: str, headers: dict[str, str], when: datetime
) -> requests.Response:
    """A request signed by botocore with the server's key, as if at `when`."""
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    request = AWSRequest(method="POST", url=server.url + "/", data=body.encode(), headers=headers)
    request.headers["X-Amz-Date"] = stamp
    request.context["timestamp"] = stamp
    keys = server.credentials
    auth = SigV4Auth(BotoCredentials(keys.access_key, keys.secret_key), service, REGION)
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    signed = auth.signed_headers(auth.headers_to_sign(request))
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={auth.scope(request)}, SignedHeaders={signed}, Signature={signature}"
    )
    return requests.post(server.url + "/", data=body, headers=dict(request.headers.items()), timeout=10)


def role_names(server: Any) -> list[str]:
    return [r["RoleName"] for r in server_client(server, "iam").list_roles()["Roles"]]


@pytest.mark.parametrize("host", EVIL_HOSTS)
@pytest.mark.parametrize("path", ["/_authdemo/health", "/", "/_aws/execute-api/abcdef/protected"])
def test_wrong_host_is_refused_before_anything_runs(server: Any, host: str, path: str) -> None:
    """A Host the server does not serve (DNS rebinding, another port) gets 421 JSON, even for health."""
    response = requests.get(server.url + path, headers={"Host": host.format(port=server.port)}, timeout=10)
    assert response.status_code == 421
    assert "answers only to" in response.json()["message"]


def test_own_host_names_are_served(server: Any) -> None:
    """127.0.0.1, localhost (with or without the port) and <api>.execute-api.localhost still work."""
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "localhost", "127.0.0.1"):
        assert requests.get(server.url + "/_authdemo/health", headers={"Host": host}, timeout=10).ok
    api = requests.get(
        server.url + "/x", headers={"Host": f"zzzz.execute-api.localhost:{server.port}"}, timeout=10
    )
    assert api.status_code == 404 and api.json() == {"message": "Not Found"}


def test_fake_signature_on_create_role_is_refused_and_nothing_created(server: Any) -> None:
    """The right access key with a wrong secret: SignatureDoesNotMatch, and no role exists."""
    name = f"forged-{uuid.uuid4().hex[:8]}"
    forged = client_with(server, "iam", server.credentials.access_key, "x" * 40)
    with pytest.raises(ClientError) as caught:
        forged.create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert name not in role_names(server)
    assert isinstance(aws.translate(caught.value), CredentialsError)


@pytest.mark.parametrize(
    ("service", "call", "code", "status"),
    [
        ("iam", lambda c: c.list_roles(), "InvalidClientTokenId", 403),
        ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId", 403),
        ("cognito-idp", lambda c: c.list_user_pools(MaxResults=10), "UnrecognizedClientException", 400),
        ("logs", lambda c: c.describe_log_groups(), "UnrecognizedClientException", 400),
        ("lambda", lambda c: c.list_functions(), "UnrecognizedClientException", 403),
        ("apigatewayv2", lambda c: c.get_apis(), "UnrecognizedClientException", 403),
    ],
)
def test_unknown_access_key_is_refused_in_each_protocol(
    server: Any, service: str, call: Any, code: str, status: int
) -> None:
    """Another key (e.g. the presenter's real one) is refused in the wire format of the service."""
    other = Credentials.generate()
    with pytest.raises(ClientError) as caught:
        call(client_with(server, service, other.access_key, other.secret_key))
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert error["Error"]["Message"] == "The security token included in the request is invalid."
    assert isinstance(aws.translate(caught.value), CredentialsError)
    call(server_client(server, service))  # the server's own key passes


def test_expired_x_amz_date_is_refused(server: Any) -> None:
    """A correct signature made more than 5 minutes ago is refused as expired."""
    body = "Action=ListRoles&Version=2010-05-08"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    now = datetime.now(timezone.utc)
    assert signed_post(server, "iam", body, headers, now).status_code == 200  # the helper signs right
    stale = signed_post(server, "iam", body, headers, now - timedelta(minutes=6))
    assert stale.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in stale.text and "Signature expired" in stale.text
    future = signed_post(server, "iam", body, headers, now + timedelta(minutes=6))
    assert future.status_code == 403 and "Signature expired" in future.text


def test_tampered_body_is_refused(server: Any) -> None:
    """A signed request whose body was changed afterwards no longer matches its signature."""
    signed_name, name = f"signed-{uuid.uuid4().hex[:8]}", f"tampered-{uuid.uuid4().hex[:8]}"
    body = f"Action=CreateRole&Version=2010-05-08&RoleName={signed_name}&AssumeRolePolicyDocument=%7B%7D"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    good = signed_post(server, "iam", body, headers, datetime.now(timezone.utc))
    assert good.status_code == 200
    tampered = body.replace(signed_name, name)
    request = requests.Request("POST", server.url + "/", data=tampered, headers=headers)
    prepared = request.prepare()
    prepared.headers.update({k: v for k, v in good.request.headers.items() if k.lower() != "content-length"})
    with requests.Session() as session:
        assert session.send(prepared, timeout=10).status_code == 403
    assert name not in role_names(server)


def test_unsigned_requests_reach_only_what_aws_serves_unsigned(server: Any) -> None:
    """InitiateAuth and the pool's JWKS work without credentials; an admin call does not."""
    idp = server_client(server, "cognito-idp")
    pool = idp.create_user_pool(PoolName=f"open-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="bob", TemporaryPassword="Temp-Pass-1!")
    idp.admin_set_user_password(UserPoolId=pool, Username="bob", Password="Bob-Pass-123!", Permanent=True)
    unsigned = boto3.client(
        "cognito-idp", endpoint_url=server.url, region_name=REGION, config=Config(signature_version=UNSIGNED)
    )
    answer = unsigned.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "bob", "PASSWORD": "Bob-Pass-123!"},
    )
    assert answer["AuthenticationResult"]["IdToken"].count(".") == 2
    assert requests.get(f"{server.url}/{pool}/.well-known/jwks.json", timeout=10).json()["keys"]
    with pytest.raises(ClientError) as caught:
        unsigned.list_user_pools(MaxResults=10)
    assert caught.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"


def test_moto_api_needs_the_servers_key(server: Any) -> None:
    """moto's /moto-api/reset would wipe every resource: refused without a valid signature."""
    name = f"survivor-{uuid.uuid4().hex[:8]}"
    server_client(server, "iam").create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    for method in ("POST", "GET"):
        response = requests.request(method, server.url + "/moto-api/reset", timeout=10)
        assert response.status_code == 403
        assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert requests.get(server.url + "/moto-api/data.json", timeout=10).status_code == 403
    assert name in role_names(server)


def test_authdemo_client_with_a_wrong_key_gets_a_credentials_error(server: Any) -> None:
    """authdemo's own client factory signs with the key it is given; a stale key is one sentence, exit 4."""
    other = Credentials.generate()
    target = aws.Target(
        REGION,
        endpoint_url=server.url,
        local=True,
        access_key=other.access_key,
        secret_key=other.secret_key,
    )
    with pytest.raises(CredentialsError) as caught:
        aws.Clients(target)("iam").list_roles()
    assert "rejected your credentials" in caught.value.message
    good = aws.Target(
        REGION,
        endpoint_url=server.url,
        local=True,
        access_key=server.credentials.access_key,
        secret_key=server.credentials.secret_key,
    )
    assert "Roles" in aws.Clients(good)("iam").list_roles()
