//! Typed reads from annotation JSON that report, rather than panic on, anything unexpected.

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use crate::load::{SourceMap, push_pointer};

pub struct Reader<'a> {
    sources: &'a SourceMap,
    pub diagnostics: Diagnostics,
}

/// Keys match whatever their case style: ArchesAI used both `additionalMethods` and
/// `additional_methods` over its history.
fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl<'a> Reader<'a> {
    pub fn new(sources: &'a SourceMap) -> Self {
        Self {
            sources,
            diagnostics: Diagnostics::default(),
        }
    }

    pub fn error(&mut self, pointer: &str, message: String, hint: Option<String>) {
        let mut d = Diagnostic::error(message)
            .at(self.sources.locate(pointer))
            .pointer(pointer);
        if let Some(h) = hint {
            d = d.hint(h);
        }
        self.diagnostics.push(d);
    }

    pub fn warning(&mut self, pointer: &str, message: String) {
        self.diagnostics.push(
            Diagnostic::warning(message)
                .at(self.sources.locate(pointer))
                .pointer(pointer),
        );
    }

    pub fn unknown_key(&mut self, pointer: &str, key: &str, known: &[&str]) {
        let hint = did_you_mean(key, known.iter().copied())
            .unwrap_or_else(|| format!("known keys here: {}", known.join(", ")));
        self.error(
            pointer,
            format!("unknown annotation key `{key}`"),
            Some(hint),
        );
    }

    /// An `x-codegen-…` extension that is not ours. Other generators use the same prefix
    /// (OpenAPI Generator's `x-codegen-request-body-name`, say), so only a near miss of one of our
    /// keys is treated as a typo; anything further away belongs to another tool.
    pub fn unknown_extension(&mut self, pointer: &str, key: &str, known: &[&str]) {
        if known.iter().any(|k| strsim::levenshtein(key, k) <= 3) {
            self.unknown_key(pointer, key, known);
        }
    }

    /// The entries of an object whose keys are all in `known` (by canonical name), as
    /// (canonical key, value, pointer). Unknown keys are reported and skipped.
    pub fn object<'v>(
        &mut self,
        value: &'v Value,
        pointer: &str,
        known: &[&'static str],
    ) -> Option<Vec<(&'static str, &'v Value, String)>> {
        let Some(map) = value.as_object() else {
            self.error(
                pointer,
                format!("expected an object, found {}", describe(value)),
                None,
            );
            return None;
        };
        let mut out = Vec::new();
        for (key, v) in map {
            let p = push_pointer(pointer, key);
            match known.iter().find(|k| normalise(k) == normalise(key)) {
                Some(canonical) => out.push((*canonical, v, p)),
                None => self.unknown_key(&p, key, known),
            }
        }
        Some(out)
    }

    pub fn list<'v>(&mut self, value: &'v Value, pointer: &str) -> &'v [Value] {
        match value.as_array() {
            Some(items) => items,
            None => {
                self.error(
                    pointer,
                    format!("expected a list, found {}", describe(value)),
                    None,
                );
                &[]
            }
        }
    }

    pub fn string(&mut self, value: &Value, pointer: &str) -> Option<String> {
        match value.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.error(
                    pointer,
                    format!("expected a string, found {}", describe(value)),
                    None,
                );
                None
            }
        }
    }

    pub fn bool(&mut self, value: &Value, pointer: &str) -> Option<bool> {
        match value.as_bool() {
            Some(b) => Some(b),
            None => {
                self.error(
                    pointer,
                    format!("expected true or false, found {}", describe(value)),
                    None,
                );
                None
            }
        }
    }

    pub fn string_list(&mut self, value: &Value, pointer: &str) -> Vec<super::Spanned<String>> {
        let mut out = Vec::new();
        for (i, item) in self.list(value, pointer).iter().enumerate() {
            let p = push_pointer(pointer, &i.to_string());
            if let Some(s) = self.string(item, &p) {
                out.push(super::Spanned {
                    value: s,
                    pointer: p,
                });
            }
        }
        out
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
