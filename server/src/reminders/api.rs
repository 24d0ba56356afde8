//! /api/reminders (paths and fields of API.md). The original web client re-sends
//! `PUT {scheduledAt, status: "pending"}` for every reminder of a task it saves: an unchanged
//! time, even a past one, is accepted and changes nothing.

use axum::extract::{FromRef, Path, Query, State};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Kind, Reminder, ReminderInput, ReminderWithTask};
use crate::{
    api::ApiJson,
    clock::Clock,
    error::{created, ok, ApiOk, AppResult, Empty},
    identity::CurrentUser,
    state::Services,
    validate::Validator,
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
    sqlx::PgPool: FromRef<S>,
    Clock: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, remove))
}

/// A reminder as the API shows it (`type` is the channel).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReminderJson {
    pub id: Uuid,
    pub task_id: Uuid,
    #[serde(serialize_with = "crate::api::json::utc")]
    pub scheduled_at: DateTime<Utc>,
    /// pending, completed, skipped or failed (delivery gave up).
    pub status: &'static str,
    /// The channel: email, push (in the app) or both.
    #[serde(rename = "type")]
    pub channel: &'static str,
    /// manual, or review (set by spaced revision).
    pub kind: &'static str,
    pub message: String,
    /// When it was delivered; null until then.
    #[serde(serialize_with = "crate::api::json::utc_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::api::json::utc")]
    pub created_at: DateTime<Utc>,
}

impl From<Reminder> for ReminderJson {
    fn from(r: Reminder) -> Self {
        Self {
            id: r.id,
            task_id: r.task_id,
            scheduled_at: r.scheduled_at,
            status: r.status.as_str(),
            channel: r.channel.as_str(),
            kind: r.kind.as_str(),
            message: r.message,
            sent_at: r.sent_at,
            created_at: r.created_at,
        }
    }
}

/// `data` of the answers about one reminder.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderData {
    pub reminder: ReminderJson,
}

/// The task a listed reminder belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderTask {
    pub id: Uuid,
    pub title: String,
}

/// A listed reminder, with its task.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedReminder {
    #[serde(flatten)]
    pub reminder: ReminderJson,
    pub task: ReminderTask,
}

/// `data` of the reminder lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemindersData {
    pub reminders: Vec<ListedReminder>,
}

impl From<ReminderWithTask> for ListedReminder {
    fn from(r: ReminderWithTask) -> Self {
        let task = ReminderTask {
            id: r.reminder.task_id,
            title: r.task_title,
        };
        Self {
            reminder: ReminderJson::from(r.reminder),
            task,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// From this time on (ISO 8601; a day alone means its start in the user's time zone).
    pub from: Option<String>,
    /// Up to this time (ISO 8601; a day alone means its end in the user's time zone).
    pub to: Option<String>,
}

/// One bound of the range: an instant, or a day's start (`end` false) or end in `zone`.
fn bound(raw: &str, zone: Tz, end: bool) -> Result<DateTime<Utc>, String> {
    crate::validate::instant(raw, zone)
        .or_else(|| {
            let day = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()?;
            let time = if end {
                NaiveTime::from_hms_milli_opt(23, 59, 59, 999)?
            } else {
                NaiveTime::MIN
            };
            crate::validate::local_to_utc(day.and_time(time), zone)
        })
        .ok_or_else(|| "Enter a date (YYYY-MM-DD) or a date and time".into())
}

/// The range asked for: from, to (either open).
type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

impl ListParams {
    fn parse(&self, zone: Tz) -> AppResult<Range> {
        let mut v = Validator::default();
        let mut read = |field: &str, raw: &Option<String>, end: bool| {
            let raw = raw.as_deref().filter(|r| !r.trim().is_empty())?;
            v.check(field, bound(raw, zone, end))
        };
        let from = read("from", &self.from, false);
        let to = read("to", &self.to, true);
        v.finish_with("Please correct the query")?;
        Ok((from, to))
    }
}

fn zone(user: &crate::users::User) -> Tz {
    user.timezone.parse().unwrap_or(Tz::UTC)
}

/// The user's reminders by time, each with its task; every one when no range is asked for.
#[utoipa::path(get, path = "/", tag = "reminders", security(("cookie" = []), ("bearer" = [])), params(ListParams), responses((status = 200, body = ApiOk<RemindersData>), (status = 400, body = crate::error::ErrorBody)))]
async fn list(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Query(params): Query<ListParams>,
) -> AppResult<impl axum::response::IntoResponse> {
    let (from, to) = params.parse(zone(&user))?;
    let reminders = super::list(&state.pool, user.id, from, to).await?;
    let reminders = reminders.into_iter().map(ListedReminder::from).collect();
    Ok(ok("Reminders", RemindersData { reminders }))
}

/// Sets a reminder on one of the user's tasks (404 for any other), in the future.
#[utoipa::path(post, path = "/", tag = "reminders", security(("cookie" = []), ("bearer" = [])), request_body = ReminderInput, responses((status = 201, body = ApiOk<ReminderData>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn create(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    ApiJson(input): ApiJson<ReminderInput>,
) -> AppResult<impl axum::response::IntoResponse> {
    let changes = input.parse(zone(&user), true)?;
    let reminder = super::create(&state, user.id, changes, Kind::Manual).await?;
    let reminder = ReminderJson::from(reminder);
    Ok(created("Reminder created", ReminderData { reminder }))
}

/// Reschedules, completes, skips or edits one of the user's reminders.
#[utoipa::path(put, path = "/{id}", tag = "reminders", security(("cookie" = []), ("bearer" = [])), params(("id" = String, Path, description = "The reminder id")), request_body = ReminderInput, responses((status = 200, body = ApiOk<ReminderData>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn update(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReminderInput>,
) -> AppResult<impl axum::response::IntoResponse> {
    let id = super::parse_id(&id)?;
    let changes = input.parse(zone(&user), false)?;
    let reminder = ReminderJson::from(super::update(&state, user.id, id, changes).await?);
    Ok(ok("Reminder updated", ReminderData { reminder }))
}

/// Deletes one of the user's reminders; its delivery is cancelled.
#[utoipa::path(delete, path = "/{id}", tag = "reminders", security(("cookie" = []), ("bearer" = [])), params(("id" = String, Path, description = "The reminder id")), responses((status = 200, body = ApiOk<Empty>), (status = 404, body = crate::error::ErrorBody)))]
async fn remove(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<impl axum::response::IntoResponse> {
    super::delete(&state, user.id, super::parse_id(&id)?).await?;
    Ok(ok("Reminder deleted", Empty {}))
}
