//! Run-once submissions: a client sends a random nonce with a request that must not take effect
//! twice (a web form that is double-clicked or re-posted). The first request to claim the nonce
//! does the work and records its outcome; later ones get that outcome again. Only a digest of
//! the nonce is stored.
//!
//! The claim is a row inserted in a transaction that stays open while the work runs: a repeat
//! of the same nonce inserts the same key and so waits, inside PostgreSQL, until the first
//! commits its outcome (and then replays it) or rolls back after a failure (and then runs the
//! work itself). Nothing polls.

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};
use sqlx::PgPool;

use crate::{error::AppError, secrets::sha256_hex, AppResult};

/// How long a repeated submission waits for the first one to finish.
pub const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
/// An outcome is replayed for this long only: a repeat is a double click or a re-sent POST,
/// not a form kept open for hours.
const REPLAY_FOR: chrono::Duration = chrono::Duration::minutes(10);

/// A nonce as clients send it: 16 to 128 characters of base64url / hex. Anything else is
/// ignored (the submission then runs unguarded).
pub fn valid_nonce(nonce: &str) -> bool {
    (16..=128).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a submission with a nonce comes to.
#[derive(Debug, PartialEq)]
pub enum Once<T> {
    /// The work ran now, with this outcome.
    Ran(T),
    /// An earlier submission of this nonce ran the work; this was its outcome.
    Replayed(T),
    /// An earlier submission holds the nonce and did not finish within [`WAIT_FOR_FIRST`], or
    /// its outcome is too old to replay.
    Busy,
}

/// Runs `work` unless a submission with the same `nonce` did or is doing it; see the module's
/// documentation. An error of `work` gives the nonce back, so that a retry can run.
pub async fn run_once<T, E, F>(
    pool: &PgPool,
    nonce: &str,
    now: DateTime<Utc>,
    work: F,
) -> Result<Once<T>, E>
where
    T: Serialize + DeserializeOwned,
    F: Future<Output = Result<T, E>>,
    E: From<AppError>,
{
    let key = sha256_hex(nonce);
    let mut tx = pool.begin().await.map_err(AppError::from)?;
    let timeout = format!("{}ms", WAIT_FOR_FIRST.as_millis());
    sqlx::query!("SELECT set_config('lock_timeout', $1, true)", timeout)
        .fetch_one(&mut *tx)
        .await
        .map_err(AppError::from)?;
    // Waits here while another transaction holds the same key uncommitted.
    let claimed = sqlx::query_scalar!(
        "INSERT INTO form_submissions (nonce_hash, created_at) VALUES ($1, $2)
         ON CONFLICT (nonce_hash) DO NOTHING RETURNING nonce_hash",
        key,
        now,
    )
    .fetch_optional(&mut *tx)
    .await;
    match claimed {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(replay(&mut tx, &key, now).await?),
        Err(e) if is_lock_timeout(&e) => return Ok(Once::Busy),
        Err(e) => return Err(AppError::from(e).into()),
    }
    let outcome = work.await?;
    let value = serde_json::to_value(&outcome).map_err(|e| AppError::Internal(e.into()))?;
    sqlx::query!(
        "UPDATE form_submissions SET outcome = $2 WHERE nonce_hash = $1",
        key,
        value,
    )
    .execute(&mut *tx)
    .await
    .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Once::Ran(outcome))
}

/// The outcome the first submission recorded, if it is recent enough to replay.
async fn replay<T: DeserializeOwned>(
    conn: &mut sqlx::PgConnection,
    key: &str,
    now: DateTime<Utc>,
) -> AppResult<Once<T>> {
    let row = sqlx::query!(
        "SELECT outcome, created_at FROM form_submissions WHERE nonce_hash = $1",
        key,
    )
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(row) if now - row.created_at < REPLAY_FOR => row
            .outcome
            .and_then(|value| serde_json::from_value(value).ok())
            .map_or(Once::Busy, Once::Replayed),
        _ => Once::Busy,
    })
}

/// PostgreSQL's `lock_not_available`: the wait for the first submission timed out.
fn is_lock_timeout(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "55P03")
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
