//! Types as data: a [`TypeRef`] says what a field, member or parameter holds, naming defined
//! types by [`TypeId`], so that passes over the type graph (`cycles`, `reach`) follow ids rather
//! than read Rust text. Only `emit::types` writes a `TypeRef` as Rust; templates see that text.

use std::collections::HashMap;

use serde::{Serialize, Serializer};

/// A named type definition in the type space, by the order its name was first declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(usize);

/// A defined type as a reference holds it: its id for the passes over the graph, its name for
/// emitting (templates are rendered from the serialised model, which has no type space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    pub id: TypeId,
    pub name: String,
}

/// The types generated code takes from Rust, its dependencies or the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    String,
    I32,
    I64,
    F64,
    Bool,
    Uuid,
    DateTime,
    Date,
    /// Any JSON value.
    Json,
    /// A request or response body passed through as bytes.
    RawBody,
}

/// What a value holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    Builtin(Builtin),
    Named(TypeName),
    Vec(Box<TypeRef>),
    /// A JSON object with string keys.
    Map(Box<TypeRef>),
    Option(Box<TypeRef>),
    /// Absent, null or a value: an optional, nullable field.
    Patch(Box<TypeRef>),
    /// Behind a pointer, to break a cycle of types holding each other.
    Boxed(Box<TypeRef>),
}

impl TypeRef {
    pub fn optional(self) -> Self {
        TypeRef::Option(Box::new(self))
    }

    pub fn patch(self) -> Self {
        TypeRef::Patch(Box::new(self))
    }

    pub fn is_option(&self) -> bool {
        matches!(self, TypeRef::Option(_))
    }

    /// The defined type this is, if it is one.
    pub fn named(&self) -> Option<&TypeName> {
        match self {
            TypeRef::Named(n) => Some(n),
            _ => None,
        }
    }

    /// Every defined type it mentions, however deeply.
    pub fn mentioned(&self) -> Vec<TypeId> {
        let mut out = Vec::new();
        let mut pending = vec![self];
        while let Some(ty) = pending.pop() {
            match ty {
                TypeRef::Builtin(_) => {}
                TypeRef::Named(n) => out.push(n.id),
                TypeRef::Vec(inner)
                | TypeRef::Map(inner)
                | TypeRef::Option(inner)
                | TypeRef::Patch(inner)
                | TypeRef::Boxed(inner) => pending.push(inner),
            }
        }
        out
    }
}

impl Serialize for TypeRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::emit::types::rust(self))
    }
}

/// The ids of defined types, by name: a name is declared once and keeps its id.
#[derive(Debug, Default)]
pub struct TypeIds {
    by_name: HashMap<String, TypeId>,
}

impl TypeIds {
    /// The reference to the type `name`, declaring it if it is new.
    pub fn declare(&mut self, name: &str) -> TypeName {
        let next = TypeId(self.by_name.len());
        let id = *self.by_name.entry(name.to_string()).or_insert(next);
        TypeName {
            id,
            name: name.to_string(),
        }
    }

    pub fn lookup(&self, name: &str) -> Option<TypeId> {
        self.by_name.get(name).copied()
    }
}

impl From<Builtin> for TypeRef {
    fn from(b: Builtin) -> Self {
        TypeRef::Builtin(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_mentions_the_named_types_inside_it() {
        let mut ids = TypeIds::default();
        let (a, b) = (ids.declare("A"), ids.declare("B"));
        assert_eq!(ids.declare("A").id, a.id, "a name keeps its id");
        let map = TypeRef::Map(Box::new(TypeRef::Named(b.clone())));
        let ty = TypeRef::Vec(Box::new(map)).optional();
        assert_eq!(ty.mentioned(), [b.id]);
        assert_eq!(TypeRef::Builtin(Builtin::Json).mentioned(), []);
    }
}
