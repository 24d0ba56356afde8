//! Signed-in state: the server-side session (cookie) holds the user id and the account's
//! session version; a version bump (sign out everywhere, password change) ends it everywhere.

use axum::{extract::FromRequestParts, http::request::Parts};
use chrono::{DateTime, Utc};
use tower_sessions::{Expiry, Session};
use uuid::Uuid;

use super::{users, User};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

const USER_ID: &str = "uid";
const VERSION: &str = "ver";
const SIGNED_IN_AT: &str = "at";
/// The account that passed the password step and waits for its emailed code.
const PENDING_2FA: &str = "pending_2fa";

/// How long "remember me" keeps a session alive without use.
pub const REMEMBER_FOR: time::Duration = time::Duration::days(30);

fn store_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {e}"))
}

/// Signs `user` in on this session, under a new session id (no fixation).
pub async fn sign_in(session: &Session, user: &User, remember: bool) -> AppResult<()> {
    session.cycle_id().await.map_err(store_error)?;
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
        .insert(SIGNED_IN_AT, Utc::now())
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

pub async fn pending_2fa(state: &AppState, session: &Session) -> AppResult<Option<User>> {
    let Some(id) = session
        .get::<Uuid>(PENDING_2FA)
        .await
        .map_err(store_error)?
    else {
        return Ok(None);
    };
    Ok(users::find_by_id(&state.pool, id).await?)
}

/// The signed-in user of this session, if the session is still valid.
pub async fn current_user(state: &AppState, session: &Session) -> AppResult<Option<User>> {
    let Some(id) = session.get::<Uuid>(USER_ID).await.map_err(store_error)? else {
        return Ok(None);
    };
    let version = session.get::<i32>(VERSION).await.map_err(store_error)?;
    match users::find_by_id(&state.pool, id).await? {
        Some(user) if Some(user.session_version) == version => Ok(Some(user)),
        _ => {
            // The account is gone or signed out everywhere: this session is over.
            session.flush().await.map_err(store_error)?;
            Ok(None)
        }
    }
}

/// When this session signed in (for actions that need a recent sign-in).
pub async fn signed_in_at(session: &Session) -> AppResult<Option<DateTime<Utc>>> {
    session.get(SIGNED_IN_AT).await.map_err(store_error)
}

/// Extractor: the signed-in user, or 401.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // A request that carries a bearer token is authenticated by that token alone, never by
        // a cookie riding along (the origin check does not apply to token requests).
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
            return super::api_tokens::authenticate(&state.pool, secret)
                .await?
                .map(CurrentUser)
                .ok_or(AppError::Unauthorized);
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("session layer missing")))?;
        current_user(state, &session)
            .await?
            .map(CurrentUser)
            .ok_or(AppError::Unauthorized)
    }
}
