#!/usr/bin/env bash
# Estimator before/after in one run: bench/bench_estimate.py of REV (a git worktree) and of this
# checkout, alternating ROUNDS times, on the same machine. Usage: bench/compare_estimate.sh REV [ROUNDS]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rev="${1:?usage: bench/compare_estimate.sh REV [ROUNDS]}"
rounds="${2:-2}"
tmp="$(mktemp -d)"
git -C "$here" worktree add -q --detach "$tmp/before" "$rev"
trap 'git -C "$here" worktree remove --force "$tmp/before"; rm -rf "$tmp"' EXIT
for i in $(seq "$rounds"); do
  for side in before after; do
    dir="$here"; [ "$side" = before ] && dir="$tmp/before"
    (cd "$dir" && "$here/.venv/bin/python" bench/bench_estimate.py >/dev/null)
    echo "## $side, round $i"
    grep -E '^\| `(core|run|save)' "$dir/bench/results/estimate.md"
  done
done
