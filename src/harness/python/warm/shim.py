#!@PYTHON@ -IS
"""`@NAME@` for a shell snippet's run: hands the command to the harness's warm interpreter.

The harness puts this program first on a shell snippet's PATH as `hf`, `python` and `python3`.
It starts with `-I -S` (no site-packages, no environment variables read), so it costs a few
milliseconds. When the command is one the interpreter can run (`hf ...`, `python script.py`,
`python -c CODE`, `python -m MODULE`, with no terminal), it sends the interpreter its arguments,
environment, folder, umask and process group, and passes it its stdin, stdout, stderr, network
and mount namespaces; the interpreter forks a child that becomes the command in this process group, and
this program waits for it and exits with its status. Anything else (`python --version`, an
interactive prompt, a terminal, no interpreter) starts the real program in its place.
"""

import json
import os
import signal
import socket
import sys

REAL = "@REAL@"
NAME = "@NAME@"
SOCKET = "@SOCKET@"


def start_real_program():
    os.execv(REAL, [REAL] + sys.argv[1:])


def request_for(args):
    """What the interpreter runs as `__main__`, or None when only the real program can."""
    if NAME == "hf":
        return {"kind": "script", "target": REAL, "argv": [REAL] + args}
    if len(args) >= 2 and args[0] == "-c":
        return {"kind": "code", "target": args[1], "argv": ["-c"] + args[2:]}
    if len(args) >= 2 and args[0] == "-m":
        return {"kind": "module", "target": args[1], "argv": [args[1]] + args[2:]}
    if args and not args[0].startswith("-"):
        return {"kind": "script", "target": args[0], "argv": args}
    return None


def main():
    request = request_for(sys.argv[1:])
    if request is None or any(os.isatty(fd) for fd in (0, 1, 2)):
        start_real_program()
    try:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(SOCKET)
    except OSError:
        start_real_program()
    umask = os.umask(0)
    os.umask(umask)
    request.update(env=dict(os.environ), cwd=os.getcwd(), pgid=os.getpgrp(), umask=umask)
    namespaces = [os.open(f"/proc/self/ns/{kind}", os.O_RDONLY) for kind in ("net", "mnt")]
    payload = (json.dumps(request) + "\n").encode()
    socket.send_fds(connection, [payload], [0, 1, 2] + namespaces)
    for fd in namespaces:
        os.close(fd)
    replies = connection.makefile("rb")
    first = json.loads(replies.readline() or b"{}")
    if "pid" not in first:
        connection.close()
        start_real_program()
    pid = first["pid"]
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda received, _frame: os.kill(pid, received))
    end = json.loads(replies.readline() or b'{"signal": 9}')
    if "signal" in end:
        signal.signal(end["signal"], signal.SIG_DFL)
        os.kill(os.getpid(), end["signal"])
    sys.exit(end.get("exit", 1))


main()
