//! The calendar's JSON API: `POST /api/user/calendar-feed` makes a new secret feed URL (the feed
//! itself is served by `feed.rs`, outside /api).

use axum::{
    extract::{FromRef, State},
    Json,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ok, ApiOk, AppResult},
    identity::CurrentUser,
    state::Services,
};

/// Routes nested under /api/user.
pub fn user_router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
    sqlx::PgPool: FromRef<S>,
    crate::clock::Clock: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(new_feed))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedData {
    /// The new secret URL of the user's iCalendar feed; the previous one no longer answers.
    pub calendar_feed_url: String,
}

/// Makes a new secret URL for the user's calendar feed (the old one stops answering).
#[utoipa::path(post, path = "/calendar-feed", tag = "user", security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, body = ApiOk<FeedData>), (status = 401, body = crate::error::ErrorBody)))]
async fn new_feed(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<ApiOk<FeedData>>> {
    let url = super::new_feed(&state, user.id).await?;
    Ok(ok(
        "New calendar feed URL made; the previous one no longer works",
        FeedData {
            calendar_feed_url: url,
        },
    ))
}
