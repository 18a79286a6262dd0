#!/usr/bin/env bash
# overhead.sh — what the generated stack costs per request against a bare axum handler, in one
# run: the `overhead` example of archgen-platform serves the same in-memory SQLite data four ways
# (see examples/platform/examples/overhead.rs), and wrk loads each in turn on loopback:
#
#   generated (JWT)       router_with_auth as shipped, an HS256 bearer JWT verified per request
#   generated (trusted)   the same, the caller placed by an outer layer: no token to verify
#   generated routes      generated::router only: no limits, no auth layer, plain axum::serve
#   bare                  hand-written axum + sqlx handlers, same SQL, same JSON, no middleware
#
# for get-by-id and for a list with a limit, a sort and a filter to validate. Each variant is
# measured ROUNDS times, the variants alternating (the first one rotating every round), and
# medians are compared with bare: requests per second, the difference of 1/throughput (the
# machine time each request costs more, at this concurrency), wrk's mean latency, and the server
# process's CPU time per request (utime + stime from /proc over the run, divided by the requests).
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
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

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

# One machine-readable line per run: requests, duration (µs), mean and median latency (µs),
# socket errors, non-2xx answers.
cat >"$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.1f %d %d %d\n", summary.requests, summary.duration,
    latency.mean, latency:percentile(50), e.connect + e.read + e.write + e.timeout, e.status))
end
LUA

# name|port|sends the token
VARIANTS=(
  "generated (JWT)|$((PORT + 1))|yes"
  "generated (trusted caller)|$((PORT + 2))|no"
  "generated routes only|$((PORT + 3))|no"
  "bare axum + sqlx|$((PORT + 4))|no"
)
CASES=(
  "get-by-id|GET /labels/{id}|/labels/$LABEL"
  "list, validated|GET /labels?limit=10&sort=-createdAt&filter[field]=name&filter[type]=startsWith&filter[value]=a|/labels?limit=10&sort=-createdAt&filter%5Bfield%5D=name&filter%5Btype%5D=startsWith&filter%5Bvalue%5D=a"
)
TICK="$(getconf CLK_TCK)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# The body every variant answers, which must be the same JSON for all four.
fetch() {
  local port="$1" path="$2" token="$3"
  if [ "$token" = yes ]; then
    curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port$path"
  else
    curl -sf "http://127.0.0.1:$port$path"
  fi
}

load() {
  local port="$1" path="$2" token="$3" duration="$4" conns="$5" threads="$6"
  local args=(-t"$threads" -c"$conns" -d"$duration" -s "$WORK/report.lua")
  [ "$token" = yes ] && args+=(-H "Authorization: Bearer $TOKEN")
  wrk "${args[@]}" "http://127.0.0.1:$port$path" | awk '$1 == "RESULT"'
}

: >"$WORK/runs.tsv"
for case in "${CASES[@]}"; do
  IFS='|' read -r cname shown path <<<"$case"
  for v in "${VARIANTS[@]}"; do
    IFS='|' read -r vname port token <<<"$v"
    fetch "$port" "$path" "$token" >"$WORK/body-$port" ||
      { echo "overhead.sh: $vname $path failed" >&2; exit 1; }
    load "$port" "$path" "$token" 2s 8 2 >/dev/null   # warm-up
  done
  python3 - "$WORK" "$PORT" <<'PY' || { echo "overhead.sh: the variants answer differently" >&2; exit 1; }
import json, sys
work, base = sys.argv[1], int(sys.argv[2])
bodies = [json.load(open(f"{work}/body-{base + i}")) for i in range(1, 5)]
sys.exit(0 if all(b == bodies[-1] for b in bodies) else 1)
PY
  n=${#VARIANTS[@]}
  for mode in "loaded|$CONNECTIONS|$THREADS" "one at a time|1|1"; do
    IFS='|' read -r mname conns threads <<<"$mode"
    for round in $(seq 1 "$ROUNDS"); do
      for k in $(seq 0 $((n - 1))); do
        IFS='|' read -r vname port token <<<"${VARIANTS[$(((k + round - 1) % n))]}"
        before="$(cpu_ticks)"
        result="$(load "$port" "$path" "$token" "$DURATION" "$conns" "$threads")"
        after="$(cpu_ticks)"
        read -r _ requests micros mean p50 errors non2xx <<<"$result"
        if [ "$errors" != 0 ] || [ "$non2xx" != 0 ]; then
          echo "overhead.sh: $vname $cname: $errors socket errors, $non2xx non-2xx answers" >&2
          exit 1
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mname" "$cname" "$vname" "$round" \
          "$requests" "$micros" "$mean" "$p50" "$((after - before))" >>"$WORK/runs.tsv"
        echo "$cname, $mname, round $round: $vname" \
          "$(python3 -c "print(f'{$requests / $micros * 1e6:.0f}')") req/s, median ${p50} µs" >&2
      done
    done
  done
done

python3 - "$WORK/runs.tsv" "$TICK" "$CONNECTIONS" "$THREADS" "$DURATION" "$ROUNDS" "$AUTH_JWT" "$AUTH_NONE" <<'PY' | tee "$MARKDOWN"
import statistics, sys
from collections import defaultdict
path, tick, conns, threads, duration, rounds, auth_jwt, auth_none = sys.argv[1:]
tick = int(tick)
runs = defaultdict(list)
order = []
for line in open(path):
    mode, case, variant, _, requests, micros, mean, p50, ticks = line.rstrip("\n").split("\t")
    requests, micros, ticks = int(requests), int(micros), int(ticks)
    if (mode, case, variant) not in runs:
        order.append((mode, case, variant))
    runs[(mode, case, variant)].append({
        "rps": requests / micros * 1e6,
        "mean": float(mean),
        "p50": float(p50),
        "cpu": ticks / tick * 1e6 / requests,
    })


def med(key, mode, case, variant):
    return statistics.median(r[key] for r in runs[(mode, case, variant)])


def rows(mode):
    for case in dict.fromkeys(c for m, c, _ in order if m == mode):
        variants = [v for m, c, v in order if m == mode and c == case]
        bare = next(v for v in variants if v.startswith("bare"))
        yield case, variants, bare


print(f"Loaded: wrk -t{threads} -c{conns}, {rounds} rounds of {duration} per variant, medians.")
print()
print("| request | variant | req/s | vs bare | 1/throughput over bare (µs) "
      "| mean latency (ms) | server CPU per request (µs) | CPU over bare (µs) |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for case, variants, bare in rows("loaded"):
    b_rps, b_cpu = med("rps", "loaded", case, bare), med("cpu", "loaded", case, bare)
    for v in variants:
        rps, cpu = med("rps", "loaded", case, v), med("cpu", "loaded", case, v)
        print(f"| {case} | {v} | {rps:.0f} | {rps / b_rps:.2f} "
              f"| {(1 / rps - 1 / b_rps) * 1e6:.1f} | {med('mean', 'loaded', case, v) / 1000:.2f} "
              f"| {cpu:.1f} | {cpu - b_cpu:.1f} |")
print()
print(f"One at a time: wrk -t1 -c1, {rounds} rounds of {duration} per variant, medians.")
print()
print("| request | variant | median latency (µs) | over bare (µs) | mean latency (µs) "
      "| server CPU per request (µs) | CPU over bare (µs) |")
print("|---|---|---:|---:|---:|---:|---:|")
mode = "one at a time"
for case, variants, bare in rows(mode):
    b_p50, b_cpu = med("p50", mode, case, bare), med("cpu", mode, case, bare)
    for v in variants:
        p50, cpu = med("p50", mode, case, v), med("cpu", mode, case, v)
        print(f"| {case} | {v} | {p50:.0f} | {p50 - b_p50:.0f} | {med('mean', mode, case, v):.0f} "
              f"| {cpu:.1f} | {cpu - b_cpu:.1f} |")
print()
print(f"The authentication layer alone, in the process (20,000 calls of Authenticator::authenticate): "
      f"{float(auth_jwt) / 1000:.1f} µs per request with the JWT, "
      f"{float(auth_none) / 1000:.2f} µs with no credentials.")
PY
