//! Password hashing with Argon2id (OWASP parameters), always off the async runtime and with a
//! bound on how many hashes run at once (each takes ~19 MiB and tens of milliseconds).

use std::sync::LazyLock;

use argon2::{
    password_hash::{self, PasswordHasher, PasswordVerifier},
    Algorithm, Argon2, Params, Version,
};

use crate::blocking::CpuPool;

fn argon2id() -> Argon2<'static> {
    // The crate's defaults are OWASP's: m = 19 MiB, t = 2, p = 1 (a test checks the hashes).
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// At most this many hashes at once; more requests wait their turn instead of exhausting memory.
static HASHING: LazyLock<CpuPool> = LazyLock::new(|| CpuPool::per_core("password hashing", 2));

/// Verified against when the account does not exist, so both paths cost the same time.
static DUMMY_HASH: LazyLock<Result<String, password_hash::Error>> = LazyLock::new(|| {
    argon2id()
        .hash_password(b"an account that does not exist")
        .map(|h| h.to_string())
});

pub async fn hash(password: String) -> anyhow::Result<String> {
    HASHING
        .run(move || {
            argon2id()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
        })
        .await?
}

/// Checks `password` against a stored hash, or against a dummy hash when there is none.
/// Every check is counted (`password_verifications_total`): the figure operators watch for
/// guessing, and the one the tests read to prove limits act before the password is checked.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    metrics::counter!("password_verifications_total").increment(1);
    HASHING
        .run(move || {
            let exists = stored.is_some();
            let phc = match stored {
                Some(phc) => phc,
                None => DUMMY_HASH
                    .as_ref()
                    .map(String::clone)
                    .map_err(|e| anyhow::anyhow!("hashing the dummy password: {e}"))?,
            };
            match argon2id().verify_password(password.as_bytes(), phc.as_str()) {
                Ok(()) => Ok(exists),
                Err(password_hash::Error::PasswordInvalid) => Ok(false),
                Err(e) => Err(anyhow::anyhow!("verifying a password: {e}")),
            }
        })
        .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_are_salted() {
        let a = hash("correct horse".into()).await.unwrap();
        let b = hash("correct horse".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b);
        assert!(verify("correct horse".into(), Some(a.clone()))
            .await
            .unwrap());
        assert!(!verify("Correct horse".into(), Some(a)).await.unwrap());
    }

    #[tokio::test]
    async fn a_missing_account_never_verifies() {
        assert!(!verify("an account that does not exist".into(), None)
            .await
            .unwrap());
    }
}
