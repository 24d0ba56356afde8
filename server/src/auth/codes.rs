//! One-time codes and links (sign-in codes, password reset, email verification).
//! Only SHA-256 hashes are stored (drawn when the email is sent, see `auth::emails`); each is
//! single use and dies at its expiry.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::secrets::{digests_equal, sha256_hex};

/// Stored as its name in `one_time_codes.purpose` (TEXT with a CHECK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Encode, sqlx::Decode)]
#[sqlx(rename_all = "snake_case")]
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

/// Creates a code or link row for `user_id`, ending the earlier unused ones of the same purpose.
/// The row has no secret yet: `arm` draws it when the email is sent (see `auth::emails`).
pub async fn issue(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    user_id: Uuid,
    purpose: Purpose,
    valid_for: chrono::Duration,
) -> sqlx::Result<Uuid> {
    sqlx::query!(
        "UPDATE one_time_codes SET used_at = $3
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
        user_id,
        purpose as Purpose,
        now,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar!(
        "INSERT INTO one_time_codes (user_id, purpose, code_hash, expires_at, created_at)
         VALUES ($1, $2, NULL, $3, $4)
         RETURNING id",
        user_id,
        purpose as Purpose,
        now + valid_for,
        now,
    )
    .fetch_one(conn)
    .await
}

/// Stores a known secret for `user_id` at once (tests and tools; the app uses `issue` + `arm`).
pub async fn issue_with_secret(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    user_id: Uuid,
    purpose: Purpose,
    secret: &str,
    valid_for: chrono::Duration,
) -> sqlx::Result<Uuid> {
    let id = issue(&mut *conn, now, user_id, purpose, valid_for).await?;
    sqlx::query!(
        "UPDATE one_time_codes SET code_hash = $2 WHERE id = $1",
        id,
        sha256_hex(secret),
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// Draws the secret of row `id` (a 6-digit code or a 256-bit token, by purpose) and stores its
/// hash, if the row is still live. Returns the purpose and the plain secret for the email, or
/// `None` when the row was used, superseded or expired (then nothing must be sent).
pub async fn arm(
    pool: &PgPool,
    now: DateTime<Utc>,
    user_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<(Purpose, String)>> {
    let purpose = sqlx::query_scalar!(
        r#"SELECT purpose AS "purpose: Purpose" FROM one_time_codes
         WHERE id = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > $3"#,
        id,
        user_id,
        now,
    )
    .fetch_optional(pool)
    .await?;
    let Some(purpose) = purpose else {
        return Ok(None);
    };
    let secret = match purpose {
        Purpose::LoginOtp => crate::secrets::new_code(),
        Purpose::PasswordReset | Purpose::EmailVerify => crate::secrets::new_token(),
    };
    // Checked again in the same statement: a use in between wins.
    let armed = sqlx::query!(
        "UPDATE one_time_codes SET code_hash = $2
         WHERE id = $1 AND used_at IS NULL AND expires_at > $3",
        id,
        sha256_hex(&secret),
        now,
    )
    .execute(pool)
    .await?;
    Ok((armed.rows_affected() == 1).then_some((purpose, secret)))
}

/// When the newest secret of this purpose was issued (for resend cooldowns).
pub async fn last_issued(
    pool: &PgPool,
    user_id: Uuid,
    purpose: Purpose,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(
        "SELECT max(created_at) FROM one_time_codes WHERE user_id = $1 AND purpose = $2",
        user_id,
        purpose as Purpose,
    )
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
    sqlx::query_scalar!(
        "UPDATE one_time_codes SET used_at = $3
         WHERE purpose = $1 AND code_hash = $2 AND used_at IS NULL AND expires_at > $3
         RETURNING user_id",
        purpose as Purpose,
        sha256_hex(token),
        now,
    )
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
    let live = sqlx::query!(
        r#"SELECT id, code_hash AS "code_hash!" FROM one_time_codes
         WHERE user_id = $1 AND purpose = 'login_otp' AND used_at IS NULL
           AND code_hash IS NOT NULL AND expires_at > $3 AND attempts < $2
         ORDER BY created_at DESC LIMIT 1
         FOR UPDATE"#,
        user_id,
        MAX_CODE_ATTEMPTS,
        now,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(live) = live else {
        return Ok(false);
    };
    let ok = digests_equal(&live.code_hash, &sha256_hex(code));
    if ok {
        sqlx::query!(
            "UPDATE one_time_codes SET used_at = $2 WHERE id = $1",
            live.id,
            now
        )
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query!(
            "UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1",
            live.id
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(ok)
}

/// Removes codes that can no longer be used (maintenance).
pub async fn purge_dead(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM one_time_codes WHERE expires_at < $1::timestamptz - interval '1 day'",
        now
    )
    .execute(pool)
    .await?
    .rows_affected())
}

crate::db::text_column_type!(Purpose);
