#!/usr/bin/env bash
# cache.sh — requests per second of the generated platform's GET /artifacts/{id} on Postgres
# with no cache, the in-memory cache and Redis, in one run: three instances of the same release
# build on one database (1,000 artifacts), loaded by wrk on loopback in turns, ROUNDS times each,
# medians compared with the uncached one.
#
# Usage: tests/bench/cache.sh [MARKDOWN]   (default /tmp/bench-cache.md)
# Env: DATABASE_URL (admin URL), REDIS_URL (default redis://127.0.0.1:6379), DURATION (5s),
#      CONNECTIONS (32), ROUNDS (5)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MARKDOWN="${1:-/tmp/bench-cache.md}"
ADMIN="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
REDIS="${REDIS_URL:-redis://127.0.0.1:6379}"
DURATION="${DURATION:-5s}"
ROUNDS="${ROUNDS:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
DB=archgen_bench_cache
URL="${ADMIN%/*}/$DB"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
bash "$ROOT/tests/services.sh"
cargo build --release --quiet -p archgen-platform --manifest-path "$ROOT/Cargo.toml"
psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

BIN="$ROOT/target/release/archgen-platform"
# The spec secures its operations with a bearer JWT: every side verifies the same HS256 token.
export JWT_SECRET="bench-secret-of-at-least-32-bytes-long"
TOKEN=$(python3 - <<'PY'
import base64, hashlib, hmac, json, os, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "bench", "org": "11111111-1111-4111-8111-111111111111", "exp": int(time.time()) + 86400}).encode())
sig = b64(hmac.new(os.environ["JWT_SECRET"].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
print(f"{head}.{body}.{sig}")
PY
)
ARCHGEN_CACHE=off DATABASE_URL="$URL" PORT=18611 RUST_LOG=error "$BIN" & pids+=($!)
wait_port 18611
psql "$URL" -qc "INSERT INTO artifacts (id, created_at, updated_at, credits, mime_type, organization_id, text)
  SELECT gen_random_uuid(), now(), now(), 0, 'text/plain', '11111111-1111-4111-8111-111111111111', 'artifact ' || i
  FROM generate_series(1, 1000) AS i" >/dev/null
ID=$(psql "$URL" -Atc "SELECT id FROM artifacts ORDER BY id LIMIT 1 OFFSET 500")
ARCHGEN_CACHE=memory DATABASE_URL="$URL" PORT=18612 RUST_LOG=error "$BIN" & pids+=($!)
ARCHGEN_CACHE=redis REDIS_URL="$REDIS" ARCHGEN_CACHE_PREFIX="bench:$$:" DATABASE_URL="$URL" PORT=18613 RUST_LOG=error "$BIN" & pids+=($!)
wait_port 18612; wait_port 18613

rps() { wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: Bearer $TOKEN" "$1" | awk '/Requests\/sec/ {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
path="/artifacts/$ID"
for port in 18611 18612 18613; do
  curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port$path" >/dev/null
  wrk -t2 -c8 -d2s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port$path" >/dev/null   # warm-up, and fills the caches
done
none=(); memory=(); redis=()
for _ in $(seq 1 "$ROUNDS"); do
  none+=("$(rps "http://127.0.0.1:18611$path")")
  memory+=("$(rps "http://127.0.0.1:18612$path")")
  redis+=("$(rps "http://127.0.0.1:18613$path")")
done
n=$(printf '%s\n' "${none[@]}" | median)
m=$(printf '%s\n' "${memory[@]}" | median)
r=$(printf '%s\n' "${redis[@]}" | median)
{
  echo "| GET /artifacts/{id} | median req/s | vs no cache |"
  echo "|---|---:|---:|"
  echo "| no cache (Postgres) | $n | 1.00 |"
  echo "| in-memory cache (moka) | $m | $(python3 -c "print(f'{$m / $n:.2f}')") |"
  echo "| Redis cache | $r | $(python3 -c "print(f'{$r / $n:.2f}')") |"
} | tee "$MARKDOWN"
