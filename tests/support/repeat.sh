#!/usr/bin/env bash
# Runs CI (.ci/run) N times in a clean clone of HEAD with nothing beside it,
# and prints one line per run plus a tally. Used to show the suite is not
# flaky: `deno task test:repeat 10` (or `bash tests/support/repeat.sh 10`).
set -uo pipefail
runs=${1:-10}
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work=$(mktemp -d /tmp/kleis-repeat-XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/kleis"
cd "$work/kleis" || exit 1
green=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  log="$work/run-$i.log"
  CI=true bash .ci/run >"$log" 2>&1 </dev/null
  status=$?
  line=$(tail -n1 "$log")
  echo "run $i: exit $status, $line, $(($(date +%s) - start)) s"
  if [ "$status" -eq 0 ]; then
    green=$((green + 1))
  else
    grep -E '=> \./|FAILED' "$log" | head -n 20 | sed 's/^/    /'
  fi
done
echo "$green of $runs runs green"
[ "$green" -eq "$runs" ]
