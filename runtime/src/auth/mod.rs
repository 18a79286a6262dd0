//! Authentication and authorization for generated servers.
//!
//! Two halves:
//! - [`Authenticator::layer`] wraps the router: for every request it checks the credentials the
//!   request carries against the spec's security schemes (`generated::SECURITY_SCHEMES`) and
//!   records an [`Authentication`] in the request extensions. It never rejects by itself.
//! - [`authorize`], called first by every generated handler with the operation's `security` and
//!   `x-codegen-permissions`, turns that into 401, 403 or 503 problem+json, or lets the call
//!   through.
//!
//! Bearer tokens that look like JWTs are verified, with the `jwt` feature, against one key
//! configured from the environment (`JwtConfig::from_env`): `JWT_SECRET` (HS256),
//! `JWT_PUBLIC_KEY` (PEM or a path to one; RS256, ES256) or `JWT_JWKS` (a path to a JWKS file;
//! keys picked by `kid`), with
//! `JWT_ISSUER`, `JWT_AUDIENCE` (checked when set; comma-separated for several),
//! `JWT_LEEWAY` (seconds, default 30) and `JWT_ORGANIZATION_CLAIM` (default `org`, a UUID).
//! Every other secret — API keys in a header, query parameter or cookie, HTTP Basic
//! `user:password`, opaque bearer tokens — is looked up in a [`CredentialStore`], by default
//! [`SqlCredentials`] on the service's database, which stores SHA-256 hashes only.
//!
//! Tokens and secrets are never logged; `Debug` output of the configuration redacts key
//! material.

mod authenticator;
mod credentials;
mod guard;
#[cfg(feature = "jwt")]
mod jwt;
#[cfg(feature = "identity")]
pub mod password;
mod scheme;

pub use authenticator::Authenticator;
pub use credentials::{
    CREDENTIALS_TABLE, CredentialKind, CredentialStore, MemoryCredentials, SqlCredentials,
    hash_secret,
};
pub use guard::{REALM, authorize, authorized};
#[cfg(feature = "jwt")]
pub use jwt::JwtConfig;
pub use scheme::{Location, Permissions, Requirement, Scheme, SchemeKind};

use crate::Principal;

/// Seconds of clock skew allowed on `exp` and `nbf` unless `JWT_LEEWAY` says otherwise.
pub const DEFAULT_LEEWAY: u64 = 30;
/// The claim holding the caller's organization (a UUID) unless `JWT_ORGANIZATION_CLAIM` says
/// otherwise.
pub const DEFAULT_ORGANIZATION_CLAIM: &str = "org";
/// The failure of a bearer JWT when no key is configured.
pub const NO_KEY: &str = "no JWT key is configured: set JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS";
/// The failure of a bearer JWT in a build without the `jwt` feature (a hand-built
/// [`Authenticator`]: generated code for a spec with bearer schemes needs the feature).
pub const NO_JWT: &str = "bearer JWTs cannot be verified: this service was built without archgen-runtime's `jwt` feature";

/// The failure recorded when the credential store could not answer; [`authorize`] answers 503
/// rather than 401 when it is all that stands between the caller and the operation.
pub const STORE_UNAVAILABLE: &str = "credential store unavailable";

/// What the credentials of one request proved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authentication {
    /// The caller, from the first scheme (in declaration order) whose credential verified.
    pub principal: Option<Principal>,
    /// The schemes whose credential verified.
    pub satisfied: Vec<&'static str>,
    /// Who each verified scheme says the caller is: an operation is answered for the principal
    /// of the scheme it accepts, with that scheme's scopes, never another credential's.
    pub principals: Vec<(&'static str, Principal)>,
    /// The schemes whose credential was presented and refused, and why (expired, bad signature,
    /// wrong audience, unknown key…). Safe to show the caller: never the credential itself.
    pub failures: Vec<(&'static str, String)>,
    /// The schemes in force, to word the challenges of a 401.
    pub schemes: &'static [Scheme],
}
