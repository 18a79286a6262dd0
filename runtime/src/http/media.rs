//! Request bodies other than JSON, header and cookie parameters, and non-JSON responses.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::coerce;
use crate::error::{ApiError, FieldError};
use crate::validate::Schema;

/// A body archgen does not interpret (octet-stream, images, multipart), with its media type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawBody {
    pub content_type: String,
    pub data: Vec<u8>,
}

impl IntoResponse for RawBody {
    fn into_response(self) -> Response {
        let content_type = HeaderValue::from_str(&self.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        ([(header::CONTENT_TYPE, content_type)], self.data).into_response()
    }
}

/// Whether `declared` (a Content-Type header) is one of `accepted` (media ranges from the spec,
/// such as `image/*`). Parameters (`; charset=…`, multipart boundaries) are ignored.
pub fn media_matches(declared: &str, accepted: &[&str]) -> bool {
    let essence = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    accepted.iter().any(|range| {
        let range = range.to_ascii_lowercase();
        match range.split_once('/') {
            _ if range == "*/*" => true,
            Some((kind, "*")) => essence.split('/').next() == Some(kind),
            _ => essence == range,
        }
    })
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn empty(required: bool, status: StatusCode) -> Result<Option<Value>, ApiError> {
    if required {
        Err(ApiError::validation(
            status,
            vec![FieldError::new("body", "is required")],
        ))
    } else {
        Ok(None)
    }
}

fn unsupported(declared: &str, accepted: &[&str]) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!(
            "expected a body of type {}, got `{declared}`",
            accepted.join(" or ")
        ),
    )
}

/// An `application/x-www-form-urlencoded` body, typed and validated like a query string.
pub fn form_body(
    headers: &HeaderMap,
    bytes: &[u8],
    schema: &Schema,
    required: bool,
    status: StatusCode,
) -> Result<Option<Value>, ApiError> {
    if bytes.is_empty() {
        return empty(required, status);
    }
    let declared = content_type(headers);
    const FORM: &[&str] = &["application/x-www-form-urlencoded"];
    if !media_matches(declared, FORM) {
        return Err(unsupported(declared, FORM));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::validation(status, vec![FieldError::new("body", "is not UTF-8")]))?;
    let map = crate::query::parse_query(text).map_err(|e| ApiError::validation(status, vec![e]))?;
    super::checked_body(coerce(&Value::Object(map), schema), schema, status).map(Some)
}

/// A text body (`text/plain` and the like).
pub fn text_body(
    headers: &HeaderMap,
    bytes: &[u8],
    accepted: &[&str],
    required: bool,
    status: StatusCode,
) -> Result<Option<String>, ApiError> {
    Ok(
        raw_body(headers, bytes, accepted, required, status)?.map(|raw| {
            String::from_utf8(raw.data)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        }),
    )
}

/// A body passed through as bytes, after checking its media type against the spec's.
pub fn raw_body(
    headers: &HeaderMap,
    bytes: &[u8],
    accepted: &[&str],
    required: bool,
    status: StatusCode,
) -> Result<Option<RawBody>, ApiError> {
    if bytes.is_empty() {
        return empty(required, status).map(|_| None);
    }
    let declared = content_type(headers);
    if !declared.is_empty() && !media_matches(declared, accepted) {
        return Err(unsupported(declared, accepted));
    }
    Ok(Some(RawBody {
        content_type: declared.to_string(),
        data: bytes.to_vec(),
    }))
}

/// A header parameter, typed and validated. Header names are case-insensitive.
pub fn header_param<T: DeserializeOwned>(
    headers: &HeaderMap,
    name: &str,
    schema: &Schema,
    required: bool,
    status: StatusCode,
) -> Result<Option<T>, ApiError> {
    let raw = match headers.get(name) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            ApiError::validation(status, vec![FieldError::new(name, "is not visible ASCII")])
        })?),
    };
    typed(raw, name, schema, required, status)
}

/// A cookie parameter, from the `Cookie` headers.
pub fn cookie_param<T: DeserializeOwned>(
    headers: &HeaderMap,
    name: &str,
    schema: &Schema,
    required: bool,
    status: StatusCode,
) -> Result<Option<T>, ApiError> {
    let raw = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'));
    typed(raw, name, schema, required, status)
}

fn typed<T: DeserializeOwned>(
    raw: Option<&str>,
    name: &str,
    schema: &Schema,
    required: bool,
    status: StatusCode,
) -> Result<Option<T>, ApiError> {
    let raw = raw.map(|r| Value::String(r.to_string()));
    super::parameter(raw.as_ref(), name, schema, required, status)
}

/// A `text/plain` response.
pub fn text_response(status: StatusCode, text: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_ranges_match_by_essence() {
        assert!(media_matches("image/png", &["image/*"]));
        assert!(media_matches(
            "Application/Octet-Stream",
            &["application/octet-stream"]
        ));
        assert!(media_matches(
            "multipart/form-data; boundary=x",
            &["multipart/form-data"]
        ));
        assert!(media_matches("text/csv", &["*/*"]));
        assert!(!media_matches(
            "application/json",
            &["application/octet-stream"]
        ));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; session=\"abc\""),
        );
        let s: Option<String> = cookie_param(
            &headers,
            "session",
            &Schema::Any,
            true,
            StatusCode::BAD_REQUEST,
        )
        .unwrap();
        assert_eq!(s.as_deref(), Some("abc"));
    }
}
