//! Which of an operation's media types the generated handler speaks. JSON is preferred
//! wherever it is offered; otherwise forms are parsed into their schema's type, text arrives as
//! a `String`, and anything else (octet-stream, images, multipart) as `rt::http::RawBody`.

use indexmap::IndexMap;
use openapiv3::MediaType;
use serde::Serialize;

use super::schema::{SRef, from_ref};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Form,
    Text,
    Raw,
}

/// The format to use for `content`, its schema (JSON and forms), and the media types that
/// format accepts (for text and raw bodies, to answer 415 to anything else).
pub fn choose(
    content: &IndexMap<String, MediaType>,
) -> Option<(Format, Option<SRef>, Vec<String>)> {
    let of = |wanted: fn(&str) -> bool| {
        content
            .iter()
            .filter(|(k, _)| wanted(&k.to_ascii_lowercase()))
            .map(|(k, m)| (k.clone(), m))
            .collect::<Vec<_>>()
    };
    let schema = |m: &MediaType| m.schema.as_ref().map(from_ref);
    let json = of(|k| k.contains("json") || k == "*/*");
    if let Some((_, m)) = json.first() {
        return Some((Format::Json, schema(m), Vec::new()));
    }
    let form = of(|k| k.starts_with("application/x-www-form-urlencoded"));
    if let Some((_, m)) = form.first() {
        return Some((Format::Form, schema(m), Vec::new()));
    }
    let text = of(|k| k.starts_with("text/"));
    if !text.is_empty() && text.len() == content.len() {
        return Some((
            Format::Text,
            None,
            text.into_iter().map(|(k, _)| k).collect(),
        ));
    }
    if content.is_empty() {
        return None;
    }
    Some((Format::Raw, None, content.keys().cloned().collect()))
}
