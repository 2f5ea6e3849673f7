"""Issue 20 finding 13: the issuer fetches of `up --issuer` and of the embedded gateway
(`authdemo/oidc.py`, `KeyProvider`) go only where the issuer URL check lets them, within one
deadline for the whole fetch and a size cap on the bytes actually read. Each test is the attack,
played with real HTTP servers on loopback: a redirect to a refused host, a `jwks_uri` pointing
somewhere refused, a drip-fed answer, an endless chunked body."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FakeIssuer

from authdemo import oidc
from authdemo.local.authorizers.jwt import Denied, KeyProvider

HOME_ONLY = "http:// is accepted only when the issuer is itself on 127.0.0.1 or localhost"
#: The deadline the tests inject (API Gateway's is 1.5 s): a drip outlasts it many times over.
DEADLINE = 0.3
#: For fetches meant to succeed, however loaded the machine.
ROOMY = 10.0


@pytest.fixture
def elsewhere() -> Iterator[FakeIssuer]:
    """A sound issuer on 127.0.0.2: a host the URL check refuses for http (only 127.0.0.1 and
    localhost may be http), standing in for any host a hostile issuer would send us to."""
    server = FakeIssuer("127.0.0.2")
    yield server
    server.close()


def _gateway_keys(issuer: str, timeout: float = DEADLINE) -> Any:
    """What the embedded gateway does on a token of `issuer` with kid k1."""
    return KeyProvider(timeout=timeout).signing_key(issuer, "k1")


def _redirect(to: str) -> list[bytes]:
    return [
        f"HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
    ]


@pytest.mark.parametrize("hop", ["discovery", "jwks"])
def test_a_redirect_to_a_refused_host_is_not_followed(
    fake_issuer: FakeIssuer, elsewhere: FakeIssuer, hop: str
) -> None:
    """An issuer's 302 to http://127.0.0.2 (http there is refused) is refused by `up`'s check and
    by the gateway, and the refused host is never asked: every hop passes the URL check."""
    issuer = fake_issuer.base + "/"
    fake_issuer.publish(issuer)
    elsewhere.publish(issuer)  # a sound document there: following the redirect would succeed
    path = "/.well-known/openid-configuration" if hop == "discovery" else "/jwks"
    fake_issuer.serve_raw(path, _redirect(elsewhere.base + path))
    with pytest.raises(oidc.IssuerError) as caught:
        oidc.check_issuer(issuer, allow_http_loopback=True)
    said = " ".join(str(caught.value).split())
    assert "redirects to 'http://127.0.0.2:" in said and "accepted only on 127.0.0.1 or localhost" in said
    with pytest.raises(Denied) as denied:
        _gateway_keys(issuer)
    assert denied.value.description == "the issuer's jwks could not be fetched"
    assert elsewhere.fetches == []


def test_a_redirect_to_a_fine_host_is_followed(fake_issuer: FakeIssuer) -> None:
    """A redirect the URL check accepts is followed (AWS documents none; refusing every one
    would refuse issuers that work): the keys are found through it."""
    issuer = fake_issuer.base + "/"
    fake_issuer.publish(issuer)
    fake_issuer.serve_raw("/keys", _redirect("/jwks"))
    fake_issuer.serve(
        "/.well-known/openid-configuration", {"issuer": issuer, "jwks_uri": fake_issuer.base + "/keys"}
    )
    assert oidc.check_issuer(issuer, allow_http_loopback=True).rsa_kids == ("k1",)
    assert _gateway_keys(issuer, ROOMY).key_id == "k1"


def test_endless_redirects_are_refused(fake_issuer: FakeIssuer) -> None:
    """A redirect loop ends in one sentence, not a hang."""
    issuer = fake_issuer.base + "/"
    fake_issuer.serve_raw("/.well-known/openid-configuration", _redirect("/.well-known/openid-configuration"))
    with pytest.raises(oidc.IssuerError, match=f"more than {oidc.MAX_REDIRECTS} redirects"):
        oidc.check_issuer(issuer, allow_http_loopback=True)


def test_the_gateway_checks_jwks_uri_before_fetching_it(
    fake_issuer: FakeIssuer, elsewhere: FakeIssuer
) -> None:
    """A discovery document whose jwks_uri is http://127.0.0.2 (refused, as `up` refuses it):
    the gateway answers 401 without asking that host."""
    issuer = fake_issuer.base + "/"
    fake_issuer.publish(issuer)
    elsewhere.publish(issuer)
    fake_issuer.serve(
        "/.well-known/openid-configuration", {"issuer": issuer, "jwks_uri": elsewhere.base + "/jwks"}
    )
    with pytest.raises(Denied):
        _gateway_keys(issuer)
    with pytest.raises(oidc.IssuerError, match="is http://"):  # `up` refused it already
        oidc.check_issuer(issuer, allow_http_loopback=True)
    assert elsewhere.fetches == []


def test_the_gateway_checks_the_issuer_url_itself(elsewhere: FakeIssuer) -> None:
    """moto accepts an http:// issuer anywhere; the gateway fetches it only where `up --local`
    would (http on 127.0.0.1/localhost)."""
    issuer = elsewhere.base + "/"
    elsewhere.publish(issuer)
    with pytest.raises(Denied):
        _gateway_keys(issuer)
    assert elsewhere.fetches == []


def test_a_remote_issuer_cannot_point_the_fetch_at_loopback_over_http() -> None:
    """http:// is for an issuer that is itself on loopback: a jwks_uri or redirect of an https
    issuer elsewhere may not send the fetch to http://127.0.0.1 (the owner's own services)."""
    said = oidc.url_problem("http://127.0.0.1:4599/x", True, origin="https://issuer.example/")
    assert said == HOME_ONLY
    assert oidc.url_problem("http://127.0.0.1:4599/x", True, origin="http://localhost:1/") is None
    assert oidc.url_problem("https://keys.example/jwks", False, origin="https://issuer.example/") is None


DISCOVERY = "/.well-known/openid-configuration"
JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize("where", ["status line", "headers", "body"])
def test_a_drip_fed_answer_is_cut_at_the_deadline(
    fake_issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """One byte every 20 ms keeps each read under any per-read timeout; the fetch still gives up
    at the deadline (hanging up while the drip goes on) and says so in one sentence."""
    monkeypatch.setattr(oidc, "TIMEOUT_SECONDS", DEADLINE)
    issuer = fake_issuer.base + "/"
    fake_issuer.publish(issuer)
    body = fake_issuer.routes[DISCOVERY][1] + b" " * 300
    head = JSON_HEAD + b"Content-Length: %d\r\n\r\n" % len(body)
    if where == "status line":
        pieces = _drip(head + body)
    elif where == "headers":
        pieces = [JSON_HEAD, *_drip(b"X-Pad: " + b"y" * 300 + b"\r\n"), head[len(JSON_HEAD) :], body]
    else:
        pieces = [head, *_drip(body)]
    ended = fake_issuer.serve_raw(DISCOVERY, pieces, every=0.02)
    with pytest.raises(oidc.IssuerError) as caught:
        oidc.check_issuer(issuer, allow_http_loopback=True)
    said = str(caught.value)
    assert f"discovery document at {fake_issuer.base}{DISCOVERY} did not answer within {DEADLINE:g} s" in said
    assert ended.wait(30)
    assert DISCOVERY in fake_issuer.cut  # we hung up while it was still dripping


def _drip(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def test_a_drip_fed_answer_is_a_401_at_the_gateway(fake_issuer: FakeIssuer) -> None:
    """The same drip against the embedded gateway: refused, and the connection dropped early."""
    issuer = fake_issuer.base + "/"
    fake_issuer.publish(issuer)
    body = fake_issuer.routes[DISCOVERY][1] + b" " * 300
    ended = fake_issuer.serve_raw(
        DISCOVERY, [JSON_HEAD + b"Content-Length: %d\r\n\r\n" % len(body), *_drip(body)], every=0.02
    )
    with pytest.raises(Denied):
        _gateway_keys(issuer)
    assert ended.wait(30)
    assert DISCOVERY in fake_issuer.cut


def test_an_endless_chunked_jwks_is_cut_at_the_cap(fake_issuer: FakeIssuer) -> None:
    """A chunked body (no Content-Length to check up front) is counted as read: refused past
    150000 bytes, the connection dropped long before the 50 MB it would send."""
    issuer = fake_issuer.base + "/"
    fake_issuer.publish(issuer)
    chunk = b"%x\r\n%s\r\n" % (1000, b" " * 1000)
    pieces = [JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n", b'9\r\n{"keys":[\r\n'] + [chunk] * 50_000
    ended = fake_issuer.serve_raw("/jwks", [*pieces, b"2\r\n]}\r\n0\r\n\r\n"])
    with pytest.raises(oidc.IssuerError, match="larger than 150000 bytes"):
        oidc.check_issuer(issuer, allow_http_loopback=True)
    assert ended.wait(30)
    assert "/jwks" in fake_issuer.cut


@pytest.fixture
def https_elsewhere(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIssuer]:
    """An https issuer on 127.0.0.2 (so not on loopback by the URL check's names), its
    self-signed certificate trusted through REQUESTS_CA_BUNDLE, as a corporate CA would be."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.2")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.2"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "cert.pem"))
    server = FakeIssuer("127.0.0.2", tls=context)
    yield server
    server.close()


def test_an_https_issuer_elsewhere_is_fetched(https_elsewhere: FakeIssuer) -> None:
    """The https path (TLS handshake inside the deadline, the certificate verified) finds keys."""
    issuer = https_elsewhere.base + "/"
    https_elsewhere.publish(issuer)
    assert oidc.check_issuer(issuer).rsa_kids == ("k1",)
    assert _gateway_keys(issuer, ROOMY).key_id == "k1"


def test_an_https_issuer_elsewhere_cannot_send_the_fetch_to_loopback_http(
    https_elsewhere: FakeIssuer, fake_issuer: FakeIssuer
) -> None:
    """An issuer that is not on this machine names http://127.0.0.1/... as its jwks_uri (or
    redirects there): neither `up --local` nor the gateway fetch it; this machine's own
    services stay out of an issuer's reach."""
    issuer = https_elsewhere.base + "/"
    https_elsewhere.publish(issuer)
    fake_issuer.publish(issuer)
    https_elsewhere.serve(DISCOVERY, {"issuer": issuer, "jwks_uri": fake_issuer.base + "/jwks"})
    with pytest.raises(oidc.IssuerError, match=re.escape(HOME_ONLY)):
        oidc.check_issuer(issuer, allow_http_loopback=True)
    with pytest.raises(Denied):
        _gateway_keys(issuer)
    https_elsewhere.serve(DISCOVERY, {"issuer": issuer, "jwks_uri": https_elsewhere.base + "/jwks"})
    https_elsewhere.serve_raw("/jwks", _redirect(fake_issuer.base + "/jwks"))
    with pytest.raises(oidc.IssuerError, match=re.escape(HOME_ONLY)):
        oidc.check_issuer(issuer, allow_http_loopback=True)
    with pytest.raises(Denied):
        KeyProvider(timeout=DEADLINE).signing_key(issuer, "k1")
    assert fake_issuer.fetches == []
