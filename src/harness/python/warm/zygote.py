"""A warm interpreter: imports the heavy modules once, then forks one child per snippet run.

The harness starts one of these per run of the book. It imports the modules listed in
`preload.txt` (what the handbook's runs import: torch and its compiler, numpy, tokenizers, the
HTTP and CLI libraries, and huggingface_hub and transformers when HUBCHECK_WARM_CLIENTS says that
it runs with the environment every run shares: the clients read HF_* variables, HOME and the
endpoint into constants when imported; otherwise every child imports them itself). While it
imports, it records every environment variable the imports read: it forks a run only when the
run's environment agrees on each of them, and answers "cold" otherwise (the run then starts as a
new process). Each child is a new session (its own process group, for the timeout kill), enters
its scenario's network and mount namespaces, takes its terminal or pipes, folder, environment,
`sys.path` and `sys.argv`, computes again what imports took from the interpreter's process (the
standard library's user base and temporary folder, torch's and triton's folders), runs its run's
`sitecustomize` as a fresh interpreter would (then huggingface_hub's Colab check again), and runs
the script as `__main__`. So a run sees what `python script.py` would give it, minus the import
time.

Once it has imported the modules that most runs import (the first part of the list), it takes
requests, and imports the rest of the list between them, one module at a time: a run forked
early imports the rest itself, as a new process would. Requests come from two sides at once,
each forked at once:

- the harness, on stdin, one JSON object per line (`{"id", "heavy", "argv", "env", "cwd",
  "stdin", "stdout", "stderr", "netns", "mntns"}`); replies on stdout: `{"ready": true}` once, then per request
  `{"id", "pid"}` when the child runs and `{"id", "exit"}` or `{"id", "signal"}` when it ended, or
  `{"id", "cold": true}` when the run's environment disagrees with what the imports read;
- shell snippets' `hf` and `python` commands, through `shim.py` on the Unix socket named by the
  first argument: one JSON line (`{"kind", "target", "argv", "env", "cwd", "pgid", "umask"}`) with
  five descriptors (stdin, stdout, stderr, network and mount namespaces), answered with `{"pid"}` then `{"exit"}` or `{"signal"}`, or `{"cold": true}`.
"""

import ctypes
import gc
import io
import json
import os
import selectors
import signal
import socket
import sys
import threading
import traceback

# Refuses and records network attempts; it reads its log's path from each run's environment.
import _hubcheck_network  # noqa: F401

# The clients read HF_* variables into constants when imported: the interpreter imports them
# only when it runs with the environment every run shares (HUBCHECK_WARM_CLIENTS, set by the
# harness when every case sees its sandbox at one path and its Hub at one address).
CLIENTS = ("huggingface_hub", "transformers")
_WITH_CLIENTS = os.environ.pop("HUBCHECK_WARM_CLIENTS", "") == "1"
MUST_NOT_BE_WARM = () if _WITH_CLIENTS else CLIENTS
# Where every case's sandbox is bound (network.rs SCENARIO_ROOT): the imports must read no file
# there, or a run would carry what the interpreter read instead of its own files.
SCENARIO_ROOT = "/tmp/hubcheck-scenario"
CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
# Code that reads the environment by walking all of it, and which variables it keeps: those
# starting with a prefix, or ending with a suffix (any case).
ITERATING_READERS = {
    os.path.join("tqdm", "utils.py"): ("prefix", "TQDM_"),
    os.path.join("urllib", "request.py"): ("suffix", "_proxy"),  # proxy settings (httpx)
}
# What a run's code mentions when it needs the slow imports (as `mentions_heavy_modules` in
# warm.rs): such a run waits until the interpreter has imported them.
HEAVY_WORDS = ("transformers", "torch")
# The line of preload.txt after the modules that half of the runs or more import.
COMMON_END = "# The interpreter takes runs from here on"
# When set, nothing is preloaded and each child appends the modules it has to this file
# (scripts/warm-preload.sh).
_RECORD = os.environ.get("HUBCHECK_WARM_RECORD")


def _recompute_dynamo_cache():
    """torch._dynamo keeps a compile cache folder made from TMPDIR and the user name at import."""
    package = sys.modules["torch._dynamo.package"]
    package.DynamoCache = package.DiskDynamoCache(os.path.join(package.cache_dir(), "dynamo"))


def _recompute_triton_home():
    """triton keeps `~/` (HOME) as the default of its TRITON_HOME setting at import."""
    knobs = sys.modules["triton.knobs"]
    knobs.cache_knobs.__dict__["home_dir"].default = os.path.expanduser("~/")


def _recompute_dill_tempdir():
    """dill (imported by datasets) keeps the temporary folder (TMPDIR) as its session folder at
    import; it runs after `tempfile.tempdir` is reset, so it takes the child's."""
    import pathlib
    import tempfile

    sys.modules["dill.session"].TEMPDIR = pathlib.PurePath(tempfile.gettempdir())


# Exit-time finalizers (`weakref.finalize`, module and function) that only undo, in the dying
# process's own memory, what a preloaded module registered there: a child does not run those the
# interpreter registered while preloading (torch's 193 operator libraries cost 32 ms per exit).
IN_MEMORY_ONLY_FINALIZERS = {("torch.library", "_del_library")}


# Values that preloaded modules compute from a run's variables when imported, and how a child
# computes them again from its own environment: module -> function.
RECOMPUTED = {
    "torch._dynamo.package": _recompute_dynamo_cache,
    "triton.knobs": _recompute_triton_home,
    "dill.session": _recompute_dill_tempdir,
}


class EnvironmentReads:
    """Records which variables the imports read from `os.environ`, and with which values.

    A read counts unless a child computes its result again: the standard library's user base
    (sysconfig, site) and temporary folder (tempfile), and the module-level values of
    `RECOMPUTED`. What counts is reported; the harness forks a run only when the run's
    environment has the same values.
    """

    def __init__(self):
        self.keys = {}
        self.walk_rules = set()  # ("prefix" or "suffix", text), see ITERATING_READERS
        self.recomputed = set()
        self.unusable = None
        self._environ = type(os.environ)
        self._saved = (self._environ.__getitem__, self._environ.__iter__)

    def __enter__(self):
        getitem, iterate = self._saved
        reads = self

        def recording_getitem(environ, key):
            reads.read(key, traceback.extract_stack(limit=16)[:-1])
            return getitem(environ, key)

        def recording_iter(environ):
            reads.walk(traceback.extract_stack(limit=8)[:-1])
            return iterate(environ)

        self._environ.__getitem__ = recording_getitem
        self._environ.__iter__ = recording_iter
        return self

    def __exit__(self, *exc):
        self._environ.__getitem__, self._environ.__iter__ = self._saved

    def read(self, key, stack):
        caller = stack[-1]
        if "_collections_abc" in caller.filename and caller.name == "__iter__":
            return  # one step of a walk over the environment, recorded by `walk`
        functions = {(_file_of(f), f.name) for f in stack}
        if any(_file_of(f) == "_hubcheck_network.py" for f in stack):
            return  # the network hook reads its variables again at each attempt, in each child
        if ("sysconfig.py", "_getuserbase") in functions or ("site.py", "_getuserbase") in functions:
            return  # the user base, which `recompute_what_imports_kept` drops in every child
        keeper = _recomputed_module_importing(stack)
        if keeper is not None:
            self.recomputed.add(keeper)
            return
        self.keys[key] = _raw_get(key)

    def walk(self, stack):
        for frame in reversed(stack):
            for reader, rule in ITERATING_READERS.items():
                if frame.filename.endswith(reader):
                    self.walk_rules.add(rule)
                    return
        where = " <- ".join(f"{f.filename}:{f.lineno}" for f in reversed(stack[-4:]))
        self.unusable = f"an import walks the whole environment ({where})"


def _file_of(frame):
    """The frame's file name (`<frozen site>` counts as site.py)."""
    name = frame.filename
    if name.startswith("<frozen ") and name.endswith(">"):
        return name[len("<frozen ") : -1] + ".py"
    return os.path.basename(name)


def _recomputed_module_importing(stack):
    """The module of `RECOMPUTED` whose top-level code (the innermost running) made this read,
    if it is one: a child computes what it kept again."""
    for frame in reversed(stack):
        if frame.name == "<module>":
            for name in RECOMPUTED:
                module = sys.modules.get(name)
                if module is not None and getattr(module, "__file__", None) == frame.filename:
                    return name
            return None
    return None


def _raw_get(key):
    """A variable's value, read without going through the recording methods."""
    value = os.environ._data.get(os.environ.encodekey(key))
    return None if value is None else os.environ.decodevalue(value)


def modules_to_preload():
    """The modules of `preload.txt`, in order: those most runs import, and the rest."""
    listed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "preload.txt")
    with open(listed, encoding="utf-8") as names:
        lines = [n.strip() for n in names if n.strip()]
    marker = next((i for i, n in enumerate(lines) if n.startswith(COMMON_END)), len(lines))
    common = [n for n in lines[:marker] if not n.startswith("#")]
    return common, [n for n in lines[marker:] if not n.startswith("#")]


def preload_one(name, reads):
    """Imports one module of the list, if this environment has it, recording what it reads."""
    if name.split(".")[0] in MUST_NOT_BE_WARM or name in sys.modules:
        return
    recomputed = set(reads.recomputed)
    _PRELOADING[0] = name
    with reads:
        try:
            __import__(name)
        except Exception:  # a module of other client versions, or one that needs a GPU
            return
        finally:
            _PRELOADING[0] = None
    for warm in MUST_NOT_BE_WARM:
        if warm in sys.modules and reads.unusable is None:
            reads.unusable = f"importing {name} imported {warm}"
    for module in sorted(reads.recomputed - recomputed):
        try:
            RECOMPUTED[module]()
        except Exception as error:  # another version of the module: its values cannot be redone
            reads.unusable = f"cannot recompute what {module} read from the environment: {error!r}"
    if threading.active_count() != 1 and reads.unusable is None:
        reads.unusable = f"importing {name} started threads ({threading.enumerate()}), which a fork loses"


_READS = EnvironmentReads()
_PRELOADING = [None]  # the module being preloaded, while one is


def _guard_scenario_files(event, args):
    """While preloading: an import that opens or lists a file of the scenario root makes the
    interpreter unusable (a run must read its own files)."""
    if _PRELOADING[0] is None or event not in ("open", "os.listdir", "os.scandir"):
        return
    path = args[0] if args else None
    if isinstance(path, (str, bytes, os.PathLike)) and os.fsdecode(path).startswith(SCENARIO_ROOT):
        if _READS.unusable is None:
            _READS.unusable = f"importing {_PRELOADING[0]} read {os.fsdecode(path)}"


sys.addaudithook(_guard_scenario_files)
# No collections in the interpreter, and everything it holds frozen before each fork: a child's
# collections then never walk (and so never copy) the preloaded modules' objects.
gc.disable()

_LIBC = ctypes.CDLL(None, use_errno=True)
_REPLIES = os.dup(1)
_REQUESTS = os.dup(0)
os.set_inheritable(_REPLIES, False)
os.set_inheritable(_REQUESTS, False)
# What `sys.path` holds besides the script's folder and PYTHONPATH: the standard library and the
# environment's site-packages.
_ZYGOTE_PATH = set(os.environ.get("PYTHONPATH", "").split(os.pathsep))
_BASE_PATH = [p for p in sys.path[1:] if p not in _ZYGOTE_PATH]
# The interpreter's own descriptors, which no child keeps.
_OWN_FDS = [_REPLIES, _REQUESTS]


def reply(message):
    os.write(_REPLIES, (json.dumps(message) + "\n").encode())


# Variables with which a run's `sitecustomize` installs something that the clients inspect when
# imported (the simulated Colab notebook: huggingface_hub keeps whether `get_ipython()` names
# google.colab): with the clients preloaded, such a run is forked only when the child can compute
# that again (`recompute_notebook_checks`), and otherwise starts as a new process.
SITE_CHANGES = ("HUBCHECK_COLAB_SECRETS",)


def recompute_notebook_checks(check_only=False):
    """huggingface_hub's `_is_google_colab`, computed again after the run's `sitecustomize`.
    Returns whether this version has it (if not, Colab runs start as new processes)."""
    runtime = sys.modules.get("huggingface_hub.utils._runtime")
    if runtime is None:
        return True  # not preloaded: the run imports it itself
    if not hasattr(runtime, "_is_google_colab"):
        return False
    if not check_only:
        import builtins

        ipython = getattr(builtins, "get_ipython", None)
        runtime._is_google_colab = ipython is not None and "google.colab" in str(ipython())
    return True


def agrees(env):
    """Whether a run with `env` sees the values the imports read (see `EnvironmentReads`). The
    variables its `sitecustomize` removes before any code of the run (the proxy variables meant
    for other programs) are not part of what it sees."""
    if _READS.unusable:
        return False
    if _WITH_CLIENTS and any(key in env for key in SITE_CHANGES):
        if not recompute_notebook_checks(check_only=True):
            return False
    removed = set(env.get("HUBCHECK_PROXY_VARS", "").split()) | {"HUBCHECK_PROXY_VARS"}
    env = {k: v for k, v in env.items() if k not in removed}
    if any(env.get(key) != value for key, value in _READS.keys.items()):
        return False
    return not any(kept(rule, key) for rule in _READS.walk_rules for key in env)


def kept(rule, key):
    kind, text = rule
    return key.startswith(text) if kind == "prefix" else key.lower().endswith(text)


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
    wrap_stdio()


def wrap_stdio():
    """New Python streams over fds 0, 1 and 2, as a new interpreter makes them under the runs'
    UTF-8 locale and PYTHONUNBUFFERED: strict stdin and stdout, stderr with backslash escapes."""
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="strict")
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="strict", write_through=True
    )
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True
    )
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr


def become_the_run(request):
    """A run the harness sent: a new session, its namespace, streams, folder and environment."""
    os.setsid()
    for key, kind in (("netns", CLONE_NEWNET), ("mntns", CLONE_NEWNS)):
        if request.get(key):
            fd = os.open(request[key], os.O_RDONLY)
            enter_namespace(fd, kind)
            os.close(fd)
    take_stdio(request)
    script = request["argv"][0]
    take_environment(request, os.path.dirname(os.path.abspath(script)), request["argv"])


def become_the_command(request, fds):
    """A command a shell snippet ran (through `shim.py`): its process group, namespace, streams."""
    try:
        os.setpgid(0, request["pgid"])
    except OSError:
        os._exit(1)  # the caller's process group is gone: its shell was killed
    stdin, stdout, stderr, netns, mntns = fds
    enter_namespace(netns, CLONE_NEWNET)
    enter_namespace(mntns, CLONE_NEWNS)
    for fd, passed in enumerate((stdin, stdout, stderr)):
        os.dup2(passed, fd)
    for passed in fds:
        if passed > 2:
            os.close(passed)
    wrap_stdio()
    os.umask(request["umask"])
    # What a new interpreter puts first on `sys.path`: "" for -c, the folder for -m, else the
    # script's folder.
    kind, target = request["kind"], request["target"]
    if kind == "code":
        folder = ""
    elif kind == "module":
        folder = request["cwd"]
    else:
        folder = os.path.dirname(os.path.join(request["cwd"], target))
    take_environment(request, folder, request["argv"])


def enter_namespace(fd, kind):
    """Moves into the namespace `fd` names (network or mount), unless already in it."""
    own = "/proc/self/ns/net" if kind == CLONE_NEWNET else "/proc/self/ns/mnt"
    if os.fstat(fd).st_ino == os.stat(own).st_ino:
        return
    if _LIBC.setns(fd, kind) != 0:
        raise OSError(ctypes.get_errno(), f"setns into the scenario's namespace {own}")


def take_environment(request, folder, argv):
    """The run's folder, environment, `sys.path`, `sys.argv` and its own `sitecustomize`."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(dict(request["env"]))
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [folder] + extra + _BASE_PATH
    sys.argv[:] = argv
    recompute_what_imports_kept()
    sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401  the run's own start-up file, as a fresh interpreter runs it
    except ImportError:
        pass
    if _WITH_CLIENTS:
        recompute_notebook_checks()


def recompute_what_imports_kept():
    """Computes again what imports took from the interpreter's environment, and the random state."""
    import site
    import sysconfig

    if hasattr(sysconfig, "_CONFIG_VARS"):
        sysconfig._CONFIG_VARS = None
    if hasattr(sysconfig, "_CONFIG_VARS_INITIALIZED"):
        sysconfig._CONFIG_VARS_INITIALIZED = False
    site.USER_BASE = None
    site.USER_SITE = None
    import tempfile

    tempfile.tempdir = None
    for name in sorted(_READS.recomputed):
        RECOMPUTED[name]()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


def record_imports():
    """Appends the modules this run has, in import order, as one line of the record file."""
    if not _RECORD:
        return
    own = ("__main__", "sitecustomize", "_hubcheck_network", "_hubcheck_colab", "google")
    kept = [m for m in sys.modules if m.split(".")[0] not in own]
    with open(_RECORD, "a", encoding="utf-8") as out:
        out.write(" ".join(kept) + "\n")


def skip_preloaded_in_memory_finalizers():
    """Marks the finalizers of `IN_MEMORY_ONLY_FINALIZERS` that the interpreter registered (not
    the run) as not run at exit."""
    import weakref

    for finalizer in list(weakref.finalize._registry):
        info = finalizer._registry.get(finalizer)
        if info is None or finalizer not in _PRELOADED_FINALIZERS:
            continue
        func = info.func
        if (getattr(func, "__module__", None), getattr(func, "__name__", None)) in IN_MEMORY_ONLY_FINALIZERS:
            finalizer.atexit = False


def exit_code(error):
    code = error.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def run_main(request):
    """Runs what the request names as `__main__`: a script, `-c` code or `-m` module."""
    import runpy

    kind, target = request.get("kind", "script"), request.get("target") or request["argv"][0]
    if kind == "code":
        # A new `__main__`, as `python -c` has: not the interpreter's own module and its names.
        import builtins
        import importlib.machinery
        import types

        main = types.ModuleType("__main__")
        main.__dict__.update(
            __builtins__=builtins, __loader__=importlib.machinery.BuiltinImporter, __spec__=None
        )
        sys.modules["__main__"] = main
        exec(compile(target, "<string>", "exec"), main.__dict__)
    elif kind == "module":
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(target, run_name="__main__")


def run_child(become):
    """The forked child: becomes the run, runs it, and exits with its status as Python would."""
    code = 1
    try:
        become()
        try:
            run_main(_REQUEST)
            code = 0
        except SystemExit as error:
            code = exit_code(error)
        except BaseException:
            sys.excepthook(*sys.exc_info())
            code = 1
        threading._shutdown()
        import atexit

        skip_preloaded_in_memory_finalizers()
        atexit._run_exitfuncs()
        record_imports()
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


_REQUEST = None
# The `weakref.finalize` objects registered in the interpreter before the fork.
_PRELOADED_FINALIZERS = set()


def fork(request, become):
    """Forks a child that becomes the run; returns its pid."""
    global _REQUEST, _PRELOADED_FINALIZERS
    import weakref

    _PRELOADED_FINALIZERS = set(weakref.finalize._registry)
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()
    pid = os.fork()
    if pid == 0:
        gc.enable()
        _REQUEST = request
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in _OWN_FDS:
            try:
                os.close(fd)
            except OSError:
                pass
        run_child(become)
    return pid


def status_of(status):
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"exit": os.WEXITSTATUS(status)}


class Server:
    """Serves the harness's requests (stdin) and the shell snippets' commands (a Unix socket) at
    once: forks a child per request and reports each child's end to whoever asked."""

    def __init__(self, socket_path):
        self.selector = selectors.DefaultSelector()
        self.children = {}  # pid -> ("harness", id) or ("command", connection)
        self.pending = b""
        # Runs that import transformers or torch, waiting for the interpreter to have imported
        # them (forking them earlier would have them import those again alongside it).
        self.importing = True
        self.deferred = []
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        _OWN_FDS.extend([wake_read, wake_write])
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(wake_read, selectors.EVENT_READ, ("children", None))
        self.selector.register(_REQUESTS, selectors.EVENT_READ, ("harness", None))
        _OWN_FDS.append(self.selector.fileno())
        if socket_path:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(socket_path)
            listener.listen(64)
            _OWN_FDS.append(listener.fileno())
            self.selector.register(listener, selectors.EVENT_READ, ("listener", None))

    def serve(self):
        """Imports the modules most runs import, then answers requests as they come (commands that
        connected meanwhile wait in the socket's backlog) and imports the rest of the list one
        module at a time whenever no request is waiting."""
        # Recording what runs import (scripts/warm-preload.sh) starts from nothing preloaded.
        common, rest = ([], []) if _RECORD else modules_to_preload()
        for name in common:
            preload_one(name, _READS)
        reply({"ready": True})
        rest = iter(rest)
        while True:
            events = self.selector.select(0 if self.importing else None)
            if self.importing and not events:
                name = next(rest, None)
                if name is not None:
                    preload_one(name, _READS)
                else:
                    self.importing = False
                    self.start_deferred()
            for key, _ in events:
                if not self.handle(*key.data, key.fileobj):
                    return

    def handle(self, kind, data, source):
        """One ready source; False when the harness has gone (the interpreter then exits)."""
        try:
            if kind == "children":
                self.reap(source)
            elif kind == "harness":
                return self.harness_requests()
            elif kind == "listener":
                self.accept(source)
            else:
                self.connection_readable(source, data)
        except Exception:  # one bad request must not take the runs of the others with it
            sys.stderr.write(f"zygote: handling {kind}:\n{traceback.format_exc()}")
        return True

    def harness_requests(self):
        chunk = os.read(_REQUESTS, 65536)
        if not chunk:
            return False
        self.pending += chunk
        while b"\n" in self.pending:
            line, self.pending = self.pending.split(b"\n", 1)
            request = json.loads(line)
            if self.importing and request.get("heavy"):
                self.deferred.append(lambda request=request: self.start_run(request))
            else:
                self.start_run(request)
        return True

    def start_run(self, request):
        if not agrees(dict(request["env"])):
            reply({"id": request["id"], "cold": True})
            return
        pid = fork(request, lambda: become_the_run(request))
        self.children[pid] = ("harness", request["id"])
        reply({"id": request["id"], "pid": pid})

    def start_deferred(self):
        deferred, self.deferred = self.deferred, []
        for start in deferred:
            try:
                start()
            except Exception:
                sys.stderr.write(f"zygote: a deferred run:\n{traceback.format_exc()}")

    def accept(self, listener):
        connection, _ = listener.accept()
        try:
            request, fds = receive_command(connection)
        except (OSError, ValueError) as error:
            sys.stderr.write(f"zygote: a command's request: {error}\n")
            connection.close()
            return
        if self.importing and command_is_heavy(request):
            # Held until the imports are done; no child forked meanwhile may keep its descriptors.
            held = [connection.fileno(), *fds]
            _OWN_FDS.extend(held)
            self.deferred.append(lambda: self.start_command(connection, request, fds, held))
            return
        self.start_command(connection, request, fds)

    def start_command(self, connection, request, fds, held=()):
        for fd in held:
            _OWN_FDS.remove(fd)
        caller = caller_state(request["pgid"])
        if caller != "same session" or not agrees(request["env"]):
            if caller != "gone":
                send_quietly(connection, {"cold": True})
            connection.close()
            for fd in fds:
                os.close(fd)
            return
        _OWN_FDS.append(connection.fileno())
        pid = fork(request, lambda: become_the_command(request, fds))
        for fd in fds:
            os.close(fd)
        self.children[pid] = ("command", connection)
        # A caller that died meanwhile shows as the end of its connection: `connection_readable`
        # then kills the child.
        send_quietly(connection, {"pid": pid})
        self.selector.register(connection, selectors.EVENT_READ, ("connection", pid))

    def connection_readable(self, connection, pid):
        """The command's caller went away (killed): its run goes too."""
        try:
            data = connection.recv(1)
        except OSError:
            data = b""
        if not data and pid in self.children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.selector.unregister(connection)

    def reap(self, wake):
        try:
            while os.read(wake, 4096):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            asker = self.children.pop(pid, None)
            if asker is None:
                continue
            kind, who = asker
            if kind == "harness":
                reply({"id": who, **status_of(status)})
            else:
                try:
                    self.selector.unregister(who)
                except (KeyError, ValueError):
                    pass
                send_quietly(who, status_of(status))
                _OWN_FDS.remove(who.fileno())
                who.close()


def command_is_heavy(request):
    """Whether a command's code (its `-c` text, or its script) mentions `HEAVY_WORDS`."""
    code = request["target"]
    if request["kind"] == "script":
        try:
            with open(os.path.join(request["cwd"], code), encoding="utf-8", errors="replace") as script:
                code = script.read()
        except OSError:
            return False
    elif request["kind"] != "code":
        return False
    return any(word in code for word in HEAVY_WORDS)


def send_quietly(connection, message):
    """Sends a reply; a caller that has gone away is not an error of the interpreter's."""
    try:
        connection.sendall((json.dumps(message) + "\n").encode())
    except OSError:
        pass


def caller_state(pgid):
    """Whether the calling command's process group still exists and is in this session (so a
    child can join it): "same session", "other session" (e.g. `setsid hf ...`) or "gone"."""
    try:
        session = os.getsid(pgid)
    except OSError:
        return "gone"
    return "same session" if session == os.getsid(0) else "other session"


def receive_command(connection):
    """A shim's request: one JSON line, with its stdin, stdout, stderr and network and mount
    namespaces."""
    data, fds, _, _ = socket.recv_fds(connection, 1 << 20, 5)
    while not data.endswith(b"\n"):
        more = connection.recv(1 << 20)
        if not more:
            raise ValueError("the request ended early")
        data += more
    if len(fds) != 5:
        for fd in fds:
            os.close(fd)
        raise ValueError(f"expected 5 descriptors, got {len(fds)}")
    return json.loads(data), fds


if __name__ == "__main__":  # imported by the tests of its decisions (tests/testsuite/harness.rs)
    Server(sys.argv[1] if len(sys.argv) > 1 else None).serve()
