//! A PATCH body must tell "leave this field alone" from "set it to null"; `Option<T>` cannot.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// The field was not in the request: keep the stored value.
    #[default]
    Absent,
    /// The field was `null`: clear the stored value.
    Null,
    Value(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    /// Apply to a field that cannot be null: `null` was refused by validation and is ignored.
    pub fn apply_to(self, field: &mut T) {
        if let Patch::Value(v) = self {
            *field = v;
        }
    }

    /// Apply to a nullable field: `null` clears it.
    pub fn apply_to_option(self, field: &mut Option<T>) {
        match self {
            Patch::Value(v) => *field = Some(v),
            Patch::Null => *field = None,
            Patch::Absent => {}
        }
    }

    /// `None` when absent, `Some(None)` when null.
    pub fn into_option(self) -> Option<Option<T>> {
        match self {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(v) => Some(Some(v)),
        }
    }
}

impl<T> From<Option<T>> for Patch<T> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Patch::Null, Patch::Value)
    }
}

// Only called when the key is present (fields carry `#[serde(default)]`), so "absent" never
// reaches here and `null` maps to `Null`.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Patch::from)
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Absent | Patch::Null => s.serialize_none(),
            Patch::Value(v) => s.serialize_some(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Default)]
    struct Body {
        #[serde(default)]
        name: Patch<String>,
    }

    #[test]
    fn tells_absent_from_null_from_value() {
        let absent: Body = serde_json::from_str("{}").unwrap();
        let null: Body = serde_json::from_str(r#"{"name":null}"#).unwrap();
        let value: Body = serde_json::from_str(r#"{"name":"x"}"#).unwrap();
        assert_eq!(absent.name, Patch::Absent);
        assert_eq!(null.name, Patch::Null);
        assert_eq!(value.name, Patch::Value("x".to_string()));
    }
}
