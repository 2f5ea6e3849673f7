"""Names (and one message) shared by the embedded server and the CLI that starts it.

A module of constants only, so `authdemo.local.daemon` (imported by every CLI command)
can use them without importing moto or werkzeug.
"""

from __future__ import annotations

DEFAULT_PORT = 4599  # the embedded AWS's port when `--port` is not given
HEALTH_PATH = "/_authdemo/health"
SERVICE_NAME = "authdemo-local"
# HTTP API invoke URLs: `/_aws/execute-api/<apiId>/...` or `Host: <apiId>.execute-api.localhost`.
PATH_PREFIX = "/_aws/execute-api/"
HOST_SUFFIX = ".execute-api.localhost"
# Managed login of a user pool whose domain prefix is <prefix>: `/_aws/cognito/<prefix>/...`.
LOGIN_PREFIX = "/_aws/cognito/"
CREDENTIALS_NAME = "local-credentials.json"
# What the authdemo that spawned the background server writes on its handover pipe once the
# server is recorded (daemon._hand_over); until then the server says `awaiting_handover`.
HANDOVER = b"recorded\n"


def port_in_use_message(port: int) -> str:
    """Said alike by the server that cannot bind and the CLI that finds the port taken."""
    return (
        f"Port {port} is already in use by another program; choose another with "
        "`--port N`, or stop the running local server with `authdemo local stop`."
    )
