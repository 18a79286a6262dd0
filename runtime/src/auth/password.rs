//! Passwords people choose, hashed with Argon2id at the cost OWASP recommends (19 MiB, two
//! passes, one lane) into PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) that carry
//! their own parameters, so raising the cost later leaves old hashes verifiable.
//!
//! A login against an account that does not exist verifies against a stand-in hash of the same
//! cost: the answer takes as long as for a wrong password, so the time does not tell which
//! e-mails have accounts. Hashing takes tens of milliseconds of CPU; the `_blocking` helpers run
//! it off the async workers.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::BoxError;

/// Memory per hash, in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19_456;
/// Passes over that memory.
pub const PASSES: u32 = 2;
/// Lanes (threads) per hash.
pub const LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Verified when an account is unknown: a hash of a random password at the current cost.
static STAND_IN: LazyLock<String> = LazyLock::new(|| {
    let random = format!("{}{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    hash(&random).unwrap_or_default()
});

/// The PHC string of `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, BoxError> {
    let hashed = hasher()
        .hash_password(password.as_bytes())
        .map_err(|e| format!("hashing a password: {e}"))?;
    Ok(hashed.to_string())
}

/// Whether `password` is the one `stored` was made from. `None` (no such account) is always
/// false, after the same work as a real check.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let known = stored.is_some();
    let stored = stored.unwrap_or(STAND_IN.as_str());
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let matches = hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    known && matches
}

/// Whether `stored` was made at another cost than today's: rehash it at the next sign-in.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let value = |name: &str| parsed.params.get_decimal(name);
    parsed.algorithm.as_str() != "argon2id"
        || value("m") != Some(MEMORY_KIB)
        || value("t") != Some(PASSES)
        || value("p") != Some(LANES)
}

/// [`hash`], on a thread that may block.
pub async fn hash_blocking(password: String) -> Result<String, BoxError> {
    tokio::task::spawn_blocking(move || hash(&password)).await?
}

/// [`verify`], on a thread that may block.
pub async fn verify_blocking(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, stored.as_deref()))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_at_owasp_cost_with_their_own_salt() {
        let first = hash("correct horse").unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        let second = hash("correct horse").unwrap();
        assert_ne!(first, second, "each hash has a salt of its own");
        assert!(!first.contains("correct horse"));
        assert!(!needs_rehash(&first));
    }

    #[test]
    fn only_the_right_password_of_a_known_account_verifies() {
        let stored = hash("correct horse").unwrap();
        assert!(verify("correct horse", Some(&stored)));
        assert!(!verify("correct horsE", Some(&stored)));
        assert!(!verify("", Some(&stored)));
        assert!(!verify("correct horse", Some("not a hash")));
        assert!(!verify("correct horse", None));
    }

    /// An unknown account is checked against a hash of the same cost as a real one, so it takes
    /// the same work (the time itself is a benchmark's to measure, not a test's).
    #[test]
    fn an_unknown_account_costs_a_full_verification() {
        assert!(
            STAND_IN.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            *STAND_IN
        );
        assert!(!needs_rehash(&STAND_IN));
    }

    #[test]
    fn a_cheaper_hash_is_rehashed() {
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw")
        .unwrap()
        .to_string();
        assert!(verify("pw", Some(&cheap)), "old hashes stay verifiable");
        assert!(needs_rehash(&cheap));
        assert!(needs_rehash("$2b$12$bcrypt.is.another.algorithm"));
    }

    #[tokio::test]
    async fn the_blocking_helpers_agree() {
        let stored = hash_blocking("pw".into()).await.unwrap();
        assert!(verify_blocking("pw".into(), Some(stored)).await);
        assert!(!verify_blocking("pw".into(), None).await);
    }
}
