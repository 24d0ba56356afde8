//! Signing in and out: the server-side session (cookie) holds the user id and the account's
//! session version (keys shared with `identity`, which reads them for every feature); a version
//! bump (sign out everywhere, password change) ends it everywhere.

use axum::{extract::FromRequestParts, http::request::Parts};
use chrono::{DateTime, Utc};
use tower_sessions::{Expiry, Session};
use uuid::Uuid;

use super::{users, User};
pub use crate::identity::{current_user, CurrentUser, USER_ID};
use crate::{
    error::{AppError, AppResult},
    identity::{store_error, SESSION_VERSION as VERSION},
    state::Services,
};

const SIGNED_IN_AT: &str = "at";
const DEVICE: &str = "device";
/// The account that passed the password step and waits for its emailed code.
const PENDING_2FA: &str = "pending_2fa";

/// How long "remember me" keeps a session alive without use.
pub const REMEMBER_FOR: time::Duration = time::Duration::days(30);

/// Where a sign-in came from, shown in the list of sessions.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Device {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

impl Device {
    pub fn from_parts(parts: &Parts) -> Self {
        Self {
            user_agent: parts
                .headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|ua| ua.chars().take(200).collect()),
            ip: parts
                .extensions
                .get::<crate::http::ClientIp>()
                .map(|ip| ip.0.to_string()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Device {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

/// Signs `user` in on this session, under a new session id (no fixation).
pub async fn sign_in(
    state: &Services,
    session: &Session,
    user: &User,
    remember: bool,
    device: &Device,
) -> AppResult<()> {
    session.cycle_id().await.map_err(store_error)?;
    session.insert(DEVICE, device).await.map_err(store_error)?;
    session
        .remove_value(PENDING_2FA)
        .await
        .map_err(store_error)?;
    session
        .insert(USER_ID, user.id)
        .await
        .map_err(store_error)?;
    session
        .insert(VERSION, user.session_version)
        .await
        .map_err(store_error)?;
    session
        .insert(SIGNED_IN_AT, state.now())
        .await
        .map_err(store_error)?;
    session.set_expiry(Some(if remember {
        Expiry::OnInactivity(REMEMBER_FOR)
    } else {
        Expiry::OnSessionEnd
    }));
    Ok(())
}

/// Keeps this session valid after the account's session version changed on purpose (the user
/// changed their own password here).
pub async fn refresh_version(session: &Session, user: &User) -> AppResult<()> {
    session
        .insert(VERSION, user.session_version)
        .await
        .map_err(store_error)
}

pub async fn sign_out(session: &Session) -> AppResult<()> {
    session.flush().await.map_err(store_error)
}

pub async fn set_pending_2fa(session: &Session, user: &User) -> AppResult<()> {
    session
        .insert(PENDING_2FA, user.id)
        .await
        .map_err(store_error)
}

pub async fn pending_2fa(state: &Services, session: &Session) -> AppResult<Option<User>> {
    let Some(id) = session
        .get::<Uuid>(PENDING_2FA)
        .await
        .map_err(store_error)?
    else {
        return Ok(None);
    };
    Ok(users::find_by_id(&state.pool, id).await?)
}

/// When this session signed in (for actions that need a recent sign-in).
pub async fn signed_in_at(session: &Session) -> AppResult<Option<DateTime<Utc>>> {
    session.get(SIGNED_IN_AT).await.map_err(store_error)
}

/// One of the user's live sessions.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveSession {
    /// A digest of the session id: enough to name it, useless as a cookie.
    pub id: String,
    pub signed_in_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub current: bool,
}

/// The user's sessions that still work (same session version), newest first.
pub async fn list_sessions(
    state: &Services,
    user: &User,
    current: &Session,
) -> AppResult<Vec<ActiveSession>> {
    let current_id = current.id().map(|id| id.to_string());
    let rows = sqlx::query!(
        r#"SELECT id, substr(encode(sha256(convert_to(id, 'UTF8')), 'hex'), 1, 16) AS "digest!",
                  data, expires_at
         FROM sessions
         WHERE user_id = $1 AND expires_at > $3 AND (data ->> 'ver')::int = $2
         ORDER BY data ->> 'at' DESC"#,
        user.id,
        user.session_version,
        state.now(),
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (id, digest, data, expires_at) = (row.id, row.digest, row.data, row.expires_at);
            let device: Device = data
                .get(DEVICE)
                .cloned()
                .and_then(|d| serde_json::from_value(d).ok())
                .unwrap_or_default();
            ActiveSession {
                id: digest,
                signed_in_at: data
                    .get(SIGNED_IN_AT)
                    .cloned()
                    .and_then(|v| serde_json::from_value(v).ok()),
                expires_at,
                user_agent: device.user_agent,
                ip: device.ip,
                current: current_id.as_deref() == Some(id.as_str()),
            }
        })
        .collect())
}

/// Ends one of the user's sessions, named by its digest; another user's is not found.
pub async fn revoke_session(state: &Services, user: &User, digest: &str) -> AppResult<()> {
    if digest.len() != 16 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let done = sqlx::query!(
        "DELETE FROM sessions
         WHERE user_id = $1 AND substr(encode(sha256(convert_to(id, 'UTF8')), 'hex'), 1, 16) = $2",
        user.id,
        digest,
    )
    .execute(&state.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}
