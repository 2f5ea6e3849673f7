"""The one local HTTP server of `login` and `open`: the redirect's `/callback`, then the token page.

It listens on loopback only and answers only Host `127.0.0.1:<port>` or `localhost:<port>`
(421 otherwise: a DNS-rebinding page cannot reach it). Reached as `localhost` (login's callback),
it holds the port on both loopback addresses, 127.0.0.1 and ::1: browsers try `[::1]` first, so
another local user listening there would get the redirect's code; either taken, it refuses.
Everything but `/callback` lives under `/<secret>/`, a random per-run path segment that only the
redirect (or the printed URL) carries, so another local page cannot drive it; its API call is a
same-origin JSON POST (a cross-origin page would need a CORS preflight, which is never granted)
and a foreign `Origin` is refused.
Every answer carries a strict Content-Security-Policy and no-referrer.
"""

from __future__ import annotations

import errno
import json
import secrets
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import PortInUseError
from . import page

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
STATIC = {
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
MAX_BODY = 4096
IPV6_LOOPBACK = "::1"
#: ::1 cannot be bound because the machine has no IPv6 loopback: then no one can listen there.
_NO_IPV6 = (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT)

#: What `/callback` answers: status, a Location to redirect to (or None), an HTML message.
CallbackAnswer = tuple[int, "str | None", str]


def message_page(title: str, text: str) -> str:
    from html import escape

    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
        f'<p id="message">{escape(text)}</p></body></html>'
    )


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class PageServer:
    """Serves `/callback` (through `on_callback`, set by the login flow) and, once tokens are set,
    the token page at `url`. `call` makes the API requests (tests may replace it).

    `localhost`: the browser reaches it by that name (login's registered callback), so it listens
    on ::1 too, where the machine has an IPv6 loopback; `open`'s page names 127.0.0.1 itself."""

    def __init__(
        self,
        port: int,
        routes: dict[str, str],
        title: str,
        callback_port_note: str = "",
        localhost: bool = False,
    ) -> None:
        self.routes = dict(routes)
        self.title = title
        self.secret = secrets.token_urlsafe(24)
        self.tokens: dict[str, str] | None = None
        self.on_callback: Callable[[dict[str, list[str]]], CallbackAnswer] | None = None
        self._lock = threading.Lock()
        taken = (
            f"is already in use{callback_port_note}; stop the program that uses it and run the command again."
        )
        try:
            self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        except OSError as exc:
            raise PortInUseError(f"Port {port} on 127.0.0.1 {taken}") from exc
        self.port = int(self.httpd.server_address[1])
        self.listeners = [self.httpd]
        if localhost and socket.has_ipv6:
            try:
                self.listeners.append(_IPv6Server((IPV6_LOOPBACK, self.port), _handler(self)))
            except OSError as exc:
                if exc.errno not in _NO_IPV6:
                    self.httpd.server_close()
                    raise PortInUseError(
                        f"Port {self.port} on {IPV6_LOOPBACK} (localhost's IPv6 address, which browsers "
                        f"try first) {taken}"
                    ) from exc
        for listener in self.listeners:
            listener.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def origins(self) -> frozenset[str]:
        return frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    @property
    def url(self) -> str:
        """The token page (carries the secret: printed only to the user who ran the command)."""
        return f"http://127.0.0.1:{self.port}/{self.secret}/"

    def set_tokens(self, tokens: dict[str, str]) -> None:
        with self._lock:
            self.tokens = {k: tokens[k] for k in ("id", "access")}

    def start(self) -> PageServer:
        for listener in self.listeners:
            thread = threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.1})
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for listener in self.listeners:
            if self._threads:
                listener.shutdown()
            listener.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    # -- what the page's buttons do --------------------------------------------------------------
    def call(self, route: str, kind: str) -> tuple[int, dict[str, Any]]:
        """GET the route with the ID or access token (or none); the answer for the page."""
        import requests

        url = self.routes.get(route)
        with self._lock:
            tokens = dict(self.tokens or {})
        if url is None or kind not in ("id", "access", "none"):
            return 400, {"error": f"unknown route {route!r} or token {kind!r}"}
        headers = {"Authorization": f"Bearer {tokens[kind]}"} if kind != "none" else {}
        try:
            response = requests.get(url, headers=headers, timeout=10)
        except requests.RequestException as exc:
            return 502, {"error": f"nothing answers at {url} ({type(exc).__name__})"}
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:2000]
        claims = body.get("claims") if isinstance(body, dict) else None
        return 200, {
            "status": response.status_code,
            "body": body,
            "claims": claims,
            "www_authenticate": response.headers.get("www-authenticate"),
        }


def body_length(headers: Any) -> int | None:
    """The request body's length: None without a Content-Length (or with a Transfer-Encoding, which
    this server does not decode), -1 when it is not one decimal number (`abc`, `-1`, two that
    differ: RFC 9110 §8.6); never read to EOF on a value `int()` would take."""
    if headers.get("Transfer-Encoding") is not None:
        return None
    values = {value.strip() for value in headers.get_all("Content-Length") or []}
    if not values:
        return None
    value = values.pop() if len(values) == 1 else ""
    return int(value) if value.isascii() and value.isdigit() else -1


def _handler(server: PageServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "authdemo"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in {**SECURITY_HEADERS, **(extra or {})}.items():
                self.send_header(key, value)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _html(self, status: int, html: str, extra: dict[str, str] | None = None) -> None:
            self._send(status, html.encode(), "text/html; charset=utf-8", extra)

        def _json(self, status: int, doc: Any) -> None:
            self._send(status, json.dumps(doc).encode(), "application/json")

        def _host_ok(self) -> bool:
            if self.headers.get("Host", "") in server.origins:
                return True
            answers = f"127.0.0.1:{server.port} and localhost:{server.port}"
            self._html(421, message_page("Misdirected request", f"This server answers only {answers}."))
            return False

        def _sub(self) -> str | None:
            """The path under `/<secret>/`, or None when the secret is missing or wrong."""
            path = urlsplit(self.path).path
            prefix = f"/{server.secret}/"
            if not secrets.compare_digest(path[: len(prefix)].encode(), prefix.encode()):
                return None
            return path[len(prefix) :]

        def do_GET(self) -> None:
            if not self._host_ok():
                return
            parts = urlsplit(self.path)
            if parts.path == "/callback" and server.on_callback is not None:
                status, location, html = server.on_callback(parse_qs(parts.query))
                self._html(status, html, {"Location": location} if location else None)
                return
            sub = self._sub()
            if sub == "" and server.tokens is not None:
                with server._lock:
                    tokens = dict(server.tokens)
                self._html(200, page.render(tokens, server.routes, server.title))
            elif sub in STATIC:
                self._send(200, page.static(sub), STATIC[sub])
            else:
                self._html(404, message_page("Not found", "Nothing here."))

        do_HEAD = do_GET

        def do_POST(self) -> None:
            if not self._host_ok():
                return
            origin = self.headers.get("Origin")
            if self._sub() != "call" or server.tokens is None:
                self._html(404, message_page("Not found", "Nothing here."))
                return
            if origin is not None and origin.removeprefix("http://") not in server.origins:
                self._json(403, {"error": "foreign origin"})
                return
            if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
                self._json(415, {"error": "send application/json"})
                return
            length = body_length(self.headers)
            if length is None:
                self._json(411, {"error": "send the body with a Content-Length, not chunked"})
                return
            if length < 0:
                self._json(400, {"error": "Content-Length must be one decimal number"})
                return
            if length > MAX_BODY:
                self._json(413, {"error": "too large"})
                return
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
                route, kind = str(request["route"]), str(request["token"])
            except (ValueError, KeyError, TypeError):
                self._json(400, {"error": 'send {"route": ..., "token": "id"|"access"|"none"}'})
                return
            status, doc = server.call(route, kind)
            self._json(status, doc)

    return Handler
