#!/usr/bin/env bash
# A quick upper bound before the browser tests: the brotli size of ALL the built WASM, JS and CSS.
# No page can load more than all of it, so under the budget here means every page is under it.
# The per-page figures (what each page's HTML makes the browser fetch) come from
# end2end/tests/budget.spec.ts, which writes target/first-load.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${FIRST_LOAD_BUDGET_BYTES:-180000}   # 180 KB brotli per page (issue 6)
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
