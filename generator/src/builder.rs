//! `build.rs` support, in the style of prost-build: generate into `OUT_DIR` and tell cargo which
//! files to watch.
//!
//! ```no_run
//! // build.rs
//! archgen::Builder::new("openapi.yaml").generate().expect("archgen");
//! // src/main.rs
//! // mod api { include!(concat!(env!("OUT_DIR"), "/archgen.rs")); }
//! ```

use std::path::PathBuf;

use crate::diagnostic::Diagnostics;

#[derive(Debug, Clone)]
pub struct Builder {
    spec: PathBuf,
    out_dir: Option<PathBuf>,
    file_name: String,
    templates: Option<PathBuf>,
}

impl Builder {
    pub fn new(spec: impl Into<PathBuf>) -> Self {
        Self {
            spec: spec.into(),
            out_dir: None,
            file_name: "archgen.rs".into(),
            templates: None,
        }
    }

    /// Where to write; defaults to `$OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Name of the generated file; defaults to `archgen.rs`.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = name.into();
        self
    }

    pub fn templates(mut self, dir: impl Into<PathBuf>) -> Self {
        self.templates = Some(dir.into());
        self
    }

    /// Generate one file with every module inline. Prints `cargo:rerun-if-changed` for each spec
    /// file read and `cargo:warning` for each warning.
    pub fn generate(self) -> Result<PathBuf, Diagnostics> {
        let out_dir = match self
            .out_dir
            .or_else(|| std::env::var_os("OUT_DIR").map(PathBuf::from))
        {
            Some(d) => d,
            None => {
                return Err(crate::Diagnostic::error(
                    "OUT_DIR is not set: call from build.rs or set out_dir",
                )
                .into());
            }
        };
        println!("cargo:rerun-if-changed={}", self.spec.display());
        let generated = crate::generate(&self.spec, self.templates.as_deref())?;
        for input in &generated.inputs {
            println!("cargo:rerun-if-changed={}", input.display());
        }
        if let Some(t) = &self.templates {
            println!("cargo:rerun-if-changed={}", t.display());
        }
        for w in generated.warnings.warnings() {
            println!(
                "cargo:warning=archgen: {}",
                w.to_string().replace('\n', " ")
            );
        }
        let rust: std::collections::BTreeMap<_, _> = generated
            .files
            .into_iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        let text = crate::format::single_file(&rust).map_err(Diagnostics::from)?;
        let path = out_dir.join(&self.file_name);
        let text = crate::format::stamp(&path, &self.spec.display().to_string(), &text);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(|e| {
                crate::Diagnostic::error(format!("cannot write {}: {e}", path.display()))
            })?;
        }
        Ok(path)
    }
}
