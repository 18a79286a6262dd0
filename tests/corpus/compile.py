#!/usr/bin/env python3
"""Scaffold a service from each spec with `archgen init`, then compile them all.

Every crate joins one throwaway workspace, so dependencies are built once and rustc works on
several crates at a time. A spec passes when archgen accepts it and its crate compiles with no
error and no warning. Prints one line per spec and the pass count; exits 1 when fewer than
--min pass.

    tests/corpus/compile.py --archgen target/debug/archgen --work target/corpus \\
        --min 40 tests/corpus/specs/*
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def crate_name(spec: Path) -> str:
    stem = spec.name.split(".")[0] if spec.suffix != ".gz" else spec.name.split(".")[0]
    name = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_") or "spec"
    return "c_" + name


def unpack(spec: Path, work: Path) -> Path:
    """Large specs are stored gzipped; archgen reads the plain file."""
    if spec.suffix != ".gz":
        return spec
    import gzip

    plain = work / "unpacked" / spec.name[: -len(".gz")]
    if not plain.exists():
        plain.parent.mkdir(parents=True, exist_ok=True)
        plain.write_bytes(gzip.decompress(spec.read_bytes()))
    return plain


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--archgen", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--min", type=int, default=0, help="fail when fewer specs pass")
    ap.add_argument("specs", nargs="+")
    args = ap.parse_args()

    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, str] = {}
    specs: dict[str, Path] = {}
    members = []
    for raw in sorted(args.specs):
        spec = Path(raw)
        name = crate_name(spec)
        specs[name] = spec
        crate = work / name
        if crate.exists():
            shutil.rmtree(crate)
        run = subprocess.run(
            [args.archgen, "init", "--no-workspace", "--name", name,
             "--spec", str(unpack(spec, work)), str(crate)],
            capture_output=True, text=True, timeout=300,
        )
        if run.returncode != 0:
            first = next((l for l in run.stderr.splitlines() if "error" in l), run.stderr[-300:])
            results[name] = "archgen failed: " + first.strip()
            continue
        members.append(name)

    (work / "Cargo.toml").write_text(
        "[workspace]\nresolver = \"3\"\nmembers = [\n"
        + "".join(f'    "{m}",\n' for m in members)
        + "]\n"
    )
    # The repository's lock file pins the same dependency versions the runtime is tested with.
    shutil.copy(REPO / "Cargo.lock", work / "Cargo.lock")

    problems: dict[str, list[str]] = {m: [] for m in members}
    if members:
        check = subprocess.Popen(
            ["cargo", "check", "--keep-going", "--message-format", "json", "--quiet"],
            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "CARGO_TARGET_DIR": str(work / "target")},
        )
        assert check.stdout is not None
        for line in check.stdout:
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            if msg.get("reason") != "compiler-message":
                continue
            pkg = msg["package_id"]
            name = next((m for m in members if f"/{m}#" in pkg or f"/{m})" in pkg
                         or pkg.startswith(f"{m} ")), None)
            level = msg["message"]["level"]
            if name and level in ("error", "warning"):
                text = msg["message"]["message"]
                if text.startswith(("aborting due to", "could not compile")) or re.match(
                    r"\d+ (warning|error)s? emitted", text
                ) or text.endswith("generated") and "warning" in text:
                    continue
                problems[name].append(f"{level}: {text}")
        check.wait()
    for m in members:
        results[m] = "; ".join(sorted(set(problems[m]))[:3]) or "ok"

    passed = sum(1 for r in results.values() if r == "ok")
    for name in sorted(results):
        print(f"{'PASS' if results[name] == 'ok' else 'FAIL'} {specs[name].name}: {results[name]}"[:400])
    print(f"\n{passed} of {len(results)} specs generate and compile without warnings")
    if passed < args.min:
        print(f"FAILED: fewer than the {args.min} that passed before", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
