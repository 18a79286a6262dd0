//! The middleware that looks at every request's credentials, once, before routing to handlers.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Authentication, CredentialStore, Location, STORE_UNAVAILABLE, Scheme, SchemeKind};
#[cfg(feature = "jwt")]
use super::{JwtConfig, NO_KEY};
use crate::{BoxError, Principal};

/// Verifies the credentials a request carries against the spec's security schemes: JWTs
/// against the configured key, other secrets against the credential store.
#[derive(Clone)]
pub struct Authenticator {
    schemes: &'static [Scheme],
    #[cfg(feature = "jwt")]
    jwt: Option<Arc<JwtConfig>>,
    credentials: Option<Arc<dyn CredentialStore>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut f = f.debug_struct("Authenticator");
        f.field("schemes", &self.schemes);
        #[cfg(feature = "jwt")]
        f.field("jwt", &self.jwt);
        f.field("credentials", &self.credentials.is_some()).finish()
    }
}

impl Authenticator {
    /// No JWT key and no credential store: every credential is refused until they are added.
    pub fn new(schemes: &'static [Scheme]) -> Self {
        Self {
            schemes,
            #[cfg(feature = "jwt")]
            jwt: None,
            credentials: None,
        }
    }

    /// Reads JWT settings from the environment (`JWT_SECRET`, `JWT_PUBLIC_KEY` or `JWT_JWKS`,
    /// and `JWT_ISSUER`, `JWT_AUDIENCE`, `JWT_LEEWAY`, `JWT_ORGANIZATION_CLAIM`). Schemes come
    /// from the generated code (`generated::SECURITY_SCHEMES`). Without the `jwt` feature a JWT
    /// setting is an error: its operator expects tokens to be verified, and a service refusing
    /// them all would be the only sign.
    pub fn from_env(schemes: &'static [Scheme]) -> Result<Self, BoxError> {
        Self::from_vars(schemes, |name| std::env::var(name).ok())
    }

    /// [`Authenticator::from_env`] over any source of settings.
    #[cfg(feature = "jwt")]
    pub fn from_vars(
        schemes: &'static [Scheme],
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, BoxError> {
        let jwt = JwtConfig::from_vars(var)?;
        if jwt.is_none() {
            if let Some(scheme) = schemes.iter().find(|s| s.kind.is_bearer()) {
                tracing::warn!(
                    scheme = scheme.name,
                    "{NO_KEY}; bearer JWTs will be refused"
                );
            }
        } else {
            tracing::info!(jwt = ?jwt, "JWT bearer tokens accepted");
        }
        let mut authenticator = Self::new(schemes);
        authenticator.jwt = jwt.map(Arc::new);
        Ok(authenticator)
    }

    /// [`Authenticator::from_env`] over any source of settings.
    #[cfg(not(feature = "jwt"))]
    pub fn from_vars(
        schemes: &'static [Scheme],
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, BoxError> {
        // Every `JWT_` setting (settings.rs lists them) is one this build cannot honour.
        let set = crate::settings::SETTINGS
            .iter()
            .map(|s| s.name)
            .filter(|name| name.starts_with("JWT_"))
            .find(|name| var(name).is_some_and(|v| !v.trim().is_empty()));
        match set {
            Some(name) => Err(crate::features::missing(name, "jwt").into()),
            None => Ok(Self::new(schemes)),
        }
    }

    /// Verify bearer JWTs with `jwt` (replacing what the environment said).
    #[cfg(feature = "jwt")]
    pub fn with_jwt(mut self, jwt: JwtConfig) -> Self {
        self.jwt = Some(Arc::new(jwt));
        self
    }

    /// Look API keys, Basic credentials, session cookies and opaque bearer tokens up in `store`.
    pub fn with_credentials(mut self, store: Arc<dyn CredentialStore>) -> Self {
        self.credentials = Some(store);
        self
    }

    pub fn schemes(&self) -> &'static [Scheme] {
        self.schemes
    }

    /// The router behind a middleware that authenticates every request (never rejects by itself)
    /// and stores an `Arc<Authentication>` in the request extensions, plus the [`Principal`] when
    /// a credential verified and no layer outside placed one already (so the rate limit counts
    /// per caller). Call it after every route is added: routes added later are not covered.
    pub fn layer(self, router: Router) -> Router {
        if self.credentials.is_none()
            && let Some(scheme) = self
                .schemes
                .iter()
                .find(|s| matches!(s.kind, SchemeKind::ApiKey { .. } | SchemeKind::Basic))
        {
            tracing::warn!(
                scheme = scheme.name,
                "no credential store is configured: API keys, Basic credentials and sessions will be refused"
            );
        }
        router.layer(axum::middleware::from_fn_with_state(
            Arc::new(self),
            authenticate_request,
        ))
    }

    /// What a request's credentials prove, scheme by scheme, in the order the schemes are
    /// declared. The principal is the one of the first scheme that verified.
    pub async fn authenticate(&self, headers: &HeaderMap, uri: &Uri) -> Authentication {
        let mut out = Authentication {
            schemes: self.schemes,
            ..Authentication::default()
        };
        let bearer = authorization(headers, "bearer");
        // One token can stand for several bearer-type schemes: verify a JWT once.
        let mut jwt: Option<Result<Principal, String>> = None;
        for scheme in self.schemes {
            let result = match scheme.kind {
                SchemeKind::Bearer | SchemeKind::OAuth2 | SchemeKind::OpenIdConnect => {
                    match &bearer {
                        None => None,
                        Some(Err(why)) => Some(Err(why.clone())),
                        Some(Ok(token)) if looks_like_jwt(token) => {
                            Some(jwt.get_or_insert_with(|| self.verify_jwt(token)).clone())
                        }
                        Some(Ok(token)) => Some(self.lookup(scheme.name, token).await),
                    }
                }
                SchemeKind::Basic => match authorization(headers, "basic") {
                    None => None,
                    Some(Err(why)) => Some(Err(why)),
                    Some(Ok(encoded)) => Some(match basic_secret(&encoded) {
                        Some(secret) => self.lookup(scheme.name, &secret).await,
                        None => Err("malformed Basic credentials".into()),
                    }),
                },
                SchemeKind::ApiKey { location, name } => {
                    match api_key(headers, uri, location, name) {
                        None => None,
                        Some(key) if key.is_empty() => Some(Err(format!("{name} is empty"))),
                        Some(key) => Some(self.lookup(scheme.name, &key).await),
                    }
                }
                // Verified elsewhere, if at all: see `SchemeKind::MutualTls`.
                SchemeKind::MutualTls | SchemeKind::Unsupported => None,
            };
            match result {
                Some(Ok(principal)) => {
                    out.satisfied.push(scheme.name);
                    out.principals.push((scheme.name, principal.clone()));
                    out.principal.get_or_insert(principal);
                }
                Some(Err(why)) => out.failures.push((scheme.name, why)),
                None => {}
            }
        }
        out
    }

    #[cfg(feature = "jwt")]
    fn verify_jwt(&self, token: &str) -> Result<Principal, String> {
        match &self.jwt {
            Some(config) => config.verify(token),
            None => Err(NO_KEY.into()),
        }
    }

    #[cfg(not(feature = "jwt"))]
    fn verify_jwt(&self, _token: &str) -> Result<Principal, String> {
        Err(super::NO_JWT.into())
    }

    async fn lookup(&self, scheme: &'static str, secret: &str) -> Result<Principal, String> {
        let Some(store) = &self.credentials else {
            return Err("no credential store is configured".into());
        };
        match store.verify(scheme, secret).await {
            Ok(Some(principal)) => Ok(principal),
            Ok(None) => Err("unknown, expired or revoked credential".into()),
            Err(e) => {
                // The error never reaches the caller: it may describe the database.
                tracing::warn!(scheme, error = %e, "the credential store failed");
                Err(STORE_UNAVAILABLE.into())
            }
        }
    }
}

/// Whether a bearer token has the shape of a JWT (JWS compact form: three dot-separated parts).
fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

async fn authenticate_request(
    State(authenticator): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let authentication = authenticator
        .authenticate(request.headers(), request.uri())
        .await;
    if let Some(principal) = &authentication.principal
        && request.extensions().get::<Principal>().is_none()
    {
        request.extensions_mut().insert(principal.clone());
    }
    request.extensions_mut().insert(Arc::new(authentication));
    next.run(request).await
}

/// The credentials of the first `Authorization` header using `scheme` (case-insensitive):
/// `None` when there is none, an error when it has no credentials after the scheme word.
fn authorization(headers: &HeaderMap, scheme: &str) -> Option<Result<String, String>> {
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .find_map(|value| {
            let (word, rest) = value.split_once(' ').unwrap_or((value, ""));
            word.eq_ignore_ascii_case(scheme).then(|| {
                let credentials = rest.trim();
                if credentials.is_empty() {
                    Err(format!(
                        "malformed Authorization header: no credentials after {word}"
                    ))
                } else {
                    Ok(credentials.to_string())
                }
            })
        })
}

/// The `user:password` of HTTP Basic credentials.
fn basic_secret(encoded: &str) -> Option<String> {
    let decoded = STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.contains(':').then_some(text)
}

fn api_key(headers: &HeaderMap, uri: &Uri, location: Location, name: &str) -> Option<String> {
    match location {
        Location::Header => headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string()),
        Location::Query => uri.query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        }),
        Location::Cookie => headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().trim_matches('"').to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn authorization_words_are_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bEaReR abc.def"),
        );
        assert_eq!(
            authorization(&headers, "bearer"),
            Some(Ok("abc.def".into()))
        );
        assert_eq!(authorization(&headers, "basic"), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert!(matches!(authorization(&headers, "bearer"), Some(Err(_))));
    }

    /// A JWT setting in a build that cannot verify JWTs stops the service at start-up.
    #[test]
    fn jwt_settings_follow_the_feature_built_in() {
        let secret = |name: &str| (name == "JWT_SECRET").then(|| "s".repeat(32));
        let result = Authenticator::from_vars(&[], secret);
        if cfg!(feature = "jwt") {
            assert!(result.is_ok());
        } else {
            let error = result.unwrap_err().to_string();
            assert!(
                error.contains("JWT_SECRET") && error.contains("`jwt` feature"),
                "{error}"
            );
        }
        assert!(Authenticator::from_vars(&[], |_| None).is_ok());
    }

    #[test]
    fn jwt_shape() {
        assert!(looks_like_jwt("a.b.c"));
        assert!(looks_like_jwt("a.b."));
        assert!(!looks_like_jwt("ak_0123"));
        assert!(!looks_like_jwt("a.b"));
    }

    #[test]
    fn basic_needs_a_colon() {
        assert_eq!(basic_secret("dXNlcjpwYXNz").as_deref(), Some("user:pass"));
        assert_eq!(basic_secret("dXNlcg=="), None);
        assert_eq!(basic_secret("!!"), None);
    }

    #[test]
    fn api_keys_from_each_location() {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static(" k1 "));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; sid=\"k3\"; b=2"),
        );
        let uri: Uri = "/x?a=1&api_key=k%202".parse().unwrap();
        let key = |location, name| api_key(&headers, &uri, location, name);
        assert_eq!(key(Location::Header, "X-API-Key").as_deref(), Some("k1"));
        assert_eq!(key(Location::Query, "api_key").as_deref(), Some("k 2"));
        assert_eq!(key(Location::Cookie, "sid").as_deref(), Some("k3"));
        assert_eq!(key(Location::Cookie, "SID"), None);
    }
}
