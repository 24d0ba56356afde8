#!/usr/bin/env bash
# Analytics under load, sourced by scripts/bench.sh (needs PORT, BIN, DURATION and the running
# server on spacedly_bench): a user with 2,000 tasks and 10,000 completed reminders and reviews
# over a year; GET /api/analytics (bearer token) and the /analytics page (session cookie),
# uncached, at 1 and 32 connections; and, through one pool in one process, the statements behind
# GET /api/analytics against the original product's query pattern on the same data (4 counts, 7
# daily counts, 4 weekly counts and a category scan, one after another). Writes a Markdown
# fragment to target/bench-analytics.md.
set -euo pipefail

A_BASE="http://127.0.0.1:$PORT"
A_DB_URL="$(bash scripts/db.sh url spacedly_bench)"
A_EMAIL=analytics@example.com
A_OUT=target/bench-analytics.md

source scripts/bench-user.sh
bench_user "$A_BASE" "$A_EMAIL" 'Analytics Bench'
A_TOKEN=$TOKEN
A_SESSION=$SESSION
psql -X -q "$A_DB_URL" -c "UPDATE users SET timezone = 'America/New_York' WHERE email = '$A_EMAIL'"

cli_env() {
  echo "APP_ENV=development DATABASE_URL=$A_DB_URL DATA_DIR=.data/spacedly_bench RUST_LOG=warn PUBLIC_URL=$A_BASE"
}
echo "[bench] seeding the analytics user"
env $(cli_env) "$BIN" bench-seed-analytics --email "$A_EMAIL" --tasks 2000 --completed 10000 > /dev/null

rows=()
for c in 1 32; do
  echo "[bench] GET /api/analytics at $c connections"
  IFS='|' read -r rps p50 p99 err <<<"$(wrk_load "$A_BASE"/api/analytics $c "Authorization: Bearer $A_TOKEN")"
  rows+=("| GET /api/analytics | $c | $rps | $p50 | $p99 | ${err:-none} |")
  echo "[bench] GET /analytics at $c connections"
  IFS='|' read -r rps p50 p99 err <<<"$(wrk_load "$A_BASE"/analytics $c "Cookie: $A_SESSION")"
  rows+=("| GET /analytics (page, every chart) | $c | $rps | $p50 | $p99 | ${err:-none} |")
done
echo "[bench] the analytics statements against the original pattern"
queries=$(env $(cli_env) "$BIN" bench-analytics-queries --email "$A_EMAIL" --seconds 5 --rounds 3)

{
  echo "## Analytics (one user: 2,000 tasks, 10,000 completed reminders and reviews over a year, America/New_York)"
  echo
  echo "Uncached: every request runs its one statement over the counts Postgres keeps by local day (the API"
  echo "reads the last five weeks and one sum of the rest; the page every day, for its streaks and year heatmap,"
  echo "and draws five charts). Goal: p99 ≤ 50 ms at 1 connection."
  echo
  echo "| what | connections | req/s | p50 | p99 | errors |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Against the original product's query pattern (4 counts, 7 daily and 4 weekly counts, a category scan"
  echo "counted in the application, one after another), replayed on the same data through the same pool in one"
  echo "process, each round running both in turn (\`spacedly bench-analytics-queries\`); goal ≥ 5x its rate:"
  echo
  echo '```'
  echo "$queries"
  echo '```'
} > "$A_OUT"
