#!/usr/bin/env bash
# First-load budget: the brotli size of what every page loads (the main WASM, its JS, the split
# loader and the CSS). Pages built as lazy routes load their own chunks on first visit.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${FIRST_LOAD_BUDGET_BYTES:-262144}   # 256 KiB brotli
total=0
for f in target/site/pkg/spacedly.*.wasm target/site/pkg/spacedly.*.js target/site/pkg/__wasm_split.*.js target/site/pkg/spacedly.*.css; do
  [ -f "$f" ] || continue
  size=$(brotli -q 11 -c "$f" | wc -c)
  total=$((total + size))
done
if [ "$total" -eq 0 ]; then echo "no built assets under target/site/pkg" >&2; exit 1; fi
if [ "$total" -gt "$BUDGET" ]; then
  echo "first load is $total bytes brotli, over the budget of $BUDGET" >&2
  exit 1
fi
largest=$(ls -S target/site/pkg/split___*.wasm 2>/dev/null | head -1 || true)
extra=""
if [ -n "$largest" ]; then
  extra=", largest lazy page $(basename "$largest" | sed 's/_[0-9]*\..*//; s/^split___//') $(brotli -q 11 -c "$largest" | wc -c) bytes"
fi
echo "first-load size check: $total bytes brotli (budget $BUDGET)$extra"
