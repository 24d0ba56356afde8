//! Security rate limits kept in PostgreSQL, so they hold across restarts and instances.
//! Fixed windows per (bucket, key); keys are hashed so no email is stored here.

use std::time::Duration;

use sqlx::PgPool;

use crate::{auth::tokens::sha256_hex, error::AppError};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: i32,
    pub window: Duration,
}

const MIN15: Duration = Duration::from_secs(15 * 60);
const HOUR: Duration = Duration::from_secs(60 * 60);

/// Failed sign-ins per (email, IP).
pub const LOGIN_FAILURES: Limit = Limit {
    bucket: "login_failure",
    max: 5,
    window: MIN15,
};
/// Sign-ups per IP.
pub const SIGNUP: Limit = Limit {
    bucket: "signup",
    max: 5,
    window: MIN15,
};
/// Forgot/reset requests per email and per IP.
pub const RESET_PER_EMAIL: Limit = Limit {
    bucket: "reset_email",
    max: 3,
    window: HOUR,
};
pub const RESET_PER_IP: Limit = Limit {
    bucket: "reset_ip",
    max: 3,
    window: HOUR,
};
/// Sign-in code checks per (email, IP).
pub const OTP_CHECKS: Limit = Limit {
    bucket: "otp_check",
    max: 5,
    window: MIN15,
};

fn rate_limited(seconds_left: f64) -> AppError {
    AppError::RateLimited {
        retry_after: Duration::from_secs(seconds_left.ceil().max(1.0) as u64),
    }
}

/// Counts one attempt and refuses it when the window's budget is spent.
pub async fn hit(pool: &PgPool, limit: Limit, key: &str) -> Result<(), AppError> {
    let (hits, seconds_left): (i32, f64) = sqlx::query_as(
        "INSERT INTO rate_limits AS r (bucket, key_hash, window_start, hits)
         VALUES ($1, $2, now(), 1)
         ON CONFLICT (bucket, key_hash) DO UPDATE SET
             hits = CASE WHEN r.window_start <= now() - $3 * interval '1 second' THEN 1 ELSE r.hits + 1 END,
             window_start = CASE WHEN r.window_start <= now() - $3 * interval '1 second' THEN now() ELSE r.window_start END
         RETURNING hits, EXTRACT(EPOCH FROM (window_start + $3 * interval '1 second' - now()))::float8",
    )
    .bind(limit.bucket)
    .bind(sha256_hex(key))
    .bind(limit.window.as_secs_f64())
    .fetch_one(pool)
    .await?;
    if hits > limit.max {
        return Err(rate_limited(seconds_left));
    }
    Ok(())
}

/// Refuses when the budget is already spent, without counting (failures are counted apart).
pub async fn check(pool: &PgPool, limit: Limit, key: &str) -> Result<(), AppError> {
    let row: Option<(i32, f64)> = sqlx::query_as(
        "SELECT hits, EXTRACT(EPOCH FROM (window_start + $3 * interval '1 second' - now()))::float8
         FROM rate_limits
         WHERE bucket = $1 AND key_hash = $2 AND window_start > now() - $3 * interval '1 second'",
    )
    .bind(limit.bucket)
    .bind(sha256_hex(key))
    .bind(limit.window.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    match row {
        Some((hits, seconds_left)) if hits >= limit.max => Err(rate_limited(seconds_left)),
        _ => Ok(()),
    }
}

/// Forgets the count (after a successful sign-in).
pub async fn clear(pool: &PgPool, limit: Limit, key: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM rate_limits WHERE bucket = $1 AND key_hash = $2")
        .bind(limit.bucket)
        .bind(sha256_hex(key))
        .execute(pool)
        .await?;
    Ok(())
}

/// Drops windows that ended long ago (maintenance).
pub async fn purge_old(pool: &PgPool) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM rate_limits WHERE window_start < now() - interval '1 day'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
