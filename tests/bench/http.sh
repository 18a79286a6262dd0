#!/usr/bin/env bash
# http.sh — requests per second of the generated platform's get-by-id and list endpoints on
# Postgres, against a hand-written axum + sqlx service running the same SQL (tests/bench/baseline),
# measured with wrk on loopback in one run. Both are release builds, on the same database and
# rows, with the same connection pool size (16), and take turns so neither competes with the other.
#
# Usage: tests/bench/http.sh [MARKDOWN]   (default /tmp/bench-http.md)
# Each side is measured ROUNDS times, alternating, and the medians are compared: runs on a
# 2-core machine drift, and alternating spreads the drift over both sides.
# Env: DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/test), DURATION (5s),
#      CONNECTIONS (32), ROWS (1000), ROUNDS (5)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MARKDOWN="${1:-/tmp/bench-http.md}"
ADMIN="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
DURATION="${DURATION:-5s}"
ROUNDS="${ROUNDS:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
ROWS="${ROWS:-1000}"
DB=archgen_bench_http
URL="${ADMIN%/*}/$DB"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
bash "$ROOT/tests/services.sh"

cargo build --release --quiet -p archgen-platform --manifest-path "$ROOT/Cargo.toml"
CARGO_TARGET_DIR="$ROOT/target" cargo build --release --quiet --manifest-path "$HERE/baseline/Cargo.toml"

psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# The generated service migrates the database; then rows are seeded through SQL.
# Labels are tenant-scoped: both sides act for one organization (the platform through its
# development caller) and run the scoped statements inside a transaction that names it.
ORG=11111111-1111-4111-8111-111111111111
ARCHGEN_DEV_ORGANIZATION="$ORG" DATABASE_URL="$URL" PORT=18601 RUST_LOG=error "$ROOT/target/release/archgen-platform" & pids+=($!)
wait_port 18601
psql "$URL" -qc "INSERT INTO labels (id, created_at, updated_at, name, color, organization_id)
  SELECT gen_random_uuid(), now(), now(), 'label-' || i, '#808080', '$ORG'
  FROM generate_series(1, $ROWS) AS i" >/dev/null
ID=$(psql "$URL" -Atc "SELECT id FROM labels ORDER BY id LIMIT 1 OFFSET $((ROWS / 2))")
ORG="$ORG" DATABASE_URL="$URL" PORT=18602 "$ROOT/target/release/bench-baseline" & pids+=($!)
wait_port 18602

rps() { wrk -t2 -c"$CONNECTIONS" -d"$DURATION" "$1" | awk '/Requests\/sec/ {print $2}'; }
check() { curl -sf "$1" >/dev/null || { echo "http.sh: $1 failed" >&2; exit 1; }; }

{
  echo "| endpoint | generated, median req/s | hand-written, median req/s | ratio |"
  echo "|---|---:|---:|---:|"
  for case in "get-by-id|/labels/$ID" "list (limit 20)|/labels?limit=20"; do
    name="${case%%|*}"; path="${case#*|}"
    check "http://127.0.0.1:18601$path"; check "http://127.0.0.1:18602$path"
    wrk -t2 -c8 -d2s "http://127.0.0.1:18601$path" >/dev/null   # warm-up
    wrk -t2 -c8 -d2s "http://127.0.0.1:18602$path" >/dev/null
    gens=(); bases=()
    for _ in $(seq 1 "$ROUNDS"); do
      gens+=("$(rps "http://127.0.0.1:18601$path")")
      bases+=("$(rps "http://127.0.0.1:18602$path")")
    done
    gen=$(printf '%s\n' "${gens[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    base=$(printf '%s\n' "${bases[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    ratio=$(python3 -c "print(f'{$gen / $base:.2f}')")
    echo "| $name | $gen | $base | $ratio |"
  done
} | tee "$MARKDOWN"
