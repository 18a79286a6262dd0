//! API keys, sessions and other opaque secrets: a [`CredentialStore`] says whom a secret stands
//! for. Only SHA-256 hashes of secrets are ever stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::sql::Db;
use crate::sql::sqlite;
use crate::{BoxError, Principal};

/// The table [`SqlCredentials`] keeps its hashes in.
pub const CREDENTIALS_TABLE: &str = "archgen_credentials";

/// Whom presented secrets stand for.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// The principal a presented secret stands for, or None when unknown/expired/revoked.
    /// `scheme` is the name of the security scheme it was presented for.
    async fn verify(&self, scheme: &str, secret: &str) -> Result<Option<Principal>, BoxError>;
}

/// What a stored secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// A long-lived secret for programs (`ak_…`).
    ApiKey,
    /// A browser session (`ses_…`), always with an expiry.
    Session,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::ApiKey => "api_key",
            CredentialKind::Session => "session",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            CredentialKind::ApiKey => "ak_",
            CredentialKind::Session => "ses_",
        }
    }
}

/// The hex SHA-256 of a secret: what is stored and looked up instead of the secret. Secrets this
/// module issues carry 244 random bits, so an unsalted fast hash is enough; it is not meant for
/// passwords people choose.
pub fn hash_secret(secret: &str) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// A new secret: the kind's prefix and 64 hex digits from two random (v4) UUIDs, 244 bits from
/// the operating system's generator.
fn new_secret(kind: CredentialKind) -> String {
    format!(
        "{}{}{}",
        kind.prefix(),
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    )
}

fn expiry(expires_in: Option<Duration>) -> Result<Option<DateTime<Utc>>, BoxError> {
    expires_in
        .map(|d| {
            chrono::Duration::from_std(d)
                .ok()
                .and_then(|d| crate::sql::now().checked_add_signed(d))
                .ok_or_else(|| BoxError::from("expiry is too far in the future"))
        })
        .transpose()
}

/// Credentials in the database, in the table `archgen_credentials` (Postgres or SQLite).
#[derive(Debug, Clone)]
pub struct SqlCredentials {
    db: Db,
}

impl SqlCredentials {
    /// The store on `db`, migrating its table (`crate::sql::Owned::Credentials`) when it is not
    /// there yet.
    pub async fn new(db: Db) -> Result<Self, BoxError> {
        db.migrate_owned(&[crate::sql::Owned::Credentials])
            .await
            .map_err(|e| format!("cannot create the table {CREDENTIALS_TABLE}: {e}"))?;
        Ok(Self { db })
    }

    /// Store `secret` (its hash) as standing for `principal`: for secrets made elsewhere, such as
    /// the `user:password` of HTTP Basic (machine credentials only; see [`hash_secret`]).
    /// `scheme` restricts it to one security scheme; `None` accepts it for any.
    pub async fn register(
        &self,
        secret: &str,
        kind: CredentialKind,
        principal: &Principal,
        scheme: Option<&str>,
        expires_in: Option<Duration>,
    ) -> Result<(), BoxError> {
        let hash = hash_secret(secret);
        let roles = serde_json::to_string(&principal.roles)?;
        let now = crate::sql::now();
        let expires_at = expiry(expires_in)?;
        match &self.db {
            Db::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO archgen_credentials (hash, kind, scheme, subject, organization, roles, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(hash)
                .bind(kind.as_str())
                .bind(scheme)
                .bind(&principal.subject)
                .bind(principal.organization)
                .bind(roles)
                .bind(now)
                .bind(expires_at)
                .execute(pool)
                .await?;
            }
            Db::Sqlite(pool) => {
                sqlx::query(
                    "INSERT INTO archgen_credentials (hash, kind, scheme, subject, organization, roles, created_at, expires_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .bind(hash)
                .bind(kind.as_str())
                .bind(scheme)
                .bind(&principal.subject)
                .bind(principal.organization.as_ref().map(sqlite::uuid))
                .bind(roles)
                .bind(sqlite::timestamp(&now))
                .bind(expires_at.as_ref().map(sqlite::timestamp))
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    /// A new API key standing for `principal`. The plaintext is returned once and never stored.
    pub async fn issue_api_key(
        &self,
        principal: &Principal,
        scheme: Option<&str>,
        expires_in: Option<Duration>,
    ) -> Result<String, BoxError> {
        let secret = new_secret(CredentialKind::ApiKey);
        self.register(
            &secret,
            CredentialKind::ApiKey,
            principal,
            scheme,
            expires_in,
        )
        .await?;
        Ok(secret)
    }

    /// A new session secret (for a cookie) standing for `principal` until `expires_in` has passed.
    pub async fn issue_session(
        &self,
        principal: &Principal,
        scheme: Option<&str>,
        expires_in: Duration,
    ) -> Result<String, BoxError> {
        let secret = new_secret(CredentialKind::Session);
        self.register(
            &secret,
            CredentialKind::Session,
            principal,
            scheme,
            Some(expires_in),
        )
        .await?;
        Ok(secret)
    }

    /// Revoke a secret from now on; `false` when it is unknown or was revoked already.
    pub async fn revoke(&self, secret: &str) -> Result<bool, BoxError> {
        let hash = hash_secret(secret);
        let now = crate::sql::now();
        let done = match &self.db {
            Db::Postgres(pool) => sqlx::query(
                "UPDATE archgen_credentials SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(hash)
            .execute(pool)
            .await?
            .rows_affected(),
            Db::Sqlite(pool) => sqlx::query(
                "UPDATE archgen_credentials SET revoked_at = ?1 WHERE hash = ?2 AND revoked_at IS NULL",
            )
            .bind(sqlite::timestamp(&now))
            .bind(hash)
            .execute(pool)
            .await?
            .rows_affected(),
        };
        Ok(done > 0)
    }
}

fn principal(
    subject: String,
    organization: Option<Uuid>,
    roles: &str,
) -> Result<Principal, BoxError> {
    let roles: Vec<String> = serde_json::from_str(roles)
        .map_err(|e| format!("{CREDENTIALS_TABLE}.roles is not a JSON array of strings: {e}"))?;
    Ok(Principal {
        subject,
        organization,
        roles,
    })
}

#[async_trait]
impl CredentialStore for SqlCredentials {
    async fn verify(&self, scheme: &str, secret: &str) -> Result<Option<Principal>, BoxError> {
        let hash = hash_secret(secret);
        let now = crate::sql::now();
        match &self.db {
            Db::Postgres(pool) => {
                let row: Option<(String, Option<Uuid>, String)> = sqlx::query_as(
                    "SELECT subject, organization, roles FROM archgen_credentials \
                     WHERE hash = $1 AND revoked_at IS NULL \
                     AND (expires_at IS NULL OR expires_at > $2) \
                     AND (scheme IS NULL OR scheme = $3)",
                )
                .bind(hash)
                .bind(now)
                .bind(scheme)
                .fetch_optional(pool)
                .await?;
                row.map(|(subject, org, roles)| principal(subject, org, &roles))
                    .transpose()
            }
            Db::Sqlite(pool) => {
                let row: Option<(String, Option<String>, String)> = sqlx::query_as(
                    "SELECT subject, organization, roles FROM archgen_credentials \
                     WHERE hash = ?1 AND revoked_at IS NULL \
                     AND (expires_at IS NULL OR expires_at > ?2) \
                     AND (scheme IS NULL OR scheme = ?3)",
                )
                .bind(hash)
                .bind(sqlite::timestamp(&now))
                .bind(scheme)
                .fetch_optional(pool)
                .await?;
                row.map(|(subject, org, roles)| {
                    let org = org
                        .map(|o| Uuid::parse_str(&o))
                        .transpose()
                        .map_err(|e| format!("{CREDENTIALS_TABLE}.organization: {e}"))?;
                    principal(subject, org, &roles)
                })
                .transpose()
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    principal: Principal,
    scheme: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    revoked: bool,
}

/// Credentials in memory, for mocks and tests: the same behavior as [`SqlCredentials`], gone
/// with the process.
#[derive(Debug, Default)]
pub struct MemoryCredentials {
    entries: Mutex<HashMap<String, Entry>>,
}

impl MemoryCredentials {
    pub fn new() -> Self {
        Self::default()
    }

    /// Store `secret` (its hash) as standing for `principal`; see [`SqlCredentials::register`].
    pub fn register(
        &self,
        secret: &str,
        principal: &Principal,
        scheme: Option<&str>,
        expires_in: Option<Duration>,
    ) -> Result<(), BoxError> {
        let entry = Entry {
            principal: principal.clone(),
            scheme: scheme.map(str::to_string),
            expires_at: expiry(expires_in)?,
            revoked: false,
        };
        self.lock().insert(hash_secret(secret), entry);
        Ok(())
    }

    pub fn issue_api_key(
        &self,
        principal: &Principal,
        scheme: Option<&str>,
        expires_in: Option<Duration>,
    ) -> Result<String, BoxError> {
        let secret = new_secret(CredentialKind::ApiKey);
        self.register(&secret, principal, scheme, expires_in)?;
        Ok(secret)
    }

    pub fn issue_session(
        &self,
        principal: &Principal,
        scheme: Option<&str>,
        expires_in: Duration,
    ) -> Result<String, BoxError> {
        let secret = new_secret(CredentialKind::Session);
        self.register(&secret, principal, scheme, Some(expires_in))?;
        Ok(secret)
    }

    pub fn revoke(&self, secret: &str) -> bool {
        match self.lock().get_mut(&hash_secret(secret)) {
            Some(entry) if !entry.revoked => {
                entry.revoked = true;
                true
            }
            _ => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl CredentialStore for MemoryCredentials {
    async fn verify(&self, scheme: &str, secret: &str) -> Result<Option<Principal>, BoxError> {
        let now = Utc::now();
        Ok(self
            .lock()
            .get(&hash_secret(secret))
            .filter(|e| !e.revoked)
            .filter(|e| e.expires_at.is_none_or(|t| t > now))
            .filter(|e| e.scheme.as_deref().is_none_or(|s| s == scheme))
            .map(|e| e.principal.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn secrets_are_long_and_prefixed() {
        let key = new_secret(CredentialKind::ApiKey);
        assert!(key.starts_with("ak_") && key.len() == 3 + 64, "{key}");
        assert!(new_secret(CredentialKind::Session).starts_with("ses_"));
        assert_ne!(key, new_secret(CredentialKind::ApiKey));
    }

    #[tokio::test]
    async fn memory_store_honours_scheme_expiry_and_revocation() {
        let store = MemoryCredentials::new();
        let p = Principal {
            subject: "svc".into(),
            ..Principal::default()
        };
        let any = store.issue_api_key(&p, None, None).unwrap();
        let only_a = store.issue_api_key(&p, Some("a"), None).unwrap();
        let expired = store.issue_session(&p, None, Duration::ZERO).unwrap();
        assert_eq!(store.verify("b", &any).await.unwrap(), Some(p.clone()));
        assert_eq!(store.verify("a", &only_a).await.unwrap(), Some(p.clone()));
        assert_eq!(store.verify("b", &only_a).await.unwrap(), None);
        assert_eq!(store.verify("a", &expired).await.unwrap(), None);
        assert!(store.revoke(&any));
        assert!(!store.revoke(&any));
        assert_eq!(store.verify("b", &any).await.unwrap(), None);
        assert_eq!(store.verify("b", "ak_unknown").await.unwrap(), None);
    }
}
