//! Validation rules as Rust: `rt::validate::Schema` expressions. Only what differs from the
//! runtime's defaults is written (`..rt::validate::StringRules::ANY`), and unconstrained scalars
//! are the runtime's constants, so a plain string parameter costs one line, not fifteen.

use crate::model::rules::{Format, NumberRule, ObjectRule, Rule, StringRule};

const SCHEMA: &str = "rt::validate::Schema";

/// An expression of type `&'static Schema`.
pub fn reference(rule: &Rule) -> String {
    match rule {
        Rule::Static(name) => format!("&{name}"),
        other => format!("&{}", value(other)),
    }
}

/// The initializer of a static `Schema`.
pub fn body(rule: &Rule) -> String {
    match rule {
        // An alias of another component's rule: a static cannot be moved out of.
        Rule::Static(name) => format!("{SCHEMA}::Ref(&{name})"),
        other => value(other),
    }
}

fn value(rule: &Rule) -> String {
    match rule {
        Rule::Any => format!("{SCHEMA}::Any"),
        Rule::Boolean => format!("{SCHEMA}::Boolean"),
        Rule::String(s) if *s == StringRule::default() => format!("{SCHEMA}::STRING"),
        Rule::String(s) => format!("{SCHEMA}::String({})", string(s)),
        Rule::Integer(n) if *n == NumberRule::default() => format!("{SCHEMA}::INTEGER"),
        Rule::Integer(n) => format!("{SCHEMA}::Integer({})", number(n)),
        Rule::Number(n) if *n == NumberRule::default() => format!("{SCHEMA}::NUMBER"),
        Rule::Number(n) => format!("{SCHEMA}::Number({})", number(n)),
        Rule::Array {
            items,
            min_items,
            max_items,
        } => {
            let mut fields = vec![format!("items: {}", reference(items))];
            fields.extend(some("min_items", min_items));
            fields.extend(some("max_items", max_items));
            format!(
                "{SCHEMA}::Array({})",
                update("rt::validate::ArrayRules", fields, 3, "ANY")
            )
        }
        Rule::Object(o) => format!("{SCHEMA}::Object({})", object(o)),
        Rule::OneOf(members) => {
            let members: Vec<String> = members.iter().map(reference).collect();
            format!("{SCHEMA}::OneOf(&[{}])", members.join(", "))
        }
        Rule::Nullable(inner) => format!("{SCHEMA}::Nullable({})", reference(inner)),
        Rule::Static(name) => format!("{SCHEMA}::Ref(&{name})"),
    }
}

fn string(s: &StringRule) -> String {
    let mut fields = Vec::new();
    fields.extend(some("min_length", &s.min_length));
    fields.extend(some("max_length", &s.max_length));
    // The runtime compiles patterns with ECMA-262's meaning (`rt::validate::ecma_regex`), which
    // accepts what the `regex` crate alone would not (`[\w-.]`); it warns about any it cannot.
    if let Some(p) = &s.pattern {
        fields.push(format!("pattern: Some({p:?})"));
    }
    if s.format != Format::None {
        fields.push(format!("format: rt::validate::Format::{:?}", s.format));
    }
    if !s.enumeration.is_empty() {
        let values: Vec<String> = s.enumeration.iter().map(|v| format!("{v:?}")).collect();
        fields.push(format!("enumeration: &[{}]", values.join(", ")));
    }
    update("rt::validate::StringRules", fields, 5, "ANY")
}

fn number(n: &NumberRule) -> String {
    let finite = |name: &str, v: Option<f64>| {
        v.filter(|x| x.is_finite())
            .map(|x| format!("{name}: Some({x:?})"))
    };
    let mut fields = Vec::new();
    fields.extend(finite("minimum", n.minimum));
    fields.extend(finite("maximum", n.maximum));
    for (name, set) in [
        ("exclusive_minimum", n.exclusive_minimum),
        ("exclusive_maximum", n.exclusive_maximum),
        ("int32", n.int32),
    ] {
        if set {
            fields.push(format!("{name}: true"));
        }
    }
    if !n.enumeration.is_empty() {
        let values: Vec<String> = n.enumeration.iter().map(i64::to_string).collect();
        fields.push(format!("enumeration: &[{}]", values.join(", ")));
    }
    update("rt::validate::NumberRules", fields, 6, "ANY")
}

fn object(o: &ObjectRule) -> String {
    let rules: Vec<String> = o
        .fields
        .iter()
        .map(|f| {
            format!(
                "rt::validate::Field {{ name: {:?}, required: {}, schema: {} }}",
                f.name,
                f.required,
                reference(&f.rule)
            )
        })
        .collect();
    let mut fields = vec![format!("fields: &[{}]", rules.join(", "))];
    if o.deny_unknown {
        fields.push("deny_unknown: true".into());
    }
    if !o.forbidden.is_empty() {
        let forbidden: Vec<String> = o
            .forbidden
            .iter()
            .map(|(k, why)| format!("({k:?}, {why:?})"))
            .collect();
        fields.push(format!("forbidden: &[{}]", forbidden.join(", ")));
    }
    update("rt::validate::ObjectRules", fields, 3, "OPEN")
}

fn some(name: &str, v: &Option<u64>) -> Option<String> {
    v.map(|n| format!("{name}: Some({n})"))
}

/// `Type { fields, ..Type::DEFAULT }` for a type of `all` fields: the default itself when no
/// field differs, no update when every one does.
fn update(ty: &str, fields: Vec<String>, all: usize, default: &str) -> String {
    match fields.len() {
        0 => format!("{ty}::{default}"),
        n if n == all => format!("{ty} {{ {} }}", fields.join(", ")),
        _ => format!("{ty} {{ {}, ..{ty}::{default} }}", fields.join(", ")),
    }
}

/// For `serialize_with`: a static's initializer.
pub fn serialize_body<S: serde::Serializer>(rule: &Rule, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&body(rule))
}
