//! What a list operation's parameters say about paging and sorting.

use openapiv3::{Parameter, ParameterSchemaOrContent};

use super::schema::{SKind, from_ref};
use super::types::TypeSpace;

/// `limit`'s default and maximum, from a `page` object parameter (ArchesAI) or a plain `limit`.
pub(super) fn page_limits(params: &[&Parameter], types: &TypeSpace<'_>) -> Option<(u32, u32)> {
    let schema_of = |name: &str| {
        params
            .iter()
            .find(|p| p.parameter_data_ref().name == name)
            .and_then(|p| match &p.parameter_data_ref().format {
                ParameterSchemaOrContent::Schema(s) => Some(from_ref(s)),
                ParameterSchemaOrContent::Content(_) => None,
            })
    };
    let limit = match schema_of("page") {
        Some(page) => types.flatten(&page)?.properties.get("limit")?.clone(),
        None => schema_of("limit")?,
    };
    let s = types.resolve(&limit)?;
    let SKind::Integer(n) = &s.kind else {
        return None;
    };
    let max = n
        .maximum
        .filter(|m| *m >= 1.0)
        .map_or(100, |m| m.min(10_000.0) as u32);
    let default = s
        .default
        .as_ref()
        .and_then(|d| d.as_u64())
        .map_or(max.min(20), |d| (d as u32).clamp(1, max));
    Some((default, max))
}

/// The sortable fields a `sort` parameter names: the `field` enum of ArchesAI's array of
/// `{field, order}`, or an array of strings (`sort=-createdAt,name`) whose enum lists each field
/// with or without its `-`.
pub(super) fn sort_fields(params: &[&Parameter], types: &TypeSpace<'_>) -> Option<Vec<String>> {
    let sref = sort_schema(params)?;
    let SKind::Array {
        items: Some(items), ..
    } = &types.resolve(&sref)?.kind
    else {
        return None;
    };
    if let Some(SKind::String(st)) = types.resolve(items).map(|s| &s.kind) {
        let mut fields: Vec<String> = Vec::new();
        for value in &st.enumeration {
            let field = value.trim_start_matches(['-', '+']);
            let field = field.split(':').next().unwrap_or(field).to_string();
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        return (!fields.is_empty()).then_some(fields);
    }
    let field = types.flatten(items)?.properties.get("field")?.clone();
    match &types.resolve(&field)?.kind {
        SKind::String(st) if !st.enumeration.is_empty() => Some(st.enumeration.clone()),
        _ => None,
    }
}

/// Whether a list response may carry `meta.nextCursor`: not when the spec's `meta` schema is
/// closed and does not name it (the response would break its own schema).
pub(super) fn next_cursor_allowed(doc: &serde_json::Value, response_pointer: &str) -> bool {
    use serde_json::Value;
    let resolve = |node| super::problem::resolve(doc, node);
    let Some(response) = doc.pointer(response_pointer).map(resolve) else {
        return true;
    };
    let Some(schema) = response
        .pointer("/content/application~1json/schema")
        .map(resolve)
    else {
        return true;
    };
    // `meta` may sit in the schema itself or in one of its allOf members.
    let members = std::iter::once(schema).chain(
        schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(resolve),
    );
    for member in members {
        if let Some(meta) = member.pointer("/properties/meta").map(resolve) {
            let named = meta.pointer("/properties/nextCursor").is_some();
            let closed = meta.get("additionalProperties") == Some(&Value::Bool(false))
                || meta.get("unevaluatedProperties") == Some(&Value::Bool(false));
            return named || !closed;
        }
    }
    true
}

/// The schema of a list's `sort` parameter, when it has one.
fn sort_schema(params: &[&Parameter]) -> Option<super::schema::SRef> {
    let param = params
        .iter()
        .find(|p| p.parameter_data_ref().name == "sort")?;
    match &param.parameter_data_ref().format {
        ParameterSchemaOrContent::Schema(schema) => Some(from_ref(schema)),
        ParameterSchemaOrContent::Content(_) => None,
    }
}

/// Whether `sort` is ArchesAI's array of `{field, order}` objects, which OpenAPI gives no query
/// serialisation: clients and tools cannot know to send `sort=-createdAt,name`.
pub(super) fn sort_is_object_array(params: &[&Parameter], types: &TypeSpace<'_>) -> bool {
    let Some(sref) = sort_schema(params) else {
        return false;
    };
    match types.resolve(&sref).map(|s| &s.kind) {
        Some(SKind::Array {
            items: Some(items), ..
        }) => types
            .flatten(items)
            .is_some_and(|o| !o.properties.is_empty()),
        _ => false,
    }
}

/// Whether `sort` is declared as any text at all: clients and tools then believe any string
/// sorts, while the service accepts only its sortable fields.
pub(super) fn sort_is_free_text(params: &[&Parameter], types: &TypeSpace<'_>) -> bool {
    let Some(sref) = sort_schema(params) else {
        return false;
    };
    let text = |kind: Option<&SKind>| matches!(kind, Some(SKind::String(st)) if st.enumeration.is_empty() && st.pattern.is_none());
    match types.resolve(&sref).map(|s| &s.kind) {
        Some(SKind::Array {
            items: Some(items), ..
        }) => text(types.resolve(items).map(|s| &s.kind)),
        kind => text(kind),
    }
}

/// The query keys a list may receive, when its parameters close them: some form-exploded object
/// (`page` arriving as `limit=…&offset=…`) refuses other properties (`additionalProperties:
/// false`), and no object parameter is open. The keys are each parameter's name (its part before
/// `[` too: `page[size]` arrives under `page`), each closed object's properties, and `cursor`,
/// which every list hands out. `None` otherwise: unknown keys are then ignored.
pub(super) fn closed_query_keys(
    params: &[&Parameter],
    types: &TypeSpace<'_>,
) -> Option<Vec<String>> {
    let mut keys = vec!["cursor".to_string()];
    let mut closed = false;
    for p in params {
        let Parameter::Query {
            parameter_data,
            style,
            ..
        } = p
        else {
            continue;
        };
        let name = &parameter_data.name;
        keys.push(name.clone());
        if let Some((head, _)) = name.split_once('[') {
            keys.push(head.to_string());
        }
        let ParameterSchemaOrContent::Schema(schema) = &parameter_data.format else {
            continue;
        };
        let exploded =
            matches!(style, openapiv3::QueryStyle::Form) && parameter_data.explode != Some(false);
        let Some(object) = types.flatten(&from_ref(schema)).filter(|_| exploded) else {
            continue;
        };
        if !matches!(object.additional, Some(None)) {
            return None;
        }
        closed = true;
        keys.extend(object.properties.keys().cloned());
    }
    let mut seen = std::collections::BTreeSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    closed.then_some(keys)
}
