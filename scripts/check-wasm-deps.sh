#!/usr/bin/env bash
# The browser build must never compile the backend: fail if the WASM dependency tree names it.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -p spacedly --features hydrate --target wasm32-unknown-unknown -e normal --prefix none)
bad=$(grep -E '^(sqlx|sqlx-core|tokio|lettre|spacedly-server|apalis|tower-sessions) ' <<<"$tree" | sort -u || true)
if [ -n "$bad" ]; then
  echo "The WASM build pulls server-only crates:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "wasm dependency check: $(sort -u <<<"$tree" | wc -l) crates, none of sqlx, tokio, lettre, apalis, spacedly-server"
