//! /api/digest: the one-click unsubscribe of RFC 8058. A mail client POSTs
//! `List-Unsubscribe=One-Click` to the URL of the digest's `List-Unsubscribe` header, without
//! cookies: the sealed token in the URL names the user, and only this server can make one.

use axum::extract::{FromRef, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    error::{ok, ApiOk, AppError, AppResult, Empty},
    state::Services,
};

/// What a token seals: its purpose and the user.
const PURPOSE: &str = "digest-unsubscribe";

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(unsubscribe))
}

/// The token of `user_id`'s unsubscribe link.
pub fn token(state: &Services, user_id: Uuid) -> String {
    let key = secrecy::ExposeSecret::expose_secret(&state.config.secret_key);
    crate::sealed::seal(key, &format!("{PURPOSE}:{user_id}"))
}

/// The user a token names, if this server made it.
fn user_of(state: &Services, token: &str) -> Option<Uuid> {
    let key = secrecy::ExposeSecret::expose_secret(&state.config.secret_key);
    let opened = crate::sealed::open(key, token)?;
    opened.strip_prefix(&format!("{PURPOSE}:"))?.parse().ok()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeParams {
    /// The token from the digest's unsubscribe link.
    pub token: String,
}

/// Stops the morning digest of the user the token names (no sign-in; repeating it is harmless).
#[utoipa::path(post, path = "/unsubscribe", tag = "user", params(UnsubscribeParams), responses((status = 200, body = ApiOk<Empty>), (status = 404, body = crate::error::ErrorBody)))]
async fn unsubscribe(
    State(state): State<Services>,
    Query(params): Query<UnsubscribeParams>,
) -> AppResult<impl axum::response::IntoResponse> {
    let user_id = user_of(&state, &params.token).ok_or(AppError::NotFound)?;
    let mut conn = state.pool.acquire().await?;
    if !super::set_enabled(&mut conn, user_id, false).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(%user_id, "morning digest turned off by its unsubscribe link");
    Ok(ok(
        "You will not get the morning digest any more. Turn it on again in your settings.",
        Empty {},
    ))
}
