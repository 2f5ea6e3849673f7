"""The click layer: parse options, call app.py, print through console.py. Nothing else.

One module per group of commands: `build` (up, down, status, demo, forget, policy), `export`, `lesson`
(test, token), `login` (login, open, logout: managed login), `local` (the embedded AWS); `base`
holds the group, the shared options and the error handling. A new command goes in the module of
its group, and is registered by importing it below. Kept cheap to import: boto3, moto and rich
load only inside the commands that need them, so `authdemo --help` answers at once.
"""

from __future__ import annotations

import gc

# A command imports botocore and builds clients: hundreds of thousands of objects that live until
# exit, which the collector's default thresholds walk again and again (~60 ms of a command's
# start-up, before its first AWS call). Collect far less often; the long-lived embedded AWS still
# collects, every 50 000 new objects instead of 700.
gc.set_threshold(50_000, 20, 100)

from .. import aws, console  # noqa: E402  (both cheap: no botocore, no rich)
from . import build, export, lesson, local, login  # noqa: E402, F401  (registers the commands)
from .base import cli  # noqa: E402

# rich is imported in the background while the first AWS call is in flight (see console.warm).
aws.AFTER_PREFETCH.append(console.warm)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="authdemo")
    finally:
        aws.settle()  # no daemon thread left mid-build while Python finalizes
        # Exit without the interpreter's last full garbage collection of boto3's objects:
        # ~0.2 s at the end of every command, after everything is written and printed.
        gc.freeze()


__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
