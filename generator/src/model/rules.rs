//! Validation rules as data: what a request value must satisfy, mirroring the runtime's
//! `rt::validate::Schema`. Lowering builds them; `emit::rules` alone writes them as Rust.

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Any,
    Boolean,
    String(StringRule),
    Integer(NumberRule),
    Number(NumberRule),
    Array {
        items: Box<Rule>,
        min_items: Option<u64>,
        max_items: Option<u64>,
    },
    Object(ObjectRule),
    /// Exactly one alternative must match (oneOf, anyOf).
    OneOf(Vec<Rule>),
    /// `null` is accepted too.
    Nullable(Box<Rule>),
    /// A component's rule, emitted once per module as the static `RULE_<NAME>`: anything that
    /// can nest is shared this way rather than copied into every use.
    Static(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StringRule {
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    pub format: Format,
    pub enumeration: Vec<String>,
}

/// The formats the runtime checks; any other is accepted as plain text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    None,
    Uuid,
    DateTime,
    Date,
    Email,
    Uri,
    Byte,
}

impl Format {
    pub fn of(format: Option<&str>) -> Self {
        match format {
            Some("uuid") => Format::Uuid,
            Some("date-time") => Format::DateTime,
            Some("date") => Format::Date,
            Some("email") => Format::Email,
            Some("uri" | "url") => Format::Uri,
            Some("byte") => Format::Byte,
            _ => Format::None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberRule {
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    /// The value must fit in an `i32`.
    pub int32: bool,
    pub enumeration: Vec<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectRule {
    pub fields: Vec<FieldRule>,
    /// `additionalProperties: false`.
    pub deny_unknown: bool,
    /// Fields the request may not send, with the reason given back.
    pub forbidden: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldRule {
    pub name: String,
    pub required: bool,
    pub rule: Rule,
}

impl Rule {
    pub fn nullable(self) -> Rule {
        match self {
            Rule::Nullable(_) => self,
            other => Rule::Nullable(Box::new(other)),
        }
    }
}

/// Templates receive a rule as the Rust expression of a `&'static rt::validate::Schema`.
impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::emit::rules::reference(self))
    }
}
