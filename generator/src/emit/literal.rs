//! Spec defaults written as Rust: the expression a create body falls back on, and the
//! `#[serde(default …)]` a type's field carries.

use crate::model::literal::Literal;

/// `lit` as a Rust expression of its type.
pub fn rust(lit: &Literal) -> String {
    match lit {
        Literal::Bool(b) => b.to_string(),
        Literal::Int32(v) => v.to_string(),
        Literal::Int64(v) => v.to_string(),
        Literal::Float(v) => format!("{v:?}_f64"),
        Literal::Text(text) => format!("String::from({text:?})"),
        Literal::Variant { ty, wire } => format!("{ty}::from_wire({wire:?}).unwrap_or_default()"),
        Literal::IntVariant { ty, value } => format!("{ty}::of({value}).unwrap_or_default()"),
    }
}

/// Whether [`rust`] is a plain literal, which needs no closure to be lazy (clippy:
/// `unnecessary_lazy_evaluations`).
pub fn is_constant(lit: &Literal) -> bool {
    !matches!(
        lit,
        Literal::Text(_) | Literal::Variant { .. } | Literal::IntVariant { .. }
    )
}

/// How serde fills a field in with `lit`: `Some("")` when the type's own `Default` is `lit`
/// (`#[serde(default)]`), `Some(path)` for a function of the runtime's, `None` when the type
/// needs a function of its own.
pub fn serde_default(lit: &Literal) -> Option<String> {
    let generic = |f: &str, v: i64| match v {
        0 => String::new(),
        v if v < 0 => format!("rt::defaults::{f}::<{{ {v} }}>"),
        v => format!("rt::defaults::{f}::<{v}>"),
    };
    match lit {
        Literal::Bool(false) => Some(String::new()),
        Literal::Bool(true) => Some("rt::defaults::yes".into()),
        Literal::Int32(v) => Some(generic("int32", i64::from(*v))),
        Literal::Int64(v) => Some(generic("int64", *v)),
        Literal::Text(text) if text.is_empty() => Some(String::new()),
        _ => None,
    }
}

/// In templates: `{rust, serde}`, where `serde` is as [`serde_default`] says.
impl serde::Serialize for Literal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Literal", 2)?;
        s.serialize_field("rust", &rust(self))?;
        s.serialize_field("serde", &serde_default(self))?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_that_types_have_need_no_function() {
        assert_eq!(serde_default(&Literal::Bool(false)).as_deref(), Some(""));
        assert_eq!(serde_default(&Literal::Int64(0)).as_deref(), Some(""));
        assert_eq!(
            serde_default(&Literal::Int32(-3)).as_deref(),
            Some("rt::defaults::int32::<{ -3 }>")
        );
        assert_eq!(serde_default(&Literal::Text("x".into())), None);
        assert_eq!(rust(&Literal::Float(1.0)), "1.0_f64");
    }
}
