#!/usr/bin/env bash
# corpus-peer.sh — how many specs of tests/corpus compile when OpenAPI Generator's rust-axum
# generates them, to put next to archgen's count (generator/tests/corpus.rs).
#
# Each spec is generated with tests/bench/peer.sh into WORK/<name>, all outputs join one cargo
# workspace, and `cargo check --keep-going` reports per crate. A spec counts as compiling when
# its crate has no error; warnings are counted separately.
#
# Usage: tests/bench/corpus-peer.sh [WORK]     (default: target/corpus-peer)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(realpath -m "${1:-target/corpus-peer}")
# REUSE=1 keeps what an earlier run generated and only compiles again.
[ -n "${REUSE:-}" ] || rm -rf "$work"
mkdir -p "$work/specs"
rm -f "$work/Cargo.toml"   # a member is read on its own, not through an old workspace
export PEER_JAR=$(tests/bench/peer.sh --jar)
members=()
failed_generation=0
invalid_manifest=0
patched=()
for gz in tests/corpus/specs/*.gz; do
    name=$(basename "$gz" .json.gz | tr 'A-Z.-' 'a-z__')
    gunzip -c "$gz" > "$work/specs/$name.json"
    if [ -n "${REUSE:-}" ] && [ -f "$work/p_$name/Cargo.toml" ] \
        || { [ -z "${REUSE:-}" ] && tests/bench/peer.sh "$work/specs/$name.json" "$work/p_$name" >/dev/null 2>&1 \
             && [ -f "$work/p_$name/Cargo.toml" ]; }; then
        sed -i "s/^name = .*/name = \"p_$name\"/" "$work/p_$name/Cargo.toml"
        sed -i '/^\[workspace\]/d' "$work/p_$name/Cargo.toml"
        # The peer copies `info.version` into Cargo.toml; a crate cargo cannot even read fails.
        # The peer copies `info.version` ("v3", "partner") into Cargo.toml; such a crate is
        # counted as failing as generated, and compiled after the one-line fix a user would make.
        if ! cargo metadata --no-deps --format-version 1 --manifest-path "$work/p_$name/Cargo.toml" >/dev/null 2>&1; then
            sed -i '0,/^version = .*/s//version = "0.1.0"/' "$work/p_$name/Cargo.toml"
            echo "INVALID Cargo.toml version $name"
            invalid_manifest=$((invalid_manifest + 1))
            patched+=("p_$name")
        fi
        members+=("p_$name")
    else
        echo "GENERATION FAILED $name"
        failed_generation=$((failed_generation + 1))
    fi
done
{
    echo '[workspace]'; echo 'resolver = "2"'; echo 'members = ['
    for m in "${members[@]}"; do echo "  \"$m\","; done
    echo ']'
} > "$work/Cargo.toml"
(cd "$work" && cargo check --keep-going --message-format json --quiet 2>/dev/null || true) > "$work/check.json"
python3 - "$work" "${patched[*]:-}" "${members[@]}" <<'PY'
import json, sys
work, patched, members = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
errors = {m: 0 for m in members}
warnings = {m: 0 for m in members}
for line in open(f"{work}/check.json"):
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") != "compiler-message":
        continue
    name = next((m for m in members if f"/{m}#" in msg["package_id"]), None)
    level = msg["message"]["level"]
    if name and level == "error":
        errors[name] += 1
    elif name and level == "warning":
        warnings[name] += 1
for m in members:
    print(f"{'PASS' if errors[m] == 0 else 'FAIL'} {m}: {errors[m]} errors, {warnings[m]} warnings")
ok = sum(1 for m in members if errors[m] == 0)
clean = sum(1 for m in members if errors[m] == 0 and warnings[m] == 0)
as_generated = sum(1 for m in members if errors[m] == 0 and m not in patched)
print(f"\nOpenAPI Generator rust-axum: {ok} of {len(members)} generated crates compile "
      f"({clean} without warnings); {as_generated} compile as generated, the rest only after "
      f"fixing the crate version in Cargo.toml")
PY
echo "specs the peer could not generate at all: $failed_generation; with a Cargo.toml cargo cannot read: $invalid_manifest"
