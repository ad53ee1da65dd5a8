#!/usr/bin/env bash
# Makes src/harness/python/warm/preload.txt, the modules the warm interpreter imports before it
# forks runs: runs the handbook with HUBCHECK_WARM_RECORD set (the interpreter then preloads
# nothing and every forked run, Python snippet or shell command, writes the modules it has, in
# import order), and lists every module any run had, most used first (parents before their
# submodules, first-seen order within a count), with a mark after those that half of the runs or
# more import: the interpreter takes runs once it has imported those. huggingface_hub and
# transformers are listed too; the interpreter imports them only when every run shares their
# environment (see src/harness/warm.rs). Run it after changing hub-requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
record=$(mktemp)
trap 'rm -f "$record"' EXIT
HUBCHECK_WARM_RECORD="$record" cargo run --quiet -- test --jobs 2 >/dev/null
python3 - "$record" > src/harness/python/warm/preload.txt <<'PY'
import collections
import sys

runs = [line.split() for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
uses = collections.Counter()
first_seen = {}
for run in runs:
    for name in dict.fromkeys(run):
        uses[name] += 1
        first_seen.setdefault(name, len(first_seen))
print(f"# Made by scripts/warm-preload.sh from {len(runs)} runs of the handbook: most used first.")
ordered = sorted(uses, key=lambda n: (-uses[n], first_seen[n]))
common = [n for n in ordered if 2 * uses[n] >= len(runs)]
print("\n".join(common))
print("# The interpreter takes runs from here on, importing the rest between them:")
print("# modules fewer than half of the runs import (torch, numpy, ...).")
print("\n".join(n for n in ordered if 2 * uses[n] < len(runs)))
PY
echo "$(grep -vc '^#' src/harness/python/warm/preload.txt) modules from $(wc -l < "$record") runs -> src/harness/python/warm/preload.txt" >&2
