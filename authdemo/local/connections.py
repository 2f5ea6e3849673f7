"""How long and how many: the embedded AWS's connections, each with a deadline, and a bound.

werkzeug's threaded server gives every connection a thread that waits for its request as long
as the client likes: 100 half-sent requests held 100 threads, forever (issue 20). Here:
- a request's line and headers must arrive within `header_timeout` of the accept, and its body
  within `body_timeout` of the headers: one deadline for all the reads of each part, so a client
  dripping a byte at a time gains nothing. Past it, the connection is closed (a body cut short
  gets 408 from the router, `bodies.read`);
- once the answer starts, nothing more is read: werkzeug would otherwise drain an unread body,
  up to 10 GB, before closing (every connection is closed after one answer);
- at most `max_connections` are served at once. When all are taken, a new connection takes the
  place of the one that has waited longest for its client (still sending its request, as a slow
  client does; the owner's requests arrive at once), so half-sent requests cannot lock the owner
  out; when none is waiting (all busy answering), the new one is answered 503 and closed at once,
  without a thread;
- closing the server hangs up on the connections still open (their threads are daemons that
  nothing waits for: they outlived an in-process server, each still holding its client).
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

_BUSY_BODY = b'{"message":"authdemo-local is serving too many connections; try again."}'
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


@dataclass(frozen=True)
class Limits:
    """Seconds for a request's headers and for its body; connections served at once."""

    header_timeout: float = 20.0
    body_timeout: float = 60.0
    max_connections: int = 64


EVICTED_WAIT = 1.0  # seconds the accepting thread waits for an evicted connection's thread to end


class _DeadlineReader(io.RawIOBase):
    """The reading side of a connection: every read ends by `deadline` (time.monotonic), and
    none happens once `done`; `waiting` while a read waits for the client."""

    def __init__(self, sock: socket.socket, deadline: float, write_timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._write_timeout = write_timeout
        self.started = time.monotonic()
        self.deadline = deadline
        self.done = False
        self.waiting = False
        self.evicted = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.done:
            return 0
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the client did not send its request in time")
        self._sock.settimeout(left)
        self.waiting = True
        try:
            return self._sock.recv_into(buffer)
        finally:
            self.waiting = False
            self._sock.settimeout(self._write_timeout)  # for the answer: a client that never reads


class GuardedHandler(WSGIRequestHandler):
    """werkzeug's request handler with the deadlines of `Limits` (mixed before moto's own)."""

    server: GuardedServer

    def setup(self) -> None:
        super().setup()
        limits = self.server.limits
        self._reader = _DeadlineReader(
            self.connection, time.monotonic() + limits.header_timeout, limits.body_timeout
        )
        self.rfile.close()
        self.rfile = io.BufferedReader(self._reader)
        self.server.watch(self.connection, self._reader)

    def run_wsgi(self) -> None:
        self._reader.deadline = time.monotonic() + self.server.limits.body_timeout
        super().run_wsgi()

    def send_response(self, code: int, message: str | None = None) -> None:
        self._reader.done = True  # the answer is decided: read nothing more of this connection
        super().send_response(code, message)


class GuardedServer(ThreadedWSGIServer):
    """werkzeug's threaded server, serving at most `limits.max_connections` at once, and
    hanging up on those still open when it closes."""

    def __init__(
        self, host: str, port: int, app: Any, handler: type[GuardedHandler], fd: int, limits: Limits
    ) -> None:
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self._lock = threading.Lock()
        self._open: dict[socket.socket, _DeadlineReader | None] = {}
        super().__init__(host, port, app, handler, fd=fd)

    @property
    def active(self) -> int:
        """Connections being served now."""
        with self._lock:
            return len(self._open)

    @property
    def waiting(self) -> int:
        """Connections whose thread waits for its client (still sending its request)."""
        with self._lock:
            return sum(1 for reader in self._open.values() if reader and reader.waiting)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False) and not (
            self._evict() and self._slots.acquire(timeout=EVICTED_WAIT)
        ):
            self._refuse(request)
            return
        with self._lock:
            self._open[request] = None
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._done(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._done(request)

    def watch(self, request: socket.socket, reader: _DeadlineReader) -> None:
        """The handler's reader of `request`: whether it waits for its client, since when."""
        with self._lock:
            if request in self._open:
                self._open[request] = reader

    def _evict(self) -> bool:
        """Hang up on the connection that has waited longest for its client; False if none waits."""
        with self._lock:
            waiting = [
                (reader.started, id(sock), sock, reader)
                for sock, reader in self._open.items()
                if reader is not None and reader.waiting and not reader.evicted
            ]
            if not waiting:
                return False
            _, _, sock, reader = min(waiting)
            reader.evicted = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            return True

    def _done(self, request: socket.socket) -> None:
        with self._lock:
            self._open.pop(request, None)
        self._slots.release()

    def server_close(self) -> None:
        with self._lock:
            for request in self._open:
                with contextlib.suppress(OSError):  # closed meanwhile by its own thread
                    request.shutdown(socket.SHUT_RDWR)
        super().server_close()

    def _refuse(self, request: socket.socket) -> None:
        """503 on the accepting thread, never waiting for the client."""
        try:
            request.setblocking(False)
            request.send(BUSY)
        except OSError:
            pass
        self.shutdown_request(request)
