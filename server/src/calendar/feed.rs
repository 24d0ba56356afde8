//! The iCalendar feed, `GET /calendar/<secret>.ics`, outside /api: calendar apps fetch it
//! without cookies or tokens, the secret in the path being the only key. An unknown or replaced
//! secret is 404, and so is anything that is not a token.

use axum::{
    extract::{FromRef, Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

use crate::{
    error::{AppError, AppResult},
    state::Services,
};

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
{
    Router::new().route("/calendar/{file}", get(feed))
}

/// The iCalendar feed: reminders, reviews and due dates from 90 days ago to a year ahead.
async fn feed(State(state): State<Services>, Path(file): Path<String>) -> AppResult<Response> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    // Tokens are 43 URL-safe characters; anything else is not looked up.
    if token.len() != 43
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(AppError::NotFound);
    }
    let (user_id, timezone) = super::feed_owner(&state.pool, token)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.now();
    let entries = super::entries(
        &state.pool,
        user_id,
        now - super::FEED_PAST,
        now + super::FEED_AHEAD,
    )
    .await?;
    let body = super::ics(&state, &timezone, &entries);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response())
}
