//! The root must be an OpenAPI 3.0, 3.1 or 3.2 object.

use super::node::{Kind, Node, Problem};

/// Returns the `openapi` value as written, e.g. "3.1.0".
pub(crate) fn check_root(root: &Node) -> Result<String, Problem> {
    let Some(m) = root.as_map() else {
        let message = match root.kind {
            Kind::Null => "the file is empty; expected an OpenAPI document".to_string(),
            _ => format!(
                "the document root must be a mapping (an OpenAPI object), not {}",
                root.kind_name()
            ),
        };
        return Err(Problem::new(message, root.loc).pointer(""));
    };
    if let Some(swagger) = m.get("swagger") {
        return Err(Problem::new("Swagger 2.0 documents are not supported", swagger.loc)
            .pointer("/swagger")
            .hint(Some("convert it to OpenAPI 3 first, e.g. `npx swagger2openapi spec.yaml -o openapi.yaml`".into())));
    }
    let Some(field) = m.get("openapi") else {
        return Err(Problem::new("missing `openapi` version field", root.loc)
            .pointer("")
            .hint(Some(
                "add `openapi: 3.1.0` (or the version the spec follows) at the top".into(),
            )));
    };
    let version = match &field.kind {
        Kind::String(s) => s.clone(),
        // `openapi: 3.1` reads as a number; its text is what was meant.
        Kind::Number(_, raw) => raw.to_string(),
        _ => {
            return Err(Problem::new(
                format!(
                    "`openapi` must be a version string, not {}",
                    field.kind_name()
                ),
                field.loc,
            )
            .pointer("/openapi"));
        }
    };
    if !supported(&version) {
        return Err(Problem::new(
            format!("unsupported OpenAPI version `{version}`"),
            field.loc,
        )
        .pointer("/openapi")
        .hint(Some("supported versions are 3.0.x, 3.1.x and 3.2.x".into())));
    }
    Ok(version)
}

/// `3.0`, `3.1.1`, `3.2.0-rc1`, ...
fn supported(version: &str) -> bool {
    let core = version.trim().split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    matches!(
        parts.as_slice(),
        ["3", "0" | "1" | "2"] | ["3", "0" | "1" | "2", _]
    ) && parts.iter().all(|p| numeric(p))
}
