"""The `authdemo` command's entry point (and `python -m authdemo`'s, and the guide's scripts').

It imports the CLI itself, so that a Ctrl-C in the first tens of milliseconds, while Python is
still importing click and authdemo, ends in one sentence and exit 130 like any other
interruption, instead of a traceback from the middle of an import.
"""

from __future__ import annotations

import sys

INTERRUPTED = 130  # errors.ExitCode.INTERRUPTED, not imported: nothing may be imported before the guard


def main(argv: list[str] | None = None) -> None:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write(
            "Interrupted while authdemo was starting; nothing was done: run the command again.\n"
        )
        raise SystemExit(INTERRUPTED) from None
    run(argv)
