"""The embedded AWS's connections against a slow client on the same machine (issue 20, finding
16): deadlines for a request's headers and body, and a bound on connections that the owner's
requests still get through. Raw sockets on loopback, and servers of the tests' own with short
deadlines (`connections.Limits`), so nothing waits long."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from authdemo.local.connections import Limits
from authdemo.local.server import EmbeddedServer


@contextmanager
def private_server(limits: Limits) -> Iterator[EmbeddedServer]:
    """An embedded AWS of this test's own, with these limits."""
    with EmbeddedServer(port=0, quiet=True, limits=limits) as srv:
        yield srv


SHORT = Limits(header_timeout=0.5, body_timeout=0.5, max_connections=8)


HALF_SENT = b"GET /_authdemo/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # no blank line: headers unfinished


@contextmanager
def clients(port: int) -> Iterator[Callable[[bytes], socket.socket]]:
    """`connect(request)`: a connection that sent `request` and waits; all closed on the way out
    (before the server stops, so a failing test never leaves it waiting on them)."""
    opened: list[socket.socket] = []

    def connect(request: bytes = HALF_SENT) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        opened.append(sock)
        sock.sendall(request)
        return sock

    try:
        yield connect
    finally:
        for sock in opened:
            sock.close()


def eventually(condition: Callable[[], bool]) -> bool:
    """Whether `condition()` holds within 10 s (the server's threads end just after the socket)."""
    for _ in range(200):
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def closed_by_server(sock: socket.socket) -> bytes:
    """What the server says before it closes the connection (b"" for nothing); a guard of 30 s."""
    said = b""
    try:
        while chunk := sock.recv(4096):
            said += chunk
    except ConnectionResetError:
        pass
    return said


def request_threads(server: Any) -> int:
    """The threads serving a request of `server` (not of the session's embedded AWS, which other
    tests of this worker process may still be answering)."""
    return sum(
        getattr(getattr(thread, "_target", None), "__self__", None) is server  # ThreadingMixIn's target
        for thread in threading.enumerate()
        if "process_request_thread" in thread.name
    )


def test_half_sent_requests_are_closed_and_others_still_served() -> None:
    """Six requests that never finish their headers: a normal request is served meanwhile, and the
    server closes each of them once its header deadline passes (before: held open for good)."""
    with private_server(SHORT) as srv, clients(srv.port) as connect:
        slow = [connect(HALF_SENT) for _ in range(6)]
        assert requests.get(srv.url + "/_authdemo/health", timeout=10).ok
        for sock in slow:
            assert closed_by_server(sock) == b""
        assert eventually(lambda: srv._server is not None and srv._server.active == 0)


def test_a_request_dripped_byte_by_byte_is_cut_off() -> None:
    """Headers sent one byte every 50 ms (each read is quick): the deadline is for all of them, so
    the server hangs up long before the 400 bytes are through."""
    with private_server(SHORT) as srv, clients(srv.port) as connect:
        sock = connect(b"G")
        dripped = 0
        try:
            for _ in range(400):
                time.sleep(0.05)
                sock.sendall(b"X")
                dripped += 1
        except OSError:
            pass
        assert dripped < 400


def test_a_body_that_stops_coming_gets_408() -> None:
    """Headers complete, then 10 of 1000 body bytes and silence: 408 once the body deadline passes."""
    with private_server(SHORT) as srv, clients(srv.port) as connect:
        request = f"POST /_authdemo/issuer/token HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
        request += "Content-Length: 1000\r\n\r\n" + "x" * 10
        assert closed_by_server(connect(request.encode())).startswith(b"HTTP/1.1 408 ")


def test_half_sent_requests_past_the_bound_cannot_lock_the_owner_out() -> None:
    """With room for 3 (and an hour's deadlines), twenty half-sent requests: each new one takes the
    place of the oldest still sending, so 3 threads at most, the 17 oldest hung up on, and the
    owner's request is still served (before: 20 threads, and nothing closed)."""
    limits = Limits(header_timeout=3600.0, body_timeout=3600.0, max_connections=3)
    with private_server(limits) as srv, clients(srv.port) as connect:
        server = srv._server
        assert server is not None
        before = request_threads(server)
        slow: list[socket.socket] = []
        for _ in range(20):
            slow.append(connect(HALF_SENT))
            assert eventually(lambda: server.waiting == min(len(slow), 3))
        assert 0 < request_threads(server) <= before + 3
        for sock in slow[:17]:
            assert closed_by_server(sock) == b""
        assert requests.get(srv.url + "/_authdemo/health", timeout=10).ok


def test_connections_past_the_bound_get_503_when_all_are_busy_answering() -> None:
    """With room for 2 and both connections busy answering (not waiting for their client), a third
    is answered 503 at once, without a thread; once they are done the server answers again."""
    with private_server(Limits(max_connections=2)) as srv, clients(srv.port) as connect:
        server = srv._server
        assert server is not None
        release, busy = threading.Event(), threading.Semaphore(0)
        inner = server.app

        def slow_app(environ: dict[str, Any], start_response: Any) -> Any:  # a long Lambda, say
            if environ["PATH_INFO"] == "/_test/busy":
                busy.release()
                release.wait(30)
            return inner(environ, start_response)

        server.app = slow_app
        request = f"GET /_test/busy HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n\r\n".encode()
        answering = [connect(request) for _ in range(2)]
        assert busy.acquire(timeout=30) and busy.acquire(timeout=30)
        assert closed_by_server(connect(HALF_SENT)).startswith(b"HTTP/1.1 503 ")
        release.set()
        for sock in answering:
            closed_by_server(sock)
        assert eventually(lambda: server.active == 0)
        assert requests.get(srv.url + "/_authdemo/health", timeout=10).ok


def test_stop_hangs_up_on_a_slow_client() -> None:
    """A half-sent request, with an hour's header deadline: once the server stops, its connection
    is closed (before: its thread and connection outlived the server)."""
    srv = EmbeddedServer(port=0, quiet=True, limits=Limits(header_timeout=3600.0)).start()
    with clients(srv.port) as connect:
        sock = connect(HALF_SENT)
        assert eventually(lambda: srv._server is not None and srv._server.active == 1)
        srv.stop()
        assert closed_by_server(sock) == b""
