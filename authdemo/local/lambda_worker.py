"""One warm Lambda sandbox: imports a function's handler once and runs it per request.

Started by `authdemo.local.runtime` as `python -I lambda_worker.py module.function`, with the
function's code directory as cwd (`LAMBDA_TASK_ROOT`), a private `HOME` and a few variables.
Before it loads the function it confines itself (`sandbox`: Landlock, where the kernel has it)
and says so on its first line, `{"sandbox": "Landlock ABI 7"}` or `{"sandbox": null, "why": ...}`;
then it reads `{"environment": {...}}` (the function's whole environment). Then it speaks JSON
lines: a request `{"event", "context"}` on stdin, one answer `{"ok", "result"|"error"}` on
private copies of the original stdin and stdout. The handler's own prints go to stderr, so they
reach the server's log and can never corrupt an answer.

Standard library only: in isolated mode nothing of authdemo is importable here (on
purpose: the function gets what Lambda's Python runtime gives it, not the server).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LambdaContext:
    """The subset of Lambda's context object a Python handler commonly reads."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float = field(repr=False, default=0.0)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


def confine() -> dict[str, str | None]:
    """Landlock this worker to its code (read), its HOME (read, write) and Python's and the
    system's files (read), before any of the function's code runs; the first line's fields."""
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("_authdemo_sandbox", os.path.join(here, "sandbox.py"))
    assert spec is not None and spec.loader is not None
    sandbox = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sandbox)
    try:
        applied = sandbox.restrict([os.environ["LAMBDA_TASK_ROOT"]], [os.environ["HOME"]])
    except sandbox.Unavailable as exc:
        return {"sandbox": None, "why": str(exc)}
    return {"sandbox": applied}


def main(handler_name: str) -> int:
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the handler's print() and any C-level write to fd 1 land on stderr
    sys.stdout = sys.stderr
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # a handler reading stdin reads nothing, never the next request
    os.close(null)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the worker
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())
    answers.write(json.dumps(confine()) + "\n")
    answers.flush()
    # The function's own variables arrive only now, inside the sandbox: set in the process's
    # environment they would act before it (LD_PRELOAD, LD_AUDIT, GCONV_PATH, ...).
    first = json.loads(requests.readline() or "{}")
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in (first.get("environment") or {}).items()})
    module_name, _, func_name = handler_name.rpartition(".")
    handler: Any = None
    for line in requests:
        request = json.loads(line)
        fields = request["context"]
        remaining = float(fields.pop("remaining_ms")) / 1000
        context = LambdaContext(**fields, deadline=time.time() + remaining)
        try:
            if handler is None:
                if not module_name or not func_name:
                    raise ValueError(f"handler {handler_name!r} is not module.function")
                handler = getattr(importlib.import_module(module_name), func_name)
            answer = {"ok": True, "result": handler(request["event"], context)}
            text = json.dumps(answer)
        except Exception as exc:
            traceback.print_exc()
            text = json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        sys.stderr.flush()
        answers.write(text + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
