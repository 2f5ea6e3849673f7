"""The embedded AWS: moto's server and the HTTP API gateway in one process, on loopback.

`EmbeddedServer` runs in a thread (tests, `up --local` in the foreground); `python -m
authdemo.local.server --port N` runs it as a process (what `authdemo local start`
spawns). It binds 127.0.0.1 only, answers only to its own host names, and serves AWS's
control plane only to requests signed with its own random credentials (`router`,
`sigv4`); each connection has deadlines and their number a bound (`connections`); function
code runs in worker processes (`runtime`).
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import sys
import threading
from types import FrameType

from authdemo.errors import ExitCode, PortInUseError, UsageError
from authdemo.local import credentials as local_credentials
from authdemo.local import issuer as local_issuer
from authdemo.local.connections import GuardedHandler, GuardedServer, Limits
from authdemo.local.credentials import Credentials
from authdemo.local.issuer import IssuerKeys
from authdemo.local.names import HANDOVER, port_in_use_message
from authdemo.local.router import Router

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def bind_loopback(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:port; PortInUseError when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Same as the server would use: lets a restart reuse a port still in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUseError(port_in_use_message(port)) from exc
        raise
    return sock


def load_moto() -> None:
    """Import moto's server and mend it (moto_patches): most of a start's time, before the bind.
    The pools' signing key is made meanwhile, in a thread (OpenSSL work, beside the imports)."""
    from authdemo.local import moto_patches

    threading.Thread(target=moto_patches.pool_key, name="authdemo-pool-key", daemon=True).start()
    from moto.moto_server import werkzeug_app  # noqa: F401

    moto_patches.apply()


def _no_log(self: object, *args: object) -> None:
    """Drop the per-request access log line (errors are still logged)."""


class EmbeddedServer:
    """moto + gateway on a threaded werkzeug server; `port=0` picks a free port.

    `quiet` drops the access log, e.g. for an in-process server under a progress display.
    `credentials` (default: fresh random ones) are the only key the control plane accepts;
    `publish` writes them, 0600, to `local-credentials.json` once the port is bound (what
    the background server does, so the CLI can sign with them). `recorded`: see `main`.
    `limits`: the connections' deadlines and bound (`connections.Limits`; tests shorten them).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        quiet: bool = False,
        credentials: Credentials | None = None,
        publish: bool = False,
        recorded: threading.Event | None = None,
        limits: Limits | None = None,
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise UsageError(f"The local server listens on 127.0.0.1 only, not {host!r}.")
        self.credentials = credentials or Credentials.generate()
        self.issuer_keys = IssuerKeys.generate()  # the server's own OIDC issuer (local/issuer.py)
        self._publish = publish
        self._recorded = recorded
        self.host = "127.0.0.1"
        self._requested_port = port
        self._quiet = quiet
        self.limits = limits or Limits()
        self._server: GuardedServer | None = None
        self._thread: threading.Thread | None = None
        self.gateway: Router | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("EmbeddedServer is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedServer:
        """Bind and serve in a daemon thread; returns once connections are accepted."""
        if self._server is not None:
            return self
        load_moto()
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        # We bind ourselves: werkzeug's own bind calls sys.exit(1) when the port is taken.
        sock = bind_loopback(self._requested_port)
        quiet = {"log_request": _no_log} if self._quiet else {}
        handler: type[GuardedHandler] = type("Handler", (GuardedHandler, MotoRequestHandler), quiet)
        try:
            port = int(sock.getsockname()[1])
            self.gateway = Router(
                DomainDispatcherApplication(create_backend_app),
                port,
                self.credentials,
                issuer_keys=self.issuer_keys,
                recorded=self._recorded,
            )
            self._server = GuardedServer(self.host, port, self.gateway, handler, sock.fileno(), self.limits)
        finally:
            sock.close()  # the server holds its own duplicate of the descriptor
        if self._publish:
            local_credentials.save(self.credentials, port, os.getpid())
            local_issuer.save(self.issuer_keys, port, os.getpid())
        # A short poll interval: `stop` (and so `down --local`) returns in ~0.05 s, not 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="authdemo-local",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket, stop the function workers, remove their code."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self.gateway is not None:
            self.gateway.close()
        if self._publish:
            local_credentials.remove(os.getpid())
            local_issuer.remove(os.getpid())

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _await_handover(fd: int, recorded: threading.Event, stop: threading.Event) -> None:
    """Read the handover pipe of the authdemo that spawned us (daemon._hand_over) to its end: the
    word HANDOVER means we are recorded and may outlive it; an end without it means it was
    interrupted or killed before recording us, so nothing could find or stop us: stop."""
    said = b""
    try:
        while chunk := os.read(fd, 64):
            said += chunk
    except OSError:
        pass
    finally:
        os.close(fd)
    if said == HANDOVER:
        recorded.set()
        return
    print("authdemo-local: the authdemo that started me ended before recording me; stopping", flush=True)
    stop.set()


def main(argv: list[str] | None = None) -> int:
    """Foreground entry point: serve until SIGTERM or SIGINT, then exit 0. With --handover-fd
    (the background server): also stop if the authdemo that started us ends before recording us."""
    parser = argparse.ArgumentParser(
        prog="python -m authdemo.local.server",
        description="Run authdemo's embedded AWS (moto + HTTP API gateway) on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=4599)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--handover-fd", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stop = threading.Event()
    recorded = None
    if args.handover_fd is not None:
        recorded = threading.Event()
        watch = (args.handover_fd, recorded, stop)
        threading.Thread(target=_await_handover, args=watch, name="authdemo-handover", daemon=True).start()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    load_moto()  # the slow part first: a starter that ended meanwhile is known (stop) before the bind
    if stop.is_set():
        return int(ExitCode.OK)
    try:
        server = EmbeddedServer(args.host, args.port, publish=True, recorded=recorded).start()
    except (PortInUseError, UsageError) as exc:
        print(f"authdemo-local: {exc.message}", file=sys.stderr, flush=True)
        return int(exc.code)
    print(f"authdemo-local ready on {server.url} (pid {os.getpid()})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    print("authdemo-local stopped", flush=True)
    return int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
