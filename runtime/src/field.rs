//! The one error shape every layer shares: a failing field of a request. At the bottom of the
//! runtime's modules, so that validation, filters and cursors need nothing above them.

use serde::Serialize;

/// One failing field of a request: `field` is a dotted path such as `name` or `filter.value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
