//! String enums as they travel: each generated enum declares its wire values, in the order of
//! its variants, and gets the conversions from here.

use serde::de::value::{Error, StrDeserializer};
use serde::de::{Deserialize, IntoDeserializer};

/// A string enum of the spec: fieldless, its variants in the order of [`Wire::ALL`], and
/// deserializable from its wire values (serde's derive, with the same renames).
pub trait Wire: Sized + Copy + PartialEq + for<'de> Deserialize<'de> + 'static {
    /// Every value, as it appears on the wire.
    const ALL: &'static [&'static str];

    /// The variant's position in [`Wire::ALL`]: its discriminant (`self as usize`).
    fn index(self) -> usize;

    fn as_str(&self) -> &'static str {
        Self::ALL.get(self.index()).copied().unwrap_or("")
    }

    fn from_wire(s: &str) -> Option<Self> {
        let value: StrDeserializer<'_, Error> = s.into_deserializer();
        Self::deserialize(value).ok()
    }
}

/// Declares a generated enum's wire values, in the order of its variants: implements [`Wire`]
/// and `Display` (the wire value). `rt::wire!(Colour => "red", "dark-blue");`
#[macro_export]
macro_rules! wire {
    ($ty:ty => $($value:literal),* $(,)?) => {
        impl $crate::Wire for $ty {
            const ALL: &'static [&'static str] = &[$($value),*];
            fn index(self) -> usize {
                self as usize
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::Wire::as_str(self))
            }
        }
    };
}

/// Declares a generated integer enum (`#[repr(i64)]`, each variant's discriminant its value):
/// `rt::int_enum!(Tier => V1, V2, V3);` gives it `ALL`, `of` and `value`, serde as the bare
/// number (any other number is refused, naming the allowed ones), `Display`, and the SQL
/// conversions of an integer column, so an entity can store it.
#[macro_export]
macro_rules! int_enum {
    ($ty:ident => $($variant:ident),+ $(,)?) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            /// Every value, for the filters of a column that stores it.
            pub const VALUES: &'static [i64] = &[$($ty::$variant as i64),+];

            /// The variant whose value is `value`.
            pub const fn of(value: i64) -> ::std::option::Option<Self> {
                $(if value == $ty::$variant as i64 {
                    return ::std::option::Option::Some($ty::$variant);
                })+
                ::std::option::Option::None
            }

            pub const fn value(self) -> i64 {
                self as i64
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::write!(f, "{}", self.value())
            }
        }

        impl $crate::deps::serde::Serialize for $ty {
            fn serialize<S: $crate::deps::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_i64(self.value())
            }
        }

        impl<'de> $crate::deps::serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::deps::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let value = <i64 as $crate::deps::serde::Deserialize>::deserialize(d)?;
                $ty::of(value).ok_or_else(|| {
                    <D::Error as $crate::deps::serde::de::Error>::custom($crate::int_enum_refusal(value, Self::ALL.iter().map(|v| v.value())))
                })
            }
        }

        impl ::std::convert::From<$ty> for $crate::sql::Value {
            fn from(v: $ty) -> Self {
                v.value().into()
            }
        }

        impl $crate::IntEnum for $ty {
            fn of(value: i64) -> ::std::option::Option<Self> {
                $ty::of(value)
            }
            fn value(self) -> i64 {
                self as i64
            }
        }

        impl $crate::sql::FromSql for $ty {
            fn from_pg(row: &$crate::deps::sqlx::postgres::PgRow, column: &str) -> ::std::result::Result<Self, $crate::deps::sqlx::Error> {
                $crate::int_enum_decode(column, <i64 as $crate::sql::FromSql>::from_pg(row, column)?, $ty::of)
            }
            fn from_sqlite(row: &$crate::deps::sqlx::sqlite::SqliteRow, column: &str) -> ::std::result::Result<Self, $crate::deps::sqlx::Error> {
                $crate::int_enum_decode(column, <i64 as $crate::sql::FromSql>::from_sqlite(row, column)?, $ty::of)
            }
        }

    };
}

/// An integer enum of the spec, declared with [`int_enum!`]: a nullable column of one is an
/// `Option` of it, which the runtime converts (the generated crate may not).
pub trait IntEnum: Copy + 'static {
    fn of(value: i64) -> Option<Self>;
    fn value(self) -> i64;
}

/// Why an integer enum refused `value`.
#[doc(hidden)]
pub fn int_enum_refusal(value: i64, allowed: impl Iterator<Item = i64>) -> String {
    let allowed: Vec<String> = allowed.map(|v| v.to_string()).collect();
    format!("{value} is not one of {}", allowed.join(", "))
}

/// An integer enum read from `column`; a value the enum does not know is a decode error.
#[doc(hidden)]
pub fn int_enum_decode<T>(
    column: &str,
    value: i64,
    of: fn(i64) -> Option<T>,
) -> Result<T, sqlx::Error> {
    of(value).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: format!("{value} is not a value of the column's enum").into(),
    })
}

/// Spec defaults that serde fills in (`#[serde(default = "rt::defaults::int32::<5>")]`), so that
/// a type needs no function of its own per default. `false`, `0` and the first variant of an
/// enum are the types' own `Default`.
pub mod defaults {
    pub fn yes() -> bool {
        true
    }

    pub fn int32<const N: i32>() -> i32 {
        N
    }

    pub fn int64<const N: i64>() -> i64 {
        N
    }
}

#[cfg(test)]
mod tests {
    use super::Wire;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    #[repr(i64)]
    enum Tier {
        #[default]
        V1 = 1,
        V3 = 3,
        Minus2 = -2,
    }
    crate::int_enum!(Tier => V1, V3, Minus2);

    #[test]
    fn integer_enums_travel_as_their_numbers_and_refuse_others() {
        assert_eq!(serde_json::to_string(&Tier::V3).unwrap(), "3");
        let back: Tier = serde_json::from_str("-2").unwrap();
        assert_eq!(back, Tier::Minus2);
        let refused = serde_json::from_str::<Tier>("2").unwrap_err().to_string();
        assert!(refused.contains("2 is not one of 1, 3, -2"), "{refused}");
        assert!(serde_json::from_str::<Tier>("\"1\"").is_err());
        assert_eq!(Tier::of(1), Some(Tier::V1));
        assert_eq!(Tier::VALUES, [1, 3, -2]);
        let column = crate::repo::Column::integer("tier", "tier").integers(Tier::VALUES);
        let table =
            crate::repo::Table::new("T", "t", std::slice::from_ref(Box::leak(Box::new(column))));
        let filter = |v: i64| {
            let raw = serde_json::json!({"type": "eq", "field": "tier", "value": v});
            crate::filter::FilterNode::parse(&raw, &table)
        };
        assert!(filter(3).is_ok());
        let refused = filter(2).unwrap_err();
        assert_eq!(refused[0].message, "must be one of 1, 3, -2");
        assert_eq!(
            crate::sql::Value::from(Some(Tier::V3)),
            crate::sql::Value::Int64(Some(3))
        );
    }

    #[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    enum Colour {
        Red,
        DarkBlue,
    }

    crate::wire!(Colour => "red", "dark-blue");

    #[test]
    fn values_and_variants_correspond() {
        assert_eq!(Colour::DarkBlue.as_str(), "dark-blue");
        assert_eq!(Colour::from_wire("red"), Some(Colour::Red));
        assert_eq!(Colour::from_wire("dark-blue"), Some(Colour::DarkBlue));
        assert_eq!(Colour::from_wire("Red"), None);
        assert_eq!(Colour::DarkBlue.to_string(), "dark-blue");
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Defaults {
        #[serde(default = "super::defaults::yes")]
        on: bool,
        #[serde(default = "super::defaults::int32::<{ -5 }>")]
        offset: i32,
        #[serde(default = "super::defaults::int64::<60>")]
        limit: i64,
    }

    #[test]
    fn defaults_fill_absent_fields() {
        let d: Defaults = serde_json::from_str("{}").unwrap();
        assert_eq!(
            d,
            Defaults {
                on: true,
                offset: -5,
                limit: 60
            }
        );
    }
}
