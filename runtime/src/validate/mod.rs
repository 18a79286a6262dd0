//! Request validation against rules the generator derives from the spec's schemas.
//!
//! Bodies are checked as JSON before they are turned into Rust types, so that every failing
//! field is reported at once (serde stops at the first) and each error names its field.

mod declare;
pub use declare::*;

use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use regex::Regex;
use serde_json::Value;

use crate::field::FieldError;

#[derive(Debug)]
pub enum Schema {
    Any,
    /// `null` is accepted in addition to what the inner schema accepts.
    Nullable(&'static Schema),
    String(StringRules),
    Integer(NumberRules),
    Number(NumberRules),
    Boolean,
    Array(ArrayRules),
    Object(ObjectRules),
    /// The same rules as another schema (a component that aliases another).
    Ref(&'static Schema),
    /// A value that must match exactly one of the alternatives (oneOf/anyOf).
    OneOf(&'static [&'static Schema]),
}

#[derive(Debug, Default)]
pub struct StringRules {
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<&'static str>,
    pub format: Format,
    pub enumeration: &'static [&'static str],
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
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

#[derive(Debug, Default)]
pub struct NumberRules {
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    /// `int32` bodies must fit in an `i32`.
    pub int32: bool,
    pub enumeration: &'static [i64],
}

#[derive(Debug)]
pub struct ArrayRules {
    pub items: &'static Schema,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
}

#[derive(Debug)]
pub struct ObjectRules {
    pub fields: &'static [Field],
    /// `additionalProperties: false` rejects keys that are not listed.
    pub deny_unknown: bool,
    /// Fields the entity has but this request may not set (excludeFromCreate/Update, server-set ids
    /// and timestamps), with the reason given back to the client.
    pub forbidden: &'static [(&'static str, &'static str)],
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub required: bool,
    pub schema: &'static Schema,
}

/// The unconstrained rules, so generated code writes only what a spec constrains
/// (`StringRules { max_length: Some(20), ..StringRules::ANY }`) and a plain scalar is one constant.
impl Schema {
    pub const STRING: Schema = Schema::String(StringRules::ANY);
    pub const INTEGER: Schema = Schema::Integer(NumberRules::ANY);
    pub const NUMBER: Schema = Schema::Number(NumberRules::ANY);
}

impl StringRules {
    pub const ANY: StringRules = StringRules {
        min_length: None,
        max_length: None,
        pattern: None,
        format: Format::None,
        enumeration: &[],
    };
}

impl NumberRules {
    pub const ANY: NumberRules = NumberRules {
        minimum: None,
        maximum: None,
        exclusive_minimum: false,
        exclusive_maximum: false,
        int32: false,
        enumeration: &[],
    };
}

impl ArrayRules {
    pub const ANY: ArrayRules = ArrayRules {
        items: &Schema::Any,
        min_items: None,
        max_items: None,
    };
}

impl ObjectRules {
    /// No fields listed, unknown keys allowed, nothing forbidden.
    pub const OPEN: ObjectRules = ObjectRules {
        fields: &[],
        deny_unknown: false,
        forbidden: &[],
    };
}

/// Validate `value`, appending an error per failing field to `errors`.
pub fn validate(value: &Value, schema: &Schema, path: &str, errors: &mut Vec<FieldError>) {
    let err = |errors: &mut Vec<FieldError>, msg: String| {
        errors.push(FieldError::new(display(path), msg))
    };
    match schema {
        Schema::Any => {}
        Schema::Ref(inner) => validate(value, inner, path, errors),
        Schema::Nullable(inner) => {
            if !value.is_null() {
                validate(value, inner, path, errors);
            }
        }
        Schema::String(rules) => match value.as_str() {
            Some(s) => check_string(s, rules, path, errors),
            None => err(errors, format!("must be a string, got {}", kind(value))),
        },
        Schema::Integer(rules) => match value.as_i64().or_else(|| value.as_u64().map(|_| i64::MAX))
        {
            Some(n) if value.is_i64() || value.is_u64() => {
                if rules.int32 && i32::try_from(n).is_err() {
                    err(errors, "must fit in a 32-bit integer".into());
                } else {
                    check_number(n as f64, rules, path, errors);
                }
            }
            _ => err(errors, format!("must be an integer, got {}", kind(value))),
        },
        Schema::Number(rules) => match value.as_f64() {
            Some(n) => check_number(n, rules, path, errors),
            None => err(errors, format!("must be a number, got {}", kind(value))),
        },
        Schema::Boolean => {
            if !value.is_boolean() {
                err(errors, format!("must be a boolean, got {}", kind(value)));
            }
        }
        Schema::Array(rules) => match value.as_array() {
            Some(items) => {
                if let Some(min) = rules.min_items.filter(|m| (items.len() as u64) < *m) {
                    err(errors, format!("must have at least {min} items"));
                }
                if let Some(max) = rules.max_items.filter(|m| (items.len() as u64) > *m) {
                    err(errors, format!("must have at most {max} items"));
                }
                for (i, item) in items.iter().enumerate() {
                    validate(item, rules.items, &join(path, &i.to_string()), errors);
                }
            }
            None => err(errors, format!("must be an array, got {}", kind(value))),
        },
        Schema::Object(rules) => match value.as_object() {
            Some(map) => check_object(map, rules, path, errors),
            None => err(errors, format!("must be an object, got {}", kind(value))),
        },
        Schema::OneOf(options) => {
            let matching = options
                .iter()
                .filter(|s| {
                    let mut scratch = Vec::new();
                    validate(value, s, path, &mut scratch);
                    scratch.is_empty()
                })
                .count();
            if matching == 0 {
                err(errors, "does not match any of the allowed shapes".into());
            }
        }
    }
}

fn check_object(
    map: &serde_json::Map<String, Value>,
    rules: &ObjectRules,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    for field in rules.fields {
        match map.get(field.name) {
            Some(v) => validate(v, field.schema, &join(path, field.name), errors),
            None if field.required => errors.push(FieldError::new(
                display(&join(path, field.name)),
                "is required",
            )),
            None => {}
        }
    }
    // Sorted, so the answer does not depend on whether serde_json keeps insertion order (a
    // feature that cargo may switch on for the whole build).
    let mut extra: Vec<&String> = map
        .keys()
        .filter(|k| !rules.fields.iter().any(|f| f.name == k.as_str()))
        .collect();
    extra.sort();
    for key in extra {
        if let Some((_, why)) = rules.forbidden.iter().find(|(name, _)| name == key) {
            errors.push(FieldError::new(display(&join(path, key)), *why));
        } else if rules.deny_unknown {
            errors.push(FieldError::new(
                display(&join(path, key)),
                "is not a known field",
            ));
        }
    }
}

fn check_string(s: &str, rules: &StringRules, path: &str, errors: &mut Vec<FieldError>) {
    let mut err = |msg: String| errors.push(FieldError::new(display(path), msg));
    if !rules.enumeration.is_empty() && !rules.enumeration.contains(&s) {
        err(format!("must be one of {}", rules.enumeration.join(", ")));
        return;
    }
    // Postgres cannot store NUL in text; refusing it everywhere keeps both databases alike.
    if s.contains('\0') {
        err("must not contain NUL characters".into());
        return;
    }
    let len = s.chars().count() as u64;
    let chars = |n: u64| if n == 1 { "character" } else { "characters" };
    if let Some(min) = rules.min_length.filter(|m| len < *m) {
        err(format!("must be at least {min} {}", chars(min)));
    }
    if let Some(max) = rules.max_length.filter(|m| len > *m) {
        err(format!("must be at most {max} {}", chars(max)));
    }
    if let Some(pattern) = rules.pattern
        && let Some(false) = matches_pattern(pattern, s)
    {
        err(format!("must match the pattern {pattern}"));
    }
    let format_ok = match rules.format {
        Format::None => true,
        Format::Uuid => uuid::Uuid::parse_str(s).is_ok(),
        Format::DateTime => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        Format::Date => s.parse::<chrono::NaiveDate>().is_ok(),
        Format::Email => {
            let mut parts = s.splitn(2, '@');
            matches!((parts.next(), parts.next()), (Some(l), Some(d)) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
        }
        Format::Uri => s.split_once(':').is_some_and(|(scheme, _)| {
            scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }),
        Format::Byte => s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)),
    };
    if !format_ok {
        err(format!("must be a valid {}", format_name(rules.format)));
    }
}

fn check_number(n: f64, rules: &NumberRules, path: &str, errors: &mut Vec<FieldError>) {
    let mut err = |msg: String| errors.push(FieldError::new(display(path), msg));
    if !rules.enumeration.is_empty() && !rules.enumeration.iter().any(|e| *e as f64 == n) {
        let list: Vec<String> = rules.enumeration.iter().map(i64::to_string).collect();
        err(format!("must be one of {}", list.join(", ")));
    }
    if let Some(min) = rules.minimum
        && (n < min || (rules.exclusive_minimum && n == min))
    {
        let op = if rules.exclusive_minimum {
            "greater than"
        } else {
            "at least"
        };
        err(format!("must be {op} {min}"));
    }
    if let Some(max) = rules.maximum
        && (n > max || (rules.exclusive_maximum && n == max))
    {
        let op = if rules.exclusive_maximum {
            "less than"
        } else {
            "at most"
        };
        err(format!("must be {op} {max}"));
    }
}

/// Patterns are compiled once per process. A pattern the regex engine cannot compile even with
/// ECMA-262's meaning (lookaround, backreferences) is skipped (`None`) rather than failing every
/// request, with a warning the first time.
fn matches_pattern(pattern: &'static str, s: &str) -> Option<bool> {
    static CACHE: LazyLock<RwLock<HashMap<&'static str, Option<Regex>>>> =
        LazyLock::new(Default::default);
    if let Some(entry) = CACHE.read().ok()?.get(pattern) {
        return entry.as_ref().map(|re| re.is_match(s));
    }
    let compiled = ecma_regex(pattern);
    if compiled.is_none() {
        tracing::warn!(
            pattern,
            "a pattern of the spec cannot be compiled (lookaround or backreferences?): it is not enforced"
        );
    }
    let result = compiled.as_ref().map(|re| re.is_match(s));
    CACHE.write().ok()?.insert(pattern, compiled);
    result
}

/// A JSON Schema pattern compiled with ECMA-262's meaning, which is what the spec's other readers
/// (clients, validators, schemathesis) use: `\w`, `\d` and `\b` are ASCII there, Unicode in the
/// `regex` crate. Anything else is the same in both.
pub fn ecma_regex(pattern: &str) -> Option<Regex> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        if c != '\\' {
            match c {
                '[' => in_class = true,
                ']' => in_class = false,
                _ => {}
            }
            out.push(c);
            continue;
        }
        match chars.next() {
            // Inside a class, `\b` is a backspace.
            Some('b') if in_class => out.push_str("\\x08"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('b') => out.push_str("(?-u:\\b)"),
            Some('B') => out.push_str("(?-u:\\B)"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Regex::new(&out).ok()
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::None => "value",
        Format::Uuid => "UUID",
        Format::DateTime => "RFC 3339 date-time",
        Format::Date => "date (YYYY-MM-DD)",
        Format::Email => "email address",
        Format::Uri => "URI",
        Format::Byte => "base64 string",
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn display(path: &str) -> String {
    if path.is_empty() {
        "body".to_string()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static NAME: Schema = Schema::String(StringRules {
        min_length: Some(1),
        max_length: Some(5),
        pattern: Some("^[a-z]+$"),
        format: Format::None,
        enumeration: &[],
    });
    static COUNT: Schema = Schema::Integer(NumberRules {
        minimum: Some(0.0),
        maximum: None,
        exclusive_minimum: false,
        exclusive_maximum: false,
        int32: true,
        enumeration: &[],
    });
    static BODY: Schema = Schema::Object(ObjectRules {
        fields: &[
            Field {
                name: "name",
                required: true,
                schema: &NAME,
            },
            Field {
                name: "count",
                required: false,
                schema: &COUNT,
            },
        ],
        deny_unknown: true,
        forbidden: &[("id", "is set by the server")],
    });

    fn check(v: Value) -> Vec<String> {
        let mut errors = Vec::new();
        validate(&v, &BODY, "", &mut errors);
        errors
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect()
    }

    #[test]
    fn reports_every_failing_field() {
        let errs =
            check(serde_json::json!({"name": "TOOLONG", "count": -1, "id": "x", "extra": 1}));
        assert_eq!(
            errs,
            [
                "name: must be at most 5 characters",
                "name: must match the pattern ^[a-z]+$",
                "count: must be at least 0",
                "extra: is not a known field",
                "id: is set by the server",
            ]
        );
    }

    #[test]
    fn patterns_mean_what_ecma_262_says() {
        let m = |p: &str, s: &str| ecma_regex(p).unwrap().is_match(s);
        assert!(m(r"^[\w\s\-.,]+$", "a b-c_1."));
        assert!(!m(r"^[\w\s\-.,]+$", "Puvâ"), "ECMA's \\w is ASCII");
        assert!(!m(r"^\d+$", "١٢"), "ECMA's \\d is ASCII");
        assert!(m(r"\\w", "\\w"), "an escaped backslash stays one");
        assert!(m(r"^[\b]$", "\u{8}"));
        assert!(m(r"\bcat\b", "a cat sat"));
    }

    #[test]
    fn required_and_types() {
        assert_eq!(
            check(serde_json::json!({"count": 1.5})),
            [
                "name: is required",
                "count: must be an integer, got a number"
            ]
        );
        assert_eq!(
            check(serde_json::json!({"name": "ok", "count": 3_000_000_000u64})),
            ["count: must fit in a 32-bit integer"]
        );
        assert!(check(serde_json::json!({"name": "ok"})).is_empty());
    }
}
