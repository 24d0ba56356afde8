//! Run-once submissions: a client sends a random nonce with a request that must not take effect
//! twice (a web form that is double-clicked or re-posted). The first request to claim the nonce
//! does the work and records its outcome; later ones wait for that outcome and replay it.
//! Only a digest of the nonce is stored.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};
use sqlx::PgPool;

use crate::{secrets::sha256_hex, AppResult};

/// How long a repeated submission waits for the first one to finish.
pub const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// A nonce as clients send it: 16 to 128 characters of base64url / hex. Anything else is
/// ignored (the submission then runs unguarded, as without JavaScript-free forms it would).
pub fn valid_nonce(nonce: &str) -> bool {
    (16..=128).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The outcome of trying to claim a nonce.
#[derive(Debug)]
pub enum Claim<T> {
    /// This request is the first: do the work, then call [`complete`].
    First,
    /// An earlier request with this nonce finished with this outcome.
    Replay(T),
    /// An earlier request holds the nonce and has not finished within [`WAIT_FOR_FIRST`].
    Busy,
}

/// Claims `nonce` atomically; a concurrent or later claim of the same nonce waits for the
/// first one's outcome.
pub async fn claim<T: DeserializeOwned>(
    pool: &PgPool,
    nonce: &str,
    now: DateTime<Utc>,
) -> AppResult<Claim<T>> {
    let key = sha256_hex(nonce);
    let inserted = sqlx::query_scalar!(
        "INSERT INTO form_submissions (nonce_hash, created_at) VALUES ($1, $2)
         ON CONFLICT (nonce_hash) DO NOTHING RETURNING nonce_hash",
        &key,
        now,
    )
    .fetch_optional(pool)
    .await?;
    if inserted.is_some() {
        return Ok(Claim::First);
    }
    let started = tokio::time::Instant::now();
    loop {
        // An outcome is replayed for a few minutes only: a repeat is a double click or a
        // re-sent POST, not a form kept open for hours.
        let row = sqlx::query!(
            r#"SELECT outcome, created_at > $2::timestamptz - interval '10 minutes' AS "recent!"
                 FROM form_submissions WHERE nonce_hash = $1"#,
            &key,
            now,
        )
        .fetch_optional(pool)
        .await?;
        let outcome = match row {
            Some(row) if row.recent => row.outcome,
            Some(_) | None => return Ok(Claim::Busy),
        };
        if let Some(value) = outcome {
            return Ok(match serde_json::from_value(value) {
                Ok(outcome) => Claim::Replay(outcome),
                Err(_) => Claim::Busy,
            });
        }
        if started.elapsed() >= WAIT_FOR_FIRST {
            return Ok(Claim::Busy);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Records the outcome of the first submission, for the repeats to replay.
pub async fn complete<T: Serialize>(pool: &PgPool, nonce: &str, outcome: &T) -> AppResult<()> {
    let value = serde_json::to_value(outcome).map_err(|e| crate::AppError::Internal(e.into()))?;
    sqlx::query!(
        "UPDATE form_submissions SET outcome = $2 WHERE nonce_hash = $1",
        sha256_hex(nonce),
        value,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives a nonce back when the first submission could not finish (so a retry can run).
pub async fn release(pool: &PgPool, nonce: &str) -> AppResult<()> {
    sqlx::query!(
        "DELETE FROM form_submissions WHERE nonce_hash = $1 AND outcome IS NULL",
        sha256_hex(nonce),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets submissions older than a day.
pub async fn purge_old(pool: &PgPool, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(sqlx::query!(
        "DELETE FROM form_submissions WHERE created_at < $1::timestamptz - interval '1 day'",
        now
    )
    .execute(pool)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::valid_nonce;

    #[test]
    fn nonces_are_long_url_safe_strings() {
        assert!(valid_nonce("abcdefghijklmnop"));
        assert!(valid_nonce("Zm9v-YmFy_0123456789"));
        assert!(!valid_nonce("short"));
        assert!(!valid_nonce("has space in it too long"));
        assert!(!valid_nonce(&"a".repeat(129)));
    }
}
