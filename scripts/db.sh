#!/usr/bin/env bash
# A project-local PostgreSQL under .data/postgres, on its own port and socket directory.
#   scripts/db.sh start    create (first time) and start it; prints nothing else
#   scripts/db.sh url [db] print the DATABASE_URL for database db (default: spacedly)
#   scripts/db.sh stop     stop it
#   scripts/db.sh reset DB drop and create database DB
# The cluster keeps running after `make run` stops, and its data is kept between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PGDATA="$ROOT/.data/postgres"
PGRUN="$ROOT/.data/postgres-run"
PGPORT="${SPACEDLY_PGPORT:-55432}"
PGUSER=spacedly
PWFILE="$ROOT/.data/postgres-password"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || BIN=$(dirname "$(command -v initdb)")

# PostgreSQL refuses to run as root: use the `postgres` OS user then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

password() { cat "$PWFILE"; }

url() {
  local db="${1:-spacedly}"
  printf 'postgres://%s:%s@127.0.0.1:%s/%s\n' "$PGUSER" "$(password)" "$PGPORT" "$db"
}

psql_admin() {
  PGPASSWORD="$(password)" "$BIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER" -d postgres -v ON_ERROR_STOP=1 "$@"
}

start() {
  mkdir -p "$ROOT/.data"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    echo "[db] creating a PostgreSQL cluster in .data/postgres (port $PGPORT)"
    [ -f "$PWFILE" ] || (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PWFILE")
    mkdir -p "$PGDATA" "$PGRUN"
    if [ "$(id -u)" -eq 0 ]; then
      chown -R postgres "$PGDATA" "$PGRUN"
      chmod 0755 "$ROOT/.data"
      # The postgres user reads the password file once, through a copy it owns.
      install -m 600 -o postgres "$PWFILE" "$PGRUN/pwfile"
    else
      install -m 600 "$PWFILE" "$PGRUN/pwfile"
    fi
    as_owner "$BIN/initdb" -D "$PGDATA" -U "$PGUSER" --pwfile="$PGRUN/pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$PGRUN/pwfile"
  fi
  mkdir -p "$PGRUN"
  [ "$(id -u)" -eq 0 ] && chown postgres "$PGRUN"
  if ! as_owner "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    as_owner "$BIN/pg_ctl" -D "$PGDATA" -l "$PGRUN/postgres.log" -w -t 60 start \
      -o "-p $PGPORT -k $PGRUN -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${SPACEDLY_PG_FSYNC:-on}" >/dev/null
  fi
  if ! psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'spacedly'" | grep -q 1; then
    psql_admin -c "CREATE DATABASE spacedly"
  fi
}

case "${1:-start}" in
  start) start ;;
  url) url "${2:-spacedly}" ;;
  stop) as_owner "$BIN/pg_ctl" -D "$PGDATA" -m fast stop ;;
  reset)
    db="${2:?database name}"
    psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\""
    ;;
  *) echo "usage: $0 start|url [db]|stop|reset DB" >&2; exit 2 ;;
esac
