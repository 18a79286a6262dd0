//! Rules written the way generated code declares them: `v::string().max_len(255)`, one line
//! per field where the struct literals would take ten. Every function is `const`, so a rule is
//! still a `static` built at compile time.

use super::{ArrayRules, Field, Format, NumberRules, ObjectRules, Schema, StringRules};

pub const fn any() -> Schema {
    Schema::Any
}

pub const fn boolean() -> Schema {
    Schema::Boolean
}

pub const fn string() -> Schema {
    Schema::STRING
}

pub const fn integer() -> Schema {
    Schema::INTEGER
}

pub const fn number() -> Schema {
    Schema::NUMBER
}

pub const fn array(items: &'static Schema) -> Schema {
    Schema::Array(ArrayRules {
        items,
        ..ArrayRules::ANY
    })
}

pub const fn object(fields: &'static [Field]) -> Schema {
    Schema::Object(ObjectRules {
        fields,
        ..ObjectRules::OPEN
    })
}

/// `null`, or what `inner` accepts.
pub const fn nullable(inner: &'static Schema) -> Schema {
    Schema::Nullable(inner)
}

/// Exactly one of `members`.
pub const fn one_of(members: &'static [&'static Schema]) -> Schema {
    Schema::OneOf(members)
}

/// The rules of another schema: a component that aliases another.
pub const fn alias(of: &'static Schema) -> Schema {
    Schema::Ref(of)
}

pub const fn required(name: &'static str, schema: &'static Schema) -> Field {
    Field {
        name,
        required: true,
        schema,
    }
}

pub const fn optional(name: &'static str, schema: &'static Schema) -> Field {
    Field {
        name,
        required: false,
        schema,
    }
}

/// A refinement of one kind of schema; any other kind passes unchanged (the generator only
/// writes refinements where they apply).
macro_rules! refine {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) $variant:ident($rules:ident { $($field:ident: $value:expr),* })) => {
        $(#[$doc])*
        pub const fn $name(self, $($arg: $ty),*) -> Self {
            match self {
                Schema::$variant(r) => Schema::$variant($rules { $($field: $value,)* ..r }),
                other => other,
            }
        }
    };
}

/// A refinement of integers and numbers alike.
macro_rules! numeric {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) { $($field:ident: $value:expr),* }) => {
        $(#[$doc])*
        pub const fn $name(self, $($arg: $ty),*) -> Self {
            match self {
                Schema::Integer(r) => Schema::Integer(NumberRules { $($field: $value,)* ..r }),
                Schema::Number(r) => Schema::Number(NumberRules { $($field: $value,)* ..r }),
                other => other,
            }
        }
    };
}

impl Schema {
    refine!(min_len(n: u64) String(StringRules { min_length: Some(n) }));
    refine!(max_len(n: u64) String(StringRules { max_length: Some(n) }));
    refine!(
        /// An ECMA-262 pattern, as JSON Schema means it.
        pattern(p: &'static str) String(StringRules { pattern: Some(p) })
    );
    refine!(
        /// Between `min` and `max` characters.
        len(min: u64, max: u64) String(StringRules { min_length: Some(min), max_length: Some(max) })
    );
    refine!(format(f: Format) String(StringRules { format: f }));
    refine!(uuid() String(StringRules { format: Format::Uuid }));
    refine!(date_time() String(StringRules { format: Format::DateTime }));
    refine!(date() String(StringRules { format: Format::Date }));
    refine!(email() String(StringRules { format: Format::Email }));
    refine!(uri() String(StringRules { format: Format::Uri }));
    refine!(
        /// The only values allowed (a string enum).
        values(values: &'static [&'static str]) String(StringRules { enumeration: values })
    );
    numeric!(min(n: f64) { minimum: Some(n) });
    numeric!(max(n: f64) { maximum: Some(n) });
    numeric!(exclusive_min() { exclusive_minimum: true });
    numeric!(exclusive_max() { exclusive_maximum: true });
    numeric!(
        /// The value must fit in an `i32`.
        int32() { int32: true }
    );
    numeric!(
        /// The only values allowed (an integer enum).
        integers(values: &'static [i64]) { enumeration: values }
    );
    refine!(min_items(n: u64) Array(ArrayRules { min_items: Some(n) }));
    refine!(max_items(n: u64) Array(ArrayRules { max_items: Some(n) }));
    refine!(
        /// `additionalProperties: false`: keys that are not listed are refused.
        deny_unknown() Object(ObjectRules { deny_unknown: true })
    );
    refine!(
        /// Fields the request may not send, each with the reason given back.
        forbid(fields: &'static [(&'static str, &'static str)]) Object(ObjectRules { forbidden: fields })
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    static NAME: Schema = string().len(1, 255).pattern("^[a-z]+$");
    static BODY: Schema = object(&[
        required("name", &NAME),
        optional("age", &integer().min(0.0).int32()),
    ])
    .deny_unknown()
    .forbid(&[("id", "is set by the server")]);

    #[test]
    fn refinements_build_the_same_rules_as_literals() {
        let Schema::String(name) = &NAME else {
            panic!("a string")
        };
        assert_eq!(
            (name.min_length, name.max_length, name.pattern),
            (Some(1), Some(255), Some("^[a-z]+$"))
        );
        let Schema::Object(body) = &BODY else {
            panic!("an object")
        };
        assert!(body.deny_unknown);
        assert_eq!(body.forbidden, &[("id", "is set by the server")]);
        assert_eq!(body.fields.len(), 2);
        let Schema::Integer(age) = body.fields[1].schema else {
            panic!("an integer")
        };
        assert!(age.int32 && age.minimum == Some(0.0) && !body.fields[1].required);
    }

    #[test]
    fn a_refinement_of_another_kind_changes_nothing() {
        let Schema::Boolean = boolean().min_len(3).min(1.0).deny_unknown() else {
            panic!("unchanged")
        };
    }
}
