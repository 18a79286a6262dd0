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
