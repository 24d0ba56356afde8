//! One-time codes and links (sign-in codes, password reset, email verification).
//! Only SHA-256 hashes are stored; each is single use and dies at its expiry.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::tokens::{digests_equal, sha256_hex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    LoginOtp,
    PasswordReset,
    EmailVerify,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginOtp => "login_otp",
            Self::PasswordReset => "password_reset",
            Self::EmailVerify => "email_verify",
        }
    }
}

/// Wrong guesses after which a sign-in code is dead.
pub const MAX_CODE_ATTEMPTS: i32 = 5;

/// Stores a new secret for `user_id`, ending the earlier unused ones of the same purpose.
pub async fn issue(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    user_id: Uuid,
    purpose: Purpose,
    secret: &str,
    valid_for: chrono::Duration,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE one_time_codes SET used_at = $3
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO one_time_codes (user_id, purpose, code_hash, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(sha256_hex(secret))
    .bind(now + valid_for)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// When the newest secret of this purpose was issued (for resend cooldowns).
pub async fn last_issued(
    pool: &PgPool,
    user_id: Uuid,
    purpose: Purpose,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "SELECT max(created_at) FROM one_time_codes WHERE user_id = $1 AND purpose = $2",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .fetch_one(pool)
    .await
}

/// Consumes a link token (reset, verification): returns its user when it is live.
pub async fn consume_link(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    purpose: Purpose,
    token: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "UPDATE one_time_codes SET used_at = $3
         WHERE purpose = $1 AND code_hash = $2 AND used_at IS NULL AND expires_at > $3
         RETURNING user_id",
    )
    .bind(purpose.as_str())
    .bind(sha256_hex(token))
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Checks a sign-in code: a wrong guess counts against the live code, which dies after
/// `MAX_CODE_ATTEMPTS`; a right one is consumed.
pub async fn check_login_code(
    pool: &PgPool,
    now: DateTime<Utc>,
    user_id: Uuid,
    code: &str,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let live: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT id, code_hash FROM one_time_codes
         WHERE user_id = $1 AND purpose = 'login_otp' AND used_at IS NULL
           AND expires_at > $3 AND attempts < $2
         ORDER BY created_at DESC LIMIT 1
         FOR UPDATE",
    )
    .bind(user_id)
    .bind(MAX_CODE_ATTEMPTS)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, hash)) = live else {
        return Ok(false);
    };
    let ok = digests_equal(&hash, &sha256_hex(code));
    let update = if ok {
        sqlx::query("UPDATE one_time_codes SET used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
    } else {
        sqlx::query("UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1").bind(id)
    };
    update.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(ok)
}

/// Removes codes that can no longer be used (maintenance).
pub async fn purge_dead(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM one_time_codes WHERE expires_at < $1 - interval '1 day'")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
