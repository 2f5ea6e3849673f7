"""The function runtime: each function runs in warm worker processes, never in the server.

Like Lambda's sandboxes, a worker (one process per concurrent request, kept warm per
function ARN and code hash) pays its start-up once. It runs `lambda_worker.py` under
`python -I` in the extracted code directory with an environment holding only what
Lambda gives a function (its own variables, `AWS_LAMBDA_FUNCTION_NAME`, `AWS_REGION`,
...): the server's and the presenter's secrets never reach function code. The
function's `Timeout` is enforced by killing the worker; the next call gets a fresh one.

A worker's `HOME` (and `TMPDIR`) is a private directory of its own, removed when it stops; where
the kernel has Landlock the worker confines itself to that, its code, and Python's and the
system's files (`sandbox`), so function code cannot read `AUTHDEMO_HOME` (the server's key, the
issuer's key, state files, kept tokens) nor `~/.aws`. Where it has not, the server's log says so.
The function's own variables reach the worker only once it is confined (on its stdin): in its
process environment one (LD_PRELOAD, ...) would act before the sandbox.

As on Lambda, a function runs at most its concurrency at once (its `ReservedConcurrentExecutions`,
capped by `concurrency`: this machine's memory, not an AWS account's): one more invocation is
throttled (Lambda's 429 `TooManyRequestsException`, which API Gateway answers with a 500). A
worker idle for `idle_seconds` is stopped, so a burst leaves no processes behind.

`AWS_ENDPOINT_URL` points the function's boto3 (botocore >= 1.31 reads it) at this embedded
AWS, so calls AWS serves without a signature (Cognito's GetUser, GlobalSignOut, InitiateAuth,
...) work from function code. No credentials are given: on AWS a function signs with its
role's temporary keys, which the embedded AWS does not issue.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

WORKER_SCRIPT = Path(__file__).resolve().with_name("lambda_worker.py")
_PASSED_THROUGH = ("PATH", "LANG", "SYSTEMROOT")  # SYSTEMROOT: Python on Windows needs it
# What the worker's process starts with; the function's own variables (which could name
# LD_PRELOAD, ...) reach it only once it has confined itself.
_AT_START = (*_PASSED_THROUGH, "TZ", "HOME", "TMPDIR", "LAMBDA_TASK_ROOT")
DEFAULT_CONCURRENCY = 10  # per function; a worker is ~45 MB, and AWS's 1,000 is an account's
IDLE_SECONDS = 300.0  # Lambda keeps an idle sandbox some minutes (it documents no figure)
INIT_SECONDS = 10.0  # Lambda's limit on a function's init phase


class FunctionError(Exception):
    """The handler raised, timed out, or its worker died: API Gateway answers 500."""


class Throttled(FunctionError):
    """Lambda's 429 TooManyRequestsException: the function already runs its concurrency."""


class _Worker:
    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], home: Path) -> None:
        self.home = home
        self.idle_since = 0.0
        self.environment = env
        started = {k: env[k] for k in _AT_START if k in env}  # the rest once it is confined
        self.process = subprocess.Popen(
            args, cwd=cwd, env=started, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
        )

    def hello(self) -> dict[str, Any] | None:
        """The worker's first line (its sandbox), or None when it did not start in time; then
        hands it the function's environment."""
        assert self.process.stdout is not None
        line = _read_line(self.process.stdout, time.monotonic() + INIT_SECONDS)
        try:
            answer = json.loads(line) if line else None
        except ValueError:
            return None
        if not isinstance(answer, dict):
            return None
        try:  # the function's environment, which the confined worker sets before loading it
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"environment": self.environment}).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            return None
        return answer

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The worker's answer, or None when it did not answer within `timeout` (or died)."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        except (BrokenPipeError, ValueError):
            return None
        line = _read_line(stdout, time.monotonic() + timeout)
        if not line:
            return None
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        shutil.rmtree(self.home, ignore_errors=True)


def _read_line(stream: IO[bytes], deadline: float) -> bytes:
    """One line from a worker, or b"" at the deadline (the worker writes a whole line at once)."""
    chunks: list[bytes] = []
    fd = stream.fileno()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return b""
        chunk = os.read(fd, 65536)
        if not chunk:
            return b""
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(chunks)


class FunctionRuntime:
    """Runs functions in warm workers; `close()` stops them and removes the extracted code.

    `concurrency`: the most invocations of one function at once (its reserved concurrency
    when lower); `idle_seconds`: how long a worker waits for its next call before it is stopped."""

    def __init__(
        self,
        endpoint_url: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.concurrency = concurrency
        self.idle_seconds = idle_seconds
        self.sandbox: str | None = None  # what the last worker started reported ("Landlock ABI 7")
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # a worker went idle, or the runtime closes
        self._root: Path | None = None
        self._idle: dict[tuple[str, str], list[_Worker]] = {}
        self._busy: set[_Worker] = set()
        self._running: dict[str, int] = {}  # invocations in flight, per function ARN
        self._reaper: threading.Thread | None = None
        self._said_sandbox = False
        self._closed = False

    def workers(self) -> list[int]:
        """The process ids of every worker alive now, idle or busy."""
        with self._lock:
            every = [w for idle in self._idle.values() for w in idle] + list(self._busy)
        return [w.process.pid for w in every if w.process.poll() is None]

    def invoke(self, fn: Any, event: dict[str, Any], max_seconds: float | None = None) -> Any:
        """The handler's return value; FunctionError when it raised or ran out of time, Throttled
        when the function already runs its concurrency.

        `max_seconds` caps the function's own `Timeout` (API Gateway waits at most 10 s
        for an authorizer, whatever the function allows itself)."""
        arn = str(fn.function_arn)
        limit = self._limit(fn)
        with self._lock:
            if self._running.get(arn, 0) >= limit:
                reason = f"Rate Exceeded (TooManyRequestsException: {limit} running, its concurrency)"
                print(f"authdemo-local: {fn.function_name}: {reason}", file=sys.stderr, flush=True)
                raise Throttled(f"{fn.function_name}: {reason}")
            self._running[arn] = self._running.get(arn, 0) + 1
        try:
            return self._run(fn, event, max_seconds)
        finally:
            with self._lock:
                self._running[arn] -= 1
                if not self._running[arn]:
                    del self._running[arn]

    def _limit(self, fn: Any) -> int:
        """The function's reserved concurrency (0 throttles every call, as on AWS), at most ours."""
        reserved = getattr(fn, "reserved_concurrency", None)
        try:
            return min(int(reserved), self.concurrency) if reserved not in (None, "") else self.concurrency
        except (TypeError, ValueError):
            return self.concurrency

    def _run(self, fn: Any, event: dict[str, Any], max_seconds: float | None) -> Any:
        key = (self._identity(fn), str(fn.code_sha_256))
        timeout = float(fn.timeout or 3)
        if max_seconds is not None:
            timeout = min(timeout, max_seconds)
        worker = self._take(fn, key)
        request = {
            "event": event,
            "context": {
                "function_name": fn.function_name,
                "function_version": "$LATEST",
                "invoked_function_arn": fn.function_arn,
                "memory_limit_in_mb": int(fn.memory_size or 128),
                "aws_request_id": str(uuid.uuid4()),
                "log_group_name": f"/aws/lambda/{fn.function_name}",
                "log_stream_name": datetime.now(timezone.utc).strftime("%Y/%m/%d/[$LATEST]")
                + uuid.uuid4().hex,
                "remaining_ms": int(timeout * 1000),
            },
        }
        answer = worker.call(request, timeout)
        if answer is None:
            timed_out = worker.process.poll() is None
            self._discard(worker)
            reason = f"Task timed out after {timeout:.2f} seconds" if timed_out else "the worker exited"
            print(f"authdemo-local: {fn.function_name}: {reason}", file=sys.stderr, flush=True)
            raise FunctionError(f"{fn.function_name}: {reason}")
        self._give_back(key, worker)
        if not answer.get("ok"):
            raise FunctionError(str(answer.get("error")))
        return answer.get("result")

    def _take(self, fn: Any, key: tuple[str, str]) -> _Worker:
        with self._lock:
            if self._closed:
                raise FunctionError("the server is stopping")
            idle = self._idle.get(key) or []
            while idle:
                worker = idle.pop()
                if worker.process.poll() is None:
                    self._busy.add(worker)
                    return worker
                worker.stop()
            code_dir = self._extract(fn.code_bytes, key[1])
            assert self._root is not None
            home = Path(tempfile.mkdtemp(prefix="home-", dir=self._root))  # 0700, this worker's
        worker = _Worker(
            [sys.executable, "-I", str(WORKER_SCRIPT), str(fn.handler or "")],
            code_dir,
            self._environment(fn, code_dir, self.endpoint_url, home),
            home,
        )
        with self._lock:
            self._busy.add(worker)
        hello = worker.hello()
        if hello is None:
            self._discard(worker)
            reason = f"{fn.function_name}: the worker did not start"
            print(f"authdemo-local: {reason}", file=sys.stderr, flush=True)
            raise FunctionError(reason)
        self._say_sandbox(hello)
        return worker

    def _say_sandbox(self, hello: dict[str, Any]) -> None:
        """One line in the server's log, at the first worker, on what function code can read."""
        with self._lock:
            self.sandbox = hello.get("sandbox")
            said, self._said_sandbox = self._said_sandbox, True
        if said:
            return
        if self.sandbox:
            line = (
                f"function code runs under {self.sandbox}: it reads only its code and Python's and "
                "the system's files, and writes only its own HOME"
            )
        else:
            line = (
                f"function code runs without a file sandbox ({hello.get('why')}): "
                "it can read every file you can"
            )
        print(f"authdemo-local: {line}", file=sys.stderr, flush=True)

    def _give_back(self, key: tuple[str, str], worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            if not self._closed:
                worker.idle_since = time.monotonic()
                self._idle.setdefault(key, []).append(worker)
                if self._reaper is None:
                    self._reaper = threading.Thread(target=self._reap, name="authdemo-reaper", daemon=True)
                    self._reaper.start()
                self._wake.notify()
                return
        worker.stop()

    def _discard(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._busy.discard(worker)

    def _reap(self) -> None:
        """Stop each worker idle for `idle_seconds`; sleeps until the next one is due."""
        while True:
            with self._lock:
                if self._closed:
                    return
                now = time.monotonic()
                idle = [w for workers in self._idle.values() for w in workers]
                expired = [w for w in idle if now - w.idle_since >= self.idle_seconds]
                if not expired:
                    due = [w.idle_since + self.idle_seconds for w in idle]
                    self._wake.wait(min(due) - now if due else None)
                    continue
                for key in list(self._idle):
                    self._idle[key] = [w for w in self._idle[key] if w not in expired]
                    if not self._idle[key]:
                        del self._idle[key]
            for worker in expired:
                worker.stop()

    @staticmethod
    def _identity(fn: Any) -> str:
        """The function and the configuration a warm worker was started with: a function
        deleted and created again under its name (or given new environment variables) gets
        fresh workers, as on AWS, never one still holding the old environment."""
        import hashlib
        import json

        config = [fn.handler, getattr(fn, "run_time", None), sorted((fn.environment_vars or {}).items())]
        digest = hashlib.sha256(json.dumps(config, default=str).encode()).hexdigest()[:16]
        return f"{fn.function_arn}#{digest}"

    @staticmethod
    def _environment(
        fn: Any, code_dir: Path, endpoint_url: str | None = None, home: Path | None = None
    ) -> dict[str, str]:
        """What Lambda's runtime gives a function: its own variables and a few of Lambda's, and
        the worker's private HOME (and TMPDIR: Lambda's writable /tmp)."""
        region = str(fn.region)
        env = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
        env.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
        env.update(
            AWS_LAMBDA_FUNCTION_NAME=str(fn.function_name),
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(int(fn.memory_size or 128)),
            AWS_REGION=region,
            AWS_DEFAULT_REGION=region,
            LAMBDA_TASK_ROOT=str(code_dir),
            TZ=":UTC",
        )
        if endpoint_url:
            env["AWS_ENDPOINT_URL"] = endpoint_url
        if home is not None:
            env.update(HOME=str(home), TMPDIR=str(home))
        return env

    def _extract(self, code: bytes, code_hash: str) -> Path:
        """The function's code unpacked once per code hash (called under the lock)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="authdemo-lambda-"))
        target = self._root / hashlib.sha256(code_hash.encode()).hexdigest()[:16]
        if not target.exists():
            staging = Path(tempfile.mkdtemp(dir=self._root))
            with zipfile.ZipFile(io.BytesIO(code)) as archive:
                archive.extractall(staging)  # extractall drops absolute and `..` parts
            staging.rename(target)
        return target

    def close(self) -> None:
        """Stop every worker and remove the extracted code."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()
            workers = [w for idle in self._idle.values() for w in idle] + list(self._busy)
            self._idle.clear()
            self._busy.clear()
            root, self._root = self._root, None
            reaper = self._reaper
        if reaper is not None:
            reaper.join(timeout=5)
        for worker in workers:
            worker.stop()
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
