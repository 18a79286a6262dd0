//! The settings table cannot go stale: `docs/configuration.md` shows exactly
//! `settings::markdown_table()`, and every environment variable the runtime reads is in it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use archgen_runtime::settings::{SETTINGS, markdown_table};

const START: &str = "<!-- settings:start -->";
const END: &str = "<!-- settings:end -->";

fn runtime_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Like rust-analyzer's `ensure_file_contents`: fail with the way to fix it, or, under
/// `UPDATE_DOCS=1`, fix it (and still fail, so the run that rewrote the file is not mistaken
/// for one that found it right).
#[test]
fn configuration_doc_shows_the_table() {
    let path = runtime_dir().join("../docs/configuration.md");
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let start = doc
        .find(START)
        .unwrap_or_else(|| panic!("{} has no `{START}` marker", path.display()))
        + START.len();
    let end = start
        + doc[start..]
            .find(END)
            .unwrap_or_else(|| panic!("{} has no `{END}` after `{START}`", path.display()));
    let want = format!("\n{}", markdown_table());
    if doc[start..end] == want {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        let updated = format!("{}{want}{}", &doc[..start], &doc[end..]);
        std::fs::write(&path, updated)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        panic!(
            "{} was out of date and has been rewritten from `settings::SETTINGS`; run the test again",
            path.display()
        );
    }
    panic!(
        "{} does not show `settings::SETTINGS` as it is. Regenerate it with\n\n    \
         UPDATE_DOCS=1 cargo test -p archgen-runtime --test settings\n\n\
         --- in the doc ---\n{}\n--- from SETTINGS ---\n{}",
        path.display(),
        &doc[start..end],
        want
    );
}

/// Files that read variables which are not service settings: test support (`CI`, and the
/// Postgres and Redis the tests use).
const NOT_SERVICE_CODE: &[&str] = &["testing.rs"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The variables `source` reads: `env::var("NAME")`, `var_os("NAME")`, a helper called `var` (as
/// in `let var = |name| std::env::var(name)...; var("NAME")`), and any string literal that is
/// nothing but an `ARCHGEN_...` or `JWT_...` name, however it reaches the environment.
fn variables_read(source: &str) -> BTreeSet<String> {
    let call = regex::Regex::new(r#"\bvar(?:_os)?\(\s*"([A-Z][A-Z0-9_]*)"\s*\)"#).unwrap();
    let ours = regex::Regex::new(r#""((?:ARCHGEN|JWT)_[A-Z0-9_]+)""#).unwrap();
    call.captures_iter(source)
        .chain(ours.captures_iter(source))
        .map(|c| c[1].to_string())
        .collect()
}

#[test]
fn the_scan_finds_what_it_should() {
    let found = variables_read(
        r#"std::env::var("PORT"); env::var_os( "A_B" ); var("NATS_URL");
           let n = "ARCHGEN_X"; format!("ARCHGEN_Y must be"); std::env::var(name); "lower""#,
    );
    let want: BTreeSet<String> = ["PORT", "A_B", "NATS_URL", "ARCHGEN_X"]
        .map(String::from)
        .into();
    assert_eq!(found, want);
}

#[test]
fn every_variable_the_runtime_reads_is_a_setting() {
    let mut files = Vec::new();
    rust_files(&runtime_dir().join("src"), &mut files);
    files.sort();
    assert!(files.len() > 10, "found only {files:?}");
    let listed: BTreeSet<&str> = SETTINGS.iter().map(|s| s.name).collect();
    let mut missing = Vec::new();
    for file in files {
        if NOT_SERVICE_CODE.iter().any(|n| file.ends_with(n)) {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        for name in variables_read(&source) {
            if !listed.contains(name.as_str()) {
                missing.push(format!("{name} (read in {})", file.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in runtime/src/settings.rs SETTINGS: add a row for each, then run \
         `UPDATE_DOCS=1 cargo test -p archgen-runtime --test settings` to update \
         docs/configuration.md:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn the_known_settings_are_listed() {
    let listed: BTreeSet<&str> = SETTINGS.iter().map(|s| s.name).collect();
    for name in [
        "PORT",
        "DATABASE_URL",
        "RUST_LOG",
        "ARCHGEN_SHUTDOWN_TIMEOUT",
        "ARCHGEN_DEV_ORGANIZATION",
        "REDIS_URL",
        "NATS_URL",
        "JWT_SECRET",
        "JWT_PUBLIC_KEY",
        "JWT_JWKS",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "JWT_LEEWAY",
        "JWT_ORGANIZATION_CLAIM",
    ] {
        assert!(listed.contains(name), "{name} missing");
    }
}

/// The defaults the table states are the ones the code uses.
#[test]
fn defaults_match_the_code() {
    use archgen_runtime::{auth, limits::Limits};
    let default = |name: &str| {
        SETTINGS
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .default
    };
    let limits = Limits::default();
    assert_eq!(default("ARCHGEN_BODY_LIMIT"), limits.body_limit.to_string());
    assert_eq!(
        default("ARCHGEN_REQUEST_TIMEOUT"),
        limits.request_timeout.as_secs_f64().to_string()
    );
    assert_eq!(default("ARCHGEN_CORS_ORIGINS"), "");
    assert_eq!(default("ARCHGEN_RATE_LIMIT"), "");
    assert_eq!(default("JWT_LEEWAY"), auth::DEFAULT_LEEWAY.to_string());
    assert_eq!(
        default("JWT_ORGANIZATION_CLAIM"),
        auth::DEFAULT_ORGANIZATION_CLAIM
    );
    if std::env::var_os("ARCHGEN_SHUTDOWN_TIMEOUT").is_none() {
        assert_eq!(
            default("ARCHGEN_SHUTDOWN_TIMEOUT"),
            archgen_runtime::server::shutdown_timeout()
                .unwrap()
                .as_secs_f64()
                .to_string()
        );
    }
}
