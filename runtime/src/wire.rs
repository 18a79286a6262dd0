//! String enums as they travel: each generated enum declares its wire values, in the order of
//! its variants, and gets the conversions from here.

/// A string enum of the spec.
pub trait Wire: Sized + Copy + PartialEq + 'static {
    /// Every value, as it appears on the wire.
    const ALL: &'static [&'static str];
    /// The variants, in the order of [`Wire::ALL`].
    const VARIANTS: &'static [Self];

    fn as_str(&self) -> &'static str {
        Self::VARIANTS
            .iter()
            .position(|v| v == self)
            .map_or("", |i| Self::ALL[i])
    }

    fn from_wire(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .position(|v| *v == s)
            .map(|i| Self::VARIANTS[i])
    }
}

#[cfg(test)]
mod tests {
    use super::Wire;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Colour {
        Red,
        DarkBlue,
    }

    impl Wire for Colour {
        const ALL: &'static [&'static str] = &["red", "dark-blue"];
        const VARIANTS: &'static [Self] = &[Self::Red, Self::DarkBlue];
    }

    #[test]
    fn values_and_variants_correspond() {
        assert_eq!(Colour::DarkBlue.as_str(), "dark-blue");
        assert_eq!(Colour::from_wire("red"), Some(Colour::Red));
        assert_eq!(Colour::from_wire("Red"), None);
    }
}
