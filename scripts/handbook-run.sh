#!/usr/bin/env bash
# The handbook's harness run, timed: `mdbook-hubcheck test --jobs 2` warm (forked from the warm
# interpreter) ROUNDS times and `--cold` once, alternating after the first warm round; prints the
# wall and CPU time (user + system, children included) of each round, the fastest warm round
# against the goal (15 s) and the cold/warm ratio. Not a test: docs/benchmarks.md records its
# figures, with the load average it prints.
#
#     scripts/handbook-run.sh [ROUNDS] [JOBS]
#
# Under the namespace isolation the run uses the real addresses (HTTPS at huggingface.co);
# `HUBCHECK_REAL_ADDRESSES=0 scripts/handbook-run.sh` times the old HF_ENDPOINT path instead.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
jobs=${2:-2}
cargo build --quiet
bin=${CARGO_TARGET_DIR:-target}/debug/mdbook-hubcheck
# One untimed run first: the Python environment exists and the file cache is warm.
"$bin" test --jobs "$jobs" >/dev/null 2>&1 || true

round() {
    local label=$1
    shift
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -o "$tmp/time" -f '%e %U %S' "$bin" test --jobs "$jobs" "$@" >/dev/null 2>&1
    read -r wall user sys <"$tmp/time"
    printf '%-5s wall %6.2f s  cpu %6.2f s  (load %s)\n' "$label" "$wall" "$(awk "BEGIN {print $user + $sys}")" "$load"
    echo "$wall" >>"$tmp/$label"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((i = 1; i <= rounds; i++)); do
    round warm
    if [ "$i" = 1 ]; then round cold --cold; fi
done
best_warm=$(sort -n "$tmp/warm" | head -1)
cold=$(head -1 "$tmp/cold")
echo "fastest warm: ${best_warm} s (goal: at most 15 s); cold: ${cold} s; cold / warm: $(awk "BEGIN {printf \"%.2f\", $cold / $best_warm}")"
