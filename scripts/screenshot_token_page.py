"""Take docs/token-page.png: the token page after a sign-in, as the browser test sees it.

    python scripts/screenshot_token_page.py [--out docs/token-page.png]

Runs everything on this machine, in a temporary AUTHDEMO_HOME: the embedded AWS on a free port,
`authdemo up` (its domain: the embedded AWS's managed login), `authdemo login` in a thread, and
headless Chromium (Debian's `chromium` and `chromium-driver`) that signs in and clicks a few
buttons before the screenshot.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "token-page.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ.update(
            AUTHDEMO_HOME=home,
            AWS_DEFAULT_REGION="us-west-2",
            AWS_CONFIG_FILE=str(Path(home) / "no-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(Path(home) / "no-credentials"),
        )
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AUTHDEMO_PASSWORD"):
            os.environ.pop(name, None)
        shoot(args.out, Path(home))


def shoot(out: Path, home: Path) -> None:
    from conftest import LoginRun, free_port, run, start_chromium
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from test_browser import click_and_read, sign_in_in_browser

    from authdemo.local.server import EmbeddedServer
    from authdemo.stack import Options

    server = EmbeddedServer(port=0, quiet=True).start()
    os.environ["AWS_ACCESS_KEY_ID"] = server.credentials.access_key
    os.environ["AWS_SECRET_ACCESS_KEY"] = server.credentials.secret_key
    flags = ("--endpoint-url", server.url, "--stack", "demo")
    browser = start_chromium()
    try:
        assert run("up", *flags, "--callback-port", str(free_port())).exit_code == 0
        state_file = home / "demo.json"
        state = json.loads(state_file.read_text())
        flow = LoginRun(Options(stack="demo", endpoint_url=server.url))
        sign_in_in_browser(browser, flow.url(), state["username"], state["password"])
        WebDriverWait(browser, 15, poll_frequency=0.05).until(lambda b: b.find_elements(By.ID, "claims"))
        for cell in (("protected", "none"), ("scoped", "id"), ("lambda", "access"), ("protected", "access")):
            click_and_read(browser, *cell)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1280, int(height) + 40)
        browser.execute_script("window.scrollTo(0, 0)")
        out.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(out))
        flow.finish()
        run("down", *flags)
        print(f"wrote {out}")
    finally:
        browser.quit()
        server.stop()


if __name__ == "__main__":
    main()
