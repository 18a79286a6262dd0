//! CRUD or custom? ArchesAI's conventions decide: the method, whether the path ends in a
//! parameter, and which entity the `data` of the success response holds. A path with
//! parameters before its last collection (`/stores/{storeID}/orders/{id}`) is a nested
//! collection: each of those parameters names a parent.

use openapiv3::Response;

use super::OperationKind::{self, Create, Custom, Delete, Get, List, Update};
use super::schema::{SKind, SRef, from_ref};

pub struct Shape<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub custom: bool,
}

/// A parent in a nested path: the collection segment and the parameter after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathParent {
    /// The collection, as the path spells it (`stores`).
    pub collection: String,
    /// The parameter holding the parent's id (`storeID`).
    pub param: String,
    /// Its position among the path's parameters.
    pub position: usize,
}

/// The parents of a path, outermost first; `None` when a parameter does not follow a
/// collection (`/{tenant}/items`), which no convention reads.
pub fn path_parents(path: &str) -> Option<Vec<PathParent>> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let item = segments.last().is_some_and(|s| s.starts_with('{'));
    let parents_end = segments.len() - usize::from(item);
    let mut parents = Vec::new();
    for (i, s) in segments[..parents_end].iter().enumerate() {
        let Some(param) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            continue;
        };
        let collection = i.checked_sub(1).map(|j| segments[j])?;
        if collection.starts_with('{') {
            return None;
        }
        parents.push(PathParent {
            collection: collection.to_string(),
            param: param.to_string(),
            position: parents.len(),
        });
    }
    Some(parents)
}

/// The entity component whose plural is `collection` (`line-items` → `LineItem`), by archgen's
/// plural first, then by the usual English singulars of the segment (`shelves` → `Shelf`).
pub fn entity_of_collection(collection: &str, entities: &[(String, String)]) -> Option<String> {
    let norm = collection.replace(['-', '_'], "").to_lowercase();
    let by_plural = entities
        .iter()
        .find(|(_, plural)| plural.replace('_', "") == norm);
    let singulars = singulars(&norm);
    let by_singular = || {
        entities.iter().find(|(component, _)| {
            let name = component.replace(['-', '_'], "").to_lowercase();
            singulars.contains(&name)
        })
    };
    by_plural.or_else(by_singular).map(|(c, _)| c.clone())
}

/// What a plural segment may be the plural of: `shelves` → `shelf`, `shelfe`, `shelve`, ….
fn singulars(plural: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(stem) = plural.strip_suffix("ves") {
        out.push(format!("{stem}f"));
        out.push(format!("{stem}fe"));
    }
    if let Some(stem) = plural.strip_suffix("ies") {
        out.push(format!("{stem}y"));
    }
    if let Some(stem) = plural.strip_suffix("es") {
        out.push(stem.to_string());
    }
    if let Some(stem) = plural.strip_suffix('s') {
        out.push(stem.to_string());
    }
    out
}

/// (kind, entity component) for an operation; the component is `None` for a custom one.
pub fn classify(
    shape: &Shape<'_>,
    success: Option<&Response>,
    entities: &[(String, String)],
) -> (OperationKind, Option<String>) {
    if shape.custom || path_parents(shape.path).is_none() {
        return (Custom, None);
    }
    let segments: Vec<&str> = shape.path.split('/').filter(|s| !s.is_empty()).collect();
    let item = segments.last().is_some_and(|s| s.starts_with('{'));
    let data = success.and_then(data_entity);
    let by_path = || {
        let collection = segments.iter().rev().find(|s| !s.starts_with('{'))?;
        entity_of_collection(collection, entities)
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
