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
    let mut clock = Stopwatch::start();
    let loaded = load::load(spec)?;
    clock.lap("load");
    let inputs = loaded.files.clone();
    let (model, warnings) = model::lower(loaded)?;
    clock.lap("annotate and lower");
    let released = match out {
        Some(dir) => migrate::read_released(dir)?,
        None => migrate::Released::default(),
    };
    let migrations = migrate::plan(&migrate::schema_of(&model), released)?;
    clock.lap("migrate");
    let raw = emit::emit(&model, &migrations, templates)?;
    clock.lap("emit");
    let source = spec
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let files = format::finish(raw, &source).map_err(Diagnostics::from)?;
    clock.lap("format");
    Ok(Generated {
        files,
        inputs,
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
    match model::lower(loaded) {
        Ok((_, warnings)) => warnings,
        Err(d) => d,
    }
}

/// Per-stage timings, and the resident memory after each stage, on stderr when
/// `ARCHGEN_TIMINGS` is set, to see where a large spec spends its time and memory.
struct Stopwatch {
    last: Option<std::time::Instant>,
}

impl Stopwatch {
    fn start() -> Self {
        let on = std::env::var_os("ARCHGEN_TIMINGS").is_some();
        Self {
            last: on.then(std::time::Instant::now),
        }
    }

    fn lap(&mut self, stage: &str) {
        if let Some(last) = self.last {
            // Resident memory now, from /proc where there is one: where a stage's memory goes.
            let rss = std::fs::read_to_string("/proc/self/statm")
                .ok()
                .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
                .map_or(String::new(), |pages| {
                    format!(", {} MB resident", (pages * 4096) >> 20)
                });
            eprintln!(
                "archgen: {stage}: {:.1} ms{rss}",
                last.elapsed().as_secs_f64() * 1e3
            );
            self.last = Some(std::time::Instant::now());
        }
    }
}
