"""The click layer: parse options, call app.py, print through console.py. Nothing else.

One module per group of commands: `build` (up, down, status, demo, forget, policy), `lesson`
(test, token), `login` (login, open, logout: managed login), `local` (the embedded AWS); `base`
holds the group, the shared options and the error handling. A new command goes in the module of
its group, and is registered by importing it below. Kept cheap to import: boto3, moto and rich
load only inside the commands that need them, so `authdemo --help` answers at once.
"""

from __future__ import annotations

import gc

from . import build, lesson, local, login  # noqa: F401  (registers the commands)
from .base import cli


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="authdemo")
    finally:
        # Exit without the interpreter's last full garbage collection of boto3's objects:
        # ~0.2 s at the end of every command, after everything is written and printed.
        gc.freeze()


__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
