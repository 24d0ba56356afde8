#!/usr/bin/env bash
# Property-based tests of the JSON API from its own OpenAPI document (Schemathesis, PyPI, in
# .tools/st), against the release binary on a fresh database, as a signed-in client holding a
# personal access token. Fails on any 5xx, any answer the document does not describe, any
# request the document calls valid that is refused, and any it calls invalid that is accepted.
#
#   scripts/schemathesis.sh            (needs `make build` and `scripts/setup.sh test` first)
#
# ST_SEED, ST_MAX_EXAMPLES, ST_PORT and ST_WORKERS change the run; the seed is fixed so that a
# failure reproduces. Extra arguments go to `st run` (e.g. --include-path /api/tasks).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SEED="${ST_SEED:-20261202}"
# 200 cases per operation: about 90 s on 2 cores.
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-200}"
PORT="${ST_PORT:-3400}"
# One worker: the cases then run in one order, so a seed reproduces a failure exactly (two took
# as long on 2 cores: 80 s either way).
WORKERS="${ST_WORKERS:-1}"
BASE="http://127.0.0.1:${PORT}"
BIN="$ROOT/target/release/spacedly"
ST="$ROOT/.tools/st/bin/st"
OUT="$ROOT/target/schemathesis"

log() { printf '\033[1;34m[schemathesis]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[schemathesis]\033[0m %s\n' "$*" >&2; exit 1; }

[ -x "$BIN" ] || die "$BIN is missing: run \`make build\` first"
[ -x "$ST" ] || die "$ST is missing: run \`bash scripts/setup.sh test\` first"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT is taken (set ST_PORT)"
fi

bash scripts/db.sh start
bash scripts/db.sh reset spacedly_st
rm -rf "$ROOT/.data/st" "$OUT"
mkdir -p "$ROOT/.data/st" "$OUT"

# As Playwright starts it (end2end/playwright.config.ts), on a port and data folder of its own.
# The job workers stay off: no test here waits for a job, and queued emails are never sent.
# The rate limit is raised so that Schemathesis is not throttled; the per-account and per-IP
# limits of sign-up, sign-in and codes still apply (429 is an expected answer there).
APP_ENV=development HOST=127.0.0.1 PORT="$PORT" PUBLIC_URL="$BASE" \
  DATABASE_URL="$(bash scripts/db.sh url spacedly_st)" \
  DATA_DIR="$ROOT/.data/st" LEPTOS_SITE_ROOT="$ROOT/target/site" \
  RATE_LIMIT_PER_SECOND=1000 RATE_LIMIT_BURST=5000 RUN_WORKERS=false \
  RUST_LOG="warn,spacedly_server=info" \
  "$BIN" serve >"$OUT/server.log" 2>&1 &
server_pid=$!
stop_server() {
  if kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap stop_server EXIT

for _ in $(seq 1 120); do
  if curl -sf "$BASE/health" >/dev/null; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { tail -n 30 "$OUT/server.log" >&2; die "the server stopped"; }
  sleep 0.5
done
curl -sf "$BASE/health" >/dev/null || { tail -n 30 "$OUT/server.log" >&2; die "no /health after 60 s"; }

# POSTs a JSON body; prints the answer, fails on an error status.
post() {
  local path=$1 body=$2
  shift 2
  curl -sS --fail-with-body -X POST "$BASE$path" -H 'content-type: application/json' "$@" -d "$body" \
    || die "POST $path failed"
}
json_field() { python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[key]
print(value)' "$1"; }

EMAIL="schemathesis@example.com"
PASSWORD="st-correct-horse-battery-staple"
cookies="$OUT/cookies.txt"
log "signing up $EMAIL and creating an API token"
post /api/auth/register "{\"name\":\"Schemathesis\",\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"timezone\":\"Europe/Paris\"}" >/dev/null
post /api/auth/login "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" -c "$cookies" >/dev/null
# Just signed in: the session may mint a token without giving the password again.
ST_TOKEN=$(post /api/tokens '{"name":"schemathesis"}' -b "$cookies" | json_field data.secret)
AUTH="Authorization: Bearer $ST_TOKEN"

# Tasks for the operations that take an id (see scripts/schemathesis.toml).
new_task() { post /api/tasks "$1" -H "$AUTH" | json_field data.task.id; }
ST_TASK_ID=$(new_task '{"title":"Read the fuzzing chapter","description":"Seeded by scripts/schemathesis.sh","link":"https://example.com/fuzzing","category":"Study","priority":"high","dueDate":"2030-01-15T09:00:00Z","spacedRevision":true,"desiredRetention":0.9,"knowBy":"2030-02-01"}')
ST_DELETE_TASK_ID=$(new_task '{"title":"A task to delete"}')
# Reminders on the first task: one to change, one to delete.
new_reminder() { post /api/reminders "{\"taskId\":\"$ST_TASK_ID\",\"scheduledAt\":\"$1\"}" -H "$AUTH" | json_field data.reminder.id; }
ST_REMINDER_ID=$(new_reminder 2030-01-14T09:00:00Z)
ST_DELETE_REMINDER_ID=$(new_reminder 2030-01-14T10:00:00Z)
# scripts/schemathesis.toml reads these: the token as the `bearer` scheme, the password for
# minting tokens, the ids as path values.
ST_PASSWORD="$PASSWORD"
export ST_TOKEN ST_PASSWORD ST_TASK_ID ST_DELETE_TASK_ID ST_REMINDER_ID ST_DELETE_REMINDER_ID

args=(
  run "$BASE/api/openapi.json"
  --checks all
  --max-examples "$MAX_EXAMPLES"
  --seed "$SEED"
  --workers "$WORKERS"
  # The server refuses U+0000 in every text input, keys included, before any handler runs
  # (server/src/http/nul.rs, tested there); the document cannot say so of every string.
  --generation-allow-x00 false
  --report junit,ndjson --report-dir "$OUT"
  # DELETE /api/user/me deletes the test's own account, and its token with it.
  --exclude-name "DELETE /api/user/me"
  # Revoking a token could revoke the one this run authenticates with.
  --exclude-name "DELETE /api/tokens/{id}"
  # Both redirect to Google (or to /login when it is not configured): a browser flow with an
  # outside provider, not a JSON API.
  --exclude-name "GET /api/auth/google"
  --exclude-name "GET /api/auth/google/callback"
  # Not excluded: POST /api/auth/logout and /logout-all end cookie sessions only; the bearer
  # token this run uses outlives them.
)
cmd=("$ST" --config-file "$ROOT/scripts/schemathesis.toml" "${args[@]}" "$@")

log "st run: seed $SEED, $MAX_EXAMPLES examples per operation, $WORKERS workers"
start=$(date +%s)
status=0
"${cmd[@]}" || status=$?
log "took $(($(date +%s) - start)) s; server log: target/schemathesis/server.log"
if ! kill -0 "$server_pid" 2>/dev/null; then
  tail -n 40 "$OUT/server.log" >&2
  die "the server stopped during the run"
fi
if [ "$status" -ne 0 ]; then
  {
    printf '\033[1;31m[schemathesis]\033[0m failed (exit %s). Each failure above ends with the curl\n' "$status"
    printf 'command that replays it (start a server first, e.g. with `make run`, and give it a token).\n'
    printf 'The same run again (same seed):\n'
    printf '    ST_SEED=%s ST_MAX_EXAMPLES=%s ST_WORKERS=%s bash scripts/schemathesis.sh\n' \
      "$SEED" "$MAX_EXAMPLES" "$WORKERS"
    printf 'which runs (with ST_TOKEN, ST_PASSWORD and the ST_*_ID values set up as above):\n'
    printf '    %s\n' "$(printf '%q ' "${cmd[@]}")"
  } >&2
  exit "$status"
fi
