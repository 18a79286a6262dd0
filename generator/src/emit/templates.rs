//! The templates, embedded in the binary. A directory given with `--templates` overrides any of
//! them by file name, so users can change one file without forking archgen.

use std::path::Path;

use crate::diagnostic::Diagnostic;

pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "macros.jinja",
        include_str!("../../../templates/macros.jinja"),
    ),
    (
        "root_mod.rs.jinja",
        include_str!("../../../templates/root_mod.rs.jinja"),
    ),
    (
        "common.rs.jinja",
        include_str!("../../../templates/common.rs.jinja"),
    ),
    (
        "common_mod.rs.jinja",
        include_str!("../../../templates/common_mod.rs.jinja"),
    ),
    (
        "migrations.rs.jinja",
        include_str!("../../../templates/migrations.rs.jinja"),
    ),
    (
        "domain_mod.rs.jinja",
        include_str!("../../../templates/domain_mod.rs.jinja"),
    ),
    (
        "types.rs.jinja",
        include_str!("../../../templates/types.rs.jinja"),
    ),
    (
        "repository.rs.jinja",
        include_str!("../../../templates/repository.rs.jinja"),
    ),
    (
        "store.rs.jinja",
        include_str!("../../../templates/store.rs.jinja"),
    ),
    (
        "service.rs.jinja",
        include_str!("../../../templates/service.rs.jinja"),
    ),
    (
        "http.rs.jinja",
        include_str!("../../../templates/http.rs.jinja"),
    ),
    (
        "client.rs.jinja",
        include_str!("../../../templates/client.rs.jinja"),
    ),
];

/// Template sources: the embedded set, with any overrides from `dir` replacing them by name.
pub fn sources(dir: Option<&Path>) -> Result<Vec<(String, String)>, Diagnostic> {
    let mut out: Vec<(String, String)> = EMBEDDED
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    let Some(dir) = dir else { return Ok(out) };
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Diagnostic::error(format!(
            "cannot read templates directory {}: {e}",
            dir.display()
        ))
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(slot) = out.iter_mut().find(|(n, _)| *n == name) else {
            return Err(Diagnostic::error(format!(
                "template override {} does not replace any template",
                entry.path().display()
            ))
            .hint(format!(
                "templates are: {}",
                EMBEDDED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        slot.1 = std::fs::read_to_string(entry.path()).map_err(|e| {
            Diagnostic::error(format!("cannot read {}: {e}", entry.path().display()))
        })?;
    }
    Ok(out)
}
