#!/usr/bin/env bash
# The task list under load, sourced by scripts/bench.sh (needs PORT, BIN and its load helpers):
# a seeded user with 200 tasks (2 attachments and 3 reminders each); GET /api/tasks (bearer
# token) and the /tasks page (session cookie) at 32 connections, and the same three SQL
# statements run by pgbench as the ceiling. With BASELINE_BIN (an earlier commit's server, from
# scripts/bench-baseline.sh), the same API load runs against it too, in the same rounds, on its
# own database seeded the same way: the "before" beside the "after".
set -euo pipefail

BASE="http://127.0.0.1:$PORT"
DB_URL="$(bash scripts/db.sh url spacedly_bench)"
source scripts/bench-user.sh

# Seeds the bench user on the server at $1 (database $2); sets TOKEN, SESSION and USER_ID.
seed_tasks() {
  local base=$1 db_url=$2
  bench_user "$base" tasks@example.com 'Task Bench'
  USER_ID=$(psql -X -qAt "$db_url" -c "SELECT id FROM users WHERE email = 'tasks@example.com'")
  psql -X -q "$db_url" -v ON_ERROR_STOP=1 <<SQL
INSERT INTO tasks (user_id, title, description, category, priority, due_at)
SELECT '$USER_ID', 'Task ' || n, 'What to learn in task ' || n || E'\nwith a second line',
       (ARRAY['Study', 'Work', 'Personal'])[1 + n % 3], 1 + n % 3, now() + (n - 100) * interval '1 day'
  FROM generate_series(1, 200) n;
INSERT INTO attachments (user_id, task_id, original_name, content_type, size, original_size, storage_key)
SELECT '$USER_ID', t.id, 'notes-' || n || '.pdf', 'application/pdf', 120000, 120000, 'bench/' || t.id || '/' || n
  FROM tasks t, generate_series(1, 2) n WHERE t.user_id = '$USER_ID';
INSERT INTO reminders (user_id, task_id, scheduled_at)
SELECT '$USER_ID', t.id, now() + n * interval '1 day' FROM tasks t, generate_series(1, 3) n
 WHERE t.user_id = '$USER_ID';
ANALYZE tasks; ANALYZE attachments; ANALYZE reminders;
SQL
}

before_rps=()
if [ -n "${BASELINE_BIN:-}" ]; then
  BEFORE_PORT=$((PORT + 1))
  BEFORE_BASE="http://127.0.0.1:$BEFORE_PORT"
  start_server "$BASELINE_BIN" "$BEFORE_PORT" spacedly_bench_before
  BEFORE_PID=$STARTED_PID
  trap 'kill $PID $BEFORE_PID 2>/dev/null || true; wait $PID $BEFORE_PID 2>/dev/null || true' EXIT
  seed_tasks "$BEFORE_BASE" "$(bash scripts/db.sh url spacedly_bench_before)"
  BEFORE_TOKEN=$TOKEN
fi
seed_tasks "$BASE" "$DB_URL"

# Runs wrk with one header against a path; prints "req/s|p50|p99|errors".
load_with() {
  local path=$1 header=$2 base=${3:-$BASE} out=/tmp/spacedly-wrk-tasks.txt
  wrk -t2 -c32 -d3s -H "$header" -H 'Accept-Encoding: br, gzip' "$base$path" >/dev/null
  wrk -t2 -c32 -d"$DURATION" --latency -H "$header" -H 'Accept-Encoding: br, gzip' "$base$path" > "$out" &
  local wrk_pid=$! peak=0
  while kill -0 $wrk_pid 2>/dev/null; do
    local now; now=$(rss_kib); [ "$now" -gt "$peak" ] && peak=$now
    sleep 0.5
  done
  wait $wrk_pid
  echo "$(awk '/Requests\/sec/ {print $2}' $out)|$(awk '$1 == "50%" {print $2}' $out)|$(awk '$1 == "99%" {print $2}' $out)|$(awk '/Non-2xx|Socket errors/ {print}' $out | tr '\n' ' ')|$peak"
}

# The ceiling: the three statements of the list (tasks, their attachments, their reminders),
# prepared, at the same concurrency. (The server passes the page's task ids as an array; here the
# same semi-join reads them from the tasks table, which PostgreSQL runs the same way.)
PGB=$(mktemp --suffix .sql)
cat > "$PGB" <<SQL
SELECT id, user_id, title, description, link, category, priority, status, due_at, spaced_revision, desired_retention, know_by, completed_at, created_at, updated_at, count(*) OVER () AS total FROM tasks WHERE user_id = '$USER_ID' ORDER BY due_at ASC NULLS LAST, created_at DESC, id;
SELECT id, task_id, original_name, content_type, size, original_size, width, height, created_at FROM attachments WHERE user_id = '$USER_ID' AND task_id IN (SELECT id FROM tasks WHERE user_id = '$USER_ID') ORDER BY created_at, id;
SELECT id, task_id, kind, channel, scheduled_at, message, status FROM reminders WHERE user_id = '$USER_ID' AND task_id IN (SELECT id FROM tasks WHERE user_id = '$USER_ID') ORDER BY scheduled_at, id;
SQL

# Both sides share the 2 cores with whatever else the machine is doing, and one run of either
# can differ from the next by a third. So the API, the page and pgbench run in turn, ROUNDS
# times, and each ratio is the median of the ratios of one round (taken minutes apart, not
# hours). The table shows the round whose API/pgbench ratio is that median.
ROUNDS=${BENCH_ROUNDS:-3}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rounds=()
tasks_rss=0
for round in $(seq 1 "$ROUNDS"); do
  echo "[bench] round $round/$ROUNDS: GET /api/tasks (200 tasks)"
  api=$(load_with /api/tasks "Authorization: Bearer $TOKEN")
  if [ -n "${BASELINE_BIN:-}" ]; then
    echo "[bench] round $round/$ROUNDS: GET /api/tasks on the baseline"
    before=$(load_with /api/tasks "Authorization: Bearer $BEFORE_TOKEN" "$BEFORE_BASE")
    IFS='|' read -r b_rps _ <<<"$before"
    before_rps+=("$b_rps")
  fi
  echo "[bench] round $round/$ROUNDS: GET /tasks page"
  page=$(load_with /tasks "Cookie: $SESSION")
  echo "[bench] round $round/$ROUNDS: pgbench, the same queries"
  pgbench -n -M prepared -c 32 -j 2 -T "${DURATION%s}" -f "$PGB" "$DB_URL" > /tmp/spacedly-pgbench.txt 2>&1
  tps=$(awk '/^tps = / {printf "%.2f", $3; exit}' /tmp/spacedly-pgbench.txt)
  IFS='|' read -r a_rps _ _ _ a_rss <<<"$api"
  IFS='|' read -r p_rps _ _ _ p_rss <<<"$page"
  for r in "$a_rss" "$p_rss"; do [ "$r" -gt "$tasks_rss" ] && tasks_rss=$r; done
  rounds+=("$(ratio "$a_rps" "$tps")#$(ratio "$p_rps" "$a_rps")#$api#$page#$tps")
done
rm -f "$PGB"
api_vs_pg=$(median $(printf '%s\n' "${rounds[@]}" | cut -d'#' -f1))
page_vs_api=$(median $(printf '%s\n' "${rounds[@]}" | cut -d'#' -f2))
# The round whose API/pgbench ratio is the median one gives the table's figures.
chosen=$(printf '%s\n' "${rounds[@]}" | awk -F'#' -v m="$api_vs_pg" '$1 == m { print; exit }')
IFS='#' read -r _ _ api page pg_tps <<<"$chosen"
IFS='|' read -r api_rps api_p50 api_p99 api_err _ <<<"$api"
IFS='|' read -r page_rps page_p50 page_p99 page_err _ <<<"$page"
# Every round, for the record: API req/s, page req/s, pgbench tps, the two ratios.
tasks_rounds=$(printf '%s\n' "${rounds[@]}" | awk -F'#' '{ split($3, a, "|"); split($4, p, "|");
  printf "%s%s / %s / %s (%sx, %sx)", (NR > 1 ? "; " : ""), a[1], p[1], $5, $1, $2 }')
if [ -n "${BASELINE_BIN:-}" ]; then
  kill "$BEFORE_PID" 2>/dev/null || true
  wait "$BEFORE_PID" 2>/dev/null || true
  # The after/before ratio of each round (the same round's two runs, minutes apart at most).
  after_list=$(printf '%s\n' "${rounds[@]}" | cut -d'#' -f3 | cut -d'|' -f1)
  before_vs=$(paste -d' ' <(printf '%s\n' "${before_rps[@]}") <(echo "$after_list") |
    awk '{ printf "%s%s -> %s (%.2fx)", (NR > 1 ? "; " : ""), $1, $2, $2 / $1 }')
  after_over_before=$(median $(paste -d' ' <(printf '%s\n' "${before_rps[@]}") <(echo "$after_list") | awk '{ printf "%.2f\n", $2 / $1 }'))
fi
