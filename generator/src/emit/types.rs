//! Type references written as Rust: the one place the model's types become Rust syntax.

use std::fmt;

use crate::model::type_ref::{Builtin, TypeRef};

/// The Rust type `ty` stands for.
pub fn rust(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Builtin(b) => builtin(*b).to_string(),
        TypeRef::Named(n) => n.name.clone(),
        TypeRef::Vec(inner) => format!("Vec<{}>", rust(inner)),
        TypeRef::Map(inner) => format!("std::collections::BTreeMap<String, {}>", rust(inner)),
        TypeRef::Option(inner) => format!("Option<{}>", rust(inner)),
        TypeRef::Patch(inner) => format!("rt::Patch<{}>", rust(inner)),
        TypeRef::Boxed(inner) => format!("Box<{}>", rust(inner)),
    }
}

/// The Rust type of a value that may be absent: `()` when it is.
pub fn rust_or_unit(ty: Option<&TypeRef>) -> String {
    ty.map_or_else(|| "()".to_string(), rust)
}

fn builtin(b: Builtin) -> &'static str {
    match b {
        Builtin::String => "String",
        Builtin::I32 => "i32",
        Builtin::I64 => "i64",
        Builtin::F64 => "f64",
        Builtin::Bool => "bool",
        Builtin::Uuid => "Uuid",
        Builtin::DateTime => "DateTime<Utc>",
        Builtin::Date => "NaiveDate",
        Builtin::Json => "rt::deps::serde_json::Value",
        Builtin::RawBody => "rt::http::RawBody",
    }
}

/// For Rust expressions that name a type, such as a default's `T::from_wire(…)`.
impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&rust(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::type_ref::TypeIds;

    #[test]
    fn nested_types_are_written_inside_out() {
        let named = TypeRef::Named(TypeIds::default().declare("Match"));
        let ty = TypeRef::Vec(Box::new(TypeRef::Boxed(Box::new(named)))).optional();
        assert_eq!(rust(&ty), "Option<Vec<Box<Match>>>");
        let map = TypeRef::Map(Box::new(TypeRef::Builtin(Builtin::Json))).patch();
        assert_eq!(
            rust(&map),
            "rt::Patch<std::collections::BTreeMap<String, rt::deps::serde_json::Value>>"
        );
    }
}
