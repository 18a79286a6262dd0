//! The shape of error bodies. archgen answers errors as RFC 9457 problem details; a spec may
//! declare its own problem schema (a stricter `detail` pattern, a length limit, no `errors`
//! list, plain `application/json`), and the generated router installs that shape here so every
//! error fits the schema the spec promises its clients.

use std::sync::OnceLock;

use regex::Regex;

use crate::field::FieldError;

/// How error bodies must look, from the spec's error responses.
#[derive(Debug)]
pub struct ProblemShape {
    /// `application/problem+json`, or `application/json` when that is all the spec declares.
    pub media_type: &'static str,
    /// Whether the per-field `errors` list may appear; without it, the fields go into `detail`.
    pub field_errors: bool,
    pub title: TextRule,
    pub detail: TextRule,
}

/// What a text member of the problem schema allows.
#[derive(Debug, Default)]
pub struct TextRule {
    pub pattern: Option<&'static str>,
    pub max_length: Option<usize>,
}

impl ProblemShape {
    /// RFC 9457 as archgen writes it when the spec says nothing else.
    pub const RFC9457: ProblemShape = ProblemShape {
        media_type: "application/problem+json",
        field_errors: true,
        title: TextRule {
            pattern: None,
            max_length: None,
        },
        detail: TextRule {
            pattern: None,
            max_length: None,
        },
    };
}

struct Installed {
    shape: &'static ProblemShape,
    title: Option<Regex>,
    detail: Option<Regex>,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// Make `shape` the shape of every error this process answers. The first call wins: one process
/// serves one spec. A pattern the `regex` crate cannot compile is ignored, with a warning.
pub fn install(shape: &'static ProblemShape) {
    INSTALLED.get_or_init(|| Installed {
        shape,
        title: compile(shape.title.pattern),
        detail: compile(shape.detail.pattern),
    });
}

fn compile(pattern: Option<&str>) -> Option<Regex> {
    let pattern = pattern?;
    let compiled = crate::validate::ecma_regex(pattern);
    if compiled.is_none() {
        tracing::warn!(
            pattern,
            "problem pattern ignored: the regex engine cannot compile it"
        );
    }
    compiled
}

/// The members of an error body after fitting them to the installed shape.
pub(crate) struct Fitted {
    pub media_type: &'static str,
    pub title: String,
    pub detail: Option<String>,
    pub errors: bool,
}

pub(crate) fn fit(
    title: &str,
    reason: &str,
    detail: Option<&str>,
    errors: &[FieldError],
) -> Fitted {
    let Some(installed) = INSTALLED.get() else {
        return Fitted {
            media_type: ProblemShape::RFC9457.media_type,
            title: title.to_string(),
            detail: detail.map(str::to_string),
            errors: true,
        };
    };
    let shape = installed.shape;
    // Without an `errors` list, the fields are the detail.
    let detail = if !shape.field_errors && !errors.is_empty() {
        Some(
            errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        )
    } else {
        detail.map(str::to_string)
    };
    let title = fit_text(title, &shape.title, installed.title.as_ref())
        .or_else(|| fit_text(reason, &shape.title, installed.title.as_ref()))
        .unwrap_or_else(|| title.to_string());
    let detail = detail.and_then(|d| fit_text(&d, &shape.detail, installed.detail.as_ref()));
    Fitted {
        media_type: shape.media_type,
        title,
        detail,
        errors: shape.field_errors,
    }
}

/// `text` as the rule allows it: unchanged when it fits; otherwise without the characters the
/// pattern refuses (patterns such as `^[\w\s.,-]+$` allow a set of characters) and cut to the
/// maximum length; `None` when even that does not fit.
fn fit_text(text: &str, rule: &TextRule, pattern: Option<&Regex>) -> Option<String> {
    let fits = |t: &str| {
        !t.is_empty()
            && rule.max_length.is_none_or(|m| t.chars().count() <= m)
            && pattern.is_none_or(|re| re.is_match(t))
    };
    if fits(text) {
        return Some(text.to_string());
    }
    let mut kept: String = match pattern {
        Some(re) => text
            .chars()
            .map(|c| {
                if re.is_match(c.encode_utf8(&mut [0; 4])) {
                    c
                } else {
                    ' '
                }
            })
            .collect(),
        None => text.to_string(),
    };
    kept = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(max) = rule.max_length {
        kept = kept
            .chars()
            .take(max)
            .collect::<String>()
            .trim_end()
            .to_string();
    }
    fits(&kept).then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_down_to_what_the_pattern_allows() {
        let re = crate::validate::ecma_regex(r"^[\w\s\-.,!?()]+$").unwrap();
        let rule = TextRule {
            pattern: Some(r"^[\w\s\-.,!?()]+$"),
            max_length: Some(20),
        };
        assert_eq!(
            fit_text("id: `abc` is not valid", &rule, Some(&re)).as_deref(),
            Some("id abc is not valid")
        );
        assert_eq!(
            fit_text("Not Found", &rule, Some(&re)).as_deref(),
            Some("Not Found")
        );
        // Nothing the pattern allows is left: no text rather than text that breaks the schema.
        assert_eq!(fit_text("`:`", &rule, Some(&re)), None);
        // ECMA's `\w` is ASCII: letters beyond it go, even though Rust's `\w` takes them.
        assert_eq!(
            fit_text("id µ𪝠x is bad", &rule, Some(&re)).as_deref(),
            Some("id x is bad")
        );
        let long = "a".repeat(30);
        assert_eq!(fit_text(&long, &rule, Some(&re)).unwrap().len(), 20);
    }
}
