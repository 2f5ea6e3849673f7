"""How close `authdemo up` comes to its floor on a slow network with a slow IAM (issue #5).

moto answers in milliseconds and never makes Lambda wait for a new role, so timing `up`
against moto says nothing about a presenter's laptop. This script puts a proxy in front of
an in-process moto server that (1) makes every call a `--latency`-second round trip (moto's
own time spent inside it, as AWS's is), and (2) answers CreateFunction with Lambda's "role
cannot be assumed" error for `--propagation` seconds after CreateRole's answer, as IAM does.
It runs the real CLI through it (`--endpoint-url`), counts calls, tracks concurrency, and
compares the wall time with the floor the issue defines:

    CLI start + CreateRole + propagation + CreateFunction + CreateIntegration + CreateRoute

It also times the local mode end to end and `authdemo --help` beside `aws --version`.

    python benchmarks/bench_up.py [--latency 0.25] [--propagation 6] [--runs 1] [--skip-local]
                                  [--verbose] [--authdemo CMD]

Nothing leaves 127.0.0.1; AWS credentials are fake and the user's AWS config is hidden.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROLE_NOT_READY = "The role defined for the function cannot be assumed by Lambda."
CREATE_ROLE = "iam:CreateRole"
CREATE_FUNCTION = "lambda:CreateFunction"
CREATE_ROUTE = "apigatewayv2:CreateRoute"
# The REST-JSON services authdemo calls (API Gateway v2 and, issue 21, v1): named by method + path.
REST_SERVICES = ("lambda", "apigatewayv2", "apigateway")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


# ------------------------------------------------------------------------ naming calls
class OperationNamer:
    """Names a request `service:Operation`, so counts and the timeline read like the API docs.

    JSON services say it in X-Amz-Target, query services (IAM, STS) in the Action field;
    REST services only in method + path, which botocore's own models map back to a name.
    """

    def __init__(self) -> None:
        import botocore.session

        session = botocore.session.get_session()
        self._routes: list[tuple[str, re.Pattern[str], int, str, str]] = []
        for service in REST_SERVICES:
            model = session.get_service_model(service)
            for name in model.operation_names:
                http = model.operation_model(name).http
                pattern, literal = _uri_pattern(http["requestUri"])
                # A literal query in the URI (`/restapis?mode=import`) tells two operations apart.
                query = http["requestUri"].partition("?")[2]
                self._routes.append((http["method"], pattern, literal, f"{service}:{name}", query))

    def name(self, method: str, path: str, headers: Message, body: bytes) -> str:
        scope = CREDENTIAL_SCOPE.search(headers.get("Authorization", ""))
        service = scope.group(1) if scope else "unsigned"
        target = headers.get("X-Amz-Target")
        if target:
            return f"{service}:{target.rsplit('.', 1)[-1]}"
        if "x-www-form-urlencoded" in headers.get("Content-Type", ""):
            action = parse_qs(body.decode("utf-8", "replace")).get("Action")
            if action:
                return f"{service}:{action[0]}"
        url = urlsplit(path)
        url_path = url.path.rstrip("/") or "/"
        asked = set(url.query.split("&"))
        matches = [
            (bool(query), literal, name)  # a route naming the request's query is the more specific
            for verb, pattern, literal, name, query in self._routes
            if verb == method and pattern.fullmatch(url_path) and (not query or query in asked)
        ]
        return max(matches)[2] if matches else f"{service}:{method} {url_path}"


def _uri_pattern(request_uri: str) -> tuple[re.Pattern[str], int]:
    """A regex for a model's requestUri, and its literal length (more literal: more specific)."""
    path = request_uri.split("?", 1)[0].rstrip("/") or "/"
    parts = re.split(r"(\{[^}]+\})", path)
    regex = "".join(
        (".+" if p.endswith("+}") else "[^/]+") if p.startswith("{") else re.escape(p) for p in parts
    )
    return re.compile(regex), sum(len(p) for p in parts if not p.startswith("{"))


# ------------------------------------------------------------------------ the proxy
@dataclass
class Call:
    """One request as the proxy saw it; times are time.monotonic()."""

    phase: str
    op: str
    start: float
    end: float = 0.0
    status: int = 0


class LatencyProxy(ThreadingHTTPServer):
    """A round trip to "AWS": forward to moto unless IAM is still slow, and answer `latency`
    seconds after the call arrived.

    CreateFunction is judged when it arrives: it fails while less than `propagation`
    seconds have passed since the client got CreateRole's answer. That is the issue's
    model, and it makes the floor's arithmetic exact.
    """

    daemon_threads = True

    def __init__(self, upstream: tuple[str, int], latency: float, propagation: float) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = upstream
        self.latency = latency
        self.propagation = propagation
        self.namer = OperationNamer()
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.peak: Counter[str] = Counter()
        self.role_answered: dict[str, float] = {}  # role name -> when CreateRole's answer left
        self.phase = "idle"
        self._in_flight = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def begin(self, phase: str) -> None:
        with self.lock:
            self.phase = phase

    def phase_calls(self, phase: str) -> list[Call]:
        with self.lock:
            return sorted((c for c in self.calls if c.phase == phase), key=lambda c: c.start)

    def serve(self, handler: _ProxyHandler) -> None:
        arrived = time.monotonic()
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        op = self.namer.name(handler.command, handler.path, handler.headers, body)
        with self.lock:
            call = Call(self.phase, op, arrived)
            self._in_flight += 1
            self.peak[call.phase] = max(self.peak[call.phase], self._in_flight)
        try:
            # The round trip is `latency` in all, AWS's own work included: moto's time (in this
            # process, beside the proxy's threads: 5-40 ms a call when eight are in flight) is
            # spent inside it, not added to it, so the floor's calls take what the floor counts.
            if op == CREATE_FUNCTION and self._role_not_ready(body, arrived):
                status, headers, payload = _role_not_ready_answer()
            else:
                status, headers, payload = self._forward(handler, body)
            time.sleep(max(0.0, arrived + self.latency - time.monotonic()))
            if op == CREATE_ROLE and status == 200:
                role = parse_qs(body.decode()).get("RoleName", [""])[0]
                with self.lock:
                    self.role_answered[role] = time.monotonic()
            handler.send_response(status)
            for name, value in headers:
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(payload)
            call.status = status
        finally:
            with self.lock:
                self._in_flight -= 1
                call.end = time.monotonic()
                self.calls.append(call)

    def _role_not_ready(self, body: bytes, arrived: float) -> bool:
        try:
            role = json.loads(body).get("Role", "").rsplit("/", 1)[-1]
        except ValueError:
            return False
        with self.lock:
            answered = self.role_answered.get(role)
        return answered is None or arrived < answered + self.propagation

    def _forward(self, handler: _ProxyHandler, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Pass the request on byte for byte (Host included: the SigV4 signature stays valid)."""
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            conn.request(handler.command, handler.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, kept, payload
        finally:
            conn.close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    server: LatencyProxy

    def _serve(self) -> None:
        self.server.serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the timeline is the log."""


def _role_not_ready_answer() -> tuple[int, list[tuple[str, str]], bytes]:
    """Lambda's answer while a new role propagates (REST-JSON error, code in a header)."""
    body = json.dumps({"Type": "User", "message": ROLE_NOT_READY}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", "InvalidParameterValueException"),
        ("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000"),
    ]
    return 400, headers, body


def self_check(proxy: LatencyProxy) -> str:
    """Prove botocore reads the fake answer as authdemo expects, and does not retry it."""
    import boto3
    from botocore.config import Config

    proxy.begin("selfcheck")
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-west-2"
    )
    config = Config(retries={"mode": "standard", "max_attempts": 8})
    iam = session.client("iam", endpoint_url=proxy.url, config=config)
    lam = session.client("lambda", endpoint_url=proxy.url, config=config)
    role = iam.create_role(
        RoleName="bench-selfcheck",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]
    try:
        lam.create_function(
            FunctionName="bench-selfcheck",
            Runtime="python3.13",
            Role=role["Arn"],
            Handler="h.h",
            Code={"ZipFile": b"PK"},
        )
    except lam.exceptions.InvalidParameterValueException as exc:
        error = exc.response["Error"]
    else:
        raise SystemExit("self-check: CreateFunction succeeded during propagation")
    finally:
        iam.delete_role(RoleName="bench-selfcheck")
    attempts = sum(1 for c in proxy.phase_calls("selfcheck") if c.op == CREATE_FUNCTION)
    if error.get("Message") != ROLE_NOT_READY or attempts != 1:
        raise SystemExit(f"self-check failed: {error}, {attempts} attempt(s)")
    return f"botocore raises {error['Code']}: {error['Message']!r} after 1 attempt (not retried)"


# ------------------------------------------------------------------------ running the CLI
def warm_up(moto_address: tuple[str, int], cmd: list[str]) -> str:
    """One untimed `up` + `down` straight against moto (no proxy).

    moto imports each service's backend on its first request (close to a second for some);
    AWS has no such cold start, so it must not be billed to authdemo's first timed run.
    """
    url = "http://{}:{}".format(*moto_address)
    with tempfile.TemporaryDirectory(prefix="authdemo-bench-warm-") as home:
        env = isolated_env(Path(home))
        common = ["--endpoint-url", url, "--stack", "bench-warm-up", "--output", "json"]
        up = must(run_timed([*cmd, "up", *common], env))
        down = must(run_timed([*cmd, "down", *common], env))
    return f"untimed up + down straight against moto took {up.wall:.2f} s + {down.wall:.2f} s"


def authdemo_command() -> list[str]:
    """The installed console script beside this Python, as a presenter would run it."""
    script = Path(sys.executable).with_name("authdemo")
    if script.exists():
        return [str(script)]
    found = shutil.which("authdemo")
    if found:
        return [found]
    return [sys.executable, "-c", "from authdemo.cli import main; main()"]


def isolated_env(home: Path) -> dict[str, str]:
    """Fake credentials, no AWS config or profile, no proxy, a private AUTHDEMO_HOME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "AUTHDEMO_")) and k.lower() not in ("http_proxy", "https_proxy")
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-west-2",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AUTHDEMO_HOME=str(home),
        NO_PROXY="127.0.0.1,localhost",
        NO_COLOR="1",
    )
    return env


@dataclass
class Timed:
    """One command's run: wall time measured around the process, and its launch instant."""

    args: list[str]
    launched: float
    wall: float
    returncode: int
    stdout: str
    stderr: str


def run_timed(args: Sequence[str], env: dict[str, str], timeout: float = 600) -> Timed:
    launched = time.monotonic()
    done = subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.monotonic() - launched
    return Timed(list(args), launched, wall, done.returncode, done.stdout, done.stderr)


def must(timed: Timed) -> Timed:
    if timed.returncode != 0:
        sys.stderr.write(f"FAILED ({timed.returncode}): {' '.join(timed.args)}\n{timed.stderr}\n")
        raise SystemExit(1)
    return timed


def median_wall(args: Sequence[str], env: dict[str, str], n: int) -> float:
    return statistics.median(run_timed(args, env).wall for _ in range(n))


# ------------------------------------------------------------------------ the remote benchmark
@dataclass
class UpRun:
    """One `up` + `down` through the proxy, and what the proxy saw of each."""

    up: Timed
    down: Timed
    up_calls: list[Call]
    down_calls: list[Call]
    up_peak: int
    down_peak: int
    engine_seconds: float


def run_remote(proxy: LatencyProxy, index: int, cmd: list[str]) -> UpRun:
    stack = f"bench-{index}"
    with tempfile.TemporaryDirectory(prefix="authdemo-bench-") as home:
        env = isolated_env(Path(home))
        common = ["--endpoint-url", proxy.url, "--stack", stack, "--output", "json"]
        proxy.begin(f"up-{index}")
        up = must(run_timed([*cmd, "up", *common], env))
        proxy.begin(f"down-{index}")
        down = must(run_timed([*cmd, "down", *common], env))
        proxy.begin("idle")
    return UpRun(
        up=up,
        down=down,
        up_calls=proxy.phase_calls(f"up-{index}"),
        down_calls=proxy.phase_calls(f"down-{index}"),
        up_peak=proxy.peak[f"up-{index}"],
        down_peak=proxy.peak[f"down-{index}"],
        engine_seconds=float(json.loads(up.stdout).get("seconds", 0.0)),
    )


def floor_seconds(cli_start: float, latency: float, propagation: float) -> float:
    """The issue's floor: CLI start + CreateRole + propagation + CreateFunction + Integration + Route."""
    return cli_start + latency + propagation + 3 * latency


def down_floor_seconds(cli_start: float, latency: float) -> float:
    """`down`'s floor: CLI start + 3 round trips, its critical chain with AWS's order kept:
    GetCallerIdentity (prove the account before any change) -> DeleteFunction -> DeleteLogGroup
    (the log group only once the function cannot write to it; the role likewise, in parallel)."""
    return cli_start + 3 * latency


def sequential_seconds(cli_start: float, latency: float, propagation: float, calls: int) -> float:
    """The issue's sequential script: every call one after another, plus the whole propagation."""
    return cli_start + calls * latency + propagation


def first(calls: list[Call], op: str) -> Call | None:
    """The first successful call of `op` (refused CreateFunction attempts do not count)."""
    return next((c for c in calls if c.op == op and c.status < 400), None)


def busy_seconds(calls: list[Call], lo: float, hi: float) -> float:
    """Time within [lo, hi] during which at least one call was in flight."""
    spans = sorted((max(c.start, lo), min(c.end, hi)) for c in calls if c.end > lo and c.start < hi)
    total, cursor = 0.0, lo
    for start, end in spans:
        start = max(start, cursor)
        if end > start:
            total += end - start
            cursor = end
    return total


def critical_path(run: UpRun, cli_start: float, latency: float, propagation: float) -> list[list[str]]:
    """Split `up`'s wall time at the floor's events, each segment beside its share of the floor.

    The segments telescope: they add up to the wall time exactly.
    """
    calls, t0 = run.up_calls, run.up.launched
    role, fn, route = first(calls, CREATE_ROLE), first(calls, CREATE_FUNCTION), first(calls, CREATE_ROUTE)
    if not (calls and role and fn and route):
        return [["(CreateRole, CreateFunction or CreateRoute missing: no breakdown)", "", "", ""]]
    usable = role.end + propagation
    exit_ = t0 + run.up.wall

    def between(lo: float, hi: float) -> str:
        inside = [c.op.split(":", 1)[1] for c in calls if c.start >= lo - 1e-6 and c.end <= hi + 1e-6]
        idle = (hi - lo) - busy_seconds(calls, lo, hi)
        return f"{idle:.2f} s with no call in flight; ran: {', '.join(inside) or '-'}"

    rejected = [c for c in calls if c.op == CREATE_FUNCTION and c.status >= 400]
    gaps = [b.start - a.end for a, b in zip([*rejected, fn], [*rejected, fn][1:], strict=False)]
    rows = [
        ["process start -> first AWS call", _s(calls[0].start - t0), _s(cli_start), "CLI start (--help)"],
        [
            "first call -> CreateRole sent",
            _s(role.start - calls[0].start),
            _s(0),
            between(calls[0].start, role.start),
        ],
        ["CreateRole", _s(role.end - role.start), _s(latency), ""],
        ["propagation (proxy refuses CreateFunction)", _s(propagation), _s(propagation), ""],
        [
            "role usable -> successful CreateFunction sent",
            _s(fn.start - usable),
            _s(0),
            f"{len(rejected)} refused attempts; waits between attempts "
            + ", ".join(f"{g:.2f}" for g in gaps),
        ],
        ["CreateFunction", _s(fn.end - fn.start), _s(latency), ""],
        [
            "CreateFunction answered -> CreateRoute answered",
            _s(route.end - fn.end),
            _s(2 * latency),
            between(fn.end, route.end),
        ],
        ["CreateRoute answered -> process exit", _s(exit_ - route.end), _s(0), between(route.end, exit_)],
    ]
    rows.append(["total", _s(run.up.wall), _s(floor_seconds(cli_start, latency, propagation)), ""])
    return rows


def chain(calls: list[Call], last: Call, t0: float, tie: float = 0.03) -> list[list[str]]:
    """The calls `last` waited for, walked back: each link is the latest call to finish first.

    A heuristic (the proxy cannot see authdemo's graph): a retry's predecessor is the
    previous attempt of the same operation; otherwise calls that finished within `tie`
    seconds of the latest are indistinguishable from outside, so they are listed as
    alternatives. The gap column is local time (imports, clients, sleeps, state writes).
    """
    links: list[tuple[Call, list[Call]]] = [(last, [])]
    while True:
        current = links[-1][0]
        before = [c for c in calls if c is not current and c.end <= current.start + 1e-6]
        if not before:
            break
        retried = [c for c in before if c.op == current.op]
        latest = max(retried or before, key=lambda c: c.end)
        others = [] if retried else [c for c in before if c is not latest and c.end >= latest.end - tie]
        links.append((latest, others))
    rows, previous_end = [], t0
    for c, others in reversed(links):
        alternatives = f" (or {', '.join(o.op for o in others)})" if others else ""
        gap = f"{c.start - previous_end:.3f}"
        rows.append([f"{c.start - t0:7.3f}", f"{c.end - t0:7.3f}", gap, str(c.status), c.op + alternatives])
        previous_end = c.end
    return rows


def timeline(calls: list[Call], t0: float) -> list[list[str]]:
    return [
        [f"{c.start - t0:7.3f}", f"{c.end - t0:7.3f}", f"{c.end - c.start:.3f}", str(c.status), c.op]
        for c in calls
    ]


# ------------------------------------------------------------------------ local mode, start-up
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_local(cmd: list[str]) -> list[list[str]]:
    """`up`, `test`, `down` with --local: the whole offline demo, server start and stop included."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="authdemo-bench-local-") as home:
        env = isolated_env(Path(home))
        port = str(free_port())
        total = 0.0
        try:
            for command in ("up", "test", "down"):
                timed = must(run_timed([*cmd, command, "--local", "--port", port], env))
                total += timed.wall
                rows.append([f"authdemo {command} --local --port {port}", _s(timed.wall)])
        finally:
            # Only if `down` failed to stop the server `up` started: stop it by its own record.
            run_timed([*cmd, "local", "stop"], env)
        rows.append(["total", _s(total)])
    return rows


def aws_cli() -> list[str] | None:
    """`aws` as found on PATH; under pyenv the shim's shell start-up is measured too."""
    found = shutil.which("aws")
    return [found] if found else None


def start_up_rows(env: dict[str, str], cmd: list[str], runs: int, cli_start: float) -> list[list[str]]:
    rows = [["authdemo --help", _s(cli_start), " ".join(cmd)]]
    aws = aws_cli()
    if aws is None:
        rows.append(["aws --version", "n/a", "aws CLI not on PATH"])
        return rows
    version = run_timed([*aws, "--version"], env)
    rows.append(["aws --version", _s(median_wall([*aws, "--version"], env, runs)), aws[0]])
    if "/shims/" in aws[0] and shutil.which("pyenv"):
        real = run_timed(["pyenv", "which", "aws"], env).stdout.strip()
        if real:
            rows.append(["aws --version (no shim)", _s(median_wall([real, "--version"], env, runs)), real])
    rows.append(["", "", (version.stdout or version.stderr).strip()])
    return rows


def import_rows(top: int = 8) -> tuple[list[list[str]], str]:
    """What `authdemo --help` imports, by cumulative time; and whether the heavy ones are among them."""
    code = "from authdemo.cli import main; main(['--help'])"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=False
    )
    entries = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            entries.append((int(parts[1]), parts[2].rstrip()))
    rows = [[f"{us / 1000:.1f} ms", name] for us, name in sorted(entries, reverse=True)[:top]]
    names = {name.strip().split(".")[0] for _, name in entries}
    heavy = [m for m in ("boto3", "botocore", "rich", "moto", "requests", "jwt") if m in names]
    verdict = (
        f"imported at --help: {', '.join(heavy)}" if heavy else "boto3, botocore, rich, moto not imported"
    )
    return rows, verdict


# ------------------------------------------------------------------------ printing
def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A plain aligned table: no rich, so the output pastes into a README as is."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate([header, *rows]):
        print("  " + "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def measure(args: argparse.Namespace, env: dict[str, str]) -> tuple[float, list[UpRun]]:
    """moto + proxy up, self-check, warm-up, CLI start, then the timed rounds; all torn down."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    proxy = LatencyProxy(moto.get_host_and_port(), args.latency, args.propagation)
    threading.Thread(target=proxy.serve_forever, name="latency-proxy", daemon=True).start()
    try:
        print(f"latency {args.latency} s per call, role propagation {args.propagation} s; proxy {proxy.url}")
        print(f"self-check: {self_check(proxy)}")
        print(f"warm-up: {warm_up(moto.get_host_and_port(), args.authdemo)}")
        cli_start = median_wall([*args.authdemo, "--help"], env, 5)
        return cli_start, [run_remote(proxy, i + 1, args.authdemo) for i in range(args.runs)]
    finally:
        proxy.shutdown()
        proxy.server_close()
        moto.stop()


def report_remote(args: argparse.Namespace, cli_start: float, runs: list[UpRun]) -> None:
    floor = floor_seconds(cli_start, args.latency, args.propagation)
    down_floor = down_floor_seconds(cli_start, args.latency)
    rows = []
    for i, run in enumerate(runs, 1):
        refused = sum(1 for c in run.up_calls if c.op == CREATE_FUNCTION and c.status >= 400)
        calls = len(run.up_calls) - refused
        sequential = sequential_seconds(cli_start, args.latency, args.propagation, calls)
        rows.append(
            [
                str(i),
                _s(run.up.wall),
                f"{len(run.up_calls)} ({refused} refused)",
                str(run.up_peak),
                _s(floor),
                f"{run.up.wall / floor:.2f}",
                _s(sequential),
                f"{sequential / floor:.2f}",
                _s(run.down.wall),
                str(len(run.down_calls)),
                str(run.down_peak),
                _s(down_floor),
                f"{run.down.wall / down_floor:.2f}",
            ]
        )
    header = ["run", "up wall", "up calls", "peak", "floor", "ratio", "sequential", "seq ratio"]
    table(
        f"authdemo up/down through the proxy (floor = CLI start {cli_start:.2f} s + {args.latency} "
        f"+ {args.propagation} + 3 x {args.latency}; sequential = CLI start + calls x latency + propagation)",
        [*header, "down wall", "down calls", "down peak", "down floor", "down ratio"],
        rows,
    )
    last = runs[-1]
    ratio = statistics.median(run.up.wall / floor for run in runs)
    down_ratio = statistics.median(run.down.wall / down_floor for run in runs)
    print(f"\n  median ratio over {len(runs)} run(s): up {ratio:.2f} (target <= 1.08), down {down_ratio:.2f}")
    print(f"  (down floor = CLI start {cli_start:.2f} s + 3 x {args.latency}; target <= 1.5)")
    print(f"  engine's own time for the graph (`up --output json`, last run): {last.engine_seconds:.2f} s")
    table(
        f"where `up` spends its time (run {len(runs)})",
        ["segment", "actual", "floor", "detail"],
        critical_path(last, cli_start, args.latency, args.propagation),
    )
    route = first(last.up_calls, CREATE_ROUTE)
    if route:
        table(
            f"critical chain of `up` run {len(runs)}, back from CreateRoute (s from launch)",
            ["start", "end", "gap", "status", "operation"],
            chain(last.up_calls, route, last.up.launched),
        )
    for command, calls in (("up", last.up_calls), ("down", last.down_calls)):
        ops = sorted(Counter(c.op for c in calls).items())
        table(f"calls of `{command}` by operation", ["operation", "n"], [[k, str(v)] for k, v in ops])
    if args.verbose:
        for i, run in enumerate(runs, 1):
            for command, timed, calls in (("up", run.up, run.up_calls), ("down", run.down, run.down_calls)):
                table(
                    f"timeline of `{command}` run {i} (s from launch)",
                    ["start", "end", "took", "status", "operation"],
                    timeline(calls, timed.launched),
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.25, help="seconds added to every call")
    parser.add_argument("--propagation", type=float, default=6.0, help="seconds a new role is unusable")
    parser.add_argument("--runs", type=int, default=1, help="up/down rounds through the proxy")
    parser.add_argument("--skip-local", action="store_true", help="skip the --local up/test/down timing")
    parser.add_argument("--verbose", action="store_true", help="print every call of every run")
    parser.add_argument(
        "--authdemo",
        type=shlex.split,
        default=authdemo_command(),
        help="command that runs authdemo, e.g. to compare a branch (default: the installed script)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="authdemo-bench-") as scratch:
        env = isolated_env(Path(scratch))
        cli_start, runs = measure(args, env)
        report_remote(args, cli_start, runs)
        if not args.skip_local:
            table("local mode (no latency added)", ["command", "wall"], run_local(args.authdemo))
        table(
            "start-up (median of 5)",
            ["command", "wall", "what ran"],
            start_up_rows(env, args.authdemo, 5, cli_start),
        )
    imports, verdict = import_rows()
    table(f"`authdemo --help` imports by cumulative time ({verdict})", ["cumulative", "module"], imports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
