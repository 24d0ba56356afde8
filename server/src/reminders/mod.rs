//! Reminders: "tell me about this task at this time", by email, in the app or both. This
//! feature owns the `reminders` table: it creates, lists, changes and removes them (for the
//! API and the pages alike) and delivers them when they come due (`delivery`), through the job
//! queue. Spaced revision creates its `review` reminders through [`create`] too.
//!
//! Arming: every pending reminder has one delivery job, keyed by the reminder and its time, due
//! at that time. Moving the reminder cancels that job and enqueues one for the new time;
//! completing, skipping or deleting it cancels it. The job itself checks the row again (same
//! time, still pending, not yet sent), so a job that escaped cancellation sends nothing.

pub mod api;
pub mod delivery;
pub mod reviews;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    state::Services,
    validate::{Choice, Validator},
};

/// Longest message, in characters.
pub const MESSAGE_MAX: usize = 500;

/// Why a reminder exists (`reminders.kind`, TEXT with a CHECK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Encode, sqlx::Decode)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum Kind {
    /// Set by the user.
    Manual,
    /// Set by spaced revision for the next review.
    Review,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Review => "review",
        }
    }
}

/// How a reminder reaches the user (`reminders.channel`, TEXT with a CHECK; the API calls it
/// `type`, and `push` means the in-app notification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Encode, sqlx::Decode)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Push,
    Both,
}

impl Choice for Channel {
    const ALL: &'static [Self] = &[Self::Email, Self::Push, Self::Both];
    const NAME: &'static str = "type";

    fn word(self) -> &'static str {
        self.as_str()
    }
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Push => "push",
            Self::Both => "both",
        }
    }

    pub fn emails(self) -> bool {
        matches!(self, Self::Email | Self::Both)
    }

    pub fn notifies(self) -> bool {
        matches!(self, Self::Push | Self::Both)
    }
}

/// Where a reminder stands (`reminders.status`, TEXT with a CHECK). `Failed` is the server's
/// alone: delivery gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Encode, sqlx::Decode)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Completed,
    Skipped,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

/// The statuses a user may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserStatus(pub Status);

impl Choice for UserStatus {
    const ALL: &'static [Self] = &[
        Self(Status::Pending),
        Self(Status::Completed),
        Self(Status::Skipped),
    ];
    const NAME: &'static str = "status";

    fn word(self) -> &'static str {
        self.0.as_str()
    }
}

crate::db::text_column_type!(Kind, Channel, Status);

/// One reminder as lists and pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct Reminder {
    pub id: Uuid,
    pub task_id: Uuid,
    pub kind: Kind,
    pub channel: Channel,
    pub scheduled_at: DateTime<Utc>,
    pub message: String,
    pub status: Status,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A reminder with the title of its task (the list of all reminders).
#[derive(Debug, Clone)]
pub struct ReminderWithTask {
    pub reminder: Reminder,
    pub task_title: String,
}

/// A reminder id as a client sends it; anything else names none of the user's.
pub fn parse_id(raw: &str) -> AppResult<Uuid> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// A reminder's fields as sent (API or form); each optional, for creation and partial updates.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReminderInput {
    /// The task (required on creation; ignored on update).
    pub task_id: Option<String>,
    /// ISO 8601, with an offset or local to the user's time zone; in the future, unless it is
    /// the time the reminder already has.
    #[schema(example = "2026-12-10T09:00:00Z")]
    pub scheduled_at: Option<String>,
    /// email, push (in the app) or both; default email.
    #[serde(rename = "type")]
    #[schema(value_type = Option<InputChannel>)]
    pub channel: Option<String>,
    /// Up to 500 characters, kept as typed.
    #[schema(max_length = 500)]
    pub message: Option<String>,
    /// pending, completed or skipped (failed is the server's).
    #[schema(value_type = Option<InputStatus>)]
    pub status: Option<String>,
}

/// `type` as the API takes it.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum InputChannel {
    Email,
    Push,
    Both,
}

/// `status` as the API takes it.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum InputStatus {
    Pending,
    Completed,
    Skipped,
}

/// The parsed fields of a [`ReminderInput`]; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub task_id: Option<Uuid>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub channel: Option<Channel>,
    pub message: Option<String>,
    pub status: Option<Status>,
}

/// A message as typed (not trimmed), or why not.
pub fn parse_message(raw: &str) -> Result<String, String> {
    if raw.chars().count() > MESSAGE_MAX {
        return Err(format!("Keep the message to {MESSAGE_MAX} characters"));
    }
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("The message cannot hold control characters".into());
    }
    Ok(raw.to_string())
}

impl ReminderInput {
    /// Parses every field present; all problems at once, by field name as the API spells it.
    /// Times are read in `zone`; whether they are in the future is the action's rule.
    pub fn parse(&self, zone: Tz, creating: bool) -> AppResult<Changes> {
        let mut v = Validator::default();
        let mut changes = Changes::default();
        if creating {
            match self.task_id.as_deref().map(str::trim) {
                // Not a UUID: not one of the user's tasks (404 as in the original).
                Some(raw) if !raw.is_empty() => {
                    changes.task_id = Some(raw.parse().map_err(|_| AppError::NotFound)?)
                }
                _ => v.error("taskId", "Choose the task to be reminded of"),
            }
        }
        match self.scheduled_at.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => {
                changes.scheduled_at = v.check(
                    "scheduledAt",
                    crate::validate::instant(raw, zone)
                        .ok_or_else(|| "Enter the date and time as YYYY-MM-DDTHH:MM".to_string()),
                );
            }
            Some(_) => v.error("scheduledAt", "Choose when to be reminded"),
            None if creating => v.error("scheduledAt", "Choose when to be reminded"),
            None => {}
        }
        if let Some(raw) = self.channel.as_deref().filter(|c| !c.trim().is_empty()) {
            changes.channel = v.check("type", Channel::parse(raw));
        }
        if let Some(raw) = &self.message {
            changes.message = v.check("message", parse_message(raw));
        }
        if let Some(raw) = self.status.as_deref().filter(|s| !s.trim().is_empty()) {
            changes.status = v.check("status", UserStatus::parse(raw).map(|s| s.0));
        }
        v.finish_with("Please correct the reminder")?;
        Ok(changes)
    }
}

/// A new time must be ahead of now.
fn future(at: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<()> {
    if at <= now {
        return Err(AppError::validation(
            "scheduledAt",
            "Choose a time in the future",
        ));
    }
    Ok(())
}

/// Creates a reminder on one of the user's tasks (404 for any other) and arms its delivery.
pub async fn create(
    state: &Services,
    user_id: Uuid,
    changes: Changes,
    kind: Kind,
) -> AppResult<Reminder> {
    let now = state.now();
    let (Some(task_id), Some(at)) = (changes.task_id, changes.scheduled_at) else {
        return Err(AppError::validation(
            "scheduledAt",
            "Choose when to be reminded",
        ));
    };
    future(at, now)?;
    let mut tx = state.pool.begin().await?;
    let reminder = sqlx::query_as!(
        Reminder,
        r#"INSERT INTO reminders (user_id, task_id, kind, channel, scheduled_at, message, status,
                                  created_at, updated_at)
           SELECT $1, t.id, $3, $4, $5, $6, $7, $8, $8 FROM tasks t WHERE t.id = $2 AND t.user_id = $1
           RETURNING id, task_id, kind AS "kind: Kind", channel AS "channel: Channel",
                     scheduled_at, message, status AS "status: Status", sent_at, created_at"#,
        user_id,
        task_id,
        kind as Kind,
        changes.channel.unwrap_or(Channel::Email) as Channel,
        at,
        changes.message.unwrap_or_default(),
        changes.status.unwrap_or(Status::Pending) as Status,
        now,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if reminder.status == Status::Pending {
        delivery::arm(&mut tx, reminder.id, reminder.scheduled_at).await?;
    }
    tx.commit().await?;
    Ok(reminder)
}

/// Changes one of the user's reminders (404 for any other). An unchanged time, even a past
/// one, changes nothing (the original client re-sends every reminder on each save); a new time
/// must be in the future and re-arms delivery. Back to pending re-arms it, completed or skipped
/// disarms it.
pub async fn update(
    state: &Services,
    user_id: Uuid,
    id: Uuid,
    mut changes: Changes,
) -> AppResult<Reminder> {
    let now = state.now();
    let mut tx = state.pool.begin().await?;
    let current = sqlx::query!(
        r#"SELECT scheduled_at, status AS "status: Status", kind AS "kind: Kind" FROM reminders
            WHERE id = $1 AND user_id = $2 FOR UPDATE"#,
        id,
        user_id,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    // A review is answered by a rating (spaced revision), never by its status: "pending" again
    // is what the original client re-sends for every reminder on each save and changes
    // nothing; done or skipped by hand would leave the topic without its next review.
    if current.kind == Kind::Review {
        match changes.status {
            Some(Status::Pending) if current.status != Status::Pending => changes.status = None,
            Some(s) if s != current.status => {
                return Err(AppError::Conflict(
                    "A review is answered by rating it on the Review page".into(),
                ))
            }
            _ => {}
        }
    }
    let moved = changes
        .scheduled_at
        .filter(|at| *at != current.scheduled_at);
    if let Some(at) = moved {
        future(at, now)?;
    }
    let status = changes.status.unwrap_or(match (current.status, moved) {
        // A failed reminder moved to a new time is pending again.
        (Status::Failed, Some(_)) => Status::Pending,
        (status, _) => status,
    });
    let at = moved.unwrap_or(current.scheduled_at);
    let reminder = sqlx::query_as!(
        Reminder,
        r#"UPDATE reminders
              SET scheduled_at = $3, channel = coalesce($4, channel), message = coalesce($5, message),
                  status = $6,
                  completed_at = CASE WHEN $6 = 'completed' THEN coalesce(completed_at, $7) END,
                  sent_at = CASE WHEN $8 THEN NULL ELSE sent_at END,
                  notified_at = CASE WHEN $8 THEN NULL ELSE notified_at END,
                  updated_at = $7
            WHERE id = $1 AND user_id = $2
        RETURNING id, task_id, kind AS "kind: Kind", channel AS "channel: Channel",
                  scheduled_at, message, status AS "status: Status", sent_at, created_at"#,
        id,
        user_id,
        at,
        changes.channel.map(Channel::as_str),
        changes.message,
        status as Status,
        now,
        moved.is_some(),
    )
    .fetch_one(&mut *tx)
    .await?;
    let was_armed = current.status == Status::Pending;
    let armed = status == Status::Pending;
    if was_armed && (!armed || moved.is_some()) {
        delivery::disarm(&mut tx, id, current.scheduled_at).await?;
    }
    if armed && (!was_armed || moved.is_some()) {
        delivery::arm(&mut tx, id, at).await?;
    }
    tx.commit().await?;
    Ok(reminder)
}

/// Deletes one of the user's reminders (404 for any other) and cancels its delivery.
pub async fn delete(state: &Services, user_id: Uuid, id: Uuid) -> AppResult<()> {
    let mut tx = state.pool.begin().await?;
    let at = sqlx::query_scalar!(
        "DELETE FROM reminders WHERE id = $1 AND user_id = $2
            AND NOT (kind = 'review' AND status = 'pending')
        RETURNING scheduled_at",
        id,
        user_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(at) = at else {
        let next_review = sqlx::query_scalar!(
            "SELECT 1 AS one FROM reminders WHERE id = $1 AND user_id = $2",
            id,
            user_id
        )
        .fetch_optional(&mut *tx)
        .await?;
        return Err(match next_review {
            Some(_) => AppError::Conflict(
                "This is the topic's next review: turn spaced repetition off on the task to stop reviewing it"
                    .into(),
            ),
            None => AppError::NotFound,
        });
    };
    delivery::disarm(&mut tx, id, at).await?;
    tx.commit().await?;
    Ok(())
}

/// The user's reminders with their task's title, by time; `from`/`to` bound the time (both
/// included).
pub async fn list(
    pool: &PgPool,
    user_id: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> AppResult<Vec<ReminderWithTask>> {
    let rows = sqlx::query!(
        r#"SELECT r.id, r.task_id, r.kind AS "kind: Kind", r.channel AS "channel: Channel",
                  r.scheduled_at, r.message, r.status AS "status: Status", r.sent_at,
                  r.created_at, t.title
             FROM reminders r JOIN tasks t ON t.id = r.task_id
            WHERE r.user_id = $1
              AND ($2::timestamptz IS NULL OR r.scheduled_at >= $2)
              AND ($3::timestamptz IS NULL OR r.scheduled_at <= $3)
            ORDER BY r.scheduled_at, r.id"#,
        user_id,
        from,
        to,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ReminderWithTask {
            reminder: Reminder {
                id: r.id,
                task_id: r.task_id,
                kind: r.kind,
                channel: r.channel,
                scheduled_at: r.scheduled_at,
                message: r.message,
                status: r.status,
                sent_at: r.sent_at,
                created_at: r.created_at,
            },
            task_title: r.title,
        })
        .collect())
}

/// The reminders of some of the user's tasks, with one statement (see `tasks::with_relations`
/// for why the ids are unnested).
pub async fn of_tasks(
    conn: &mut PgConnection,
    user_id: Uuid,
    task_ids: &[Uuid],
) -> sqlx::Result<Vec<Reminder>> {
    sqlx::query_as!(
        Reminder,
        r#"SELECT id, task_id, kind AS "kind: Kind", channel AS "channel: Channel",
                  scheduled_at, message, status AS "status: Status", sent_at, created_at
             FROM reminders
            WHERE user_id = $1 AND task_id IN (SELECT unnest($2::uuid[]))
            ORDER BY scheduled_at, id"#,
        user_id,
        task_ids,
    )
    .fetch_all(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_kept_as_typed_up_to_500_characters() {
        assert_eq!(parse_message("  Read ch. 4\n"), Ok("  Read ch. 4\n".into()));
        assert!(parse_message(&"é".repeat(500)).is_ok());
        assert!(parse_message(&"é".repeat(501)).is_err());
        assert!(parse_message("bell\u{7}").is_err());
    }

    #[test]
    fn input_is_read_in_the_users_zone_and_every_problem_is_named() {
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let input = ReminderInput {
            task_id: Some("0b6c1e9e-58a4-4c55-9d43-3f1f2f6a7b80".into()),
            scheduled_at: Some("2030-01-01T09:00".into()),
            channel: Some("BOTH".into()),
            ..Default::default()
        };
        let changes = input.parse(kolkata, true).unwrap();
        assert_eq!(
            changes.scheduled_at.unwrap().to_rfc3339(),
            "2030-01-01T03:30:00+00:00"
        );
        assert_eq!(changes.channel, Some(Channel::Both));
        let bad = ReminderInput {
            task_id: Some("0b6c1e9e-58a4-4c55-9d43-3f1f2f6a7b80".into()),
            scheduled_at: Some("soon".into()),
            channel: Some("pigeon".into()),
            status: Some("failed".into()),
            message: Some("x".repeat(501)),
        };
        match bad.parse(kolkata, true) {
            Err(AppError::Validation { fields, .. }) => {
                let mut names: Vec<_> = fields.keys().cloned().collect();
                names.sort();
                assert_eq!(names, ["message", "scheduledAt", "status", "type"]);
            }
            other => panic!("expected field errors, got {other:?}"),
        }
        // A task id that is no UUID names no task of the user's.
        let stranger = ReminderInput {
            task_id: Some("42".into()),
            scheduled_at: Some("2030-01-01T09:00Z".into()),
            ..Default::default()
        };
        assert!(matches!(
            stranger.parse(kolkata, true),
            Err(AppError::NotFound)
        ));
    }
}
