"""The token page in a real browser: headless Chromium (Debian's `chromium` + `chromium-driver`)
signs in through managed login, lands on the token page, reads both tokens decoded with their
differences marked, and clicks the route buttons against a stack on the embedded AWS.

Managed login is the embedded AWS's own (`/_aws/cognito/<prefix>/...`, the domain `up` created),
so the tokens are the ones the code flow with PKCE gives, `openid email profile` scopes included."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from conftest import LoginRun, console_errors, free_callback_port, run

from authdemo import paths
from authdemo.login import store
from authdemo.stack import Options

pytestmark = pytest.mark.browser

#: What each button must show: (route, token) -> status, as `authdemo test` expects them.
EXPECTED = {
    ("protected", "id"): "200",
    ("protected", "access"): "200",
    ("protected", "none"): "401",
    ("scoped", "id"): "403",
    ("scoped", "access"): "200",
    ("lambda", "access"): "200",
    ("lambda", "id"): "403",
    ("iam", "access"): "403",
    ("m2m", "id"): "403",
    ("m2m", "access"): "403",
}


def sign_in_in_browser(browser: Any, url: str, username: str, password: str) -> None:
    """Type the user's name and password into managed login's form and submit it."""
    from selenium.webdriver.common.by import By

    browser.get(url)
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


#: Per table of the page, the columns in which no cell (header row aside) has text or a button.
EMPTY_COLUMNS_JS = """
return Array.from(document.querySelectorAll("table")).map((table) => {
  const rows = Array.from(table.tBodies).flatMap((body) => Array.from(body.rows));
  const width = Math.max(0, ...Array.from(table.rows).map((row) => row.cells.length));
  const empty = [];
  for (let i = 0; i < width; i++) {
    const cells = rows.map((row) => row.cells[i]).filter(Boolean);
    if (!cells.some((cell) => cell.textContent.trim() || cell.querySelector("button"))) empty.push(i);
  }
  return [table.id, empty];
}).filter(([, empty]) => empty.length);
"""


def click_and_read(browser: Any, route: str, token: str) -> str:
    """Click one button and wait for its status."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.find_element(By.ID, f"call-{route}-{token}").click()
    out = browser.find_element(By.ID, f"result-{route}-{token}")
    WebDriverWait(browser, 15, poll_frequency=0.05).until(lambda _: out.text not in ("", "…"))
    return str(out.text)


@pytest.fixture
def browser_stack(server: Any, server_env: Any) -> Any:
    """Stack `browser` on the embedded AWS, its callback on a free port (tests run in parallel)."""
    e = ("--endpoint-url", server.url, "--stack", "browser")
    assert run("up", *e, "--callback-port", str(free_callback_port())).exit_code == 0
    state_file = paths.home() / "browser.json"
    yield {"flags": e, "state_file": state_file, "opts": Options(stack="browser", endpoint_url=server.url)}
    assert run("down", *e).exit_code == 0


def test_sign_in_token_page_and_buttons(browser, browser_stack):
    """Sign in through the form, land on the token page, see both tokens decoded and the claims
    that differ marked, click buttons (200/401/403 as `test` expects), and the page's server
    refuses a request without its secret or with a foreign Host."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    state = json.loads(browser_stack["state_file"].read_text())
    console_errors(browser)  # what earlier pages left
    flow = LoginRun(browser_stack["opts"])
    sign_in_in_browser(browser, flow.url(), state["username"], state["password"])
    WebDriverWait(browser, 15, poll_frequency=0.05).until(lambda b: b.find_elements(By.ID, "claims"))
    assert browser.current_url.startswith(f"http://localhost:{state['callback_port']}/")
    assert "code=" not in browser.current_url and "callback" not in browser.current_url
    assert browser.find_element(By.ID, "user").text == state["username"]

    marked = {
        row.get_attribute("data-claim")
        for row in browser.find_elements(By.CSS_SELECTOR, "#claims tr.differs")
    }
    assert {"aud", "client_id", "token_use", "scope", "email"} <= marked  # email: the ID token's only
    assert "auth_time" not in marked and "iss" not in marked
    token_use = browser.find_element(By.CSS_SELECTOR, '#claims tr[data-claim="token_use"]')
    assert [c.text for c in token_use.find_elements(By.CSS_SELECTOR, "td.id, td.access")] == ["id", "access"]
    assert browser.find_element(By.CSS_SELECTOR, "#headers td.id").text  # the header is decoded too
    assert browser.execute_script(EMPTY_COLUMNS_JS) == []  # no column without content

    seen = {cell: click_and_read(browser, *cell) for cell in EXPECTED}
    assert seen == EXPECTED
    click_and_read(browser, "protected", "access")
    received = json.loads(browser.find_element(By.ID, "received").text)
    assert (
        received["token_use"] == "access" and received["client_id"] == state["resources"]["app_client"]["id"]
    )
    assert console_errors(browser) == []  # sign-in form and token page: no favicon request, nothing refused

    page_url = browser.current_url
    port = state["callback_port"]
    assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 404  # no secret
    assert requests.get(page_url, headers={"Host": f"evil.example:{port}"}, timeout=5).status_code == 421
    flow.finish()

    # `authdemo test` now uses the login's tokens, and forgets them after its signed-out row.
    tested = run("test", *browser_stack["flags"], "--output", "json")
    assert tested.exit_code == 0, tested.output
    assert json.loads(tested.stdout)["passed"]
    assert "Using the tokens of `authdemo login`" in tested.stderr
    assert "they were forgotten" in tested.stderr and store.load(browser_stack["state_file"]) is None


def test_sign_up_confirm_with_the_inbox_code_and_sign_in(browser, server, server_env):
    """Issue 20, "Sign up as the blog does": on a stack made with `up --sign-up`, managed login
    offers "Sign up"; a new user signs up, reads the code with `authdemo local inbox`, confirms
    (a wrong code first: refused), signs in and lands on the token page as themselves, and `test`
    shows their row (not in `presenters`). The "Forgot your password?" link is there too, and the
    pages load nothing refused."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(element_id: str) -> Any:
        """The element once the page that has it is loaded (a submit returns before that)."""
        wait = WebDriverWait(browser, 15, poll_frequency=0.05)
        return wait.until(lambda b: (b.find_elements(By.ID, element_id) or [None])[0], browser.page_source)

    e = ("--endpoint-url", server.url, "--stack", "signup")
    assert run("up", *e, "--sign-up", "--callback-port", str(free_callback_port())).exit_code == 0
    try:
        console_errors(browser)
        flow = LoginRun(Options(stack="signup", endpoint_url=server.url))
        browser.get(flow.url())
        assert browser.find_element(By.ID, "forgot").text == "Forgot your password?"
        browser.find_element(By.ID, "signup").click()
        shown("email").send_keys("reader@example.com")
        browser.find_element(By.ID, "password").send_keys("Blog-reader-1!")
        browser.find_element(By.ID, "register").click()
        assert "authdemo local inbox" in shown("notice").text
        code = run("local", "inbox", "--code").output.strip()
        assert len(code) == 6 and code.isdigit()
        shown("code").send_keys("000000" if code != "000000" else "111111")
        browser.find_element(By.ID, "confirm").click()
        assert "Invalid verification code" in shown("error").text
        browser.find_element(By.ID, "code").send_keys(code)
        browser.find_element(By.ID, "confirm").click()
        assert "confirmed" in shown("notice").text
        assert browser.find_element(By.ID, "username").get_attribute("value") == "reader@example.com"
        browser.find_element(By.ID, "password").send_keys("Blog-reader-1!")
        browser.find_element(By.ID, "signin").click()
        WebDriverWait(browser, 15, poll_frequency=0.05).until(lambda b: b.find_elements(By.ID, "claims"))
        assert browser.find_element(By.ID, "user").text == "reader@example.com"
        assert console_errors(browser) == []
        flow.finish()
        tested = run("test", *e, "--output", "json")  # the reader's row: through the doors but /lambda
        assert tested.exit_code == 0, tested.output
        row = [
            (c["route"], c["status"])
            for c in json.loads(tested.stdout)["checks"]
            if c["credential"] == "signed-up"
        ]
        assert row == [
            *[("protected", 200), ("scoped", 200), ("lambda", 403), ("iam", 403), ("m2m", 403)],
            ("rest-protected", 401),  # an access token: REST's Cognito door without scopes wants an ID token
            ("rest-scoped", 200),
            ("rest-lambda", 403),  # not in presenters: the policy's explicit Deny
            ("rest-lambda-again", 403),
            ("rest-iam", 403),
        ]
    finally:
        assert run("down", *e).exit_code == 0
