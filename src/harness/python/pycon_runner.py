"""Runs a `>>>` session the way a person types it into the interpreter: each statement in turn, in
one namespace, an expression's value printed as the prompt prints it. Before each statement a mark
line tells the harness where that statement's output starts; an exception is reported on a line of
its own (and its traceback goes to stderr), and the session goes on, as doctest does. The harness
(`src/harness/transcript.rs`) compares each statement's output with what the page shows."""

import json
import sys
import traceback

MARK = "\x1ehubcheck-prompt {}\x1e\n"
EXCEPTION = "\x1ehubcheck-exception\x1e"


def run_statement(source, namespace, number):
    """Runs one statement as the interactive prompt does; reports an exception it raises."""
    try:
        code = compile(source + "\n", f"<session statement {number}>", "single")
        exec(code, namespace)
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001 - the session shows every exception
        sys.stdout.flush()
        line = "".join(traceback.format_exception_only(type(error), error)).strip()
        sys.stdout.write(EXCEPTION + json.dumps(line) + "\n")
        traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()


def main():
    with open(sys.argv[1], encoding="utf-8") as file:
        session = json.load(file)
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    if session["setup"].strip():
        exec(compile(session["setup"], "<setup>", "exec"), namespace)
    for number, source in enumerate(session["examples"]):
        sys.stdout.write(MARK.format(number))
        sys.stdout.flush()
        run_statement(source, namespace, number)


if __name__ == "__main__":
    main()
