//! Which OpenAPI object each node is. Bundling needs this to choose the components section a
//! hoisted target goes to; normalization needs it so that only schemas are rewritten (a property
//! *named* `type` is not the `type` keyword); and nothing may look inside examples or extensions,
//! which are user data that merely happens to look like OpenAPI.

use super::node::{Kind, Node};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Document,
    Paths,
    PathItem,
    Operation,
    Parameter,
    Header,
    RequestBody,
    Responses,
    Response,
    MediaType,
    Encoding,
    Schema,
    Discriminator,
    Example,
    Link,
    Callback,
    SecurityScheme,
    Components,
    /// Something the loader has no special knowledge of; `$ref`s in it are still followed.
    Other,
    /// Data (examples, defaults, enums, `x-` extensions): never rewritten or followed.
    Literal,
}

/// The sections of `components`, with the kind of object each holds.
pub(crate) const SECTIONS: &[(&str, Slot)] = &[
    ("schemas", Slot::Schema),
    ("responses", Slot::Response),
    ("parameters", Slot::Parameter),
    ("examples", Slot::Example),
    ("requestBodies", Slot::RequestBody),
    ("headers", Slot::Header),
    ("securitySchemes", Slot::SecurityScheme),
    ("links", Slot::Link),
    ("callbacks", Slot::Callback),
    ("pathItems", Slot::PathItem),
    ("mediaTypes", Slot::MediaType),
];

/// The components section a reference found in `slot` is hoisted to, or `None` when the target
/// is copied in place instead: `openapiv3` reads path items and media types only inline, and an
/// unknown position defaults to schemas, by far the most common target.
pub(crate) fn section(slot: Slot) -> Option<&'static str> {
    let found = SECTIONS
        .iter()
        .find(|(_, s)| *s == slot)
        .map(|(name, _)| *name);
    match slot {
        Slot::PathItem | Slot::MediaType | Slot::Encoding => None,
        Slot::Document | Slot::Paths | Slot::Operation | Slot::Responses | Slot::Components => None,
        _ => Some(found.unwrap_or("schemas")),
    }
}

enum Child {
    One(Slot),
    MapOf(Slot),
    ListOf(Slot),
    /// `items`: a schema, or (draft 4 tuples) a list of them.
    OneOrList(Slot),
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace", "query",
];

fn child(slot: Slot, key: &str) -> Child {
    use Child::{ListOf, MapOf, One};
    use Slot::*;
    if slot == Literal || key.starts_with("x-") {
        return One(Literal);
    }
    match (slot, key) {
        (Document, "paths") => One(Paths),
        (Document, "components") => One(Components),
        (Document, "webhooks") => MapOf(PathItem),
        (Paths, k) => One(if k.starts_with('/') {
            PathItem
        } else {
            Literal
        }),
        (PathItem, k) if METHODS.contains(&k) => One(Operation),
        (PathItem, "additionalOperations") => MapOf(Operation),
        (PathItem | Operation, "parameters") => ListOf(Parameter),
        (Operation, "requestBody") => One(RequestBody),
        (Operation, "responses") => One(Responses),
        (Operation, "callbacks") => MapOf(Callback),
        (Responses, _) => One(Response),
        (Callback, _) => One(PathItem),
        (Parameter | Header | MediaType, "schema") | (MediaType, "itemSchema") => One(Schema),
        (Parameter | Header | RequestBody | Response, "content") => MapOf(MediaType),
        (Parameter | Header | MediaType, "examples") => MapOf(Example),
        (Parameter | Header | MediaType, "example") => One(Literal),
        (MediaType, "encoding") => MapOf(Encoding),
        (MediaType, "prefixEncoding") => ListOf(Encoding),
        (MediaType, "itemEncoding") => One(Encoding),
        (Encoding | Response, "headers") => MapOf(Header),
        (Response, "links") => MapOf(Link),
        (Example, "value" | "dataValue" | "serializedValue") => One(Literal),
        (Link, "parameters" | "requestBody") => One(Literal),
        (Components, k) => match SECTIONS.iter().find(|(name, _)| *name == k) {
            Some((_, s)) => MapOf(*s),
            None => One(Other),
        },
        (Schema, k) => schema_child(k),
        (Discriminator, _) => One(Literal),
        _ => One(Other),
    }
}

fn schema_child(key: &str) -> Child {
    use Child::{ListOf, MapOf, One, OneOrList};
    match key {
        "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
            MapOf(Slot::Schema)
        }
        "additionalProperties"
        | "not"
        | "contains"
        | "propertyNames"
        | "if"
        | "then"
        | "else"
        | "unevaluatedItems"
        | "unevaluatedProperties"
        | "contentSchema"
        | "additionalItems" => One(Slot::Schema),
        "items" => OneOrList(Slot::Schema),
        "allOf" | "anyOf" | "oneOf" | "prefixItems" => ListOf(Slot::Schema),
        "example" | "examples" | "default" | "enum" | "const" => One(Slot::Literal),
        "discriminator" => One(Slot::Discriminator),
        _ => One(Slot::Other),
    }
}

/// Calls `f` for each child object of `node` with the pointer segments that lead to it (two for
/// an entry of a name-keyed container such as `properties`) and the kind of object it is.
/// Containers themselves are not visited: a `properties` map is not a schema.
pub(crate) fn for_each_child(
    node: &mut Node,
    slot: Slot,
    f: &mut dyn FnMut(&[&str], &mut Node, Slot),
) {
    if slot == Slot::Literal {
        return;
    }
    let entries = match &mut node.kind {
        Kind::Map(entries) => entries,
        Kind::Seq(items) if slot == Slot::Other => {
            for (i, item) in items.iter_mut().enumerate() {
                f(&[&i.to_string()], item, Slot::Other);
            }
            return;
        }
        _ => return,
    };
    for (key, value) in entries.iter_mut() {
        match (child(slot, key), &mut value.kind) {
            (Child::MapOf(s), Kind::Map(inner)) => {
                for (name, v) in inner.iter_mut() {
                    f(&[key, name], v, s);
                }
            }
            (Child::ListOf(s) | Child::OneOrList(s), Kind::Seq(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    f(&[key, &i.to_string()], item, s);
                }
            }
            (Child::One(s) | Child::OneOrList(s), _) => f(&[key], value, s),
            // A container of the wrong kind (`properties: 5`) holds no objects to visit; the
            // validate stage reports it.
            (Child::MapOf(_) | Child::ListOf(_), _) => {}
        }
    }
}
