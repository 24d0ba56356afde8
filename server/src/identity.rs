//! Who is asking. Every feature reads the signed-in user through here: the session keys that
//! name the user, the check that a session is still valid, personal access tokens
//! (`Authorization: Bearer …`), and the `CurrentUser` extractor. How a user signs in is the
//! accounts feature's business (`auth`); this module only reads what it wrote.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

use crate::{
    clock::Clock,
    error::{AppError, AppResult},
    secrets::sha256_hex,
    users::{self, User},
};

/// The session key holding the signed-in user id (also read by the session store).
pub const USER_ID: &str = "uid";
/// The session key holding the account's session version when this session signed in; a
/// version bump (sign out everywhere, password change) ends every older session.
pub const SESSION_VERSION: &str = "ver";
/// Personal access tokens start with this, so they are recognisable in configs and by secret
/// scanners.
pub const TOKEN_PREFIX: &str = "spd_";

pub(crate) fn store_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {e}"))
}

/// The signed-in user of this session, if the session is still valid. A session whose account
/// is gone or was signed out everywhere is emptied.
pub async fn current_user(pool: &PgPool, session: &Session) -> AppResult<Option<User>> {
    let Some(id) = session.get::<Uuid>(USER_ID).await.map_err(store_error)? else {
        return Ok(None);
    };
    let version = session
        .get::<i32>(SESSION_VERSION)
        .await
        .map_err(store_error)?;
    match users::find_by_id(pool, id).await? {
        Some(user) if Some(user.session_version) == version => Ok(Some(user)),
        _ => {
            session.flush().await.map_err(store_error)?;
            Ok(None)
        }
    }
}

/// Whether `secret` could be one of our tokens at all (checked before the database is asked).
fn is_token_shaped(secret: &str) -> bool {
    secret.starts_with(TOKEN_PREFIX) && secret.len() <= 200
}

/// The user a live personal access token belongs to (and notes its use).
pub async fn token_user(
    db: impl sqlx::PgExecutor<'_>,
    now: DateTime<Utc>,
    secret: &str,
) -> AppResult<Option<User>> {
    if !is_token_shaped(secret) {
        return Ok(None);
    }
    // "Last used" is kept to the minute: writing it on every request would make each API call a
    // write that waits for the WAL flush, and would queue all of a token's parallel requests
    // behind one row lock. Within the minute the statement only reads.
    Ok(sqlx::query_as!(
        User,
        "WITH t AS (
             SELECT id, user_id, last_used_at FROM api_tokens
             WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)
         ), touched AS (
             UPDATE api_tokens SET last_used_at = $2
             FROM t
             WHERE api_tokens.id = t.id
               AND (t.last_used_at IS NULL OR t.last_used_at <= $2 - interval '1 minute')
         )
         SELECT users.* FROM users JOIN t ON users.id = t.user_id",
        sha256_hex(secret),
        now,
    )
    .fetch_optional(db)
    .await?)
}

/// Extractor: the signed-in user, or 401. A request that carries a bearer token is
/// authenticated by that token alone, never by a cookie riding along (the origin check does not
/// apply to token requests).
pub struct CurrentUser(pub User);

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    PgPool: FromRef<S>,
    Clock: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let pool = PgPool::from_ref(state);
        if let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let secret = value
                .to_str()
                .ok()
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim)
                .ok_or(AppError::Unauthorized)?;
            if !is_token_shaped(secret) {
                return Err(AppError::Unauthorized);
            }
            let user = token_user(&pool, Clock::from_ref(state).now(), secret).await?;
            return user.map(CurrentUser).ok_or(AppError::Unauthorized);
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("session layer missing")))?;
        current_user(&pool, &session)
            .await?
            .map(CurrentUser)
            .ok_or(AppError::Unauthorized)
    }
}
