"""The function runtime: each function runs in warm worker processes, never in the server.

Like Lambda's sandboxes, a worker (one process per concurrent request, kept warm per
function ARN and code hash) pays its start-up once. It runs `lambda_worker.py` under
`python -I` in the extracted code directory with an environment holding only what
Lambda gives a function (its own variables, `AWS_LAMBDA_FUNCTION_NAME`, `AWS_REGION`,
...): the server's and the presenter's secrets never reach function code. The
function's `Timeout` is enforced by killing the worker; the next call gets a fresh one.

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


class FunctionError(Exception):
    """The handler raised, timed out, or its worker died: API Gateway answers 500."""


class _Worker:
    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            args, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
        )

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
    """Runs functions in warm workers; `close()` stops them and removes the extracted code."""

    def __init__(self, endpoint_url: str | None = None) -> None:
        self.endpoint_url = endpoint_url
        self._lock = threading.Lock()
        self._root: Path | None = None
        self._idle: dict[tuple[str, str], list[_Worker]] = {}
        self._busy: set[_Worker] = set()
        self._closed = False

    def invoke(self, fn: Any, event: dict[str, Any], max_seconds: float | None = None) -> Any:
        """The handler's return value; FunctionError when it raised or ran out of time.

        `max_seconds` caps the function's own `Timeout` (API Gateway waits at most 10 s
        for an authorizer, whatever the function allows itself)."""
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
        worker = _Worker(
            [sys.executable, "-I", str(WORKER_SCRIPT), str(fn.handler or "")],
            code_dir,
            self._environment(fn, code_dir, self.endpoint_url),
        )
        with self._lock:
            self._busy.add(worker)
        return worker

    def _give_back(self, key: tuple[str, str], worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            if not self._closed:
                self._idle.setdefault(key, []).append(worker)
                return
        worker.stop()

    def _discard(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._busy.discard(worker)

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
    def _environment(fn: Any, code_dir: Path, endpoint_url: str | None = None) -> dict[str, str]:
        """What Lambda's runtime gives a function: its own variables and a few of Lambda's."""
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
            workers = [w for idle in self._idle.values() for w in idle] + list(self._busy)
            self._idle.clear()
            self._busy.clear()
            root, self._root = self._root, None
        for worker in workers:
            worker.stop()
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
