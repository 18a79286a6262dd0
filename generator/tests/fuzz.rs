//! Property tests: archgen never panics, whatever the document. Each case starts from a real
//! spec and breaks it the way hand edits and bad tools do (lines dropped, duplicated or cut,
//! indentation shifted, tokens spliced in); the only acceptable outcomes are generated code or
//! diagnostics.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

fn seed(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(path).unwrap()
}

/// Tokens that are meaningful to YAML, JSON or OpenAPI, to splice into a line.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    "- ",
    "'",
    "\"",
    "&a",
    "*a",
    "!!binary",
    "~",
    "null",
    "-1",
    "1e999",
    "$ref: '#/components/schemas/Nope'",
    "$ref: '#/paths'",
    "$ref: './missing.yaml'",
    "$ref: 7",
    "allOf: []",
    "oneOf: [{$ref: '#'}]",
    "type: [string, 'null']",
    "enum: []",
    "x-codegen: {cache: 5}",
    "x-codegen-schema-type: entity",
    "{id}",
    "/{a}/{a}",
    "\t",
    "\u{0}",
    "\u{2028}",
    "required: [ghost]",
    "additionalProperties: false",
    "discriminator: {}",
];

#[derive(Debug, Clone)]
enum Edit {
    Drop(usize),
    Duplicate(usize),
    Truncate(usize, usize),
    Indent(usize, bool),
    Splice(usize, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Drop),
        any::<usize>().prop_map(Edit::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(l, c)| Edit::Truncate(l, c)),
        (any::<usize>(), any::<bool>()).prop_map(|(l, d)| Edit::Indent(l, d)),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(l, c, t)| Edit::Splice(l, c, t)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match *e {
            Edit::Drop(l) => {
                lines.remove(l % n);
            }
            Edit::Duplicate(l) => {
                let line = lines[l % n].clone();
                lines.insert(l % n, line);
            }
            Edit::Truncate(l, c) => {
                let line = &mut lines[l % n];
                let cut = line.char_indices().nth(c % (line.chars().count() + 1));
                if let Some((i, _)) = cut {
                    line.truncate(i);
                }
            }
            Edit::Indent(l, deeper) => {
                let line = &mut lines[l % n];
                if deeper {
                    line.insert_str(0, "  ");
                } else if line.starts_with("  ") {
                    line.replace_range(..2, "");
                }
            }
            Edit::Splice(l, c, t) => {
                let line = &mut lines[l % n];
                let at = line
                    .char_indices()
                    .nth(c % (line.chars().count() + 1))
                    .map_or(line.len(), |(i, _)| i);
                line.insert_str(at, TOKENS[t % TOKENS.len()]);
            }
        }
    }
    lines.join("\n")
}

fn check(text: &str, ext: &str) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join(format!("spec.{ext}"));
    std::fs::write(&path, text).unwrap();
    let outcome = std::panic::catch_unwind(|| archgen::generate(&path, None));
    let Ok(result) = outcome else {
        return Err(TestCaseError::fail(format!("archgen panicked on:\n{text}")));
    };
    if let Err(diagnostics) = result {
        let shown = diagnostics.to_string();
        prop_assert!(shown.contains("error"), "an Err carries an error: {shown}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn broken_yaml_specs_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        let text = apply(&seed("tests/fixtures/specs/constructs.yaml"), &edits);
        check(&text, "yaml")?;
    }

    #[test]
    fn broken_annotated_specs_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        let text = apply(&seed("tests/fixtures/specs/names.yaml"), &edits);
        check(&text, "yaml")?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes).to_string();
        check(&text, "json")?;
        check(&text, "yaml")?;
    }
}
