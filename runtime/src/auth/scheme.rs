//! The security schemes of a spec and the requirements of its operations, as generated code
//! declares them (`generated::SECURITY_SCHEMES`, one `&[Requirement]` per operation).

/// Where an API key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    Header,
    Query,
    Cookie,
}

impl Location {
    /// The OpenAPI `in` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Header => "header",
            Location::Query => "query",
            Location::Cookie => "cookie",
        }
    }
}

/// How one security scheme proves who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemeKind {
    /// `type: http, scheme: bearer`, whatever its `bearerFormat`. A token that looks like a JWT
    /// (three dot-separated parts) is verified as a JWT against the configured key; any other
    /// token is looked up in the credential store (opaque access tokens, sessions).
    Bearer,
    /// `type: http, scheme: basic`. The decoded `user:password` is looked up, whole, as one secret
    /// in the credential store; there is no separate user table.
    Basic,
    /// `type: apiKey`: a secret in a header (name matched case-insensitively), a query parameter
    /// or a cookie, looked up in the credential store.
    ApiKey {
        location: Location,
        name: &'static str,
    },
    /// `type: oauth2`: access tokens arrive as bearer tokens and are treated exactly like
    /// [`SchemeKind::Bearer`] (JWT access tokens verified locally; no token introspection).
    OAuth2,
    /// `type: openIdConnect`: treated like [`SchemeKind::Bearer`].
    OpenIdConnect,
    /// `type: mutualTLS`. TLS is terminated in front of the service, so the service never sees the
    /// client certificate: this scheme is never satisfied by the authenticator. A gateway that
    /// checked the certificate can place a [`Principal`](crate::Principal) in the request
    /// extensions instead (see [`authorize`](super::authorize)).
    MutualTls,
    /// Any other `type: http` scheme (digest, hoba, …): never satisfied by the authenticator,
    /// like [`SchemeKind::MutualTls`]; a layer of the application's own that verifies it can
    /// place a [`Principal`](crate::Principal) in the request extensions.
    Unsupported,
}

impl SchemeKind {
    /// Whether the credential is an `Authorization: Bearer` token.
    pub fn is_bearer(self) -> bool {
        matches!(
            self,
            SchemeKind::Bearer | SchemeKind::OAuth2 | SchemeKind::OpenIdConnect
        )
    }
}

/// One entry of `components.securitySchemes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scheme {
    pub name: &'static str,
    pub kind: SchemeKind,
}

/// One alternative of an operation's `security`: every scheme named must be satisfied, each with
/// the scopes listed. An empty requirement (`{}` in the spec) makes authentication optional.
pub type Requirement = &'static [(&'static str, &'static [&'static str])];

/// Extra, operation-level needs from the `x-codegen-permissions` annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions {
    /// The caller must hold at least one of these (when not empty).
    pub any_role: &'static [&'static str],
    /// The caller must hold every one of these.
    pub all_of: &'static [&'static str],
}

impl Permissions {
    /// No needs beyond the operation's `security`.
    pub const NONE: Permissions = Permissions {
        any_role: &[],
        all_of: &[],
    };

    pub fn is_none(&self) -> bool {
        self.any_role.is_empty() && self.all_of.is_empty()
    }
}
