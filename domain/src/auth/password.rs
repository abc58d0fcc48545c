//! Password hashing: argon2id with fixed parameters, run off the async threads.

use crate::Error;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

/// argon2id with the OWASP Password Storage Cheat Sheet's first recommended parameter set:
/// m = 19 MiB, t = 2, p = 1.
fn hasher() -> Argon2<'static> {
    match Params::new(19 * 1024, 2, 1, None) {
        Ok(params) => Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        // The constants above are within argon2's limits; this arm is never taken.
        Err(_) => Argon2::default(),
    }
}

/// Hashes a password on a blocking thread (argon2 takes tens of milliseconds of CPU).
pub async fn hash_password(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .map_err(Error::internal)?
    .map_err(Error::internal)
}

/// Checks a password against a stored hash on a blocking thread.
pub async fn verify_password(hash: String, password: String) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        Ok::<bool, anyhow::Error>(
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
        )
    })
    .await
    .map_err(Error::internal)?
    .map_err(Error::internal)
}

/// A valid hash of a random password, checked when the username does not exist so that a
/// wrong username takes as long as a wrong password (no account enumeration by timing).
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub(crate) async fn dummy_hash() -> Result<String, Error> {
    if let Some(hash) = DUMMY_HASH.get() {
        return Ok(hash.clone());
    }
    let hash = hash_password(crate::tokens::store::random_secret()).await?;
    Ok(DUMMY_HASH.get_or_init(|| hash).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            verify_password(hash.clone(), "correct horse battery".into())
                .await
                .unwrap()
        );
        assert!(!verify_password(hash, "wrong horse battery".into())
            .await
            .unwrap());
    }
}
