#!/usr/bin/env bash
# Fresh clone to green: clones the current HEAD into a temporary folder, with an empty target
# folder, an empty Cargo registry and empty project caches (HOME, XDG_CACHE_HOME and CARGO_HOME
# point at empty temporary folders; HUBCHECK_PYENV_DIR and HUBCHECK_PYTHON are unset), runs the
# README's two commands (read from README.md, as .ci/run does) and prints each phase's time.
#
#   scripts/fresh-clone.sh [--keep] [--keep-cargo-registry] [WORKDIR]
#
# --keep                 leave WORKDIR behind (default: removed at the end, it holds ~10 GB)
# --keep-cargo-registry  reuse this machine's ~/.cargo registry (skips downloading crates)
#
# Phases: clone; README build command (compile, then the book); README test command, split into
# its compile (until cargo's `Finished`), the pinned Python environment (until its completion
# marker appears in the empty cache) and the tests themselves. Uncommitted changes are not in the
# clone: commit first. System packages (python3, Chromium) are not removed: when already installed
# they cost nothing here; the tests install Chromium themselves when it is missing.
set -euo pipefail

keep=0
keep_registry=0
work=""
for arg in "$@"; do
    case "$arg" in
        --keep) keep=1 ;;
        --keep-cargo-registry) keep_registry=1 ;;
        -*) echo "unknown option $arg" >&2; exit 2 ;;
        *) work=$arg ;;
    esac
done

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
head=$(git -C "$repo" rev-parse HEAD)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
    echo "note: uncommitted changes in $repo are not part of the clone (HEAD ${head:0:12})" >&2
fi
work=${work:-$(mktemp -d /tmp/hubcheck-fresh.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
if [ "$keep" = 0 ]; then
    trap 'rm -rf "$work"' EXIT
fi

# The toolchain and pyenv's shims keep working with the new HOME.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
export PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}
cargo_bin=$(dirname "$(command -v cargo)")
export PATH="$cargo_bin:$PATH"
if [ "$keep_registry" = 0 ]; then
    export CARGO_HOME=$work/cargo-home
else
    export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
fi
export HOME=$work/home
export XDG_CACHE_HOME=$work/cache
unset CARGO_TARGET_DIR HUBCHECK_PYENV_DIR HUBCHECK_PYTHON
mkdir -p "$HOME" "$XDG_CACHE_HOME" "$CARGO_HOME"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%7.1f s", b - a }'; }
declare -a phases=()
record() { phases+=("$(printf '%-44s %s' "$1" "$(elapsed "$2" "$3")")"); printf '== %s: %s\n' "$1" "$(elapsed "$2" "$3")"; }

# Prefixes each line with the time it was seen, so phases can be read off the log afterwards.
stamp() { while IFS= read -r line; do printf '%s %s\n' "$(now)" "$line"; done; }

echo "== machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "== work folder: $work (HEAD ${head:0:12})"
start=$(now)

t0=$(now)
git clone -q --no-checkout "$repo" "$work/clone"
git -C "$work/clone" checkout -q "$head"
record "clone" "$t0" "$(now)"
cd "$work/clone"

build_command=$(grep -m1 -E '^    cargo (run|build)' README.md | sed 's/^    //')
test_command=$(grep -m1 -E '^    cargo test' README.md | sed 's/^    //')
if [ -z "$build_command" ] || [ -z "$test_command" ]; then
    echo "README.md lacks its indented build or test command" >&2
    exit 1
fi

echo "== README build command: $build_command"
t0=$(now)
eval "$build_command" 2>&1 | stamp | tee "$work/build.log" | cut -d' ' -f2-
t1=$(now)
finished=$(grep -m1 ' Finished ' "$work/build.log" | cut -d' ' -f1 || true)
if [ -n "$finished" ]; then
    record "build: compile" "$t0" "$finished"
    record "build: the book" "$finished" "$t1"
fi
record "build command, total" "$t0" "$t1"

echo "== README test command: $test_command"
marker_time="$work/pyenv-ready"
# Watches for the pinned environment's completion marker in the (empty) cache.
(
    while [ ! -e "$marker_time" ]; do
        if compgen -G "$XDG_CACHE_HOME/mdbook-hubcheck/pyenv/*/hubcheck-complete.json" >/dev/null; then
            now >"$marker_time"
            break
        fi
        sleep 1
    done
) &
watcher=$!
t0=$(now)
status=0
eval "$test_command" 2>&1 | stamp | tee "$work/test.log" | cut -d' ' -f2- || status=$?
t1=$(now)
kill "$watcher" 2>/dev/null || true
finished=$(grep -m1 ' Finished ' "$work/test.log" | cut -d' ' -f1 || true)
ready=$(cat "$marker_time" 2>/dev/null || true)
if [ -n "$finished" ]; then
    record "test: compile" "$t0" "$finished"
    if [ -n "$ready" ]; then
        record "test: Python environment (from compile end)" "$finished" "$ready"
        record "test: the tests after the environment" "$ready" "$t1"
    else
        record "test: the tests" "$finished" "$t1"
    fi
fi
record "test command, total" "$t0" "$t1"
end=$(now)

echo
echo "== fresh clone to $( [ "$status" = 0 ] && echo green || echo "RED (exit $status)" ), $(nproc) CPUs, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
for p in "${phases[@]}"; do echo "   $p"; done
printf '   %-44s %s\n' "TOTAL" "$(elapsed "$start" "$end")"
grep -E '^[0-9.]+ test result:' "$work/test.log" | cut -d' ' -f2- | sed 's/^/   /' || true
exit "$status"
