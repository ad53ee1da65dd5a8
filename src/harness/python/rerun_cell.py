"""Runs a notebook cell twice in one Python process, as a student re-runs a cell in the same kernel.

Usage: rerun_cell.py FIRST AGAIN

FIRST is the script of the first run: what the cell continues (earlier cells), then the cell.
AGAIN is the cell alone. Both run in one `__main__` namespace, as a kernel's cells share their
globals, and the client libraries keep what they read and cached in the first run, as they do in
a kernel. An exception or `sys.exit()` ends a run, not the process: it is shown as a kernel shows
it (the traceback on standard error) and the second run still happens. Between the two runs a
marker line with the first run's status goes to standard output and standard error, so the
harness can check each run on its own. The process ends with the second run's status.
"""

import sys
import traceback
import types

MARKER = "\x1ehubcheck: end of the first run, status "


def run(path, namespace):
    """Executes the file at `path` in `namespace`; returns the status a script would exit with."""
    with open(path, encoding="utf-8") as handle:
        code = compile(handle.read(), path, "exec")
    # A notebook's cells see the kernel's command line (the Colab stand-in sets it), not ours.
    sys.argv = list(getattr(sys, "_hubcheck_kernel_argv", [path]))
    namespace["__file__"] = path
    try:
        exec(code, namespace)
        return 0
    except SystemExit as stop:
        if stop.code is None:
            return 0
        if isinstance(stop.code, int):
            return stop.code
        print(stop.code, file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - a kernel shows every exception and goes on
        traceback.print_exception(type(error), error, error.__traceback__.tb_next)
        return 1


def main():
    # Our own arguments, also when the Colab stand-in has already put the kernel's in sys.argv.
    arguments = getattr(sys, "_hubcheck_harness_argv", sys.argv)
    first, again = arguments[1], arguments[2]
    kernel = types.ModuleType("__main__")
    kernel.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = kernel
    status = run(first, kernel.__dict__)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
        print(f"{MARKER}{status}", file=stream, flush=True)
    status = run(again, kernel.__dict__)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(status)


if __name__ == "__main__":
    main()
