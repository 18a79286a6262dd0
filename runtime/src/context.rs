//! What a service method knows about the request besides its input: who is calling, the request
//! id, and the version the caller expects (`If-Match`).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, header, request::Parts};
use uuid::Uuid;

use crate::auth::Authentication;
use crate::error::ApiError;

/// The authenticated caller. An authentication layer puts it in the request's extensions; a
/// request without one is anonymous.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    /// The user or client id (a token's `sub`).
    pub subject: String,
    /// The organization the caller acts for: tenant-scoped entities are read and written
    /// through it only.
    pub organization: Option<Uuid>,
    /// Roles, permissions and scopes alike (a JWT's `roles`, `permissions` and `scope`).
    pub roles: Vec<String>,
}

impl Principal {
    /// Whether the caller holds `role` (a role, permission or scope).
    pub fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// The request as a service method sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    pub principal: Option<Principal>,
    pub request_id: Option<String>,
    if_match: Option<String>,
    /// What the request's credentials proved, when an `Authenticator` looked at them.
    authentication: Option<Arc<Authentication>>,
}

impl Context {
    /// A context for calls made outside HTTP (jobs, tests), acting as `principal`.
    pub fn acting_as(principal: Principal) -> Self {
        Self {
            principal: Some(principal),
            ..Self::default()
        }
    }

    pub fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Self {
            principal: None,
            request_id: text(header::HeaderName::from_static("x-request-id")),
            if_match: text(header::IF_MATCH),
            authentication: None,
        }
    }

    /// What the request's credentials proved; `None` when no `Authenticator` ran.
    pub fn authentication(&self) -> Option<&Authentication> {
        self.authentication.as_deref()
    }

    /// As after an `Authenticator`: its principal, when it found one, becomes the caller.
    pub fn with_authentication(mut self, authentication: Arc<Authentication>) -> Self {
        if let Some(principal) = &authentication.principal {
            self.principal = Some(principal.clone());
        }
        self.authentication = Some(authentication);
        self
    }

    /// The caller's organization: 401 without a caller, 403 for one that acts for none.
    pub fn organization(&self) -> Result<Uuid, ApiError> {
        let principal = self.principal.as_ref().ok_or_else(|| {
            ApiError::unauthorized("this operation needs an authenticated caller")
        })?;
        principal.organization.ok_or_else(|| {
            ApiError::forbidden("this operation needs a caller that acts for an organization")
        })
    }

    /// The version `If-Match` asks for: `None` without the header or with `*`. A tag archgen did
    /// not issue (weak, not a version, or a list of several) can never match, so it fails
    /// with 412 as RFC 9110 says a non-matching If-Match must.
    pub fn expected_version(&self) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.if_match.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if raw == "*" {
            return Ok(None);
        }
        raw.strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .and_then(|v| v.parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::PRECONDITION_FAILED,
                    format!("If-Match `{raw}` is not an ETag this service issued; send the ETag of a GET, or `*`"),
                )
            })
    }

    /// Act as `principal` (tests, background jobs).
    pub fn with_principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    pub fn with_if_match(mut self, value: impl Into<String>) -> Self {
        self.if_match = Some(value.into());
        self
    }
}

/// The ETag of a version: strong, because one version has exactly one representation.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

impl<S: Send + Sync> FromRequestParts<S> for Context {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut cx = Context::from_headers(&parts.headers);
        cx.principal = parts.extensions.get::<Principal>().cloned();
        if let Some(authentication) = parts.extensions.get::<Arc<Authentication>>() {
            cx = cx.with_authentication(authentication.clone());
        }
        Ok(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        let cx = |v: &str| Context::default().with_if_match(v).expected_version();
        assert_eq!(cx("\"7\"").unwrap(), Some(7));
        assert_eq!(cx("*").unwrap(), None);
        assert_eq!(Context::default().expected_version().unwrap(), None);
        for bad in ["W/\"7\"", "7", "\"x\"", "\"1\", \"2\""] {
            assert_eq!(cx(bad).unwrap_err().status.as_u16(), 412, "{bad}");
        }
    }

    #[test]
    fn organization_needs_a_caller_with_one() {
        assert_eq!(
            Context::default()
                .organization()
                .unwrap_err()
                .status
                .as_u16(),
            401
        );
        let no_org = Context::acting_as(Principal::default());
        assert_eq!(no_org.organization().unwrap_err().status.as_u16(), 403);
        let org = Uuid::from_u128(1);
        let cx = Context::acting_as(Principal {
            organization: Some(org),
            ..Principal::default()
        });
        assert_eq!(cx.organization().unwrap(), org);
    }
}
