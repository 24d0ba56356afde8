//! /api/notifications (API.md): list, unread count, mark read, delete, and a live stream.

use crate::clock::Clock;
use axum::extract::FromRef;
use sqlx::PgPool;
use std::{convert::Infallible, time::Duration};

use axum::{
    extract::{Path, Query, State},
    response::sse::{Event, KeepAlive, Sse},
};
use chrono::{DateTime, Utc};
use futures::{stream, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::Notification;
use crate::{
    error::{ok, ApiOk, AppError, AppResult, Empty},
    identity::CurrentUser,
    state::Services,
};

/// Where the live updates are served (the event stream the bell listens to).
pub const STREAM_PATH: &str = "/api/notifications/stream";

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
    PgPool: FromRef<S>,
    Clock: FromRef<S>,
    super::live::Hub: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(count))
        .routes(routes!(read_all))
        .routes(routes!(stream_events))
        .routes(routes!(read_one))
        .routes(routes!(remove))
}

/// `data` of GET /api/notifications, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationListData {
    pub notifications: Vec<NotificationJson>,
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    pub unread: i64,
}

/// The unread count (also the `count` event of the stream).
#[derive(Debug, Serialize, ToSchema)]
pub struct CountData {
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedData {
    /// How many were marked as read.
    pub updated: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationJson {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub message: String,
    pub is_read: bool,
    #[serde(serialize_with = "crate::api::json::utc")]
    pub created_at: DateTime<Utc>,
    pub related_task_id: Option<String>,
}

impl From<Notification> for NotificationJson {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id.to_string(),
            kind: n.kind.as_str().to_string(),
            title: n.title,
            message: n.message,
            is_read: n.read_at.is_some(),
            created_at: n.created_at,
            related_task_id: n.related_task_id.map(|id| id.to_string()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Paging {
    /// A whole number from 1 (default 1).
    #[param(schema_with = crate::validate::page_number_schema)]
    page: Option<String>,
    /// A whole number from 1 (default 50; more than 200 count as 200).
    #[param(schema_with = crate::validate::page_number_schema)]
    limit: Option<String>,
}

fn positive(raw: Option<&str>, field: &str, default: i64) -> AppResult<i64> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(AppError::validation(field, "Use a whole number from 1")),
        },
    }
}

use super::parse_id as notification_id;

#[utoipa::path(get, path = "/", tag = "notifications", security(("cookie" = []), ("bearer" = [])), params(Paging), responses((status = 200, body = ApiOk<NotificationListData>)))]
async fn list(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Query(paging): Query<Paging>,
) -> AppResult<impl axum::response::IntoResponse> {
    let page = positive(paging.page.as_deref(), "page", 1)?;
    let limit = positive(paging.limit.as_deref(), "limit", super::DEFAULT_PAGE_SIZE)?
        .min(super::MAX_PAGE_SIZE);
    let (items, total) = super::list(&state.pool, user.id, page, limit).await?;
    let unread = super::unread_count(&state.pool, user.id).await?;
    let items: Vec<NotificationJson> = items.into_iter().map(Into::into).collect();
    Ok(ok(
        "Notifications",
        NotificationListData {
            notifications: items,
            page,
            limit,
            total,
            unread,
        },
    ))
}

#[utoipa::path(get, path = "/count", tag = "notifications", security(("cookie" = []), ("bearer" = [])), responses((status = 200, body = ApiOk<CountData>)))]
async fn count(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
) -> AppResult<impl axum::response::IntoResponse> {
    let count = super::unread_count(&state.pool, user.id).await?;
    Ok(ok("Unread notifications", CountData { count }))
}

#[utoipa::path(patch, path = "/{id}/read", tag = "notifications", security(("cookie" = []), ("bearer" = [])), params(("id" = String, Path, description = "The notification id")), responses((status = 200, body = ApiOk<Empty>), (status = 404, body = crate::error::ErrorBody)))]
async fn read_one(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<impl axum::response::IntoResponse> {
    super::mark_read(&state.pool, user.id, notification_id(&id)?, state.now()).await?;
    Ok(ok("Marked as read", Empty {}))
}

#[utoipa::path(patch, path = "/read-all", tag = "notifications", security(("cookie" = []), ("bearer" = [])), responses((status = 200, body = ApiOk<UpdatedData>)))]
async fn read_all(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
) -> AppResult<impl axum::response::IntoResponse> {
    let changed = super::mark_all_read(&state.pool, user.id, state.now()).await?;
    Ok(ok("All marked as read", UpdatedData { updated: changed }))
}

#[utoipa::path(delete, path = "/{id}", tag = "notifications", security(("cookie" = []), ("bearer" = [])), params(("id" = String, Path, description = "The notification id")), responses((status = 200, body = ApiOk<Empty>), (status = 404, body = crate::error::ErrorBody)))]
async fn remove(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<impl axum::response::IntoResponse> {
    super::delete(&state.pool, user.id, notification_id(&id)?).await?;
    Ok(ok("Notification deleted", Empty {}))
}

/// Server-sent events: `count` with the unread count at once and after every change, and
/// `notification` for each new one. Fed by the instance's single LISTEN connection.
#[utoipa::path(get, path = "/stream", tag = "notifications", security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, content_type = "text/event-stream", body = StreamEvent,
        description = "Events `count` (data: CountData as JSON) and `notification` (data: NotificationJson as JSON); comments keep the connection alive")))]
async fn stream_events(
    State(state): State<Services>,
    State(live): State<super::live::Hub>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let changes = live.subscribe();
    let closing = live.closing();
    let pool = state.pool.clone();
    let user_id = user.id;
    let first = super::unread_count(&pool, user_id).await?;
    let initial = stream::once(async move { Ok(count_event(first)) });
    let updates = stream::unfold((changes, state.now()), move |(mut changes, mut since)| {
        let pool = pool.clone();
        let closing = closing.clone();
        async move {
            // Wait for a change of this user's notifications (a lag means "something may
            // have changed": refresh anyway).
            loop {
                tokio::select! {
                    _ = closing.cancelled() => return None,
                    received = changes.recv() => match received {
                        Ok(id) if id == user_id => break,
                        Ok(_) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                        Err(_) => return None,
                    }
                }
            }
            let mut events = Vec::new();
            match newer_than(&pool, user_id, since).await {
                Ok(new) => {
                    for n in new {
                        since = since.max(n.created_at);
                        if let Ok(e) = Event::default()
                            .event("notification")
                            .json_data(NotificationJson::from(n))
                        {
                            events.push(Ok(e));
                        }
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "new notifications for the live stream"),
            }
            match super::unread_count(&pool, user_id).await {
                Ok(count) => events.push(Ok(count_event(count))),
                Err(e) => tracing::warn!(error = ?e, "unread count for the live stream"),
            }
            Some((stream::iter(events), (changes, since)))
        }
    })
    .flatten();
    Ok(Sse::new(initial.chain(updates)).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(20))
            .text("keep-alive"),
    ))
}

/// One event of GET /api/notifications/stream, for the document only (before OpenAPI 3.2, the
/// schema of an event stream describes each event).
#[derive(ToSchema)]
#[allow(dead_code)]
struct StreamEvent {
    event: StreamEventName,
    /// JSON text: CountData for `count`, NotificationJson for `notification`.
    data: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum StreamEventName {
    Count,
    Notification,
}

fn count_event(count: i64) -> Event {
    Event::default()
        .event("count")
        .json_data(CountData { count })
        .unwrap_or_default()
}

async fn newer_than(
    pool: &sqlx::PgPool,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> AppResult<Vec<Notification>> {
    Ok(sqlx::query_as!(
        Notification,
        r#"SELECT id, user_id, kind AS "kind: super::Kind", title, message, related_task_id,
                  read_at, created_at
             FROM notifications WHERE user_id = $1 AND created_at > $2
            ORDER BY created_at LIMIT 20"#,
        user_id,
        since,
    )
    .fetch_all(pool)
    .await?)
}
