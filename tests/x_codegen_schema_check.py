#!/usr/bin/env python3
"""Check docs/x-codegen.schema.json against every `x-codegen` value in our specs and ArchesAI's.

Component-level values (on a component schema, or at the root of a schema file) are validated
against the schema's root; property-level values (under `properties/<name>`) against
`$defs/field`. A few values that archgen rejects must fail. Exits non-zero on any failure.

    python3 tests/x_codegen_schema_check.py      # needs PyYAML and jsonschema (pip install pyyaml jsonschema)

The ArchesAI fixtures live outside the repository, at <repo>/../shared/fixtures/arches; when that
directory is absent they are skipped with a notice.
"""

import json
import sys
from pathlib import Path

try:
    import yaml
    from jsonschema import Draft202012Validator
except ImportError as e:  # pragma: no cover
    print(f"missing dependency ({e.name}): pip install pyyaml jsonschema", file=sys.stderr)
    sys.exit(2)

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "docs" / "x-codegen.schema.json"
OWN_SPECS = REPO / "specs" / "storage"
FIXTURES = REPO.parent / "shared" / "fixtures" / "arches"

# Values archgen rejects (or that produce broken output) and the schema must reject too.
MUST_FAIL = [
    ("component", {"repository": {"indexes": ["name"]}}, "misspelt `indices`"),
    ("component", {"indices": ["name"]}, "`indices` outside `repository`"),
    ("component", {"repository": {"additionalMethods": [{"name": "GetByX", "params": ["x"], "returns": "one"}]}}, "unknown `returns`"),
    ("component", {"repository": {"additionalMethods": [{"name": "PurgeByX", "params": ["x"], "returns": "void"}]}}, "void method not named Delete…/Remove…"),
    ("component", {"repository": {"additionalMethods": [{"name": "CountAll", "returns": "count"}]}}, "non-void method without params"),
    ("component", {"repository": {"additionalMethods": [{"name": "GetAny", "params": []}]}}, "non-void method with empty params"),
    ("component", {"repository": {"uniqueConstraints": [[]]}}, "empty unique constraint"),
    ("component", {"repository": {"additionalMethods": [{"name": "GetByX", "params": [{"name": "x", "typ": "string"}]}]}}, "unknown param key"),
    ("component", {"repository": {"relations": [{"field": "userID"}]}}, "relation without `references`"),
    ("component", {"repository": {"relations": [{"field": "userID", "references": "user", "onDelete": "DESTROY"}]}}, "unknown referential action"),
    ("component", {"repository": {"indices": [{"unique": True}]}}, "index without `fields`"),
    ("component", {"repository": {"postgres": {"tableName": "t", "table": "t"}}}, "unknown postgres key"),
    ("component", {"cache": {"enabled": "yes"}}, "`cache.enabled` not a boolean"),
    ("component", {"cache": {"ttl": -1}}, "negative ttl"),
    ("component", {"events": "created"}, "`events` not a list"),
    ("component", "entity", "not an object"),
    ("field", {"indexed": True}, "misspelt field-level `index`"),
    ("field", {"unique": "yes"}, "field-level `unique` not a boolean"),
]

# Spellings archgen accepts that the fixtures may not exercise.
MUST_PASS = [
    ("component", {"repository": {"table_name": "keys", "unique_constraints": [["a", "b"]], "soft_delete": False}}, "snake_case keys"),
    ("component", {"repository": {"relations": [{"field": "a", "references": "b", "on_delete": "set_null", "onUpdate": "No-Action", "references_field": "id"}]}}, "referential actions in any case"),
    ("component", {"repository": {"additional_methods": [{"name": "RemoveByA", "params": [{"name": "a", "max_length": 3}], "returns": "void"}]}}, "void Remove… method"),
    ("component", {"repository": {"additionalMethods": [{"name": "DeleteExpired", "params": [], "returns": "void"}]}}, "void method without params (archgen warns and skips it)"),
    ("component", {"repository": {"indices": ["a", {"fields": ["a", "b"], "unique": True, "name": "uq_ab", "where": "a > 0", "method": "btree"}]}}, "index forms"),
    ("component", {"repository": {"sqlite": {"table_name": "keys", "schema": "main"}}}, "sqlite block"),
    ("component", {"cache": {"enabled": True, "ttl": 60, "key_pattern": "k:{id}", "invalidate_on": ["update"], "warm_on_startup": True, "redis": {"database": 1}}, "events": ["created"]}, "cache and events"),
    ("component", {"handler": {}, "adapter": {}, "service": {"generate": True}, "database": {"table": "x"}}, "compatibility-only blocks"),
    ("field", {"unique": True, "index": True, "validation": "email", "searchable": True}, "every field key"),
]


def occurrences(node, path):
    """Yield (path, value) for every `x-codegen` key under node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "x-codegen":
                yield path, value
            yield from occurrences(value, path + [str(key)])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from occurrences(value, path + [str(i)])


def kind_of(path, document):
    """`field`, `component`, or None for a place archgen does not read `x-codegen`."""
    if len(path) >= 2 and path[-2] == "properties":
        return "field"
    if len(path) == 3 and path[:2] == ["components", "schemas"]:
        return "component"
    if not path and isinstance(document, dict) and "openapi" not in document:
        return "component"  # the root of a schema in a file of its own
    return None


def describe(errors):
    return "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)


def main():
    if not SCHEMA.is_file():
        print(f"FAIL: {SCHEMA} not found", file=sys.stderr)
        sys.exit(1)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    validators = {
        "component": Draft202012Validator(schema),
        "field": Draft202012Validator({"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/field"}),
    }
    failures = []

    roots = [OWN_SPECS]
    if FIXTURES.is_dir():
        roots.append(FIXTURES)
    else:
        print(f"notice: {FIXTURES} not found; skipping the ArchesAI fixtures")
    files = sorted(f for root in roots for f in root.rglob("*.yaml"))
    if not files:
        failures.append(f"no YAML files found under {OWN_SPECS}")
    counts = {"component": 0, "field": 0}
    for file in files:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            failures.append(f"{file}: not valid YAML: {e}")
            continue
        for path, value in occurrences(document, []):
            where = f"{file.relative_to(REPO.parent)}#/{'/'.join(path)}"
            kind = kind_of(path, document)
            if kind is None:
                print(f"notice: {where}: archgen does not read x-codegen here; not checked")
                continue
            counts[kind] += 1
            errors = list(validators[kind].iter_errors(value))
            if errors:
                failures.append(f"{where} ({kind}-level) should pass but fails: {describe(errors)}")
    if counts["component"] == 0:
        failures.append("found no component-level x-codegen values: is the walk broken?")
    print(f"checked {counts['component']} component-level and {counts['field']} field-level x-codegen values in {len(files)} files")

    for kind, value, why in MUST_FAIL:
        if validators[kind].is_valid(value):
            failures.append(f"should fail but passes ({why}): {json.dumps(value)}")
    for kind, value, why in MUST_PASS:
        errors = list(validators[kind].iter_errors(value))
        if errors:
            failures.append(f"should pass but fails ({why}): {describe(errors)}")
    print(f"checked {len(MUST_FAIL)} values that must fail and {len(MUST_PASS)} that must pass")


    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
