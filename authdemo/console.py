"""The one module that owns the terminal: progress on stderr, data on stdout.

rich is imported on first use, so `authdemo --help` starts without it. When stderr is
not a terminal (CI, `--output json | jq`), progress is plain lines instead of a live table.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from functools import cache, cached_property, lru_cache
from typing import Any


def _maybe_terminal() -> bool:
    """False when rich would certainly say stderr is not a terminal (not a tty, nothing forcing
    one), answered without importing rich."""
    if os.environ.get("FORCE_TERMINAL") is not None or os.environ.get("TTY_COMPATIBLE"):
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def warm() -> None:
    """Import what drawing steps and tables needs (aws.AFTER_PREFETCH runs this while a
    command's first AWS call is in flight)."""
    import rich.console
    import rich.live
    import rich.table  # noqa: F401


@cache
def err() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@cache
def out() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def error(message: str) -> None:
    """One sentence, never broken into lines by us: a command in it stays pasteable."""
    err().print(f"[bold red]Error:[/] {message}", markup=True, highlight=False, soft_wrap=True)


def info(message: str) -> None:
    err().print(message, highlight=False, soft_wrap=True)


def data_json(obj: Any) -> None:
    """Machine output: exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
    sys.stdout.flush()


_MARKS = {
    "created": "[green]✓ created[/]",
    "exists": "[dim]✓ exists[/]",
    "adopted": "[yellow]✓ adopted[/]",
    "deleted": "[green]✓ deleted[/]",
    "gone": "[dim]✓ already gone[/]",
    "ready": "[green]✓ ready[/]",
}
INTERRUPTED = "[yellow]✗ interrupted[/]"


class StepDisplay:
    """An engine observer: one row per step, running ones side by side with their own clock."""

    def __init__(self, title: str, explain: bool = False) -> None:
        self.title = title
        self.explain = explain  # `--explain`: each step's AWS calls printed under its row
        self.rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._live: Any = None
        self._start = time.monotonic()
        self._done = False
        self._title_due = False
        # `--explain` prints lines (no live table): each finished row, then its commands, stay
        # where they are, to be read and copied while the next steps run.
        self.interactive = not explain and _maybe_terminal() and err().is_terminal

    # -- context manager drives rich.live ------------------------------------------------------
    def __enter__(self) -> StepDisplay:
        self._start = time.monotonic()
        if self.interactive:
            from rich.live import Live

            self._live = Live(self, console=err(), refresh_per_second=8, transient=False)
            self._live.__enter__()
        else:
            self._title_due = True  # printed with the first finished row: rich is not imported
        return self  # before the first AWS call is sent (see console.warm)

    def _title(self) -> None:
        if self._title_due:
            self._title_due = False
            info(self.title)

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        """Also on Ctrl-C: running steps are marked interrupted, no spinner is left frozen."""
        interrupted = exc_type is not None and issubclass(exc_type, KeyboardInterrupt)
        with self._lock:
            stopped = [row for row in self.rows.values() if row["end"] is None]
            for row in stopped:
                row["end"] = time.monotonic()
                row["status"] = INTERRUPTED if interrupted else "[red]✗ stopped[/]"
            self._done = True
        self._title()
        if self._live is not None:
            self._live.__exit__(exc_type, *exc)
        elif stopped:
            for row in stopped:
                err().print(f"  {row['label']:<28} {row['status']}")
                self._calls(row)
        ending = "interrupted after" if interrupted else "done in"
        info(f"{self.title}: {ending} {time.monotonic() - self._start:.1f}s in all")

    def __rich__(self) -> Any:
        from rich.spinner import Spinner
        from rich.table import Table

        table = Table(title=self.title, title_justify="left", box=None, pad_edge=False)
        table.add_column("step")
        table.add_column("status")
        table.add_column("time", justify="right")
        now = time.monotonic()
        with self._lock:
            rows = list(self.rows.values())
        for row in rows:
            if row["end"] is None:
                status: Any = Spinner("dots", text=row["note"] or "running", style="cyan")
                elapsed = now - row["begin"]
            else:
                status = row["status"]
                elapsed = row["end"] - row["begin"]
            table.add_row(row["label"], status, f"{elapsed:.1f}s")
        if not self._done:  # the total is printed once, at the end
            table.caption = f"{now - self._start:.1f}s so far"
            table.caption_justify = "left"
        return table

    # -- Observer --------------------------------------------------------------------------------
    def started(self, key: str, label: str) -> None:
        with self._lock:
            self.rows[key] = {
                "label": label,
                "begin": time.monotonic(),
                "end": None,
                "note": "",
                "status": "",
                "calls": [],
            }

    def note(self, key: str, message: str) -> None:
        with self._lock:
            if key in self.rows:
                self.rows[key]["note"] = message

    def remark(self, key: str, message: str) -> None:
        """A note the row keeps once finished (what the step did otherwise than planned)."""
        with self._lock:
            if key in self.rows:
                self.rows[key]["note"] = self.rows[key]["remark"] = message

    def call(self, key: str, command: str) -> None:
        """An AWS call step `key` made, as the `aws` command: shown under its row when it ends
        (a call in no step, at once)."""
        with self._lock:
            row = self.rows.get(key)
            if row is not None:
                row["calls"].append(command)
                return
        self._title()
        self._calls({"calls": [command]})

    def _calls(self, row: dict[str, Any]) -> None:
        for command in row["calls"]:
            if self.plain:
                sys.stderr.write(f"      {command}\n")
            else:
                StepDisplay.early(command)
        sys.stderr.flush()

    @staticmethod
    def early(command: str) -> None:
        """One AWS call as a command, indented under what came before (--explain)."""
        err().print(f"      {command}", markup=False, highlight=False, soft_wrap=True, style="dim")

    def finished(self, key: str, outcome: str, seconds: float) -> None:
        status = _MARKS.get(outcome, outcome)
        remark = self.rows.get(key, {}).get("remark")
        self._end(key, f"{status} ({remark})" if remark else status)

    def failed(self, key: str, error: BaseException, seconds: float) -> None:
        self._end(key, "[red]✗ failed[/]")

    @cached_property
    def plain(self) -> bool:
        """Rows go straight to stderr when rich would print them without colour anyway (asked at
        the first row, when rich is imported for the title): rich takes ~150 µs a row, on the
        thread that schedules the steps, ~30 times in an `up`."""
        return not self.interactive and not err().is_terminal

    def _end(self, key: str, status: str) -> None:
        with self._lock:
            row = self.rows[key]
            row["end"] = time.monotonic()
            row["status"] = status
        if not self.interactive:
            self._title()
            seconds = f"{row['end'] - row['begin']:.2f}s"
            if self.plain:
                sys.stderr.write(f"  {row['label']:<28} {_plain_status(status)}  {seconds}\n")
                sys.stderr.flush()
            else:
                err().print(f"  {row['label']:<28} {status}  {seconds}")
            self._calls(row)


class Waiting:
    """A single spinner line for a wait (API warm-up); plain lines when not a terminal."""

    def __init__(self, message: str) -> None:
        self.message = message
        self._status: Any = None
        self._last_plain = 0.0

    def __enter__(self) -> Waiting:
        if err().is_terminal:
            self._status = err().status(self.message)
            self._status.__enter__()
        return self

    def update(self, message: str) -> None:
        if self._status is not None:
            self._status.update(message)
        elif time.monotonic() - self._last_plain > 5:
            self._last_plain = time.monotonic()
            info(message)

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(exc_type, *exc)  # stops the spinner, also on Ctrl-C
            self._status = None
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            info(f"{self.message.rstrip('…')}: interrupted.")


def table(title: str, columns: list[str], rows: list[list[Any]], to_stdout: bool = True) -> Any:
    """A table whose cells wrap between words, never inside one while the terminal has room.

    Each column is made at least as wide as its longest word when they all fit side by side,
    so rich wraps at spaces; only on a terminal too narrow for that does a long word (an ID, a
    URL) fold onto the next line, whole, never cut or ellipsized.
    """
    from rich.table import Table

    cells = [[str(c) if c is not None else "" for c in row] for row in rows]
    t = Table(title=title, title_justify="left")
    widths = _widths(columns, cells, (out() if to_stdout else err()).width)
    for column, width in zip(columns, widths, strict=True):
        t.add_column(column, overflow="fold", width=width)
    for row in cells:
        t.add_row(*row)
    return t


def _widths(columns: list[str], cells: list[list[str]], total: int) -> list[int | None]:
    """Content widths that fit `total`: every column at least its longest word when possible.

    rich's own collapse shrinks only the widest column, so a narrow terminal breaks its words
    while other columns keep spare room; here spare room goes where the text is longest.
    """
    plain = [[_plain(c) for c in [column] + [row[i] for row in cells]] for i, column in enumerate(columns)]
    natural = [max(len(line) for c in col for line in c.splitlines() or [""]) for col in plain]
    room = total - 3 * len(columns) - 1  # each column: 2 of padding, 1 of border
    if sum(natural) <= room:
        return [None] * len(columns)  # fits as it is
    longest = [max(len(w) for c in col for w in c.split() or [""]) for col in plain]
    # All longest words fit: every column keeps its words whole. Else the narrowest-worded
    # columns keep theirs while within a fair share, and the others share the rest equally:
    # only their long words (IDs, URLs) fold onto the next line, whole, never cut.
    if sum(longest) <= room:
        floor = longest
    else:
        floor = [0] * len(columns)
        left, order = room, sorted(range(len(columns)), key=lambda i: longest[i])
        for n, i in enumerate(order):
            if longest[i] > left // (len(order) - n):
                for j in order[n:]:
                    floor[j] = max(left // (len(order) - n), 1)
                break
            floor[i] = longest[i]
            left -= longest[i]
    spare = max(room - sum(floor), 0)
    want = [n - f for n, f in zip(natural, floor, strict=True)]
    extra = [spare * w // max(sum(want), 1) for w in want]
    return [f + e for f, e in zip(floor, extra, strict=True)]


def _plain(markup: str) -> str:
    from rich.text import Text

    return Text.from_markup(markup).plain


@lru_cache(maxsize=32)
def _plain_status(markup: str) -> str:
    """A step's status (a handful of marks) as rich prints it without colour, parsed once."""
    return _plain(markup)


def show(renderable: Any, to_stdout: bool = True) -> None:
    (out() if to_stdout else err()).print(renderable)


def syntax_json(obj: Any) -> Any:
    """JSON, coloured, never wrapped or padded (print it with soft_wrap)."""
    from rich.syntax import Syntax

    return Syntax(json.dumps(obj, indent=2), "json", word_wrap=False, background_color="default")
