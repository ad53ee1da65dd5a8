#!/usr/bin/env python3
"""The handbook's Python blocks through a peer, pytest-markdown-docs, and through our harness,
side by side in one run: prints both wall times and the ratio.

    scripts/peer-markdown-docs.py [--rounds N] [--jobs N]

The peer (PyPI `pytest-markdown-docs`) runs every ```python block of the markdown files it is
given, each once, all in one shared pytest interpreter, without isolation. Ours runs the same
blocks with `mdbook-hubcheck test --jobs 2 --filter " python "`: every scenario of each block
(several tokens per block), each in a fresh process with a fresh mock Hub, HOME and network
namespace, and checks outputs. So ours runs twice per round: on a copy of the book where each
block keeps only its first scenario (each block once, the peer's work: the goal's comparison),
and on the book itself (every scenario); the script prints the wall times, how many block runs
each side made and the time per block run.

How the peer is made to run the blocks, without touching the pinned environment:

- it lives in a venv of its own (`target/peer-venv`, made once) created from the pinned
  environment's interpreter, with `pytest` and `pytest-markdown-docs` installed from PyPI, and a
  `.pth` line that puts the pinned environment's site-packages after its own, so both sides
  import the very same client versions;
- the markdown is a temporary copy of `book/` with the placeholders of `book.toml`
  (`[preprocessor.hubcheck.placeholders]`) replaced: the token by the mock Hub's seeded read token
  (write token in `uploading.md`), `{user}` by the seeded user;
- the mock Hub is `mdbook-hubcheck mock-hub --book .`, serving the handbook's world (its URL and
  tokens come as JSON on its stdout), handed to the peer as `HF_ENDPOINT`; `HF_TOKEN` is set, `getpass` answers the token and the
  simulated `google.colab` (from `src/harness/python/colab`) holds it as a granted secret.

Rounds alternate peer, ours, peer, ours...; the figure per side is its fastest round. A warm-up
run of each (untimed) first makes sure the pinned environment and the peer's venv exist and the
file cache is warm.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SEED_USER = "unidive-student"


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")


def pinned_env():
    """The pinned environment built from this checkout's hub-requirements.txt."""
    if os.environ.get("HUBCHECK_PYENV_DIR"):
        return os.environ["HUBCHECK_PYENV_DIR"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    with open(os.path.join(ROOT, "hub-requirements.txt"), encoding="utf-8") as f:
        lock = f.read()
    for marker in glob.glob(os.path.join(cache, "mdbook-hubcheck/pyenv/*/hubcheck-complete.json")):
        env = os.path.dirname(marker)
        try:
            with open(os.path.join(env, "requirements.lock"), encoding="utf-8") as f:
                if f.read() == lock:
                    return env
        except OSError:
            pass
    sys.exit("no pinned environment for hub-requirements.txt found (run the harness once)")


def peer_venv(env):
    venv = os.path.join(target_dir(), "peer-venv")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(os.path.join(venv, "ready")):
        shutil.rmtree(venv, ignore_errors=True)
        base = os.path.join(env, "bin", "python")
        print(f"making the peer's venv {venv} (pytest, pytest-markdown-docs from PyPI)", flush=True)
        if shutil.which("uv"):
            run(["uv", "venv", "-q", "--python", base, venv])
            run(["uv", "pip", "install", "-q", "--python", python, "pytest", "pytest-markdown-docs"])
        else:
            run([base, "-m", "venv", venv])
            run([python, "-m", "pip", "install", "-q", "pytest", "pytest-markdown-docs"])
        own = subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
        pinned = subprocess.check_output(
            [base, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
        with open(os.path.join(own, "zz_hubcheck_pinned.pth"), "w", encoding="utf-8") as f:
            f.write(pinned + "\n")
        open(os.path.join(venv, "ready"), "w").close()
    return python


def start_mock_hub(binary):
    # The handbook's world (hub-world.toml): the models the book names under their real ids.
    proc = subprocess.Popen([binary, "mock-hub", "--book", ROOT], stdout=subprocess.PIPE, text=True)
    info = json.loads(proc.stdout.readline())
    tokens = {t["kind"]: t["value"] for t in info["tokens"]}
    return proc, info["url"], tokens


def book_copy(dest, tokens):
    with open(os.path.join(ROOT, "book.toml"), "rb") as f:
        placeholders = tomllib.load(f)["preprocessor"]["hubcheck"].get("placeholders", {})
    count = 0
    for src in glob.glob(os.path.join(ROOT, "book", "**", "*.md"), recursive=True):
        rel = os.path.relpath(src, os.path.join(ROOT, "book"))
        with open(src, encoding="utf-8") as f:
            text = f.read()
        if "```python" not in text:
            continue
        token = tokens["write"] if rel.startswith("uploading") else tokens["read"]
        for shown, value in placeholders.items():
            value = value.replace("{token}", token).replace("{user}", SEED_USER)
            text = text.replace(shown, value)
        # pytest collects test_*.md / *.md given explicitly; keep the folder layout.
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
        count += len(re.findall(r"^```python\s*$", text, flags=re.M))
    with open(os.path.join(dest, "conftest.py"), "w", encoding="utf-8") as f:
        f.write(
            "import getpass, os\n"
            "getpass.getpass = lambda prompt='Password: ', stream=None: os.environ['HF_TOKEN']\n"
            "from google.colab import userdata\n"
            "import _hubcheck_colab  # the simulated notebook (get_ipython)\n"
            "userdata._SECRETS = {'HF_TOKEN': os.environ['HF_TOKEN']}\n"
            "userdata._ACCESS = True\n"
        )
    return count


def run_peer(python, book, url, tokens, home):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": home,
        "HF_HOME": os.path.join(home, "hf"),
        "HF_ENDPOINT": url,
        "HF_TOKEN": tokens["read"],
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "PYTHONPATH": os.path.join(ROOT, "src/harness/python/colab"),
    }
    start = time.monotonic()
    proc = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--markdown-docs", book],
        cwd=book, env=env, capture_output=True, text=True,
    )
    wall = time.monotonic() - start
    summary = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    return wall, summary, proc.stdout


def one_scenario_copy(dest):
    """A copy of the book (book.toml, hub-world.toml and book/) where each annotation keeps only
    its first scenario: our harness then runs each block once, the work the peer does."""
    for name in ("book.toml", "hub-world.toml"):
        shutil.copy(os.path.join(ROOT, name), os.path.join(dest, name))
    shutil.copytree(os.path.join(ROOT, "book"), os.path.join(dest, "book"))
    header = re.compile(r"^[ \t]*\[\[scenario\]\][ \t]*$", re.MULTILINE)

    def first_only(match):
        comment = match.group(0)
        starts = [m.start() for m in header.finditer(comment)]
        if len(starts) < 2:
            return comment
        return comment[: starts[1]] + comment[comment.rindex("-->"):]

    for path in glob.glob(os.path.join(dest, "book", "**", "*.md"), recursive=True):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"<!--\s*hubcheck.*?-->", first_only, text, flags=re.DOTALL)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def run_ours(binary, jobs, book=ROOT):
    start = time.monotonic()
    proc = subprocess.run(
        [binary, "test", "--book", book, "--jobs", str(jobs), "--filter", " python "],
        cwd=ROOT, capture_output=True, text=True,
    )
    wall = time.monotonic() - start
    lines = proc.stdout.strip().splitlines()
    summary = next((l for l in reversed(lines) if re.search(r"\d+ passed", l)), "(no summary)")
    return wall, summary, proc.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    print("building mdbook-hubcheck (cargo build, as the README's commands use)", flush=True)
    run(["cargo", "build", "-q"], cwd=ROOT)
    binary = os.path.join(target_dir(), "debug", "mdbook-hubcheck")

    print("warm-up: our harness once (makes sure the pinned environment exists)", flush=True)
    wall, summary, _ = run_ours(binary, args.jobs)
    print(f"  ours (warm-up): {wall:.1f} s, {summary}")
    python = peer_venv(pinned_env())

    hub, url, tokens = start_mock_hub(binary)
    work = tempfile.mkdtemp(prefix="hubcheck-peer-")
    try:
        book = os.path.join(work, "book")
        blocks = book_copy(book, tokens)
        wall, summary, out = run_peer(python, book, url, tokens, os.path.join(work, "home-warm"))
        print(f"  peer (warm-up): {wall:.1f} s, {summary}")
        if args.verbose:
            print(out)
        once = os.path.join(work, "once")
        os.makedirs(once)
        one_scenario_copy(once)
        peer_times, our_times, once_times = [], [], []
        for i in range(args.rounds):
            wall, peer_summary, out = run_peer(python, book, url, tokens, os.path.join(work, f"home{i}"))
            peer_times.append(wall)
            print(f"  round {i + 1} peer: {wall:.1f} s ({peer_summary})", flush=True)
            wall, once_summary, _ = run_ours(binary, args.jobs, once)
            once_times.append(wall)
            print(f"  round {i + 1} ours, each block once: {wall:.1f} s ({once_summary})", flush=True)
            wall, our_summary, _ = run_ours(binary, args.jobs)
            our_times.append(wall)
            print(f"  round {i + 1} ours, every scenario: {wall:.1f} s ({our_summary})", flush=True)
    finally:
        hub.terminate()
        hub.wait()
        shutil.rmtree(work, ignore_errors=True)

    counts = re.findall(r"(\d+) (?:passed|failed)", our_summary)
    scenario_runs = sum(int(n) for n in counts)
    peer, ours, ours_once = min(peer_times), min(our_times), min(once_times)
    once_runs = sum(int(n) for n in re.findall(r"(\d+) (?:passed|failed)", once_summary))
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print()
    print(f"machine: {os.cpu_count()} CPUs, load average {load}")
    print(f"blocks: {blocks} ```python blocks of the handbook")
    print(f"peer, pytest-markdown-docs (1 run per block, one shared interpreter): {peer:8.1f} s  ({blocks} runs, {peer / blocks:.2f} s per run)")
    print(f"ours, each block once (its first scenario), isolated:                {ours_once:8.1f} s  ({once_runs} runs)")
    print(f"ratio ours / peer on the same work (each block once): {ours_once / peer:.2f}")
    if scenario_runs:
        print(f"ours, mdbook-hubcheck test --jobs {args.jobs} (1 run per scenario, isolated):  {ours:8.1f} s  ({scenario_runs} runs, {ours / scenario_runs:.2f} s per run)")
    else:
        print(f"ours, mdbook-hubcheck test --jobs {args.jobs} (1 run per scenario, isolated):  {ours:8.1f} s")
    print(f"ratio ours (every scenario) / peer (wall time): {ours / peer:.2f}")
    if scenario_runs:
        print(f"ratio ours / peer (per block run): {(ours / scenario_runs) / (peer / blocks):.2f}")


if __name__ == "__main__":
    main()
