#!/usr/bin/env bash
# generation.sh — generation-speed benchmark: archgen vs. its peer.
#
# Measures the wall-clock time to turn one OpenAPI spec into a Rust server
# crate, in one hyperfine run with --warmup 1 --runs 10:
#   archgen:  `archgen generate --spec SPEC --out DIR`
#   peer:     OpenAPI Generator's rust-axum generator, via tests/bench/peer.sh
# Each run writes into a fresh directory (hyperfine --prepare 'rm -rf DIR').
# Generation only: neither output is compiled. Writes hyperfine's markdown
# table to MARKDOWN and prints how many times faster archgen is.
#
# Usage: tests/bench/generation.sh [ARCHGEN [MARKDOWN]]
#   ARCHGEN   archgen binary (default: target/release/archgen in this repo;
#             build it first with `cargo build --release`)
#   MARKDOWN  where to export the table (default: /tmp/bench-generation.md)
# Env:
#   SPEC      spec to generate (default: the storage fixture in shared/)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

ARCHGEN="${1:-$ROOT/target/release/archgen}"
MARKDOWN="${2:-/tmp/bench-generation.md}"
SPEC="${SPEC:-$ROOT/../shared/fixtures/arches/head-2025-12/storage.openapi.bundled.yaml}"

die() { echo "generation.sh: $*" >&2; exit 1; }

[[ -x "$ARCHGEN" ]] || die "no archgen binary at $ARCHGEN (run: cargo build --release)"
[[ -f "$SPEC" ]] || die "no such spec: $SPEC"
ARCHGEN="$(cd "$(dirname "$ARCHGEN")" && pwd)/$(basename "$ARCHGEN")"
SPEC="$(cd "$(dirname "$SPEC")" && pwd)/$(basename "$SPEC")"

if ! command -v hyperfine >/dev/null 2>&1; then
    echo "generation.sh: installing hyperfine" >&2
    { apt-get update -qq && apt-get install -y -qq hyperfine; } >/dev/null \
        || die "could not install hyperfine"
fi

# Install the peer (if missing) outside the timed runs, and hand its jar to
# peer.sh so that each timed run is the generator alone, not the install check.
PEER_JAR="$("$HERE/peer.sh" --jar)"
export PEER_JAR
PEER_VERSION="$(sed -n 's/^PEER_VERSION=\([^ ]*\).*/\1/p' "$HERE/peer.sh")"

WORK="$(mktemp -d -t bench-generation.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
ARCHGEN_OUT="$WORK/archgen-out"
PEER_OUT="$WORK/peer-out"
JSON="$WORK/result.json"

q() { printf '%q' "$1"; }   # quote a path for hyperfine's shell

mkdir -p "$(dirname "$MARKDOWN")"
hyperfine --warmup 1 --runs 10 \
    --prepare "rm -rf $(q "$ARCHGEN_OUT") $(q "$PEER_OUT")" \
    --export-markdown "$MARKDOWN" \
    --export-json "$JSON" \
    -n "archgen" \
    "$(q "$ARCHGEN") generate --spec $(q "$SPEC") --out $(q "$ARCHGEN_OUT")" \
    -n "openapi-generator rust-axum $PEER_VERSION" \
    "$(q "$HERE/peer.sh") $(q "$SPEC") $(q "$PEER_OUT")"

echo
echo "spec:     $SPEC"
echo "markdown: $MARKDOWN"
python3 - "$JSON" <<'PY'
import json, sys
archgen, peer = json.load(open(sys.argv[1]))["results"]
ratio = peer["mean"] / archgen["mean"]
print(f"archgen {archgen['mean']:.3f} s, peer {peer['mean']:.3f} s (means): "
      f"archgen is {ratio:.1f}x faster than the peer" if ratio >= 1 else
      f"archgen {archgen['mean']:.3f} s, peer {peer['mean']:.3f} s (means): "
      f"archgen is {1 / ratio:.1f}x SLOWER than the peer")
PY
