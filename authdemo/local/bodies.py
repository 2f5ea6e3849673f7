"""A request's body as the embedded AWS's front door reads it: at most a cap, whatever the
headers say.

werkzeug hands a chunked body (`Transfer-Encoding: chunked`) to the app as a stream with no
length, so a check of `Content-Length` alone let a body of any size be buffered (issue 20: 250 MB
before a 401). `read` counts the bytes it actually reads and stops one byte past the cap; the
router then answers 413 and the server reads nothing more of the connection
(`connections.GuardedHandler`). What it read is handed on as a plain stream with its length, so
nothing behind the router (moto, the gateway, managed login) reads the socket itself.
"""

from __future__ import annotations

import io
from typing import Any

PIECE = 64 * 1024  # read at most this much at a time: the most read past the cap


def read(environ: dict[str, Any], cap: int) -> int | None:
    """Read the body (at most `cap` bytes) into `environ["wsgi.input"]` as an in-memory stream,
    with its `CONTENT_LENGTH` and no `Transfer-Encoding`; None when done, else the status to answer
    instead: 413 past the cap (read no further), 400 for a malformed length, chunk or short body,
    408 when the client stopped sending before the server's deadline."""
    stream = environ.get("wsgi.input")
    chunked = bool(environ.get("wsgi.input_terminated"))
    if chunked:
        want = cap + 1
    else:
        declared = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not (declared.isascii() and declared.isdigit()):
            return 400
        if len(declared) > 15 or int(declared) > cap:  # int() of 4,300 digits would raise
            return 413
        want = int(declared)
    pieces: list[bytes] = []
    got = 0
    try:
        while got < want and stream is not None:
            piece = stream.read(min(PIECE, want - got))
            if not piece:
                break
            pieces.append(piece)
            got += len(piece)
    except TimeoutError:
        return 408
    except (OSError, ValueError):  # werkzeug's chunk parser says OSError("Invalid chunk header")
        return 400
    if chunked and got > cap:
        return 413
    if not chunked and got < want:
        return 400
    body = b"".join(pieces)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)
    return None
