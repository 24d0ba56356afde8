#!/usr/bin/env bash
# Sourced by the bench scripts. bench_user BASE EMAIL NAME: registers the user on the server at
# BASE, signs in, and makes an API token; sets TOKEN (the bearer secret) and SESSION (the
# session cookie, name=value). wrk_load URL CONNECTIONS HEADER: a 3 s warm-up, then DURATION
# of load with one header; prints "req/s|p50|p99|errors".
BENCH_PASS='benchmark passphrase 42'

bench_user() {
  local base=$1 email=$2 name=$3 jar
  jar=$(mktemp)
  curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"name\":\"$name\",\"email\":\"$email\",\"password\":\"$BENCH_PASS\"}" "$base/api/auth/register"
  curl -fsS -o /dev/null -c "$jar" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$BENCH_PASS\"}" "$base/api/auth/login"
  TOKEN=$(curl -fsS -b "$jar" -H 'Content-Type: application/json' -H "Origin: $base" \
    -d '{"name":"bench"}' "$base/api/tokens" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).data.secret))')
  SESSION=$(awk '$6 == "spacedly_session" {print $6"="$7}' "$jar")
  rm -f "$jar"
}

wrk_load() {
  local url=$1 connections=$2 header=$3 out
  out=$(mktemp)
  wrk -t1 -c"$connections" -d3s -H "$header" -H 'Accept-Encoding: br, gzip' "$url" > /dev/null
  wrk -t1 -c"$connections" -d"$DURATION" --latency -H "$header" -H 'Accept-Encoding: br, gzip' "$url" > "$out"
  echo "$(awk '/Requests\/sec/ {print $2}' "$out")|$(awk '$1 == "50%" {print $2}' "$out")|$(awk '$1 == "99%" {print $2}' "$out")|$(awk '/Non-2xx|Socket errors/ {print}' "$out" | tr '\n' ' ')"
  rm -f "$out"
}
