//! archgen: annotated OpenAPI → Rust domain services.
//!
//! The pipeline is one module per stage: [`load`] → [`annotate`] → [`model`] → [`emit`] →
//! [`format`] → [`write`]. [`Builder`] drives it from `build.rs`; the `archgen` binary from the
//! command line; both go through [`generate`].

pub mod annotate;
mod builder;
pub mod config;
pub mod diagnostic;
pub mod emit;
pub mod format;
pub mod load;
pub mod migrate;
pub mod model;
pub mod scaffold;
pub mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use builder::Builder;
pub use diagnostic::{Diagnostic, Diagnostics};

/// Everything one spec produces.
#[derive(Debug)]
pub struct Generated {
    /// Final file contents (formatted and stamped), by path relative to the output directory.
    pub files: BTreeMap<PathBuf, String>,
    /// Every spec file read, for `rerun-if-changed`.
    pub inputs: Vec<PathBuf>,
    pub warnings: Diagnostics,
    pub model: model::Model,
}

/// Run the pipeline on `spec` up to, not including, writing, as if nothing had been generated
/// before (one migration creates the whole schema). `build.rs` uses this.
pub fn generate(spec: &Path, templates: Option<&Path>) -> Result<Generated, Diagnostics> {
    generate_in(spec, templates, None)
}

/// The same, continuing from what is already generated in `out`: a schema change since then
/// becomes a new migration, and released migrations are kept as they are.
pub fn generate_in(
    spec: &Path,
    templates: Option<&Path>,
    out: Option<&Path>,
) -> Result<Generated, Diagnostics> {
    let loaded = load::load(spec)?;
    let (model, warnings) = model::lower(&loaded)?;
    let released = match out {
        Some(dir) => migrate::read_released(dir)?,
        None => migrate::Released::default(),
    };
    let migrations = migrate::plan(&migrate::schema_of(&model), released)?;
    let raw = emit::emit(&model, &migrations, templates)?;
    let source = spec
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let files = format::finish(raw, &source).map_err(Diagnostics::from)?;
    Ok(Generated {
        files,
        inputs: loaded.files,
        warnings,
        model,
    })
}

/// Check a spec without generating: every problem at once, warnings included.
pub fn validate(spec: &Path) -> Diagnostics {
    let loaded = match load::load(spec) {
        Ok(l) => l,
        Err(d) => return d,
    };
    match model::lower(&loaded) {
        Ok((_, warnings)) => warnings,
        Err(d) => d,
    }
}
