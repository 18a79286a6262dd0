//! The spec's problem schema: what its error responses (4xx, 5xx, `default`) declare, so the
//! runtime can shape every error body to fit it (`rt::problem::ProblemShape`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct ProblemShape {
    pub media_type: String,
    pub field_errors: bool,
    pub title_pattern: Option<String>,
    pub title_max: Option<u64>,
    pub detail_pattern: Option<String>,
    pub detail_max: Option<u64>,
}

impl Default for ProblemShape {
    fn default() -> Self {
        Self {
            media_type: "application/problem+json".into(),
            field_errors: true,
            title_pattern: None,
            title_max: None,
            detail_pattern: None,
            detail_max: None,
        }
    }
}

/// The shape the most error responses declare. Specs almost always share one problem schema;
/// when they do not, the common one wins and the others are answered in it too.
pub fn shape(doc: &Value) -> ProblemShape {
    let Some((_, (_, media, schema))) = common_error_body(doc) else {
        return ProblemShape::default();
    };
    let props = schema.get("properties").and_then(Value::as_object);
    let text = |name: &str| {
        let p = props.and_then(|p| p.get(name)).map(|p| resolve(doc, p));
        (
            p.and_then(|p| p.get("pattern"))
                .and_then(Value::as_str)
                .map(str::to_string),
            p.and_then(|p| p.get("maxLength")).and_then(Value::as_u64),
        )
    };
    let closed = schema.get("additionalProperties") == Some(&Value::Bool(false))
        || schema.get("unevaluatedProperties") == Some(&Value::Bool(false));
    let (title_pattern, title_max) = text("title");
    let (detail_pattern, detail_max) = text("detail");
    ProblemShape {
        media_type: media,
        field_errors: !closed || props.is_some_and(|p| p.contains_key("errors")),
        title_pattern,
        title_max,
        detail_pattern,
        detail_max,
    }
}

/// The error body most error responses declare, by its key ([`error_body_key`]): how often, its
/// media type and its schema, resolved.
fn common_error_body(doc: &Value) -> Option<(String, (usize, String, Value))> {
    let mut seen: BTreeMap<String, (usize, String, Value)> = BTreeMap::new();
    let operations = doc
        .pointer("/paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values());
    for op in operations {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            continue;
        };
        for (code, response) in responses {
            if !(code.starts_with('4') || code.starts_with('5') || code == "default") {
                continue;
            }
            let Some((media, schema)) = error_body(doc, response) else {
                continue;
            };
            let entry = seen
                .entry(error_body_key(&media, schema))
                .or_insert_with(|| (0, media, resolve(doc, schema).clone()));
            entry.0 += 1;
        }
    }
    seen.into_iter().max_by_key(|(_, (n, ..))| *n)
}

/// The key of the spec's common error body, which every error is answered in.
pub fn common_error_key(doc: &Value) -> Option<String> {
    common_error_body(doc).map(|(key, _)| key)
}

/// An error response's JSON body: its media type and schema node.
fn error_body<'a>(doc: &'a Value, response: &'a Value) -> Option<(String, &'a Value)> {
    let content = resolve(doc, response).get("content")?.as_object()?;
    let (media, body) = ["application/problem+json", "application/json"]
        .iter()
        .find_map(|m| content.get(*m).map(|b| (m.to_string(), b)))?;
    Some((media, body.get("schema")?))
}

/// An error body's identity: its media type and its schema's `$ref`, or its text when inline.
fn error_body_key(media: &str, schema: &Value) -> String {
    format!("{media} {}", schema.get("$ref").unwrap_or(schema))
}

/// Whether the error response at `pointer` has a JSON body of its own, other than the spec's
/// common problem (`common`): a body a custom handler returns typed.
pub fn is_typed_error(doc: &Value, pointer: &str, common: Option<&str>) -> bool {
    let Some(response) = doc.pointer(pointer) else {
        return false;
    };
    match error_body(doc, response) {
        Some((media, schema)) => {
            media == "application/json" && Some(error_body_key(&media, schema).as_str()) != common
        }
        None => false,
    }
}

/// Follows local `$ref`s (the bundled document has no others).
pub(super) fn resolve<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
                Some(target) => node = target,
                None => return node,
            },
            None => return node,
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_problem_schema_wins() {
        let doc = serde_json::json!({
            "paths": {"/a": {"get": {"responses": {
                "404": {"$ref": "#/components/responses/NotFound"},
                "422": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "default": {"$ref": "#/components/responses/NotFound"},
            }}}},
            "components": {
                "responses": {"NotFound": {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/P"}}}}},
                "schemas": {"P": {"type": "object", "additionalProperties": false, "properties": {
                    "title": {"type": "string"},
                    "detail": {"type": "string", "pattern": "^[a-z ]+$", "maxLength": 80},
                }}},
            },
        });
        let shape = shape(&doc);
        assert_eq!(shape.media_type, "application/problem+json");
        assert!(!shape.field_errors);
        assert_eq!(shape.detail_pattern.as_deref(), Some("^[a-z ]+$"));
        assert_eq!(shape.detail_max, Some(80));
        assert_eq!(
            ProblemShape::default().media_type,
            "application/problem+json"
        );
    }
}
