#!/usr/bin/env bash
# Spaced revision under load, sourced by scripts/bench.sh (needs PORT, BIN, DURATION and the
# running server on spacedly_bench): a user with 5,000 memory items of which 300 are due now;
# the /review page (session cookie) and GET /api/reviews/due (bearer token) at 1 and 32
# connections; and the time to fit FSRS parameters on 10,000 reviews (a synthetic log, on the
# blocking pool as the weekly job runs it). Writes a Markdown fragment to target/bench-revision.md.
set -euo pipefail

R_BASE="http://127.0.0.1:$PORT"
R_DB_URL="$(bash scripts/db.sh url spacedly_bench)"
R_EMAIL=revision@example.com
R_OUT=target/bench-revision.md

source scripts/bench-user.sh
bench_user "$R_BASE" "$R_EMAIL" 'Revision Bench'
R_TOKEN=$TOKEN
R_SESSION=$SESSION

echo "[bench] seeding the revision user"
APP_ENV=development DATABASE_URL="$R_DB_URL" DATA_DIR=.data/spacedly_bench RUST_LOG=warn PUBLIC_URL="$R_BASE" \
  "$BIN" bench-seed-revision --email "$R_EMAIL" --items 5000 --due 300 > /dev/null

rows=()
for c in 1 32; do
  echo "[bench] GET /api/reviews/due at $c connections"
  IFS='|' read -r rps p50 p99 err <<<"$(wrk_load "$R_BASE"/api/reviews/due $c "Authorization: Bearer $R_TOKEN")"
  rows+=("| GET /api/reviews/due (300 reviews, their tasks) | $c | $rps | $p50 | $p99 | ${err:-none} |")
  echo "[bench] GET /review at $c connections"
  IFS='|' read -r rps p50 p99 err <<<"$(wrk_load "$R_BASE"/review $c "Cookie: $R_SESSION")"
  rows+=("| GET /review (page: the weakest card, recall of 5,000) | $c | $rps | $p50 | $p99 | ${err:-none} |")
done
echo "[bench] fitting parameters on 10,000 reviews"
fit=$("$BIN" bench-fit --reviews 10000)

{
  echo "## Spaced revision (one user: 5,000 memory items, 300 due now)"
  echo
  echo "| what | connections | req/s | p50 | p99 | errors |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Fitting FSRS parameters (\`fsrs\` crate's optimiser on the blocking pool, one fit at a time) on a synthetic"
  echo "log generated from known parameters (\`spacedly bench-fit\`):"
  echo
  echo '```'
  echo "$fit"
  echo '```'
} > "$R_OUT"
