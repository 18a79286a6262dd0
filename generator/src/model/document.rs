//! The document a service serves at `/openapi.json`: the bundled spec, completed with what the
//! generated server does that the spec states only in annotations or leaves unsaid, so that
//! clients and conformance tools reading it are told the truth.

use serde_json::{Map, Value, json};

use super::{Domain, OperationKind};

pub fn served(mut doc: Value, domains: &[Domain]) -> String {
    mark_sensitive(&mut doc);
    for op in domains.iter().flat_map(|d| &d.operations) {
        let pointer = format!(
            "/paths/{}/{}",
            op.path.replace('~', "~0").replace('/', "~1"),
            op.method
        );
        let Some(Value::Object(target)) = doc.pointer_mut(&pointer) else {
            continue;
        };
        // ArchesAI's x-public-endpoint opens an operation: say so in OpenAPI's own terms.
        if op.security.is_none() && target.get("x-public-endpoint") == Some(&Value::Bool(true)) {
            target.insert("security".into(), json!([]));
        }
        let mut implied = Vec::new();
        if op.security.is_some() {
            implied.push(("401", "Missing, expired or invalid credentials."));
        }
        // Missing permissions, or scopes a requirement lists, are 403.
        if op.security.as_ref().is_some_and(|a| a.can_forbid()) {
            implied.push(("403", "The caller lacks a permission this operation needs."));
        }
        let by_id = op.entity.is_some()
            && matches!(
                op.kind,
                OperationKind::Get | OperationKind::Update | OperationKind::Delete
            );
        if by_id || (!op.path_params.is_empty() && op.path_invalid_status == 404) {
            implied.push(("404", "No such resource."));
        }
        let validates_input = !op.query_params.is_empty()
            || !op.header_params.is_empty()
            || !op.cookie_params.is_empty()
            || op.body.is_some()
            || op.kind == OperationKind::List;
        let validates_path = !op.path_params.is_empty() && op.path_invalid_status != 404;
        if validates_input || validates_path {
            implied.push((
                "422",
                "The request failed validation; every failing field is named.",
            ));
        }
        add_responses(target, &implied);
    }
    serde_json::to_string(&doc).unwrap_or_default()
}

/// Responses the server can give that the operation does not declare (nor covers with
/// `default`), described without content: they carry the spec's problem body.
fn add_responses(op: &mut Map<String, Value>, implied: &[(&str, &str)]) {
    let Some(Value::Object(responses)) = op.get_mut("responses") else {
        return;
    };
    if responses.contains_key("default") {
        return;
    }
    for (code, description) in implied {
        let taken = responses.contains_key(*code)
            || (*code == "422" && responses.contains_key("400"))
            || responses.contains_key(&format!("{}XX", &code[..1]));
        if !taken {
            responses.insert((*code).into(), json!({ "description": description }));
        }
    }
}

/// `x-sensitive` properties never leave the server, so the served document marks them
/// `writeOnly`: clients and conformance tools then know responses omit them.
fn mark_sensitive(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                for prop in props.values_mut() {
                    if let Value::Object(p) = prop
                        && p.get("x-sensitive") == Some(&Value::Bool(true))
                    {
                        p.insert("writeOnly".into(), Value::Bool(true));
                    }
                }
            }
            map.values_mut().for_each(mark_sensitive);
        }
        Value::Array(items) => items.iter_mut().for_each(mark_sensitive),
        _ => {}
    }
}
