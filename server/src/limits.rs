//! Security rate limits kept in PostgreSQL, so they hold across restarts and instances.
//! Fixed windows per (bucket, key); keys are hashed so no email is stored here.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::{error::AppError, secrets::sha256_hex};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: i32,
    pub window: Duration,
}

impl Limit {
    const fn new(bucket: &'static str, max: i32, window: Duration) -> Self {
        Self {
            bucket,
            max,
            window,
        }
    }
}

const MIN15: Duration = Duration::from_secs(15 * 60);
const HOUR: Duration = Duration::from_secs(60 * 60);

/// Sign-in attempts per (email, IP), counted before the password is checked.
pub const LOGIN_FAILURES: Limit = Limit::new("login_failure", 5, MIN15);
/// Sign-in attempts per account from clients it does not know (no device cookie for it):
/// stops guesses spread over many addresses.
pub const LOGIN_PER_ACCOUNT: Limit = Limit::new("login_account", 10, MIN15);
/// Sign-in attempts per known device (a browser holding a device cookie for the account).
pub const LOGIN_PER_DEVICE: Limit = Limit::new("login_device", 5, MIN15);
/// Sign-ups per IP.
pub const SIGNUP: Limit = Limit::new("signup", 5, MIN15);
/// Reset-link requests ("forgot password") per email and per IP.
pub const RESET_PER_EMAIL: Limit = Limit::new("reset_email", 3, HOUR);
pub const RESET_PER_IP: Limit = Limit::new("reset_ip", 3, HOUR);
/// Uses of a reset link per IP: its own budget, so asking for links never uses up the tries to
/// set the password (a link is 256 random bits: this only stops a client hammering).
pub const RESET_LINK_PER_IP: Limit = Limit::new("reset_link_ip", 10, HOUR);
/// Sign-in code checks per (email, IP).
pub const OTP_CHECKS: Limit = Limit::new("otp_check", 5, MIN15);

fn rate_limited(seconds_left: f64) -> AppError {
    AppError::RateLimited {
        retry_after: Duration::from_secs(seconds_left.ceil().max(1.0) as u64),
    }
}

/// Counts one attempt and refuses it when the window's budget is spent. Atomic: parallel
/// requests each get their own count, so none can slip past between a check and a count.
pub async fn hit(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: Limit,
    key: &str,
) -> Result<(), AppError> {
    let counted = sqlx::query!(
        r#"INSERT INTO rate_limits AS r (bucket, key_hash, window_start, hits)
         VALUES ($1, $2, $4, 1)
         ON CONFLICT (bucket, key_hash) DO UPDATE SET
             hits = CASE WHEN r.window_start <= $4 - $3 * interval '1 second' THEN 1 ELSE r.hits + 1 END,
             window_start = CASE WHEN r.window_start <= $4 - $3 * interval '1 second' THEN $4 ELSE r.window_start END
         RETURNING hits,
                   EXTRACT(EPOCH FROM (window_start + $3 * interval '1 second' - $4))::float8
                     AS "seconds_left!""#,
        limit.bucket,
        sha256_hex(key),
        limit.window.as_secs_f64(),
        now,
    )
    .fetch_one(pool)
    .await?;
    if counted.hits > limit.max {
        return Err(rate_limited(counted.seconds_left));
    }
    Ok(())
}

/// Takes back one counted attempt (it turned out to be the owner's, e.g. a right password).
pub async fn forgive(pool: &PgPool, limit: Limit, key: &str) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE rate_limits SET hits = greatest(hits - 1, 0) WHERE bucket = $1 AND key_hash = $2",
        limit.bucket,
        sha256_hex(key),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets the count (after a successful sign-in).
pub async fn clear(pool: &PgPool, limit: Limit, key: &str) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM rate_limits WHERE bucket = $1 AND key_hash = $2",
        limit.bucket,
        sha256_hex(key),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Drops windows that ended long ago (maintenance).
pub async fn purge_old(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM rate_limits WHERE window_start < $1::timestamptz - interval '1 day'",
        now
    )
    .execute(pool)
    .await?
    .rows_affected())
}
