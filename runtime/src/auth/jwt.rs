//! Verifying JWT bearer tokens against one configured key (or key set).
//!
//! The algorithm a token is checked with is fixed by the configured key: an HMAC secret accepts
//! HS256 only, an RSA key RS256 (or the `alg` its JWK declares), an EC key ES256/ES384 by curve.
//! The token's own `alg` header is only compared with that, never used to choose, so algorithm
//! confusion (`none`, or an HS256 token "signed" with a public RSA key) cannot succeed.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{DEFAULT_LEEWAY, DEFAULT_ORGANIZATION_CLAIM};
use crate::{BoxError, Principal};

/// The most `JWT_LEEWAY` may allow: a day.
pub const MAX_LEEWAY: u64 = 86_400;

struct VerifyingKey {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// How bearer JWTs are verified: the key (HS256 secret, RSA/EC public key, or a JWKS), and the
/// claims checked besides the signature.
///
/// Always checked: the signature, `exp` (required), `nbf` (when present) with
/// [`leeway`](Self::with_leeway) seconds of skew, and `sub` (required, a string). `iss` and `aud`
/// are required and checked only when an issuer or audience is configured: without
/// `JWT_AUDIENCE`, tokens minted for other services by the same issuer are accepted too.
pub struct JwtConfig {
    keys: Vec<VerifyingKey>,
    /// A JWKS: the key is chosen by the token's `kid`.
    key_set: bool,
    issuer: Vec<String>,
    audience: Vec<String>,
    leeway: u64,
    organization_claim: String,
}

impl std::fmt::Debug for JwtConfig {
    /// Never shows key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|k| match &k.kid {
                Some(kid) => format!("{:?} (kid {kid})", k.alg),
                None => format!("{:?}", k.alg),
            })
            .collect();
        f.debug_struct("JwtConfig")
            .field("keys", &keys)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .field("organization_claim", &self.organization_claim)
            .finish_non_exhaustive()
    }
}

impl JwtConfig {
    fn with_keys(keys: Vec<VerifyingKey>, key_set: bool) -> Self {
        Self {
            keys,
            key_set,
            issuer: Vec::new(),
            audience: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            organization_claim: DEFAULT_ORGANIZATION_CLAIM.into(),
        }
    }

    /// A shared secret: tokens must be HS256. Use at least 32 random bytes.
    pub fn hs256(secret: impl AsRef<[u8]>) -> Self {
        Self::with_keys(
            vec![VerifyingKey {
                kid: None,
                alg: Algorithm::HS256,
                key: DecodingKey::from_secret(secret.as_ref()),
            }],
            false,
        )
    }

    /// A public key in PEM (`-----BEGIN PUBLIC KEY-----` or `RSA PUBLIC KEY`): RSA means RS256,
    /// EC P-256 ES256 (P-384 ES384), Ed25519 EdDSA.
    pub fn public_key_pem(pem: impl AsRef<[u8]>) -> Result<Self, BoxError> {
        let pem = pem.as_ref();
        let text = String::from_utf8_lossy(pem);
        if text.contains("PRIVATE KEY") {
            return Err("the JWT public key is a private key: give its public half (`openssl pkey -in key.pem -pubout`)".into());
        }
        if text.contains("CERTIFICATE") {
            return Err("the JWT public key is a certificate: give the public key (`openssl x509 -in cert.pem -pubkey -noout`)".into());
        }
        let (key, alg) = if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            (key, Algorithm::RS256)
        } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            // The uncompressed point: 0x04, then x and y.
            let alg = match key.try_get_as_bytes().map(<[u8]>::len) {
                Ok(65) => Algorithm::ES256,
                Ok(97) => Algorithm::ES384,
                _ => {
                    return Err(
                        "the JWT public key is on an EC curve other than P-256 or P-384".into(),
                    );
                }
            };
            (key, alg)
        } else if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            (key, Algorithm::EdDSA)
        } else {
            return Err("the JWT public key is not an RSA, EC or Ed25519 public key in PEM".into());
        };
        Ok(Self::with_keys(
            vec![VerifyingKey {
                kid: None,
                alg,
                key,
            }],
            false,
        ))
    }

    /// A JSON Web Key Set: tokens name their key with `kid` (a set of one key also accepts
    /// tokens without `kid`). Encryption keys and symmetric keys are skipped.
    pub fn jwks(json: &str) -> Result<Self, BoxError> {
        let set: Value =
            serde_json::from_str(json).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
        let entries = set
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("a JWKS is an object with a `keys` array")?;
        let mut keys = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let jwk: Jwk = match serde_json::from_value(entry.clone()) {
                Ok(jwk) => jwk,
                Err(e) => {
                    tracing::warn!("JWKS key {i} is skipped: {e}");
                    continue;
                }
            };
            match jwk_algorithm(&jwk) {
                Ok(alg) => keys.push(VerifyingKey {
                    kid: jwk.common.key_id.clone(),
                    alg,
                    key: DecodingKey::from_jwk(&jwk)
                        .map_err(|e| format!("JWKS key {i} is invalid: {e}"))?,
                }),
                Err(why) => {
                    tracing::warn!(kid = ?jwk.common.key_id, "JWKS key {i} is skipped: {why}")
                }
            }
        }
        if keys.is_empty() {
            return Err(
                "the JWKS holds no signature key this service can use (RSA, EC P-256/P-384, Ed25519)"
                    .into(),
            );
        }
        Ok(Self::with_keys(keys, true))
    }

    /// A JWKS read from a file, once: rotating keys means restarting the service.
    pub fn jwks_file(path: impl AsRef<Path>) -> Result<Self, BoxError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the JWKS file {}: {e}", path.display()))?;
        Self::jwks(&text)
    }

    /// From `JWT_SECRET`, `JWT_PUBLIC_KEY` or `JWT_JWKS` (at most one), then `JWT_ISSUER`,
    /// `JWT_AUDIENCE`, `JWT_LEEWAY` and `JWT_ORGANIZATION_CLAIM`; `None` when no key is set.
    pub fn from_env() -> Result<Option<Self>, BoxError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, BoxError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let secret = var("JWT_SECRET");
        let public_key = var("JWT_PUBLIC_KEY");
        let jwks = var("JWT_JWKS");
        let set = [&secret, &public_key, &jwks]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if set > 1 {
            return Err("set only one of JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS".into());
        }
        let config = if let Some(secret) = secret {
            if secret.len() < 32 {
                tracing::warn!(
                    "JWT_SECRET is shorter than 32 bytes: HS256 secrets that short can be guessed"
                );
            }
            Self::hs256(secret)
        } else if let Some(key) = public_key {
            let pem = if key.contains("-----BEGIN") {
                // Env files often carry a PEM on one line with `\n` escapes.
                key.replace("\\n", "\n")
            } else {
                std::fs::read_to_string(key.trim()).map_err(|e| {
                    format!("JWT_PUBLIC_KEY is neither a PEM nor a readable file ({key}): {e}")
                })?
            };
            Self::public_key_pem(pem).map_err(|e| format!("JWT_PUBLIC_KEY: {e}"))?
        } else if let Some(path) = jwks {
            Self::jwks_file(path.trim()).map_err(|e| format!("JWT_JWKS: {e}"))?
        } else {
            return Ok(None);
        };
        let list = |v: Option<String>| -> Vec<String> {
            v.iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let mut config = config;
        config.issuer = list(var("JWT_ISSUER"));
        config.audience = list(var("JWT_AUDIENCE"));
        if let Some(leeway) = var("JWT_LEEWAY") {
            config.leeway = leeway
                .trim()
                .parse()
                .map_err(|_| format!("JWT_LEEWAY must be a number of seconds, got `{leeway}`"))?;
        }
        // Beyond a day is no longer clock skew, and jsonwebtoken's arithmetic on it overflows.
        if config.leeway > MAX_LEEWAY {
            return Err(format!(
                "JWT_LEEWAY must be at most {MAX_LEEWAY} seconds, got {}",
                config.leeway
            )
            .into());
        }
        if let Some(claim) = var("JWT_ORGANIZATION_CLAIM") {
            config.organization_claim = claim.trim().to_string();
        }
        Ok(Some(config))
    }

    /// Accept tokens from this issuer (`iss`); several calls accept any of them.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer.push(issuer.into());
        self
    }

    /// Accept tokens for this audience (`aud`); several calls accept any of them.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience.push(audience.into());
        self
    }

    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds.min(MAX_LEEWAY);
        self
    }

    /// The claim holding the caller's organization.
    pub fn with_organization_claim(mut self, claim: impl Into<String>) -> Self {
        self.organization_claim = claim.into();
        self
    }

    /// The algorithms tokens may use, one per configured key.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        self.keys.iter().map(|k| k.alg).collect()
    }

    /// The caller a token names, or why it is refused (safe to show to the caller: it never
    /// repeats the token).
    pub fn verify(&self, token: &str) -> Result<Principal, String> {
        let header = token_header(token).ok_or("malformed token")?;
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        let kid = header.get("kid").and_then(Value::as_str);
        let key = if self.key_set {
            match kid {
                Some(kid) => self
                    .keys
                    .iter()
                    .find(|k| k.kid.as_deref() == Some(kid))
                    .ok_or("unknown key id (kid)")?,
                None if self.keys.len() == 1 => &self.keys[0],
                None => return Err("token names no key (kid)".into()),
            }
        } else {
            &self.keys[0]
        };
        if alg != format!("{:?}", key.alg) {
            return Err(format!(
                "algorithm not accepted: this service accepts {:?} tokens only",
                key.alg
            ));
        }
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &self.validation(key.alg))
                .map_err(|e| reason(&e))?;
        self.principal(&data.claims)
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if !self.issuer.is_empty() {
            validation.set_issuer(&self.issuer);
            required.push("iss");
        }
        if self.audience.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&self.audience);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, String> {
        let subject = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err("claim sub is missing or not a string".into()),
        };
        let claim = &self.organization_claim;
        let organization = match claims.get(claim) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                Some(Uuid::parse_str(s).map_err(|_| format!("claim {claim} is not a UUID"))?)
            }
            Some(_) => return Err(format!("claim {claim} is not a UUID")),
        };
        let mut roles: Vec<String> = Vec::new();
        let mut add = |role: &str| {
            if !role.is_empty() && !roles.iter().any(|r| r == role) {
                roles.push(role.to_string());
            }
        };
        for name in ["roles", "permissions", "scope", "scp"] {
            match claims.get(name) {
                // `scope` is space-separated (RFC 8693); some issuers do the same with `scp`.
                Some(Value::String(s)) => s.split_whitespace().for_each(&mut add),
                Some(Value::Array(items)) => {
                    items.iter().filter_map(Value::as_str).for_each(&mut add)
                }
                _ => {}
            }
        }
        Ok(Principal {
            subject,
            organization,
            roles,
        })
    }
}

/// The decoded JOSE header, read here only to pick the key and report a refused `alg` clearly.
fn token_header(token: &str) -> Option<Map<String, Value>> {
    let (header, _) = token.split_once('.')?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn reason(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        ErrorKind::ExpiredSignature => "token expired".into(),
        ErrorKind::ImmatureSignature => "token not valid yet (nbf is in the future)".into(),
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::InvalidAudience => "wrong audience".into(),
        ErrorKind::InvalidIssuer => "wrong issuer".into(),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::MissingAlgorithm => "algorithm not accepted".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("claim {claim} is missing"),
        ErrorKind::InvalidClaimFormat(claim) => format!("claim {claim} is malformed"),
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => "bad signature".into(),
        _ => "malformed token".into(),
    }
}

/// The algorithm a JWKS key verifies, from its type and curve; a declared `alg` must agree.
fn jwk_algorithm(jwk: &Jwk) -> Result<Algorithm, String> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return Err("an encryption key".into());
    }
    let declared = jwk.common.key_algorithm;
    let alg = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => match declared {
            None | Some(KeyAlgorithm::RS256) => Algorithm::RS256,
            Some(KeyAlgorithm::RS384) => Algorithm::RS384,
            Some(KeyAlgorithm::RS512) => Algorithm::RS512,
            Some(KeyAlgorithm::PS256) => Algorithm::PS256,
            Some(KeyAlgorithm::PS384) => Algorithm::PS384,
            Some(KeyAlgorithm::PS512) => Algorithm::PS512,
            Some(other) => return Err(format!("an RSA key declared for {other:?}")),
        },
        AlgorithmParameters::EllipticCurve(params) => match params.curve {
            EllipticCurve::P256 => Algorithm::ES256,
            EllipticCurve::P384 => Algorithm::ES384,
            ref other => return Err(format!("an EC key on unsupported curve {other:?}")),
        },
        AlgorithmParameters::OctetKeyPair(params) if params.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        AlgorithmParameters::OctetKey(_) => {
            return Err("a symmetric key (use JWT_SECRET for HS256)".into());
        }
        _ => return Err("an unsupported key type".into()),
    };
    if let Some(declared) = declared
        && declared.to_string() != format!("{alg:?}")
    {
        return Err(format!(
            "declared for {declared:?} but it is a key for {alg:?}"
        ));
    }
    Ok(alg)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Option<JwtConfig>, BoxError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        JwtConfig::from_vars(|name| vars.get(name).cloned())
    }

    const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");

    #[test]
    fn environment() {
        assert!(from(&[]).unwrap().is_none());
        assert!(from(&[("JWT_SECRET", "  ")]).unwrap().is_none());
        let config = from(&[
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("JWT_AUDIENCE", "a, b"),
            ("JWT_ISSUER", "https://issuer.test"),
            ("JWT_LEEWAY", "5"),
            ("JWT_ORGANIZATION_CLAIM", "tenant"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.algorithms(), [Algorithm::HS256]);
        assert_eq!(config.audience, ["a", "b"]);
        assert_eq!(config.issuer, ["https://issuer.test"]);
        assert_eq!(config.leeway, 5);
        assert_eq!(config.organization_claim, "tenant");
        let defaults = from(&[("JWT_SECRET", "s")]).unwrap().unwrap();
        assert_eq!(defaults.leeway, DEFAULT_LEEWAY);
        assert_eq!(defaults.organization_claim, "org");

        let path = format!("{KEYS}/ec_public.pem");
        let by_path = from(&[("JWT_PUBLIC_KEY", &path)]).unwrap().unwrap();
        assert_eq!(by_path.algorithms(), [Algorithm::ES256]);
        // A PEM inline, on one line with `\n` escapes as env files carry it.
        let inline = std::fs::read_to_string(format!("{KEYS}/rsa_public.pem"))
            .unwrap()
            .replace('\n', "\\n");
        let inline = from(&[("JWT_PUBLIC_KEY", &inline)]).unwrap().unwrap();
        assert_eq!(inline.algorithms(), [Algorithm::RS256]);
        let jwks = format!("{KEYS}/jwks.json");
        let set = from(&[("JWT_JWKS", &jwks)]).unwrap().unwrap();
        assert_eq!(set.algorithms(), [Algorithm::RS256, Algorithm::ES256]);

        for bad in [
            &[("JWT_SECRET", "s"), ("JWT_JWKS", jwks.as_str())][..],
            &[("JWT_SECRET", "s"), ("JWT_LEEWAY", "soon")],
            &[("JWT_SECRET", "s"), ("JWT_LEEWAY", "18446744073709551615")],
            &[("JWT_PUBLIC_KEY", "/nonexistent.pem")],
            &[("JWT_JWKS", "/nonexistent.json")],
        ] {
            assert!(from(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn jwks_skips_keys_it_cannot_use() {
        let only_symmetric = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"s"}]}"#;
        assert!(JwtConfig::jwks(only_symmetric).is_err());
        let mixed = format!(
            r#"{{"keys":[{{"kty":"oct","k":"c2VjcmV0"}},{}]}}"#,
            serde_json::from_str::<Value>(
                &std::fs::read_to_string(format!("{KEYS}/jwks.json")).unwrap()
            )
            .unwrap()["keys"][1]
        );
        assert_eq!(
            JwtConfig::jwks(&mixed).unwrap().algorithms(),
            [Algorithm::ES256]
        );
        assert!(JwtConfig::jwks("[]").is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let config = JwtConfig::hs256("super-secret-value");
        let text = format!("{config:?}");
        assert!(!text.contains("super-secret-value"), "{text}");
        assert!(text.contains("HS256"));
    }
}
