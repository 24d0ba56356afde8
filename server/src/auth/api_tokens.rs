//! Personal access tokens: created by a signed-in user, shown once, stored as a SHA-256 hash,
//! and accepted as `Authorization: Bearer <token>` by the API.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::User;
use crate::secrets as tokens;
use crate::{
    error::{AppError, AppResult},
    state::Services,
};

pub use crate::identity::TOKEN_PREFIX as PREFIX;
/// A user may keep this many tokens at once.
pub const MAX_TOKENS: i64 = 50;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new token and its secret, which is never shown again.
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

/// Creates a token. Needs a recent authentication: a token outlives the session, so a stolen
/// session cookie must not be enough to mint one.
pub async fn create(
    state: &Services,
    user: &User,
    name: &str,
    expires_in_days: Option<i64>,
    proof: super::RecentAuth<'_>,
) -> AppResult<CreatedToken> {
    let (pool, now) = (&state.pool, state.now());
    let name = name.trim();
    let mut v = super::types::Validator::default();
    v.check(
        "name",
        if name.is_empty() || name.chars().count() > 100 {
            Err("Give the token a name of 1 to 100 characters".to_string())
        } else {
            Ok(())
        },
    );
    v.check(
        "expiresInDays",
        match expires_in_days {
            Some(d) if !(1..=3650).contains(&d) => {
                Err("Expiry must be between 1 and 3650 days".to_string())
            }
            _ => Ok(()),
        },
    );
    v.finish()?;
    super::require_recent_auth(state, user, proof).await?;
    // One creation per user at a time past this point, so parallel requests cannot pass the
    // limit together.
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 11))",
        user.id.to_string()
    )
    .execute(&mut *tx)
    .await?;
    let count = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM api_tokens WHERE user_id = $1"#,
        user.id
    )
    .fetch_one(&mut *tx)
    .await?;
    if count >= MAX_TOKENS {
        return Err(AppError::Conflict(format!(
            "You already have {MAX_TOKENS} tokens; revoke one first"
        )));
    }
    let secret = format!("{PREFIX}{}", tokens::new_token());
    let token = sqlx::query_as!(
        ApiToken,
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $6::timestamptz + $5 * interval '1 day', $6)
         RETURNING id, name, prefix, created_at, last_used_at, expires_at",
        user.id,
        name,
        tokens::sha256_hex(&secret),
        &secret[..PREFIX.len() + 6],
        expires_in_days.map(|d| d as f64),
        now,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(CreatedToken { token, secret })
}

pub async fn list(pool: &PgPool, user: &User) -> AppResult<Vec<ApiToken>> {
    Ok(sqlx::query_as!(
        ApiToken,
        "SELECT id, name, prefix, created_at, last_used_at, expires_at FROM api_tokens
         WHERE user_id = $1 ORDER BY created_at DESC",
        user.id
    )
    .fetch_all(pool)
    .await?)
}

/// A token id as a form sends it; anything else names no token.
pub fn parse_id(raw: &str) -> AppResult<Uuid> {
    raw.parse()
        .map_err(|_| AppError::BadRequest("That token no longer exists.".into()))
}

/// Revokes one of the user's tokens; another user's id is simply not found.
pub async fn revoke(pool: &PgPool, user: &User, id: Uuid) -> AppResult<()> {
    let done = sqlx::query!(
        "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2",
        id,
        user.id
    )
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}
