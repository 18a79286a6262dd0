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

#[cfg(test)]
mod tests {
    use super::Wire;

    #[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    enum Colour {
        Red,
        DarkBlue,
    }

    impl Wire for Colour {
        const ALL: &'static [&'static str] = &["red", "dark-blue"];
        fn index(self) -> usize {
            self as usize
        }
    }

    #[test]
    fn values_and_variants_correspond() {
        assert_eq!(Colour::DarkBlue.as_str(), "dark-blue");
        assert_eq!(Colour::from_wire("red"), Some(Colour::Red));
        assert_eq!(Colour::from_wire("dark-blue"), Some(Colour::DarkBlue));
        assert_eq!(Colour::from_wire("Red"), None);
    }
}
