//! RFC 9457 problem details. Every error a generated service returns goes through [`ApiError`],
//! so clients can rely on one shape (`application/problem+json`) for all failures.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::repo::RepoError;

pub use crate::field::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub title: String,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    /// `WWW-Authenticate` challenges, one header each. A 401 without any gets a plain `Bearer`.
    pub challenges: Vec<String>,
}

/// Marks an error response whose body is already what the spec declares, whatever its media
/// type: a problem (a spec may declare plain `application/json` for its errors), or a typed
/// error body a custom handler answered. Nothing rewrites it.
#[derive(Debug, Clone, Copy)]
pub struct Problem;

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

/// What a service method answers.
pub type Reply<T> = Result<T, ApiError>;

/// `item`, or a 404 naming the `entity` and `id` that are not there.
pub fn found<T>(item: Option<T>, entity: &str, id: impl std::fmt::Display) -> Reply<T> {
    item.ok_or_else(|| ApiError::not_found(format!("{entity} {id} not found")))
}

/// The 501 of a custom operation whose handler has not been written yet. `unused` takes the
/// method's arguments, so a default body needs no other line to use them.
pub fn unimplemented<T, U>(operation: &str, unused: U) -> Reply<T> {
    let _ = unused;
    Err(ApiError::not_implemented(operation))
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error").to_string();
        Self {
            status,
            title,
            detail: Some(detail.into()),
            errors: Vec::new(),
            challenges: Vec::new(),
        }
    }

    /// Add a `WWW-Authenticate` challenge, such as `Bearer realm="api", error="invalid_token"`.
    pub fn with_challenge(mut self, challenge: impl Into<String>) -> Self {
        self.challenges.push(challenge.into());
        self
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// No credentials, or credentials that prove nothing.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, detail)
    }

    /// A custom operation whose handler has not been written yet.
    pub fn not_implemented(operation: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("operation {operation} is not implemented yet: fill in its stub"),
        )
    }

    /// Failed validation; `status` is 400 or 422, whichever the operation declares.
    /// A malformed path parameter answered 404 (when the operation declares no 400 or 422) reads
    /// as what it is: no such resource.
    pub fn as_missing_resource(mut self) -> Self {
        if self.status == StatusCode::NOT_FOUND {
            self.title = "Not Found".into();
        }
        self
    }

    pub fn validation(status: StatusCode, errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields failed validation", many.len()),
        };
        Self {
            status,
            title: "Validation failed".into(),
            detail: Some(detail),
            errors,
            challenges: Vec::new(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.title)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // 501 is a stub waiting to be written, not a failure of the service.
        if self.status.is_server_error() && self.status != StatusCode::NOT_IMPLEMENTED {
            tracing::error!(status = self.status.as_u16(), detail = ?self.detail, "request failed");
        }
        // Shaped as the spec's own problem schema says, when it declares one.
        let fitted = crate::problem::fit(
            &self.title,
            self.status.canonical_reason().unwrap_or("Error"),
            self.detail.as_deref(),
            &self.errors,
        );
        let body = ProblemBody {
            kind: "about:blank",
            title: &fitted.title,
            status: self.status.as_u16(),
            detail: fitted.detail.as_deref(),
            errors: if fitted.errors { &self.errors } else { &[] },
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, bytes).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(fitted.media_type),
        );
        response.extensions_mut().insert(Problem);
        for challenge in &self.challenges {
            match HeaderValue::from_str(challenge) {
                Ok(value) => {
                    response
                        .headers_mut()
                        .append(header::WWW_AUTHENTICATE, value);
                }
                Err(_) => tracing::warn!(
                    challenge,
                    "a WWW-Authenticate challenge is not a valid header value"
                ),
            }
        }
        if self.status == StatusCode::UNAUTHORIZED
            && !response.headers().contains_key(header::WWW_AUTHENTICATE)
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound { entity, id } => {
                Self::not_found(format!("{entity} {id} not found"))
            }
            RepoError::Conflict {
                constraint,
                message,
            } => {
                let mut err = Self::conflict(message);
                for field in constraint.iter().flat_map(|c| c.split(", ")) {
                    err.errors
                        .push(FieldError::new(field, "conflicts with an existing row"));
                }
                err
            }
            RepoError::Stale { entity, id, .. } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                format!(
                    "{entity} {id} has changed since the version in If-Match: read it again and retry with its new ETag"
                ),
            ),
            RepoError::Invalid(errors) => {
                Self::validation(StatusCode::UNPROCESSABLE_ENTITY, errors)
            }
            // The cause goes to the log, never to the client: it can leak schema details.
            RepoError::Database(cause) => {
                tracing::error!(error = %cause, "database error");
                Self::internal("the database failed to complete the request")
            }
        }
    }
}
