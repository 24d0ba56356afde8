#!/usr/bin/env bash
# First-load budget: the brotli size of the WASM, JS and CSS every page loads.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${FIRST_LOAD_BUDGET_BYTES:-393216}   # 384 KiB brotli (see BENCHMARKS.md: route splitting is the next step)
total=0
for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
  [ -f "$f" ] || continue
  size=$(brotli -q 11 -c "$f" | wc -c)
  total=$((total + size))
done
if [ "$total" -eq 0 ]; then echo "no built assets under target/site/pkg" >&2; exit 1; fi
if [ "$total" -gt "$BUDGET" ]; then
  echo "first load is $total bytes brotli, over the budget of $BUDGET" >&2
  exit 1
fi
echo "first-load size check: $total bytes brotli (budget $BUDGET)"
