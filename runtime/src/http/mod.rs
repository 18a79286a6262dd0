//! Request parsing helpers for generated handlers. Each turns bad input into a problem+json
//! response with the status the operation declares for validation failures (400 or 422).

mod media;
mod operation;

pub use media::*;
pub use operation::{Answer, Body, Call, Format, In, Operation, Param, Respond};
use std::str::FromStr;

use axum::http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};
use crate::repo::{ListQuery, Table};
use crate::validate::{Schema, validate};

/// problem+json for a path no operation serves.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no operation is served at this path")
}

/// problem+json for a method the path does not serve.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this path does not serve that method",
    )
}

/// `{"data": …}`, the envelope of single-item responses.
#[derive(Debug, Clone, Serialize)]
pub struct Data<T> {
    pub data: T,
}

/// Parse and validate a JSON body; `None` for an empty body when the body is optional. A body
/// sent as anything but JSON is 415.
pub fn json_body(
    content_type: Option<&axum::http::HeaderValue>,
    bytes: &[u8],
    schema: &Schema,
    required: bool,
    status: StatusCode,
) -> Result<Option<Value>, ApiError> {
    let declared = content_type
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if !bytes.is_empty() && !declared.to_ascii_lowercase().contains("json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("expected a JSON body, got `{declared}`"),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if required {
            Err(ApiError::validation(
                status,
                vec![FieldError::new("body", "is required")],
            ))
        } else {
            Ok(None)
        };
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::validation(
            status,
            vec![FieldError::new("body", format!("is not valid JSON: {e}"))],
        )
    })?;
    checked_body(value, schema, status).map(Some)
}

/// A parsed body that passes its schema, or every failing field as a validation error.
pub(crate) fn checked_body(
    mut value: Value,
    schema: &Schema,
    status: StatusCode,
) -> Result<Value, ApiError> {
    integral_floats(&mut value);
    let mut errors = Vec::new();
    validate(&value, schema, "", &mut errors);
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::validation(status, errors))
    }
}

/// JSON Schema counts `3.0` as an integer, and clients (JavaScript's among them) send it so; serde
/// would refuse it for an integer field. Numbers with no fraction that a double holds exactly
/// become integers before anything checks them.
fn integral_floats(value: &mut Value) {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() <= 9_007_199_254_740_992.0
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats),
        Value::Object(map) => map.values_mut().for_each(integral_floats),
        _ => {}
    }
}

/// A JSON object body (create, update). When the operation does not require a body, an empty one
/// is the empty object: a create then names its missing fields, an update changes nothing.
pub fn json_object_body(
    content_type: Option<&axum::http::HeaderValue>,
    bytes: &[u8],
    schema: &Schema,
    required: bool,
    status: StatusCode,
) -> Result<Value, ApiError> {
    match json_body(content_type, bytes, schema, required, status)? {
        Some(value) => Ok(value),
        None => checked_body(Value::Object(Default::default()), schema, status),
    }
}

/// Convert an already validated JSON value into its Rust type.
pub fn from_value<T: DeserializeOwned>(value: Value, status: StatusCode) -> Result<T, ApiError> {
    serde_json::from_value(value)
        .map_err(|e| ApiError::validation(status, vec![FieldError::new("body", e.to_string())]))
}

pub fn list_query(
    raw: Option<&str>,
    table: &Table,
    status: StatusCode,
) -> Result<ListQuery, ApiError> {
    ListQuery::from_query(raw.unwrap_or_default(), table)
        .map_err(|errors| ApiError::validation(status, errors))
}

/// The raw value of the route's path parameter at `position` (empty when there is none).
pub fn path_at(params: &[(String, String)], position: usize) -> &str {
    params.get(position).map_or("", |(_, v)| v.as_str())
}

/// The id of a CRUD operation's path.
pub fn path_id<T: FromStr>(raw: &str, name: &str, status: StatusCode) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::validation(
            status,
            vec![FieldError::new(name, format!("`{raw}` is not valid"))],
        )
        .as_missing_resource()
    })
}

/// A path parameter, checked against its schema and parsed into its type. Arrays are
/// comma-separated (OpenAPI's `simple` style).
pub fn path_param<T: DeserializeOwned>(
    raw: &str,
    name: &str,
    schema: &Schema,
    status: StatusCode,
) -> Result<T, ApiError> {
    let raw = Value::String(raw.to_string());
    parameter(Some(&raw), name, schema, true, status)
        .map_err(ApiError::as_missing_resource)?
        .ok_or_else(|| ApiError::validation(status, vec![FieldError::new(name, "is required")]))
}

/// A parameter's raw value (text, or a tree for deepObject) coerced to the JSON type its schema
/// expects, validated, and parsed into its Rust type; `None` when absent and not required.
pub(crate) fn parameter<T: DeserializeOwned>(
    raw: Option<&Value>,
    name: &str,
    schema: &Schema,
    required: bool,
    status: StatusCode,
) -> Result<Option<T>, ApiError> {
    let Some(raw) = raw else {
        return if required {
            Err(ApiError::validation(
                status,
                vec![FieldError::new(name, "is required")],
            ))
        } else {
            Ok(None)
        };
    };
    let value = coerce(raw, schema);
    let mut errors = Vec::new();
    validate(&value, schema, name, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(status, errors));
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|_| ApiError::validation(status, vec![FieldError::new(name, "is not valid")]))
}

/// The query string of a custom operation as a JSON tree (see [`crate::query::parse_query`]).
pub fn query_map(raw: Option<&str>, status: StatusCode) -> Result<Map<String, Value>, ApiError> {
    crate::query::parse_query(raw.unwrap_or_default())
        .map_err(|e| ApiError::validation(status, vec![e]))
}

/// One query parameter, parsed into its type. Arrays take repeated keys or a comma-separated list.
pub fn query_param<T: DeserializeOwned>(
    params: &Map<String, Value>,
    name: &str,
    schema: &Schema,
    required: bool,
    status: StatusCode,
) -> Result<Option<T>, ApiError> {
    parameter(params.get(name), name, schema, required, status)
}

/// Query strings carry text; give it the JSON type the schema expects before validating.
pub(crate) fn coerce(raw: &Value, schema: &Schema) -> Value {
    match (raw, schema) {
        (_, Schema::Nullable(inner) | Schema::Ref(inner)) => coerce(raw, inner),
        (Value::String(s), Schema::Integer(_)) => s
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| raw.clone()),
        (Value::String(s), Schema::Number(_)) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| raw.clone()),
        (Value::String(s), Schema::Boolean) => s
            .parse::<bool>()
            .map(Value::Bool)
            .unwrap_or_else(|_| raw.clone()),
        (Value::String(s), Schema::Array(rules)) => Value::Array(
            s.split(',')
                .map(|p| coerce(&Value::String(p.to_string()), rules.items))
                .collect(),
        ),
        (Value::Array(items), Schema::Array(rules)) => {
            Value::Array(items.iter().map(|i| coerce(i, rules.items)).collect())
        }
        (Value::Object(map), Schema::Object(rules)) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let field = rules.fields.iter().find(|f| f.name == k);
                    (
                        k.clone(),
                        field.map_or_else(|| v.clone(), |f| coerce(v, f.schema)),
                    )
                })
                .collect(),
        ),
        _ => raw.clone(),
    }
}

/// `response` with the ETag of `version`, which `If-Match` sends back to guard a write.
pub fn with_etag(mut response: axum::response::Response, version: i64) -> axum::response::Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(&crate::context::etag(version)) {
        response
            .headers_mut()
            .insert(axum::http::header::ETAG, value);
    }
    response
}

/// A new request id: a version 7 UUID (time-ordered, so logs sort by it) whose random bits come
/// from std's per-thread hash keys rather than the operating system. An id must be unique, not
/// secret, and asking the kernel for randomness cost two system calls per request.
fn fresh_request_id() -> uuid::Uuid {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // Each `RandomState` has fresh keys (the thread's, moved on by one), seeded from the OS
    // once per thread; the counter tells apart two ids of one millisecond.
    let keys = std::hash::RandomState::new();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&keys.hash_one(n).to_le_bytes());
    random[8..].copy_from_slice(&keys.hash_one(!n).to_le_bytes()[..2]);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

/// Middleware: every request has an id, the client's `x-request-id` when it sends a sane one,
/// else a new UUID. Handlers see it in [`crate::Context`], events written while serving the
/// request carry it, and the response echoes it.
pub async fn request_id(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::HeaderValue;
    let header = axum::http::HeaderName::from_static("x-request-id");
    let given = request
        .headers()
        .get(&header)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string);
    let id = given.unwrap_or_else(|| fresh_request_id().to_string());
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(header.clone(), value);
    }
    // Everything logged while answering carries the request id, method and path.
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = std::time::Instant::now();
    let mut response = tracing::Instrument::instrument(
        crate::events::with_request_id(Some(id.clone()), next.run(request)),
        span.clone(),
    )
    .await;
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "answered"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(header, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    static COUNT: Schema = Schema::INTEGER;

    #[test]
    fn request_ids_are_time_ordered_and_distinct() {
        let ids: Vec<uuid::Uuid> = (0..10_000).map(|_| fresh_request_id()).collect();
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
        let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        let first = ids[0].get_timestamp().unwrap().to_unix().0;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert!(
            now.as_secs().abs_diff(first) <= 1,
            "the id carries the time"
        );
    }

    #[test]
    fn integral_floats_are_integers_and_fractions_are_not() {
        let ok = checked_body(
            serde_json::json!(3.0),
            &COUNT,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert_eq!(ok.unwrap(), serde_json::json!(3));
        let n: i64 = from_value(serde_json::json!(3), StatusCode::UNPROCESSABLE_ENTITY).unwrap();
        assert_eq!(n, 3);
        let bad = checked_body(
            serde_json::json!(3.5),
            &COUNT,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert_eq!(bad.unwrap_err().status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn an_optional_object_body_may_be_empty() {
        let any = Schema::Any;
        let empty = json_object_body(None, b"", &any, false, StatusCode::BAD_REQUEST).unwrap();
        assert_eq!(empty, serde_json::json!({}));
        let missing = json_object_body(None, b" ", &any, true, StatusCode::BAD_REQUEST);
        assert_eq!(missing.unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
