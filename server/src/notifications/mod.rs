//! The notification centre every feature writes to: task completed, reminders, overdue and
//! upcoming work. Each new notification (and each change of the unread count) is announced on
//! the Postgres channel `notifications` with the user's id, so every app instance can push it
//! to that user's open pages (see `live`).

pub mod api;
pub mod live;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The Postgres channel that carries "this user's notifications changed".
pub const CHANNEL: &str = "notifications";

/// What a notification is about (`notifications.kind`, TEXT with a CHECK; the API calls it
/// `type`). An unknown stored value is an error when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Encode, sqlx::Decode)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum Kind {
    Overdue,
    Upcoming,
    Reminder,
    General,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overdue => "overdue",
            Self::Upcoming => "upcoming",
            Self::Reminder => "reminder",
            Self::General => "general",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: Uuid,
    pub kind: Kind,
    pub title: String,
    pub message: String,
    pub related_task_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: Kind,
    pub title: String,
    pub message: String,
    pub related_task_id: Option<Uuid>,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A notification id as a client sends it; anything else names no notification.
pub fn parse_id(raw: &str) -> AppResult<Uuid> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// Records a notification and announces it; run it in the transaction of the change that
/// causes it, so that it exists exactly when the change does (NOTIFY is sent at commit).
pub async fn create<'e>(
    db: impl PgExecutor<'e>,
    new: NewNotification,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    insert(db, new, None, now).await?.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("a notification without a key was not made"))
    })
}

/// Records a notification about the event `key` unless this user was already told of it, and
/// announces it; `None` when it existed. Run it in the transaction of the change it reports.
pub async fn create_once<'e>(
    db: impl PgExecutor<'e>,
    new: NewNotification,
    key: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Uuid>> {
    insert(db, new, Some(key), now).await
}

/// The one statement of both: a row without a key is always made.
async fn insert<'e>(
    db: impl PgExecutor<'e>,
    new: NewNotification,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Option<Uuid>> {
    let title: String = new.title.chars().take(200).collect();
    let message: String = new.message.chars().take(1000).collect();
    let id = sqlx::query_scalar!(
        r#"WITH created AS (
            INSERT INTO notifications (user_id, kind, title, message, related_task_id, created_at,
                                       event_key)
            VALUES ($1, $2, $3, $4, $5, $6, $8)
            ON CONFLICT (user_id, event_key) WHERE event_key IS NOT NULL DO NOTHING
            RETURNING id, user_id
         )
         SELECT id AS "id!" FROM created, pg_notify($7, created.user_id::text)"#,
        new.user_id,
        new.kind as Kind,
        title,
        message,
        new.related_task_id,
        now,
        CHANNEL,
        key,
    )
    .fetch_optional(db)
    .await?;
    Ok(id)
}

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 200;

/// The user's notifications, newest first, one page.
pub async fn list(
    pool: &PgPool,
    user_id: Uuid,
    page: i64,
    limit: i64,
) -> AppResult<(Vec<Notification>, i64)> {
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    let offset = (page.max(1) - 1).saturating_mul(limit);
    let items = sqlx::query_as!(
        Notification,
        r#"SELECT id, user_id, kind AS "kind: Kind", title, message, related_task_id, read_at,
                  created_at
             FROM notifications WHERE user_id = $1
            ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"#,
        user_id,
        limit,
        offset,
    )
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM notifications WHERE user_id = $1"#,
        user_id
    )
    .fetch_one(pool)
    .await?;
    Ok((items, total))
}

pub async fn unread_count(pool: &PgPool, user_id: Uuid) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM notifications WHERE user_id = $1 AND read_at IS NULL"#,
        user_id
    )
    .fetch_one(pool)
    .await?)
}

/// Marks one as read (idempotent); 404 if it is not the user's.
pub async fn mark_read(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let found = sqlx::query_scalar!(
        r#"WITH changed AS (
            UPDATE notifications SET read_at = coalesce(read_at, $3)
             WHERE id = $1 AND user_id = $2 RETURNING id, user_id
         )
         SELECT id AS "id!" FROM changed, pg_notify($4, changed.user_id::text)"#,
        id,
        user_id,
        now,
        CHANNEL,
    )
    .fetch_optional(pool)
    .await?;
    found.map(|_| ()).ok_or(AppError::NotFound)
}

/// Marks all of the user's notifications as read; returns how many changed.
pub async fn mark_all_read(pool: &PgPool, user_id: Uuid, now: DateTime<Utc>) -> AppResult<u64> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query!(
        "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL",
        user_id,
        now
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    announce(&mut *tx, user_id).await?;
    tx.commit().await?;
    Ok(changed)
}

/// Deletes one; 404 if it is not the user's.
pub async fn delete(pool: &PgPool, user_id: Uuid, id: Uuid) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let deleted = sqlx::query!(
        "DELETE FROM notifications WHERE id = $1 AND user_id = $2",
        id,
        user_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    announce(&mut *tx, user_id).await?;
    tx.commit().await?;
    Ok(())
}

async fn announce<'e>(db: impl PgExecutor<'e>, user_id: Uuid) -> AppResult<()> {
    sqlx::query!("SELECT pg_notify($1, $2)", CHANNEL, user_id.to_string())
        .execute(db)
        .await?;
    Ok(())
}

crate::db::text_column_type!(Kind);
