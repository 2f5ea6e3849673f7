"""requests with one deadline for a whole exchange (`oidc.fetch_json`: API Gateway gives an
issuer 1.5 s for each document, however it answers). Its own module so that requests is
imported only when an issuer is fetched (the CLI starts without it)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter


class Watchdog(HTTPAdapter):
    """requests' adapter for one fetch, with the fetch's one deadline: a timer that, when the
    time is up, shuts down the socket of every connection the fetch opened. requests' timeouts
    bound each read, so an answer dripped a byte at a time would never time out; a shutdown
    ends a read blocked in the fetching thread at once (a close would not, on Linux), wherever
    the drip is: status line, headers or body (urllib3's `HTTPResponse.shutdown` reaches the
    body only: until the headers are in there is no response to shut down)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self.opened: list[Any] = []
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True

    def __enter__(self) -> Watchdog:
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()

    def left(self) -> float:
        """The seconds left; TimeoutError once the deadline is past."""
        left = self.deadline - time.monotonic()
        if self.expired or left <= 0:
            raise TimeoutError("the fetch's deadline passed")
        return left

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for connection in self.opened:
                _hang_up(connection)

    def watch(self, connection: Any) -> None:
        with self.lock:
            self.opened.append(connection)
            if self.expired:
                _hang_up(connection)

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
        """requests' pool for the request, whose connections report to this watchdog."""
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        if not issubclass(pool.ConnectionCls, _Watched):
            pool.ConnectionCls = type("Watched", (_Watched, pool.ConnectionCls), {"watchdog": self})
        return pool


class _Watched:
    """Mixed into urllib3's connection class: the watchdog knows the connection before it
    connects, so it can hang up during the TLS handshake, the headers or the body."""

    watchdog: Watchdog

    def connect(self) -> None:
        self.watchdog.watch(self)
        super().connect()  # type: ignore[misc]
        if self.watchdog.expired:
            _hang_up(self)


def _hang_up(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
