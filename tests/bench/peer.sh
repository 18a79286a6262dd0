#!/usr/bin/env bash
# peer.sh — run the generation-speed benchmark's peer once:
# OpenAPI Generator's `rust-axum` server generator, pinned to one version.
#
# It measures nothing by itself; tests/bench/generation.sh times it with
# hyperfine against archgen. It generates SPEC into OUT quietly (the
# generator's log goes to a temp file, shown only on failure) and exits
# non-zero if the generator fails.
#
# The peer comes from PyPI's `openapi-generator-cli`, which ships the
# generator jar inside the wheel (no download at run time); it needs a
# Java runtime (17 works). Both are installed here if missing.
#
# Usage:
#   peer.sh SPEC OUT        generate SPEC into OUT (or set SPEC / OUT in the env)
#   peer.sh --jar           install if missing, print the jar's path, run nothing
#
# Env:
#   PEER_JAR   path to the jar; when set and present, the install check
#              (a Python start-up, ~0.2 s) is skipped. generation.sh sets it
#              so that the timed runs measure the generator alone.
#   JAVA_OPTS  extra JVM options, as the pip wrapper also honours.
set -euo pipefail

PEER_VERSION=7.26.0   # openapi-generator-cli on PyPI == OpenAPI Generator version

die() { echo "peer.sh: $*" >&2; exit 1; }

ensure_java() {
    command -v java >/dev/null 2>&1 && return
    echo "peer.sh: installing a Java runtime (openjdk-17-jre-headless)" >&2
    { apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; } >/dev/null \
        || die "could not install Java"
}

# Prints "VERSION JAR" of the installed pip package, or nothing.
installed_peer() {
    python3 - <<'PY' 2>/dev/null || true
import importlib.metadata as m, importlib.resources as r
print(m.version("openapi-generator-cli"),
      r.files("openapi_generator_cli") / "openapi-generator.jar")
PY
}

# Installs the pinned peer if missing or of another version; prints the jar's path.
ensure_peer() {
    local version jar
    read -r version jar <<<"$(installed_peer)" || true
    if [[ "${version:-}" != "$PEER_VERSION" || ! -f "${jar:-}" ]]; then
        echo "peer.sh: installing openapi-generator-cli==$PEER_VERSION" >&2
        python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
            "openapi-generator-cli==$PEER_VERSION" >&2 \
            || die "pip install openapi-generator-cli==$PEER_VERSION failed"
        read -r version jar <<<"$(installed_peer)" || true
        [[ "${version:-}" == "$PEER_VERSION" && -f "${jar:-}" ]] \
            || die "openapi-generator-cli $PEER_VERSION installed but its jar was not found"
    fi
    echo "$jar"
}

if [[ "${1:-}" == "--jar" ]]; then
    ensure_java
    ensure_peer
    exit 0
fi

SPEC="${1:-${SPEC:-}}"
OUT="${2:-${OUT:-}}"
[[ -n "$SPEC" && -n "$OUT" ]] || die "usage: peer.sh SPEC OUT   (or peer.sh --jar)"
[[ -f "$SPEC" ]] || die "no such spec: $SPEC"

if [[ -z "${PEER_JAR:-}" || ! -f "$PEER_JAR" ]]; then
    ensure_java
    PEER_JAR="$(ensure_peer)"
fi

log="$(mktemp -t peer-log.XXXXXX)"
trap 'rm -f "$log" "$log.short"' EXIT

# Same as the pip wrapper's `openapi-generator-cli generate ...`, minus the
# Python start-up. Spec validation stays on (the generator's default).
# shellcheck disable=SC2086  # JAVA_OPTS is a list of options
if ! java ${JAVA_OPTS:-} -jar "$PEER_JAR" generate \
        -g rust-axum -i "$SPEC" -o "$OUT" >"$log" 2>&1; then
    echo "peer.sh: openapi-generator rust-axum failed on $SPEC:" >&2
    # The fatal exception and what follows it, without Java stack frames;
    # else the end of the log.
    grep -v '^[[:space:]]*at ' "$log" >"$log.short" || true
    if grep -q '^Exception in thread' "$log.short"; then
        sed -n '/^Exception in thread/,$p' "$log.short" | head -n 20 >&2
    else
        tail -n 20 "$log.short" >&2
    fi
    rm -f "$log.short"
    exit 1
fi
