"""A warm interpreter: imports the heavy modules once, then forks one child per snippet run.

The harness starts one of these per worker. It imports only modules that read nothing from the
environment (torch, numpy, safetensors, tokenizers), never huggingface_hub or transformers, which
read HF_* variables when imported: every child imports those itself, after taking on its run's
environment. Each child is a new session (its own process group, for the timeout kill), enters its
scenario's network namespace, takes its terminal or pipes, folder, environment, `sys.path` and
`sys.argv`, runs its run's `sitecustomize` as a fresh interpreter would, and runs the script as
`__main__`. So a run sees what `python script.py` would give it, minus the import time.

Protocol, one JSON object per line: requests on stdin
(`{"argv", "env", "cwd", "stdin", "stdout", "stderr", "netns"}`), replies on stdout:
`{"ready": true}` once, then per request `{"pid": N}` when the child runs and
`{"exit": code}` or `{"signal": n}` when it ended.
"""

import ctypes
import io
import json
import os
import sys

# Refuses and records network attempts; it reads its log's path from each run's environment.
import _hubcheck_network  # noqa: F401

HEAVY = ("numpy", "torch", "safetensors", "tokenizers")
MUST_NOT_BE_WARM = ("huggingface_hub", "transformers")
CLONE_NEWNET = 0x40000000

for _name in HEAVY:
    __import__(_name)
for _name in MUST_NOT_BE_WARM:
    if _name in sys.modules:
        sys.stderr.write(f"zygote: importing the heavy modules imported {_name}; refusing to run\n")
        sys.exit(3)

_LIBC = ctypes.CDLL(None, use_errno=True)
_REPLIES = os.dup(1)
_REQUESTS = os.dup(0)
os.set_inheritable(_REPLIES, False)
os.set_inheritable(_REQUESTS, False)
# What `sys.path` holds besides the script's folder and PYTHONPATH: the standard library and the
# environment's site-packages.
_ZYGOTE_PATH = set(os.environ.get("PYTHONPATH", "").split(os.pathsep))
_BASE_PATH = [p for p in sys.path[1:] if p not in _ZYGOTE_PATH]


def reply(message):
    os.write(_REPLIES, (json.dumps(message) + "\n").encode())


def requests():
    pending = b""
    while True:
        while b"\n" not in pending:
            chunk = os.read(_REQUESTS, 65536)
            if not chunk:
                return
            pending += chunk
        line, pending = pending.split(b"\n", 1)
        yield json.loads(line)


def take_stdio(request):
    """Puts the run's terminal or pipes on fds 0, 1 and 2 and new Python streams over them."""
    flags = {"stdin": os.O_RDONLY, "stdout": os.O_WRONLY, "stderr": os.O_WRONLY}
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        path = request[name]
        # A session leader without a terminal that opens one gets it as its controlling terminal.
        opened = os.open(path, os.O_RDWR if path.startswith("/dev/pts/") else flags[name])
        os.dup2(opened, fd)
        if opened > 2:
            os.close(opened)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="strict")
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True
    )
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True
    )
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr


def become_the_run(request):
    os.setsid()
    if request.get("netns"):
        fd = os.open(request["netns"], os.O_RDONLY)
        if _LIBC.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into the scenario's network namespace")
        os.close(fd)
    os.close(_REPLIES)
    os.close(_REQUESTS)
    take_stdio(request)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(dict(request["env"]))
    script = request["argv"][0]
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [os.path.dirname(os.path.abspath(script))] + extra + _BASE_PATH
    sys.argv[:] = request["argv"]
    sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401  the run's own start-up file, as a fresh interpreter runs it
    except ImportError:
        pass


def exit_code(error):
    code = error.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def run_child(request):
    code = 1
    try:
        become_the_run(request)
        import runpy

        try:
            runpy.run_path(request["argv"][0], run_name="__main__")
            code = 0
        except SystemExit as error:
            code = exit_code(error)
        except BaseException:
            sys.excepthook(*sys.exc_info())
            code = 1
        import threading

        threading._shutdown()
        import atexit

        atexit._run_exitfuncs()
    except SystemExit as error:
        code = exit_code(error)
    except BaseException:
        sys.excepthook(*sys.exc_info())
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def serve():
    reply({"ready": True})
    for request in requests():
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            run_child(request)
        reply({"pid": pid})
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            reply({"signal": os.WTERMSIG(status)})
        else:
            reply({"exit": os.WEXITSTATUS(status)})


serve()
