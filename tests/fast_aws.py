"""The real aws CLI for the tests, forked from a warm process instead of started each time.

The round trip of the aws-cli export and the paste tests run the `aws` command a hundred times or
more; each start costs about 0.35 s of CPU (Python, botocore and awscli imports), most of what
those tests cost. Here one server process imports awscli once and forks a child per command; the
`aws` on the tests' PATH is a small client that hands the server its arguments, environment,
working directory and its own stdin/stdout/stderr (SCM_RIGHTS), and exits with the command's
status. The child runs awscli's own `create_clidriver().main(argv)` in the caller's environment:
the same parsing, the same requests and output as `aws` itself, without the start-up.

`python tests/fast_aws.py serve SOCKET` runs the server (conftest's `fast_aws` fixture starts it
and writes the client).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys

#: The client, written as the `aws` on the tests' PATH (`{python}` and `{socket}` filled in); -S
#: -I: no site packages, no environment for Python itself, so it starts in a few milliseconds.
CLIENT = """#!{python} -SI
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect({socket!r})
request = {{"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}
socket.send_fds(s, [json.dumps(request).encode()], [0, 1, 2])
status = s.recv(1)
sys.exit(status[0] if status else 255)
"""


def serve(path: str) -> None:
    before = os.environ.get("AWS_DATA_PATH")
    from awscli.clidriver import create_clidriver  # the import each command would pay for

    # awscli's import adds its own data directory to AWS_DATA_PATH: each command keeps that.
    added = os.environ.get("AWS_DATA_PATH") if os.environ.get("AWS_DATA_PATH") != before else None
    # One driver, its command table and the models of the services the tests call, loaded once:
    # each child runs a copy of it (its session reads the caller's environment when asked).
    driver = create_clidriver()
    driver._get_command_table()
    loader = driver.session.get_component("data_loader")
    for data in ("endpoints", "partitions", "sdk-default-configuration", "_retry"):
        with contextlib.suppress(Exception):  # a name this botocore does not have: loaded when asked
            loader.load_data(data)
    for service in ("sts", "iam", "logs", "lambda", "cognito-idp", "apigateway", "apigatewayv2"):
        driver.session.get_service_model(service)

    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(path)
    server.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        if os.fork():
            conn.close()
            continue
        server.close()
        message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
        request = json.loads(message)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        if added:
            own = request["env"].get("AWS_DATA_PATH")
            os.environ["AWS_DATA_PATH"] = os.pathsep.join(p for p in (own, added) if p)
        os.chdir(request["cwd"])
        status = 255
        try:
            status = driver.main(request["argv"])
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 255
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            conn.send(bytes([int(status or 0) & 255]))
            os._exit(0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2])
