//! Validation rules as Rust: `rt::validate::Schema` expressions, written with the runtime's
//! const builders (`v::string().max_len(20)`, where the file imports `rt::validate as v`). Only
//! what a spec constrains is written, so a field is one line, not ten.

use crate::model::rules::{Format, NumberRule, ObjectRule, Rule, StringRule};

/// An expression of type `&'static Schema`.
pub fn reference(rule: &Rule) -> String {
    match rule {
        Rule::Static(name) => format!("&{name}"),
        other => format!("&{}", value(other)),
    }
}

/// The initializer of a static `Schema`.
pub fn body(rule: &Rule) -> String {
    value(rule)
}

fn value(rule: &Rule) -> String {
    match rule {
        Rule::Any => "v::any()".into(),
        Rule::Boolean => "v::boolean()".into(),
        Rule::String(s) => format!("v::string(){}", string(s)),
        Rule::Integer(n) => format!("v::integer(){}", number(n)),
        Rule::Number(n) => format!("v::number(){}", number(n)),
        Rule::Array {
            items,
            min_items,
            max_items,
        } => {
            let mut out = format!("v::array({})", reference(items));
            out.extend(min_items.map(|n| format!(".min_items({n})")));
            out.extend(max_items.map(|n| format!(".max_items({n})")));
            out
        }
        Rule::Object(o) => object(o),
        Rule::OneOf(members) => {
            let members: Vec<String> = members.iter().map(reference).collect();
            format!("v::one_of(&[{}])", members.join(", "))
        }
        Rule::Nullable(inner) => format!("v::nullable({})", reference(inner)),
        // An alias of another component's rule: a static cannot be moved out of.
        Rule::Static(name) => format!("v::alias(&{name})"),
    }
}

fn string(s: &StringRule) -> String {
    let mut out = match (s.min_length, s.max_length) {
        (Some(min), Some(max)) => format!(".len({min}, {max})"),
        (min, max) => {
            let min = min.map(|n| format!(".min_len({n})"));
            min.into_iter()
                .chain(max.map(|n| format!(".max_len({n})")))
                .collect()
        }
    };
    // The runtime compiles patterns with ECMA-262's meaning (`rt::validate::ecma_regex`), which
    // accepts what the `regex` crate alone would not (`[\w-.]`); it warns about any it cannot.
    out.extend(s.pattern.as_ref().map(|p| format!(".pattern({p:?})")));
    out.push_str(match s.format {
        Format::None => "",
        Format::Uuid => ".uuid()",
        Format::DateTime => ".date_time()",
        Format::Date => ".date()",
        Format::Email => ".email()",
        Format::Uri => ".uri()",
        Format::Byte => ".format(v::Format::Byte)",
    });
    if !s.enumeration.is_empty() {
        let values: Vec<String> = s.enumeration.iter().map(|v| format!("{v:?}")).collect();
        out.push_str(&format!(".values(&[{}])", values.join(", ")));
    }
    out
}

fn number(n: &NumberRule) -> String {
    let mut out = String::new();
    let finite = |v: Option<f64>| v.filter(|x| x.is_finite());
    out.extend(finite(n.minimum).map(|x| format!(".min({x:?})")));
    out.extend(finite(n.maximum).map(|x| format!(".max({x:?})")));
    for (name, set) in [
        ("exclusive_min", n.exclusive_minimum),
        ("exclusive_max", n.exclusive_maximum),
        ("int32", n.int32),
    ] {
        if set {
            out.push_str(&format!(".{name}()"));
        }
    }
    if !n.enumeration.is_empty() {
        let values: Vec<String> = n.enumeration.iter().map(i64::to_string).collect();
        out.push_str(&format!(".integers(&[{}])", values.join(", ")));
    }
    out
}

fn object(o: &ObjectRule) -> String {
    let fields: Vec<String> = o
        .fields
        .iter()
        .map(|f| {
            let kind = if f.required { "required" } else { "optional" };
            format!("v::{kind}({:?}, {})", f.name, reference(&f.rule))
        })
        .collect();
    let mut out = format!("v::object(&[{}])", fields.join(", "));
    if o.deny_unknown {
        out.push_str(".deny_unknown()");
    }
    if !o.forbidden.is_empty() {
        let forbidden: Vec<String> = o
            .forbidden
            .iter()
            .map(|(k, why)| format!("({k:?}, {why:?})"))
            .collect();
        out.push_str(&format!(".forbid(&[{}])", forbidden.join(", ")));
    }
    out
}

/// For `serialize_with`: a static's initializer.
pub fn serialize_body<S: serde::Serializer>(rule: &Rule, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&body(rule))
}
