//! Rewrites OpenAPI 3.1 and 3.2 constructs into the 3.0 shape that `openapiv3` deserializes, so
//! the later stages deal with one model. Only schema objects are rewritten (the walk knows where
//! they are), each rewritten node keeps the location of the node it came from, and every rule is
//! idempotent: a valid 3.0 document only gets the repairs `openapiv3` needs (a string
//! `info.version`, a response `description`).

use indexmap::IndexMap;

use super::node::{Budget, Kind, Loc, Node, Problem};
use super::shape::{self, Slot};

/// The version the normalized document claims; `Loaded::version` keeps the original.
pub(crate) const NORMALIZED_VERSION: &str = "3.0.3";

/// Top-level keys of 3.1/3.2 that have no 3.0 counterpart. They are removed (with callbacks, by
/// `drop_unused`) before bundling so
/// that files referenced only from webhooks are not required to exist.
const NEWER_TOP_LEVEL: &[&str] = &["webhooks", "jsonSchemaDialect", "$self"];

/// Where a boolean is a meaningful value rather than a boolean schema to expand.
const BOOLEAN_ALLOWED: &[&str] = &[
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
];

/// Keywords that may sit beside `$ref` without changing what it means.
const REF_ANNOTATIONS: &[&str] = &["$ref", "description", "summary"];

pub(crate) fn drop_unused(root: &mut Node) {
    let Some(m) = root.as_map_mut() else {
        return;
    };
    for key in NEWER_TOP_LEVEL {
        m.shift_remove(*key);
    }
    // Callbacks describe requests the service makes, not ones it serves; the generated code has
    // no use for them, and `openapiv3` cannot read a `$ref` to a component callback.
    if let Some(c) = m.get_mut("components").and_then(Node::as_map_mut) {
        c.shift_remove("callbacks");
    }
    if let Some(paths) = m.get_mut("paths").and_then(Node::as_map_mut) {
        for item in paths.values_mut().filter_map(Node::as_map_mut) {
            for op in item.values_mut().filter_map(Node::as_map_mut) {
                op.shift_remove("callbacks");
            }
        }
    }
}

pub(crate) fn normalize(
    root: &mut Node,
    version: &str,
    budget: &mut Budget,
    problems: &mut Vec<Problem>,
) {
    if let Some(m) = root.as_map_mut() {
        if let Some(v) = m.get_mut("openapi") {
            v.kind = Kind::String(NORMALIZED_VERSION.into());
        }
        m.entry("paths".to_string())
            .or_insert_with(|| Node::map(IndexMap::new(), Loc::NONE));
        // `version: 1.10` is a number to YAML; the text is what the author meant.
        if let Some(v) = m
            .get_mut("info")
            .and_then(Node::as_map_mut)
            .and_then(|i| i.get_mut("version"))
            && let Kind::Number(_, raw) = &v.kind
        {
            v.kind = Kind::String(raw.to_string());
        }
    }
    let mut n = Normalizer {
        modern: !version.starts_with("3.0"),
        budget,
        problems,
        exhausted: false,
    };
    n.walk(root, Slot::Document, false);
}

struct Normalizer<'a> {
    /// 3.1 and later, where keywords beside `$ref` take effect instead of being ignored.
    modern: bool,
    budget: &'a mut Budget,
    problems: &'a mut Vec<Problem>,
    exhausted: bool,
}

impl Normalizer<'_> {
    fn walk(&mut self, node: &mut Node, slot: Slot, boolean_allowed: bool) {
        match slot {
            Slot::Literal => return,
            Slot::Schema => self.schema(node, boolean_allowed),
            Slot::Response => response_description(node),
            Slot::Parameter | Slot::Header => self.unsupported(
                node,
                "in",
                "querystring",
                "`in: querystring` parameters (OpenAPI 3.2) are not supported",
                "declare each query parameter with `in: query`",
            ),
            Slot::SecurityScheme => self.unsupported(
                node,
                "type",
                "mutualTLS",
                "`mutualTLS` security schemes are not supported",
                "remove the scheme; TLS client certificates are configured outside the generated service",
            ),
            _ => {}
        }
        // Pre-order: children are visited in their rewritten places, so members created above
        // (such as `allOf: [{$ref}]`) get the same treatment.
        shape::for_each_child(node, slot, &mut |segments, child, child_slot| {
            let boolean_allowed = matches!(segments, [key] if BOOLEAN_ALLOWED.contains(key));
            self.walk(child, child_slot, boolean_allowed);
        });
    }

    fn unsupported(&mut self, node: &Node, key: &str, value: &str, message: &str, hint: &str) {
        if let Some(found) = node.get(key).filter(|v| v.as_str() == Some(value)) {
            self.problems
                .push(Problem::new(message, found.loc).hint(Some(hint.into())));
        }
    }

    fn schema(&mut self, node: &mut Node, boolean_allowed: bool) {
        if let Kind::Bool(b) = node.kind {
            if !boolean_allowed {
                *node = boolean_schema(b, node.loc);
            }
            return;
        }
        let Some(m) = node.as_map_mut() else { return };
        // Merging a `oneOf: [X, {type: null}]` member into its parent can bring in keywords that
        // need rewriting themselves; a few rounds settle any real schema.
        for _ in 0..4 {
            let mut changed = const_to_enum(m) | examples_to_example(m);
            changed |= exclusive_bound(m, "exclusiveMinimum", "minimum", |n, bound| n >= bound);
            changed |= exclusive_bound(m, "exclusiveMaximum", "maximum", |n, bound| n <= bound);
            if self.modern {
                changed |= wrap_ref_with_siblings(m);
            }
            changed |= self.type_list(m);
            changed |= null_member(m, "oneOf") | null_member(m, "anyOf");
            if !changed {
                break;
            }
        }
    }

    /// `type: [T, "null"]` → `type: T, nullable: true`; several types become a `oneOf`.
    fn type_list(&mut self, m: &mut IndexMap<String, Node>) -> bool {
        let Some(ty) = m.get("type") else {
            return false;
        };
        let loc = ty.loc;
        let names: Vec<(String, Loc)> = match &ty.kind {
            Kind::String(s) if s == "null" => vec![(s.clone(), loc)],
            Kind::Seq(items) => match items
                .iter()
                .map(|i| i.as_str().map(|s| (s.to_string(), i.loc)))
                .collect()
            {
                Some(names) => names,
                // Not a list of names: leave it for the validate stage to report.
                None => return false,
            },
            _ => return false,
        };
        let nullable = names.iter().any(|(n, _)| n == "null");
        let mut types: Vec<(String, Loc)> = Vec::new();
        for (name, l) in names {
            if name != "null" && !types.iter().any(|(t, _)| *t == name) {
                types.push((name, l));
            }
        }
        match types.len() {
            0 => {
                m.shift_remove("type");
            }
            1 => {
                let (name, l) = types.remove(0);
                m.insert("type".into(), Node::string(name, l));
            }
            _ => self.split_types(m, &types, loc),
        }
        if nullable {
            set_nullable(m, loc);
        }
        true
    }

    /// `type: [string, integer], minLength: 1, minimum: 0` →
    /// `oneOf: [{type: string, minLength: 1}, {type: integer, minimum: 0}]`: each type-specific
    /// keyword goes to the branches it applies to; the rest (description, enum, ...) stays.
    fn split_types(&mut self, m: &mut IndexMap<String, Node>, types: &[(String, Loc)], loc: Loc) {
        let index = m.get_index_of("type").unwrap_or(m.len());
        m.shift_remove("type");
        let mut routed = Vec::new();
        let mut branches = Vec::new();
        for (ty, ty_loc) in types {
            let mut branch =
                IndexMap::from([("type".to_string(), Node::string(ty.clone(), *ty_loc))]);
            for (key, value) in m.iter() {
                if applies_to(key, value, ty, types) {
                    if !self.budget.take(value.count()) {
                        self.too_large(loc);
                        return;
                    }
                    branch.insert(key.clone(), value.clone());
                    routed.push(key.clone());
                }
            }
            branches.push(Node::map(branch, *ty_loc));
        }
        for key in routed {
            m.shift_remove(&key);
        }
        let one_of = Node::new(Kind::Seq(branches), loc);
        if m.contains_key("oneOf") {
            // Both the existing oneOf and the type alternatives must hold.
            let wrapper = Node::map(IndexMap::from([("oneOf".to_string(), one_of)]), loc);
            push_all_of(m, wrapper, loc);
        } else {
            m.shift_insert(index.min(m.len()), "oneOf".into(), one_of);
        }
    }

    fn too_large(&mut self, loc: Loc) {
        if !self.exhausted {
            self.exhausted = true;
            self.problems.push(Problem::new(
                "the document is too large to normalize (too many nodes)",
                loc,
            ));
        }
    }
}

/// Which branch of a split `type` list a keyword belongs to.
fn applies_to(key: &str, value: &Node, ty: &str, types: &[(String, Loc)]) -> bool {
    let numeric = ty == "number" || ty == "integer";
    match key {
        "minLength" | "maxLength" | "pattern" | "contentEncoding" | "contentMediaType" => {
            ty == "string"
        }
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => numeric,
        "items" | "prefixItems" | "minItems" | "maxItems" | "uniqueItems" | "contains"
        | "minContains" | "maxContains" | "unevaluatedItems" => ty == "array",
        "properties"
        | "required"
        | "additionalProperties"
        | "patternProperties"
        | "minProperties"
        | "maxProperties"
        | "propertyNames"
        | "dependentRequired"
        | "dependentSchemas"
        | "unevaluatedProperties" => ty == "object",
        "format" => {
            let family = match value.as_str() {
                Some("int32" | "int64") => "integer",
                Some("float" | "double") => "number",
                _ => "string",
            };
            // An integer format on `[number, string]` still belongs with the number.
            let owner = if types.iter().any(|(t, _)| t == family) {
                family
            } else if family == "integer" {
                "number"
            } else {
                return false;
            };
            ty == owner
        }
        _ => false,
    }
}

/// 3.2 made a response's description optional; `openapiv3` still requires one.
fn response_description(node: &mut Node) {
    let loc = node.loc;
    if let Some(m) = node.as_map_mut()
        && !m.contains_key("$ref")
        && !m.contains_key("description")
    {
        m.insert("description".into(), Node::string("", loc));
    }
}

/// `true` accepts anything, `false` nothing; 3.0 has only schema objects.
fn boolean_schema(accept: bool, loc: Loc) -> Node {
    let mut m = IndexMap::new();
    if !accept {
        m.insert("not".to_string(), Node::map(IndexMap::new(), loc));
    }
    Node::map(m, loc)
}

fn set_nullable(m: &mut IndexMap<String, Node>, loc: Loc) {
    m.insert("nullable".into(), Node::new(Kind::Bool(true), loc));
}

/// Replaces the entry `old` by `new` at the same position, so the document keeps its order.
fn replace_entry(m: &mut IndexMap<String, Node>, old: &str, new: &str, value: Node) {
    let index = m.get_index_of(old).unwrap_or(m.len());
    m.shift_remove(old);
    m.shift_remove(new);
    m.shift_insert(index.min(m.len()), new.into(), value);
}

fn push_all_of(m: &mut IndexMap<String, Node>, member: Node, loc: Loc) {
    match m.get_mut("allOf").map(|a| &mut a.kind) {
        Some(Kind::Seq(items)) => items.push(member),
        _ => {
            m.insert("allOf".into(), Node::new(Kind::Seq(vec![member]), loc));
        }
    }
}

/// `const: v` → `enum: [v]`.
fn const_to_enum(m: &mut IndexMap<String, Node>) -> bool {
    let Some(value) = m.get("const").cloned() else {
        return false;
    };
    let loc = value.loc;
    replace_entry(m, "const", "enum", Node::new(Kind::Seq(vec![value]), loc));
    true
}

/// 3.1 schemas list `examples`; 3.0 has a single `example`.
fn examples_to_example(m: &mut IndexMap<String, Node>) -> bool {
    let Some(Kind::Seq(items)) = m.get("examples").map(|e| &e.kind) else {
        return false;
    };
    match items.first().cloned() {
        Some(first) if !m.contains_key("example") => replace_entry(m, "examples", "example", first),
        _ => {
            m.shift_remove("examples");
        }
    }
    true
}

/// 3.1's numeric `exclusiveMinimum: n` → 3.0's `minimum: n, exclusiveMinimum: true`, keeping an
/// existing `minimum` when it is the stricter bound (`stricter(n, bound)` says when `n` wins).
fn exclusive_bound(
    m: &mut IndexMap<String, Node>,
    exclusive: &str,
    inclusive: &str,
    stricter: fn(f64, f64) -> bool,
) -> bool {
    let Some(Node {
        kind: Kind::Number(n, raw),
        loc,
    }) = m.get(exclusive).cloned()
    else {
        return false;
    };
    let existing = match m.get(inclusive).map(|b| &b.kind) {
        Some(Kind::Number(b, _)) => b.as_f64(),
        _ => None,
    };
    match (n.as_f64(), existing) {
        (Some(value), Some(bound)) if !stricter(value, bound) => {
            m.shift_remove(exclusive);
        }
        _ => {
            m.insert(inclusive.into(), Node::new(Kind::Number(n, raw), loc));
            m.insert(exclusive.into(), Node::new(Kind::Bool(true), loc));
        }
    }
    true
}

/// In 3.1 keywords beside `$ref` apply too; in 3.0 (and `openapiv3`) they are ignored, so
/// `{$ref: X, nullable: true}` becomes `{allOf: [{$ref: X}], nullable: true}`.
fn wrap_ref_with_siblings(m: &mut IndexMap<String, Node>) -> bool {
    if !m.contains_key("$ref") || m.keys().all(|k| REF_ANNOTATIONS.contains(&k.as_str())) {
        return false;
    }
    let Some(index) = m.get_index_of("$ref") else {
        return false;
    };
    let Some(reference) = m.shift_remove("$ref") else {
        return false;
    };
    let loc = reference.loc;
    let member = Node::map(IndexMap::from([("$ref".to_string(), reference)]), loc);
    match m.get_mut("allOf").map(|a| &mut a.kind) {
        Some(Kind::Seq(items)) => items.insert(0, member),
        _ => {
            m.shift_remove("allOf");
            m.shift_insert(
                index.min(m.len()),
                "allOf".into(),
                Node::new(Kind::Seq(vec![member]), loc),
            );
        }
    }
    true
}

/// `{type: "null"}` (or `[null]`), possibly with a description: the 3.1 way to say nullable.
fn is_null_schema(node: &Node) -> bool {
    let Some(m) = node.as_map() else { return false };
    let null_type = match m.get("type").map(|t| &t.kind) {
        Some(Kind::String(s)) => s == "null",
        Some(Kind::Seq(items)) => items.len() == 1 && items[0].as_str() == Some("null"),
        _ => false,
    };
    null_type
        && m.keys()
            .all(|k| matches!(k.as_str(), "type" | "description" | "title") || k.starts_with("x-"))
}

/// `oneOf: [X, {type: null}]` → X made nullable: `allOf: [X]` for a reference, X's keywords
/// merged in for an inline schema (or `allOf` again if they would clash with the parent's).
fn null_member(m: &mut IndexMap<String, Node>, key: &str) -> bool {
    let Some(list) = m.get_mut(key) else {
        return false;
    };
    let loc = list.loc;
    let Kind::Seq(members) = &mut list.kind else {
        return false;
    };
    if !members.iter().any(is_null_schema) {
        return false;
    }
    members.retain(|member| !is_null_schema(member));
    let rest = std::mem::take(members);
    match <[Node; 1]>::try_from(rest) {
        Ok([member]) => {
            m.shift_remove(key);
            let clash = match member.as_map() {
                Some(inner) => {
                    inner.contains_key("$ref") || inner.keys().any(|k| m.contains_key(k))
                }
                None => true,
            };
            match member.kind {
                Kind::Map(inner) if !clash => m.extend(inner),
                _ => push_all_of(m, member, loc),
            }
        }
        Err(rest) if rest.is_empty() => {
            m.shift_remove(key);
        }
        Err(rest) => {
            if let Some(Kind::Seq(members)) = m.get_mut(key).map(|l| &mut l.kind) {
                *members = rest;
            }
        }
    }
    set_nullable(m, loc);
    true
}
