"""Names shared by the embedded server and the CLI that starts it.

A module of constants only, so `authdemo.local.daemon` (imported by every CLI command)
can use them without importing moto or werkzeug.
"""

from __future__ import annotations

HEALTH_PATH = "/_authdemo/health"
SERVICE_NAME = "authdemo-local"
# HTTP API invoke URLs: `/_aws/execute-api/<apiId>/...` or `Host: <apiId>.execute-api.localhost`.
PATH_PREFIX = "/_aws/execute-api/"
HOST_SUFFIX = ".execute-api.localhost"
CREDENTIALS_NAME = "local-credentials.json"
