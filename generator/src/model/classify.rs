//! CRUD or custom? ArchesAI's conventions decide: the method, whether the path ends in a
//! parameter, and which entity the `data` of the success response holds.

use openapiv3::Response;

use super::OperationKind::{self, Create, Custom, Delete, Get, List, Update};
use super::schema::{SKind, SRef, from_ref};

pub struct Shape<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub custom: bool,
}

/// (kind, entity component) for an operation; the component is `None` for a custom one.
pub fn classify(
    shape: &Shape<'_>,
    success: Option<&Response>,
    entities: &[(String, String)],
) -> (OperationKind, Option<String>) {
    if shape.custom {
        return (Custom, None);
    }
    let segments: Vec<&str> = shape.path.split('/').filter(|s| !s.is_empty()).collect();
    let params = segments.iter().filter(|s| s.starts_with('{')).count();
    let item = segments.last().is_some_and(|s| s.starts_with('{'));
    // Nested resources (`/orgs/{org}/members/{id}`) need scoping rules that plain CRUD lacks.
    if params > usize::from(item) {
        return (Custom, None);
    }
    let data = success.and_then(data_entity);
    let by_path = || {
        let collection = segments.iter().rev().find(|s| !s.starts_with('{'))?;
        let norm = collection.replace(['-', '_'], "").to_lowercase();
        entities
            .iter()
            .find(|(_, plural)| plural.replace('_', "") == norm)
            .map(|(c, _)| c.clone())
    };
    let entity_of = |d: &Option<(String, bool)>, list: bool| -> Option<String> {
        match d {
            Some((name, is_list))
                if *is_list == list && entities.iter().any(|(c, _)| c == name) =>
            {
                Some(name.clone())
            }
            _ => None,
        }
    };
    let result = match (shape.method, item) {
        ("get", false) => entity_of(&data, true).map(|e| (List, e)),
        ("post", false) => entity_of(&data, false).map(|e| (Create, e)),
        ("get", true) => entity_of(&data, false).map(|e| (Get, e)),
        ("patch" | "put", true) => entity_of(&data, false).map(|e| (Update, e)),
        ("delete", true) => match &data {
            None => by_path().map(|e| (Delete, e)),
            d => entity_of(d, false).map(|e| (Delete, e)),
        },
        _ => None,
    };
    match result {
        Some((kind, entity)) => (kind, Some(entity)),
        None => (Custom, None),
    }
}

/// The entity named by `data` in a JSON response: (component, whether it is a list).
fn data_entity(response: &Response) -> Option<(String, bool)> {
    let media = response.content.iter().find(|(k, _)| k.contains("json"))?.1;
    let schema = from_ref(media.schema.as_ref()?);
    let SRef::Inline(s) = schema else { return None };
    let SKind::Object(obj) = &s.kind else {
        return None;
    };
    match obj.properties.get("data")? {
        SRef::Ref(name) => Some((name.clone(), false)),
        SRef::Inline(inner) => match &inner.kind {
            SKind::Array {
                items: Some(SRef::Ref(name)),
                ..
            } => Some((name.clone(), true)),
            SKind::AllOf(m) if m.len() == 1 => match &m[0] {
                SRef::Ref(name) => Some((name.clone(), false)),
                _ => None,
            },
            _ => None,
        },
    }
}
