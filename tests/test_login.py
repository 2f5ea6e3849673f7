"""`authdemo login`, `open`, `logout` and oauth.py without a browser: the loopback redirect's
refusals (state, ?error=, timeout, port in use), the kept tokens (0600, used by `token`), the
token page server's guards, and the token endpoint's errors as one sentence."""

from __future__ import annotations

import base64
import errno
import hashlib
import re
import socket
import stat
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from conftest import (
    FakeManagedLogin,
    LoginRun,
    cognito_sign_in,
    free_callback_port,
    free_port,
    give_domain,
    ipv6_loopback,
    mint,
    run,
)

from authdemo import oauth
from authdemo.errors import AuthdemoError, ExitCode
from authdemo.login import page, server, store
from authdemo.login.server import PageServer
from authdemo.stack import Options
from authdemo.state import read_state


@pytest.fixture
def fake(moto: None) -> Any:
    """Managed login in front of in-process moto's user store."""
    srv = FakeManagedLogin(cognito_sign_in(None))
    yield srv
    srv.stop()


needs_ipv6 = pytest.mark.skipif(
    not ipv6_loopback(), reason="no IPv6 loopback here: no one can listen on [::1], the attack is impossible"
)


@pytest.fixture
def login_stack(deployed: Path, fake: FakeManagedLogin) -> dict[str, Any]:
    """The default stack deployed on moto, its domain pointing at the fake, a free callback port."""
    port = free_callback_port()
    give_domain(deployed, fake.base, port)
    state = read_state(deployed)
    assert state is not None
    return {
        "state_file": deployed,
        "port": port,
        "client_id": state["resources"]["app_client"]["id"],
        "username": state["username"],
        "password": state["password"],
    }


def sign_in_by_hand(url: str, username: str, password: str, via: str | None = None) -> requests.Response:
    """What the browser does: the form, the POST, and the redirect back to the loopback listener
    (not followed: the caller looks at the callback's own answer); `via`: the address `localhost`
    resolved to (`[::1]`), the Host header staying `localhost:<port>`."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    base = url.split("/oauth2/authorize")[0]
    assert requests.get(url, timeout=5).status_code == 200
    answer = requests.post(
        f"{base}/login",
        data={**params, "username": username, "password": password},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    if via is None:
        return requests.get(back.geturl(), allow_redirects=False, timeout=10)
    where = back._replace(netloc=f"{via}:{back.port}").geturl()
    return requests.get(where, headers={"Host": back.netloc}, allow_redirects=False, timeout=10)


# ------------------------------------------------------------------------------- oauth.py
def test_pkce_pair_is_rfc7636_s256():
    """The verifier is 43-128 unreserved characters; the challenge is its S256 transform."""
    verifier, challenge = oauth.pkce_pair()
    assert 43 <= len(verifier) <= 128 and re.fullmatch(r"[A-Za-z0-9._~-]+", verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert challenge == expected and oauth.pkce_pair()[0] != verifier


def test_authorize_url_carries_the_flow_and_no_secret():
    """response_type=code, S256, the scopes and the state; nothing else."""
    url = oauth.authorize_url(
        "https://x.example/", "client1", "http://localhost:8400/callback", ["openid", "email"], "st", "ch"
    )
    parts = urlsplit(url)
    assert parts.path == "/oauth2/authorize"
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["client1"],
        "redirect_uri": ["http://localhost:8400/callback"],
        "scope": ["openid email"],
        "state": ["st"],
        "code_challenge_method": ["S256"],
        "code_challenge": ["ch"],
    }


def test_token_endpoint_errors_are_one_sentence(fake):
    """invalid_grant (a code used up or unknown), an unsupported grant and no answer at all."""
    with pytest.raises(AuthdemoError) as used:
        oauth.exchange_code(fake.base, "client1", "no-such-code", "http://localhost:1/callback", "v" * 43)
    assert used.value.code == ExitCode.CREDENTIALS and used.value.aws_code == "invalid_grant"
    assert used.value.message.count(".") == 1 and "`authdemo login`" in used.value.message
    with pytest.raises(AuthdemoError) as grant:
        oauth.client_credentials(fake.base, "m2m", "secret", ["authdemo/read"])
    assert "unsupported_grant_type" in grant.value.message and "`authdemo up`" in grant.value.message
    with pytest.raises(AuthdemoError) as gone:
        oauth.refresh(f"http://127.0.0.1:{free_port()}", "client1", "r")
    assert gone.value.code == ExitCode.UNREACHABLE and "Nothing answers at" in gone.value.message


# ------------------------------------------------------------------------------- the flow
def test_login_keeps_tokens_0600_and_token_uses_them(login_stack, fake):
    """The whole redirect: the code is exchanged with the PKCE verifier, the browser lands on the
    token page, the tokens are kept 0600 and `token` uses them (saying so); logout revokes them."""
    flow = LoginRun(Options())
    url = flow.url()
    assert f"redirect_uri=http%3A%2F%2Flocalhost%3A{login_stack['port']}%2Fcallback" in url
    back = sign_in_by_hand(url, login_stack["username"], login_stack["password"])
    assert back.status_code == 303 and re.fullmatch(r"/[\w-]{32}/", back.headers["Location"])
    assert "code=" not in back.headers["Location"]
    sent = fake.token_requests[-1]
    assert sent["grant_type"] == "authorization_code" and len(sent["code_verifier"]) >= 43
    replay = requests.get(f"http://127.0.0.1:{login_stack['port']}/callback?{urlsplit(url).query}", timeout=5)
    assert replay.status_code == 410  # only the first answer counts
    token_page = requests.get(f"http://localhost:{login_stack['port']}{back.headers['Location']}", timeout=5)
    assert token_page.status_code == 200 and 'data-claim="client_id"' in token_page.text
    result = flow.finish()
    assert result is not None and result["user"] == login_stack["username"]
    kept = store.tokens_path(login_stack["state_file"])
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    record = store.load(login_stack["state_file"])
    assert record is not None and record["refresh"] in fake.refresh_tokens
    assert any("token page is served at http://127.0.0.1:" in e for e in flow.events)
    assert not any(record["access"] in e or record["refresh"] in e for e in flow.events)  # never printed

    token = run("token", "--access")
    assert token.exit_code == 0 and token.stdout.strip() == record["access"]
    assert "Using the tokens of `authdemo login`" in token.stderr

    out = run("logout")
    assert out.exit_code == 0 and "revoked" in out.stderr
    assert fake.revoked == [record["refresh"]] and not kept.exists()
    token = run("token", "--access")
    assert (
        token.exit_code == 0
        and token.stdout.strip() != record["access"]
        and "authdemo login" not in token.stderr
    )


def test_a_callback_without_this_runs_state_is_ignored_and_the_login_keeps_waiting(login_stack):
    """What `<img src="http://localhost:N/callback">` on any web page sends (no state, a forged
    one, a forged ?error=), or a stale tab, gets an error page and ends nothing: the real sign-in
    still completes; stderr says so once."""
    port = login_stack["port"]
    flow = LoginRun(Options())
    url = flow.url()
    for query in ("", "?code=abc&state=forged", "?error=access_denied&state=", "?code=abc"):
        stray = requests.get(
            f"http://127.0.0.1:{port}/callback{query}",
            headers={"Host": f"localhost:{port}", "Sec-Fetch-Dest": "image"},
            allow_redirects=False,
            timeout=5,
        )
        assert stray.status_code == 400 and "Location" not in stray.headers
        assert "still waiting" in stray.text
        assert not store.tokens_path(login_stack["state_file"]).exists()
    back = sign_in_by_hand(url, login_stack["username"], login_stack["password"])
    assert back.status_code == 303 and re.fullmatch(r"/[\w-]{32}/", back.headers["Location"])
    result = flow.finish()
    assert result is not None and result["user"] == login_stack["username"]
    assert sum("without this login's state was ignored" in e for e in flow.events) == 1


@needs_ipv6
def test_cli_refuses_when_another_user_listens_on_the_ipv6_loopback_port(login_stack, fake):
    """Browsers try [::1] first for localhost: a listener there would get the code and state, so
    `login` refuses to start (one sentence, exit 7) rather than serve 127.0.0.1 alone."""
    with socket.socket(socket.AF_INET6) as thief:
        thief.bind(("::1", 0))
        thief.listen()
        port = int(thief.getsockname()[1])
        give_domain(login_stack["state_file"], fake.base, port)
        result = run("login", "--no-browser", "--timeout", "1")
    assert result.exit_code == ExitCode.UNREACHABLE
    said = f"Port {port} on ::1 (localhost's IPv6 address, which browsers try first) is already in use"
    assert said in result.stderr
    assert "--callback-port" in result.stderr and "oauth2/authorize" not in result.stderr


@needs_ipv6
def test_login_holds_the_callback_port_on_both_loopbacks_and_answers_on_ipv6(login_stack):
    """While `login` waits, no one else can listen on [::1]:<callback port>; a browser that
    resolved localhost to ::1 gets the whole flow there: the callback, then the token page."""
    port = login_stack["port"]
    flow = LoginRun(Options())
    url = flow.url()
    with socket.socket(socket.AF_INET6) as thief, pytest.raises(OSError) as taken:
        thief.bind(("::1", port))
    assert taken.value.errno == errno.EADDRINUSE
    back = sign_in_by_hand(url, login_stack["username"], login_stack["password"], via="[::1]")
    assert back.status_code == 303
    token_page = requests.get(
        f"http://[::1]:{port}{back.headers['Location']}", headers={"Host": f"localhost:{port}"}, timeout=5
    )
    assert token_page.status_code == 200 and 'data-claim="client_id"' in token_page.text
    assert flow.finish() is not None


def test_page_server_without_an_ipv6_loopback_serves_ipv4_alone(monkeypatch):
    """Where ::1 cannot be bound for want of an IPv6 loopback (EADDRNOTAVAIL: here a documentation
    address stands in for it), no one can listen there either: the server starts on 127.0.0.1."""
    monkeypatch.setattr(server, "IPV6_LOOPBACK", "2001:db8::1")
    srv = PageServer(0, {}, "t", localhost=True).start()
    try:
        assert [listener.address_family for listener in srv.listeners] == [socket.AF_INET]
        assert requests.get(f"http://127.0.0.1:{srv.port}/", timeout=5).status_code == 404
    finally:
        srv.stop()


def test_cognito_error_redirect_is_one_sentence(login_stack):
    """`?error=access_denied` from Cognito ends the login with its reason and the fix."""
    flow = LoginRun(Options())
    state = parse_qs(urlsplit(flow.url()).query)["state"][0]
    answer = requests.get(
        f"http://127.0.0.1:{login_stack['port']}/callback",
        params={"error": "access_denied", "error_description": "User cancelled", "state": state},
        timeout=5,
    )
    assert answer.status_code == 400 and "access_denied" in answer.text
    with pytest.raises(AuthdemoError) as refused:
        flow.finish()
    assert refused.value.message.startswith("Cognito refused the sign-in (access_denied: User cancelled)")


def test_cli_timeout_and_no_browser(login_stack):
    """--no-browser prints the sign-in URL on stderr; no redirect within --timeout: exit 7."""
    result = run("login", "--no-browser", "--timeout", "0.3")
    assert result.exit_code == ExitCode.UNREACHABLE
    assert "/oauth2/authorize?response_type=code" in result.stderr and result.stdout == ""
    assert "No sign-in came back to http://localhost:" in result.stderr and "within 0.3 s" in result.stderr


def test_cli_callback_port_in_use(login_stack, held_port):
    """The registered callback port taken by another program: one sentence, exit 7."""
    give_domain(login_stack["state_file"], "http://127.0.0.1:9", held_port)
    result = run("login", "--no-browser", "--timeout", "5")
    assert result.exit_code == ExitCode.UNREACHABLE
    assert f"Port {held_port} on 127.0.0.1 is already in use" in result.stderr
    assert "--callback-port" in result.stderr and "oauth2/authorize" not in result.stderr


def test_cli_needs_a_domain_and_kept_tokens(deployed):
    """A stack made before managed login has no domain; `open` with nothing kept says what to run."""
    import json

    recorded = json.loads(deployed.read_text())
    del recorded["resources"]["domain"]  # as a stack made before issue 11 was recorded
    deployed.write_text(json.dumps(recorded))
    login = run("login", "--no-browser", "--timeout", "1")
    assert login.exit_code == ExitCode.NOT_FOUND and "no managed login domain" in login.stderr
    opened = run("open", "--no-browser", "--timeout", "1")
    assert opened.exit_code == ExitCode.NOT_FOUND and "run `authdemo login` first" in opened.stderr
    out = run("logout")
    assert out.exit_code == 0 and "nothing to forget" in out.stderr


def test_open_refreshes_expired_tokens(login_stack, fake):
    """Kept tokens past their expiry are refreshed at the token endpoint before the page opens."""
    tokens = cognito_sign_in(None)(login_stack["client_id"], login_stack["username"], login_stack["password"])
    assert tokens is not None
    fake.refresh_tokens["r1"] = tokens
    expired = mint("https://issuer", login_stack["client_id"], lifetime=-10)
    store.save(
        login_stack["state_file"],
        login_stack["client_id"],
        {"id_token": expired, "access_token": expired, "refresh_token": "r1"},
    )
    result = run("open", "--no-browser", "--timeout", "0.2")
    assert result.exit_code == 0, result.output
    assert "refreshed them" in result.stderr and "token page is served at" in result.stderr
    assert store.load(login_stack["state_file"])["access"] == tokens["access"]  # type: ignore[index]


@pytest.mark.parametrize("command", [("forget", "--yes"), ("down",), ("down", "--sweep", "--yes")])
def test_forget_and_down_leave_no_kept_tokens_under_the_stack_name(deployed, command):
    """`forget` sets the login's tokens aside with the state file (`<kept>.tokens`, 0600); `down`
    and `down --sweep` forget them with the stack: a new stack of the same name never uses them."""
    token = mint("https://issuer", "client")
    store.save(deployed, "client", {"id_token": token, "access_token": token, "refresh_token": "r1"})
    kept_before = store.tokens_path(deployed).read_text()
    result = run(*command)
    assert result.exit_code == 0, result.output
    assert not store.tokens_path(deployed).exists()
    aside = list(deployed.parent.glob(f"{deployed.name}.forgotten-*"))
    if command[0] == "forget":
        tokens_aside = store.tokens_path(next(p for p in aside if not p.name.endswith(".tokens")))
        assert tokens_aside.read_text() == kept_before
        assert stat.S_IMODE(tokens_aside.stat().st_mode) == 0o600
        assert f"set aside with it, as {tokens_aside}" in " ".join(result.stderr.split())
    else:
        assert aside == []


# ------------------------------------------------------------------------ the page server
@pytest.fixture
def page_server() -> Any:
    claims = {"cognito:username": "alice", "email": "a@example.com", "auth_time": 1}
    tokens = {
        "id": mint("https://iss", "client1", **claims),
        "access": mint(
            "https://iss",
            "client1",
            drop=("aud", "email"),
            token_use="access",
            client_id="client1",
            scope="openid email",
            **{k: v for k, v in claims.items() if k != "email"},
        ),
    }
    srv = PageServer(0, {"protected": f"http://127.0.0.1:{free_port()}/protected"}, "t")
    srv.set_tokens(tokens)
    srv.start()
    yield srv
    srv.stop()


def test_page_server_refuses_foreign_host_missing_secret_and_origin(page_server):
    """Host other than 127.0.0.1/localhost: 421; no secret: 404; a foreign Origin or a simple
    (non-JSON) POST cannot call the API; every answer carries the strict CSP."""
    root = f"http://127.0.0.1:{page_server.port}"
    ok = requests.get(page_server.url, timeout=5)
    assert ok.status_code == 200 and "default-src 'none'" in ok.headers["Content-Security-Policy"]
    assert ok.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(page_server.url, headers={"Host": "evil.example:80"}, timeout=5).status_code == 421
    assert requests.get(f"{root}/", timeout=5).status_code == 404
    assert requests.get(f"{root}/{'x' * 32}/", timeout=5).status_code == 404
    assert (
        requests.post(f"{root}/call", json={"route": "protected", "token": "id"}, timeout=5).status_code
        == 404
    )
    call = page_server.url + "call"
    body = {"route": "protected", "token": "id"}
    assert (
        requests.post(call, json=body, headers={"Origin": "http://evil.example"}, timeout=5).status_code
        == 403
    )
    assert requests.post(call, data="route=protected", timeout=5).status_code == 415
    unreachable = requests.post(
        call, json=body, headers={"Origin": f"http://localhost:{page_server.port}"}, timeout=5
    )
    assert unreachable.status_code == 502 and "nothing answers" in unreachable.json()["error"]
    assert page_server.tokens["id"] not in ok.text and page_server.tokens["access"] not in ok.text


def test_claims_that_differ_are_marked():
    """aud vs client_id, token_use, scope and email differ between the two tokens; auth_time does not."""
    rows = {
        r["claim"]: r
        for r in page.compare(
            {"aud": "c", "token_use": "id", "email": "e", "auth_time": 5},
            {"client_id": "c", "token_use": "access", "scope": "openid", "auth_time": 5},
        )
    }
    assert all(rows[k]["differs"] for k in ("aud", "client_id", "token_use", "scope", "email"))
    assert not rows["auth_time"]["differs"] and list(rows)[:2] == ["token_use", "aud"]


def test_cli_without_a_display_prints_the_url(login_stack, monkeypatch):
    """With no display, no text browser takes over the terminal: the URL is printed instead."""
    import webbrowser

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(webbrowser, "open", lambda *_: pytest.fail("a text browser would take the terminal"))
    result = run("login", "--timeout", "0.2")
    assert result.exit_code == ExitCode.UNREACHABLE
    assert "No browser could be opened here" in result.stderr and "/oauth2/authorize?" in result.stderr


def test_login_says_whom_to_sign_in_as_and_where_the_password_is(login_stack):
    """`login` names the user to sign in as and the command that prints the password, never the
    password itself."""
    result = run("login", "--no-browser", "--timeout", "0.3", "--stack", "authdemo")
    said = " ".join(result.stderr.split())
    assert "Sign in as demo@example.com; the password: `authdemo status --field password`" in said
    assert login_stack["password"] not in result.output


# ------------------------------------- what the domain answers before a browser goes there (issue 19)
class _Domain:
    """A stand-in Cognito domain on 127.0.0.1: `pages` maps a path to (status, location, body);
    every request is logged. Anything else is 404."""

    def __init__(self, pages: dict[str, tuple[int, str, str]]) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from threading import Thread

        domain = self
        self.pages = pages
        self.seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                domain.seen.append(self.path)
                status, location, body = domain.pages.get(urlsplit(self.path).path, (404, "", "Not Found"))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                if location:
                    self.send_header("Location", location)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


UNAVAILABLE = (
    "<!doctype html><html><head><title>Login pages unavailable</title></head><body><h1>Login pages "
    "unavailable</h1><p>Please contact an administrator.</p></body></html>"
)


@pytest.mark.parametrize(
    ("pages", "said"),
    [
        (  # managed login v2, the app client without a branding style: /login shows the page
            {"/oauth2/authorize": (302, "/login?client_id=c", ""), "/login": (200, "", UNAVAILABLE)},
            "create-managed-login-branding --user-pool-id",
        ),
        (  # Cognito's own error page for a callback URL the client does not list
            {
                "/oauth2/authorize": (302, "/error?error=redirect_mismatch&client_id=c", ""),
                "/error": (200, "", "x"),
            },
            "(redirect_mismatch)",
        ),
        (  # a refusal sent back to the callback, where nothing listens yet
            {
                "/oauth2/authorize": (
                    302,
                    "http://localhost:{port}/callback?error=invalid_request&state=s",
                    "",
                )
            },
            "error=invalid_request",
        ),
        ({"/oauth2/authorize": (500, "", "<title>Internal error</title>")}, "HTTP 500 (Internal error)"),
    ],
)
def test_login_reads_the_sign_in_page_before_sending_a_browser(
    deployed: Path, pages: dict[str, tuple[int, str, str]], said: str
) -> None:
    """An error page (no branding style, /error, ?error= back to the callback, a 5xx) ends `login`
    at once in one sentence with its fix (exit 1), no URL to open, no wait until --timeout."""
    port = free_callback_port()
    pages = {path: (status, where.format(port=port), body) for path, (status, where, body) in pages.items()}
    domain = _Domain(pages)
    try:
        give_domain(deployed, domain.base, port)
        result = run("login", "--no-browser", "--timeout", "3")
    finally:
        domain.stop()
    assert result.exit_code == ExitCode.ERROR, result.output
    message = " ".join(result.stderr.split())
    assert message.count("Error:") == 1 and "The sign-in page answered" in message and said in message
    assert "oauth2/authorize?" not in result.output and "Traceback" not in result.output
    assert not any(path.startswith("/callback") for path in domain.seen)


def test_login_no_branding_fix_is_pasteable(deployed: Path) -> None:
    """The branding fix names this stack's pool, app client, domain and region, as aws CLI lines."""
    port = free_callback_port()
    domain = _Domain({"/oauth2/authorize": (200, "", UNAVAILABLE)})
    try:
        give_domain(deployed, domain.base, port)
        result = run("login", "--no-browser", "--timeout", "3")
    finally:
        domain.stop()
    state = read_state(deployed)
    pool, client = state["resources"]["user_pool"]["id"], state["resources"]["app_client"]["id"]
    message = " ".join(result.stderr.split())
    assert (
        f"aws cognito-idp create-managed-login-branding --user-pool-id {pool} --client-id {client} "
        "--use-cognito-provided-values --region us-west-2`" in message
    )
    assert f"aws cognito-idp update-user-pool-domain --domain fake --user-pool-id {pool} " in message


@pytest.mark.parametrize("forgotten", [False, True], ids=["tokens kept", "tokens forgotten meanwhile"])
def test_login_ends_naming_what_can_serve_the_page_again(login_stack, forgotten):
    """When `login` stops serving the page it names `authdemo open` only while the tokens are still
    kept; once forgotten meanwhile (what `test` does after its signed-out row), `authdemo login`."""
    flow = LoginRun(Options())
    back = sign_in_by_hand(flow.url(), login_stack["username"], login_stack["password"])
    assert back.status_code == 303 and store.load(login_stack["state_file"]) is not None
    if forgotten:
        store.remove(login_stack["state_file"])
    flow.finish()
    last = flow.events[-1]
    assert last.startswith("Stopped serving the token page")
    assert ("`authdemo open`" in last) is not forgotten
    assert ("`authdemo login`" in last) is forgotten


def _raw_call(page_server: Any, headers: str, body: bytes = b"") -> int:
    """POST /<secret>/call as a client would write it by hand; the status line's code."""
    import socket

    with socket.create_connection(("127.0.0.1", page_server.port), timeout=5) as sock:
        sock.sendall(
            f"POST /{page_server.secret}/call HTTP/1.1\r\nHost: 127.0.0.1:{page_server.port}\r\n"
            f"Content-Type: application/json\r\n{headers}\r\n".encode()
            + body
        )
        answer = sock.makefile("rb").readline()  # a timeout here: the server waits for a body
    return int(answer.split()[1])


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ("Content-Length: abc\r\n", 400),
        ("Content-Length: -1\r\n", 400),
        ("Content-Length: +5\r\n", 400),
        ("Content-Length: 5\r\nContent-Length: 6\r\n", 400),
        ("", 411),
        ("Transfer-Encoding: chunked\r\n", 411),
    ],
    ids=["abc", "minus one", "plus five", "two lengths", "none", "chunked"],
)
def test_token_page_call_refuses_a_bad_content_length(page_server: Any, headers: str, status: int) -> None:
    """`/call` answers 400 for a Content-Length that is not one number (it raised on `abc`, read to
    EOF on `-1`) and 411 without one; it is still up for a good call afterwards."""
    assert _raw_call(page_server, headers) == status
    body = b'{"route": "nowhere", "token": "id"}'
    assert _raw_call(page_server, f"Content-Length: {len(body)}\r\n", body) == 400  # unknown route
