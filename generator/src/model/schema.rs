//! A small owned view of OpenAPI schemas. `openapiv3` spreads one idea over several shapes
//! (`Type`, `Any`, boxed and unboxed references); lowering is easier over one.

use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::Value;

#[derive(Debug, Clone)]
pub enum SRef {
    /// A component schema, by its name under `#/components/schemas/`.
    Ref(String),
    Inline(Box<S>),
}

#[derive(Debug, Clone, Default)]
pub struct S {
    pub nullable: bool,
    pub default: Option<Value>,
    pub description: Option<String>,
    pub read_only: bool,
    pub write_only: bool,
    pub extensions: IndexMap<String, Value>,
    /// For `oneOf`/`anyOf`: the property that names the variant, and `mapping` (value → `$ref`).
    pub discriminator: Option<(String, IndexMap<String, String>)>,
    pub kind: SKind,
}

#[derive(Debug, Clone, Default)]
pub enum SKind {
    #[default]
    Any,
    String(StringS),
    Integer(NumberS),
    Number(NumberS),
    Boolean,
    Object(ObjectS),
    Array {
        items: Option<SRef>,
        min_items: Option<u64>,
        max_items: Option<u64>,
    },
    AllOf(Vec<SRef>),
    OneOf(Vec<SRef>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StringS {
    pub format: Option<String>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    pub enumeration: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberS {
    pub format: Option<String>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    pub enumeration: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ObjectS {
    pub properties: IndexMap<String, SRef>,
    pub required: Vec<String>,
    /// `None`: any extra keys allowed; `Some(None)`: forbidden; `Some(Some(s))`: typed map values.
    pub additional: Option<Option<SRef>>,
}

pub fn component_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

pub fn from_ref(r: &ReferenceOr<Schema>) -> SRef {
    match r {
        ReferenceOr::Reference { reference } => {
            SRef::Ref(component_name(reference).unwrap_or(reference).to_string())
        }
        ReferenceOr::Item(s) => SRef::Inline(Box::new(from_schema(s))),
    }
}

pub fn from_boxed(r: &ReferenceOr<Box<Schema>>) -> SRef {
    match r {
        ReferenceOr::Reference { reference } => {
            SRef::Ref(component_name(reference).unwrap_or(reference).to_string())
        }
        ReferenceOr::Item(s) => SRef::Inline(Box::new(from_schema(s))),
    }
}

fn format_of<T: std::fmt::Debug>(f: &VariantOrUnknownOrEmpty<T>) -> Option<String> {
    match f {
        VariantOrUnknownOrEmpty::Item(i) => Some(format!("{i:?}").to_lowercase()),
        VariantOrUnknownOrEmpty::Unknown(s) => Some(s.to_lowercase()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}

pub fn from_schema(schema: &Schema) -> S {
    let data = &schema.schema_data;
    let kind = match &schema.schema_kind {
        SchemaKind::Type(Type::String(t)) => SKind::String(StringS {
            format: match &t.format {
                VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => Some("date-time".into()),
                other => format_of(other),
            },
            min_length: t.min_length.map(|n| n as u64),
            max_length: t.max_length.map(|n| n as u64),
            pattern: t.pattern.clone(),
            enumeration: t.enumeration.iter().flatten().cloned().collect(),
        }),
        SchemaKind::Type(Type::Integer(t)) => SKind::Integer(NumberS {
            format: format_of(&t.format),
            minimum: t.minimum.map(|n| n as f64),
            maximum: t.maximum.map(|n| n as f64),
            exclusive_minimum: t.exclusive_minimum,
            exclusive_maximum: t.exclusive_maximum,
            enumeration: t.enumeration.iter().flatten().copied().collect(),
        }),
        SchemaKind::Type(Type::Number(t)) => SKind::Number(NumberS {
            format: format_of(&t.format),
            minimum: t.minimum,
            maximum: t.maximum,
            exclusive_minimum: t.exclusive_minimum,
            exclusive_maximum: t.exclusive_maximum,
            enumeration: Vec::new(),
        }),
        SchemaKind::Type(Type::Boolean(_)) => SKind::Boolean,
        SchemaKind::Type(Type::Object(o)) => SKind::Object(ObjectS {
            properties: o
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), from_boxed(v)))
                .collect(),
            required: o.required.clone(),
            additional: additional(o.additional_properties.as_ref()),
        }),
        SchemaKind::Type(Type::Array(a)) => SKind::Array {
            items: a.items.as_ref().map(from_boxed),
            min_items: a.min_items.map(|n| n as u64),
            max_items: a.max_items.map(|n| n as u64),
        },
        SchemaKind::AllOf { all_of } => SKind::AllOf(all_of.iter().map(from_ref).collect()),
        SchemaKind::OneOf { one_of } => SKind::OneOf(one_of.iter().map(from_ref).collect()),
        SchemaKind::AnyOf { any_of } => SKind::OneOf(any_of.iter().map(from_ref).collect()),
        SchemaKind::Not { .. } => SKind::Any,
        SchemaKind::Any(a) => from_any(a),
    };
    S {
        nullable: data.nullable,
        default: data.default.clone(),
        description: data.description.clone().or_else(|| data.title.clone()),
        read_only: data.read_only,
        write_only: data.write_only,
        extensions: data.extensions.clone(),
        discriminator: data
            .discriminator
            .as_ref()
            .map(|d| (d.property_name.clone(), d.mapping.clone())),
        kind,
    }
}

fn additional(a: Option<&AdditionalProperties>) -> Option<Option<SRef>> {
    match a {
        None | Some(AdditionalProperties::Any(true)) => None,
        Some(AdditionalProperties::Any(false)) => Some(None),
        Some(AdditionalProperties::Schema(s)) => Some(Some(from_ref(s))),
    }
}

/// `openapiv3` falls back to `AnySchema` when keywords do not fit its typed shapes (an integer
/// bound too large for i64, properties without `type: object`): recover the intended shape.
fn from_any(a: &openapiv3::AnySchema) -> SKind {
    if !a.all_of.is_empty() {
        let mut members: Vec<SRef> = a.all_of.iter().map(from_ref).collect();
        if !a.properties.is_empty() {
            members.push(SRef::Inline(Box::new(S {
                kind: object_of_any(a),
                ..S::default()
            })));
        }
        return SKind::AllOf(members);
    }
    if !a.one_of.is_empty() {
        return SKind::OneOf(a.one_of.iter().map(from_ref).collect());
    }
    if !a.any_of.is_empty() {
        return SKind::OneOf(a.any_of.iter().map(from_ref).collect());
    }
    let bounds = || NumberS {
        format: a.format.clone(),
        minimum: a.minimum,
        maximum: a.maximum,
        exclusive_minimum: a.exclusive_minimum.unwrap_or(false),
        exclusive_maximum: a.exclusive_maximum.unwrap_or(false),
        enumeration: a.enumeration.iter().filter_map(Value::as_i64).collect(),
    };
    match a.typ.as_deref() {
        Some("string") => SKind::String(StringS {
            format: a.format.clone(),
            min_length: a.min_length.map(|n| n as u64),
            max_length: a.max_length.map(|n| n as u64),
            pattern: a.pattern.clone(),
            enumeration: a
                .enumeration
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        }),
        Some("integer") => SKind::Integer(bounds()),
        Some("number") => SKind::Number(NumberS {
            enumeration: Vec::new(),
            ..bounds()
        }),
        Some("boolean") => SKind::Boolean,
        Some("array") => SKind::Array {
            items: a.items.as_ref().map(from_boxed),
            min_items: a.min_items.map(|n| n as u64),
            max_items: a.max_items.map(|n| n as u64),
        },
        Some("object") => object_of_any(a),
        _ if !a.properties.is_empty() => object_of_any(a),
        // `const: x` (an enum of one) and `enum` without a `type`: strings are the common case.
        None if !a.enumeration.is_empty() && a.enumeration.iter().all(Value::is_string) => {
            SKind::String(StringS {
                enumeration: a
                    .enumeration
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                ..StringS::default()
            })
        }
        _ => SKind::Any,
    }
}

fn object_of_any(a: &openapiv3::AnySchema) -> SKind {
    SKind::Object(ObjectS {
        properties: a
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), from_boxed(v)))
            .collect(),
        required: a.required.clone(),
        additional: additional(a.additional_properties.as_ref()),
    })
}
