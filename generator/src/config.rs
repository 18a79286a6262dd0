//! `archgen.toml`: which specs generate into which directories. Paths are relative to the file.
//!
//! ```toml
//! [[generate]]
//! spec = "specs/storage/openapi.yaml"
//! out = "src/generated"
//! stubs = "src/custom"     # optional: one stub per custom operation, never overwritten
//! templates = "templates"  # optional: overrides by file name
//! ```
//! A single job may also be written at the top level (`spec = …`, `out = …`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub spec: PathBuf,
    pub out: PathBuf,
    #[serde(default)]
    pub stubs: Option<PathBuf>,
    #[serde(default)]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    generate: Vec<Job>,
    spec: Option<PathBuf>,
    out: Option<PathBuf>,
    stubs: Option<PathBuf>,
    templates: Option<PathBuf>,
}

pub fn read(path: &Path) -> Result<Vec<Job>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut jobs = file.generate;
    match (file.spec, file.out) {
        (Some(spec), Some(out)) => jobs.push(Job {
            spec,
            out,
            stubs: file.stubs,
            templates: file.templates,
        }),
        (None, None) => {}
        _ => {
            return Err(format!(
                "{}: a top-level job needs both `spec` and `out`",
                path.display()
            ));
        }
    }
    if jobs.is_empty() {
        return Err(format!(
            "{}: no jobs; add `spec` and `out`, or [[generate]] tables",
            path.display()
        ));
    }
    Ok(jobs
        .into_iter()
        .map(|j| Job {
            spec: base.join(j.spec),
            out: base.join(j.out),
            stubs: j.stubs.map(|s| base.join(s)),
            templates: j.templates.map(|t| base.join(t)),
        })
        .collect())
}
