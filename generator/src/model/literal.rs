//! A spec `default` as a typed value of its field's type: what a create body falls back on and
//! what serde fills in. `emit::literal` writes it as Rust.

use super::type_ref::{Builtin, TypeRef};

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Bool(bool),
    Int32(i32),
    Int64(i64),
    Float(f64),
    Text(String),
    /// A value of the string enum `ty`, by its wire name.
    Variant {
        ty: TypeRef,
        wire: String,
    },
    /// A value of the integer enum `ty`.
    IntVariant {
        ty: TypeRef,
        value: i64,
    },
}

/// Which kind of enum a named type is, if any: a literal of one is a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumKind {
    None,
    Strings,
    Integers,
}

impl Literal {
    /// `value` as a literal of `ty` (an enum of `kind`); `None` when it does not fit the type,
    /// a spec error archgen does not guess around.
    pub fn of(value: &serde_json::Value, ty: &TypeRef, kind: EnumKind) -> Option<Self> {
        use serde_json::Value;
        let builtin = match ty {
            TypeRef::Builtin(b) => Some(*b),
            _ => None,
        };
        match (builtin, value) {
            (Some(Builtin::Bool), Value::Bool(b)) => Some(Self::Bool(*b)),
            (Some(Builtin::I32), Value::Number(n)) => n
                .as_i64()
                .and_then(|v| i32::try_from(v).ok())
                .map(Self::Int32),
            (Some(Builtin::I64), Value::Number(n)) => n.as_i64().map(Self::Int64),
            (Some(Builtin::F64), Value::Number(n)) => {
                n.as_f64().filter(|v| v.is_finite()).map(Self::Float)
            }
            (Some(Builtin::String), Value::String(text)) => Some(Self::Text(text.clone())),
            (_, Value::Number(n)) if kind == EnumKind::Integers => {
                n.as_i64().map(|value| Self::IntVariant {
                    ty: ty.clone(),
                    value,
                })
            }
            (_, Value::String(text)) if kind == EnumKind::Strings => Some(Self::Variant {
                ty: ty.clone(),
                wire: text.clone(),
            }),
            _ => None,
        }
    }
}
