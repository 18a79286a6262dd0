//! The document a service serves at `/openapi.json`: the bundled spec, adjusted where the
//! generated server keeps a promise the spec states in an annotation rather than in OpenAPI.

use serde_json::Value;

/// `x-sensitive` properties never leave the server, so the served document marks them
/// `writeOnly`: clients and conformance tools then know responses omit them.
pub fn served(doc: &Value) -> String {
    let mut doc = doc.clone();
    mark_sensitive(&mut doc);
    serde_json::to_string(&doc).unwrap_or_default()
}

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
