#!/usr/bin/env bash
# overhead.sh — what the generated stack costs per request against a bare axum handler, in one
# run. The `overhead` example of archgen-platform serves the same in-memory SQLite data four ways
# (see examples/platform/examples/overhead.rs):
#
#   generated (JWT)             router_with_auth as shipped, an HS256 bearer JWT verified per request
#   generated (trusted caller)  the same, the caller placed by an outer layer: no token to verify
#   generated routes only       generated::router alone: no limits, no auth layer, plain axum::serve
#   bare axum + sqlx            hand-written handlers, the same SQL and JSON, no middleware
#
# for get-by-id and for a list with a limit, a sort and a filter to validate, and checks that all
# four answer the same JSON. Then, measured two ways:
#
# 1. Over HTTP: wrk on loopback loads each variant in turn, ROUNDS times (the first variant
#    rotating every round); medians of requests per second, compared with bare as a ratio and as
#    the difference of 1/throughput (the machine time each request costs more at this
#    concurrency), of wrk's mean latency, and of the server process's CPU time per request
#    (utime + stime from /proc over the run, divided by the requests answered).
# 2. In the process (`overhead --in-process`): each router called with tower's oneshot on one
#    thread, 8 requests in flight, no socket; medians over 2 × ROUNDS + 1 short rounds of the wall
#    time per request and of that thread's CPU time per request, which leaves out the SQLite
#    connection's own thread: what remains is HTTP-side work, where the layers differ.
#
# Usage: tests/bench/overhead.sh [MARKDOWN]   (default /tmp/bench-overhead.md)
# Env: DURATION (5s), CONNECTIONS (32), THREADS (2), ROUNDS (5), PORT (18620: serves PORT+1..+4)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MARKDOWN="${1:-/tmp/bench-overhead.md}"
DURATION="${DURATION:-5s}"
ROUNDS="${ROUNDS:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
PORT="${PORT:-18620}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet -p archgen-platform --example overhead --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/examples/overhead"

WORK="$(mktemp -d)"
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT

echo "overhead.sh: in the process…" >&2
RUST_LOG=error OVERHEAD_ROUNDS=$((2 * ROUNDS + 1)) "$BIN" --in-process >"$WORK/inproc"

RUST_LOG=error OVERHEAD_PORT="$PORT" "$BIN" >"$WORK/out" & pid=$!
for _ in $(seq 1 300); do
  grep -qx ready "$WORK/out" && break
  kill -0 "$pid" 2>/dev/null || { echo "overhead.sh: the server exited" >&2; exit 1; }
  sleep 0.1
done
grep -qx ready "$WORK/out" || { echo "overhead.sh: the server did not start" >&2; exit 1; }
TOKEN="$(awk '$1 == "token" {print $2}' "$WORK/out")"
LABEL="$(awk '$1 == "label" {print $2}' "$WORK/out")"
read -r AUTH_JWT AUTH_NONE < <(awk '$1 == "auth_ns" {print $2, $3}' "$WORK/out")

# One machine-readable line per run: requests, duration (µs), mean latency (µs), socket errors,
# non-2xx answers.
cat >"$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.1f %d %d\n", summary.requests, summary.duration,
    latency.mean, e.connect + e.read + e.write + e.timeout, e.status))
end
LUA

# name|port|sends the token
VARIANTS=(
  "generated (JWT)|$((PORT + 1))|yes"
  "generated (trusted caller)|$((PORT + 2))|no"
  "generated routes only|$((PORT + 3))|no"
  "bare axum + sqlx|$((PORT + 4))|no"
)
# name|path (the list's brackets percent-encoded, as clients send them)
CASES=(
  "get-by-id|/labels/$LABEL"
  "list, validated|/labels?limit=10&sort=-createdAt&filter%5Bfield%5D=name&filter%5Btype%5D=startsWith&filter%5Bvalue%5D=a"
)
TICK="$(getconf CLK_TCK)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

fetch() {
  local port="$1" path="$2" token="$3"
  if [ "$token" = yes ]; then
    curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port$path"
  else
    curl -sf "http://127.0.0.1:$port$path"
  fi
}

load() {
  local port="$1" path="$2" token="$3" duration="$4" conns="$5"
  local args=(-t"$THREADS" -c"$conns" -d"$duration" -s "$WORK/report.lua")
  if [ "$token" = yes ]; then args+=(-H "Authorization: Bearer $TOKEN"); fi
  wrk "${args[@]}" "http://127.0.0.1:$port$path" | awk '$1 == "RESULT"'
}

: >"$WORK/runs.tsv"
n=${#VARIANTS[@]}
for case in "${CASES[@]}"; do
  IFS='|' read -r cname path <<<"$case"
  for v in "${VARIANTS[@]}"; do
    IFS='|' read -r vname port token <<<"$v"
    fetch "$port" "$path" "$token" >"$WORK/body-$port" ||
      { echo "overhead.sh: $vname $path failed" >&2; exit 1; }
    load "$port" "$path" "$token" 2s 8 >/dev/null   # warm-up
  done
  python3 - "$WORK" "$PORT" <<'PY' || { echo "overhead.sh: $cname: the variants answer differently" >&2; exit 1; }
import json, sys
work, base = sys.argv[1], int(sys.argv[2])
bodies = [json.load(open(f"{work}/body-{base + i}")) for i in range(1, 5)]
sys.exit(0 if all(b == bodies[-1] for b in bodies) else 1)
PY
  for round in $(seq 1 "$ROUNDS"); do
    for k in $(seq 0 $((n - 1))); do
      IFS='|' read -r vname port token <<<"${VARIANTS[$(((k + round - 1) % n))]}"
      before="$(cpu_ticks)"
      result="$(load "$port" "$path" "$token" "$DURATION" "$CONNECTIONS")"
      after="$(cpu_ticks)"
      read -r _ requests micros mean errors non2xx <<<"$result"
      if [ "$errors" != 0 ] || [ "$non2xx" != 0 ]; then
        echo "overhead.sh: $vname $cname: $errors socket errors, $non2xx non-2xx answers" >&2
        exit 1
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cname" "$vname" "$round" "$requests" "$micros" \
        "$mean" "$((after - before))" >>"$WORK/runs.tsv"
      echo "$cname, round $round: $vname $(python3 -c "print(f'{$requests / $micros * 1e6:.0f}')") req/s" >&2
    done
  done
done

python3 - "$WORK/runs.tsv" "$WORK/inproc" "$TICK" "$CONNECTIONS" "$THREADS" "$DURATION" "$ROUNDS" \
  "$AUTH_JWT" "$AUTH_NONE" <<'PY' | tee "$MARKDOWN"
import statistics, sys
from collections import defaultdict
path, inproc, tick, conns, threads, duration, rounds, auth_jwt, auth_none = sys.argv[1:]
tick = int(tick)
runs = defaultdict(list)
order = []
for line in open(path):
    case, variant, _, requests, micros, mean, ticks = line.rstrip("\n").split("\t")
    requests, micros, ticks = int(requests), int(micros), int(ticks)
    if (case, variant) not in runs:
        order.append((case, variant))
    runs[(case, variant)].append({
        "rps": requests / micros * 1e6,
        "mean": float(mean),
        "cpu": ticks / tick * 1e6 / requests,
    })


def med(key, case, variant):
    return statistics.median(r[key] for r in runs[(case, variant)])


print(f"Over HTTP: wrk -t{threads} -c{conns} on loopback, {rounds} rounds of {duration} per variant, "
      "medians.")
print()
print("| request | variant | req/s | vs bare | 1/throughput over bare (µs) "
      "| mean latency (ms) | server CPU per request (µs) | CPU over bare (µs) |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for case in dict.fromkeys(c for c, _ in order):
    variants = [v for c, v in order if c == case]
    bare = next(v for v in variants if v.startswith("bare"))
    b_rps, b_cpu = med("rps", case, bare), med("cpu", case, bare)
    for v in variants:
        rps, cpu = med("rps", case, v), med("cpu", case, v)
        print(f"| {case} | {v} | {rps:.0f} | {rps / b_rps:.2f} | {(1 / rps - 1 / b_rps) * 1e6:.1f} "
              f"| {med('mean', case, v) / 1000:.2f} | {cpu:.1f} | {cpu - b_cpu:.1f} |")

print()
print(f"In the process: tower oneshot on one thread, 8 in flight, {2 * int(rounds) + 1} rounds per "
      "variant, medians; CPU is the calling thread's, without the SQLite connection's thread.")
print()
print("| request | variant | wall per request (µs) | over bare (µs) "
      "| CPU per request (µs) | over bare (µs) |")
print("|---|---|---:|---:|---:|---:|")
rows = [line.rstrip("\n").split("\t")[1:] for line in open(inproc) if line.startswith("inproc\t")]
for case in dict.fromkeys(r[0] for r in rows):
    mine = [r for r in rows if r[0] == case]
    bare = next(r for r in mine if r[1].startswith("bare"))
    for _, v, wall, cpu in mine:
        print(f"| {case} | {v} | {int(wall) / 1000:.1f} | {(int(wall) - int(bare[2])) / 1000:.1f} "
              f"| {int(cpu) / 1000:.1f} | {(int(cpu) - int(bare[3])) / 1000:.1f} |")

print()
print("The authentication layer alone, in the process (20,000 calls of Authenticator::authenticate): "
      f"{float(auth_jwt) / 1000:.1f} µs per request with the JWT, "
      f"{float(auth_none) / 1000:.2f} µs with no credentials.")
PY
