//! Tasks: a topic to learn or a thing to do, owned by one user. The JSON API (`api`) and the
//! web pages call the same functions here. Every query filters by the owner's id: another
//! user's task is simply not found.

pub mod api;
pub mod types;

use std::{borrow::Cow, collections::HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sqlx::{postgres::PgRow, PgPool, Postgres, Row, Transaction};
use uuid::Uuid;

pub use types::{Priority, Status, TaskChanges, TaskInput};

use crate::{
    attachments::kind::FileKind,
    db::known_text,
    error::{AppError, AppResult},
    notifications::{self, Kind},
};

#[derive(Debug, Clone)]
pub struct Task {
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub description: String,
    pub link: String,
    pub category: String,
    pub priority: i16,
    pub status: String,
    pub due_at: Option<DateTime<Utc>>,
    pub spaced_revision: bool,
    pub desired_retention: f64,
    pub know_by: Option<NaiveDate>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Task {
    pub fn priority(&self) -> Priority {
        Priority::from_rank(self.priority)
    }

    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Todo)
    }

    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status() != Status::Completed && self.due_at.is_some_and(|d| d < now)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentSummary {
    pub id: Uuid,
    pub task_id: Uuid,
    pub original_name: String,
    pub content_type: Cow<'static, str>,
    pub size: i64,
    pub original_size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReminderSummary {
    pub id: Uuid,
    pub task_id: Uuid,
    pub kind: Cow<'static, str>,
    pub channel: Cow<'static, str>,
    pub scheduled_at: DateTime<Utc>,
    pub message: String,
    pub status: Cow<'static, str>,
}

/// A task with what hangs off it, as lists and the detail page show it.
#[derive(Debug, Clone)]
pub struct TaskDetails {
    pub task: Task,
    pub attachments: Vec<AttachmentSummary>,
    pub reminders: Vec<ReminderSummary>,
}

const COLUMNS: &str = "id, user_id, title, description, link, category, priority, status, due_at, \
     spaced_revision, desired_retention, know_by, completed_at, created_at, updated_at";
const ATTACHMENT_COLUMNS: &str =
    "id, task_id, original_name, content_type, size, original_size, width, height, created_at";
const REMINDER_COLUMNS: &str = "id, task_id, kind, channel, scheduled_at, message, status";

// Rows are read by position, in the order of the column lists above: looking each column up by
// name hashes its name, per row, and a list of 200 tasks reads 1,200 rows.
impl<'r> sqlx::FromRow<'r, PgRow> for Task {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get(0)?,
            user_id: row.try_get(1)?,
            title: row.try_get(2)?,
            description: row.try_get(3)?,
            link: row.try_get(4)?,
            category: row.try_get(5)?,
            priority: row.try_get(6)?,
            status: row.try_get(7)?,
            due_at: row.try_get(8)?,
            spaced_revision: row.try_get(9)?,
            desired_retention: row.try_get(10)?,
            know_by: row.try_get(11)?,
            completed_at: row.try_get(12)?,
            created_at: row.try_get(13)?,
            updated_at: row.try_get(14)?,
        })
    }
}

impl<'r> sqlx::FromRow<'r, PgRow> for AttachmentSummary {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get(0)?,
            task_id: row.try_get(1)?,
            original_name: row.try_get(2)?,
            content_type: known_text(row, 3, &FileKind::CONTENT_TYPES)?,
            size: row.try_get(4)?,
            original_size: row.try_get(5)?,
            width: row.try_get(6)?,
            height: row.try_get(7)?,
            created_at: row.try_get(8)?,
        })
    }
}

impl<'r> sqlx::FromRow<'r, PgRow> for ReminderSummary {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get(0)?,
            task_id: row.try_get(1)?,
            kind: known_text(row, 2, &["manual", "review"])?,
            channel: known_text(row, 3, &["email", "push", "both"])?,
            scheduled_at: row.try_get(4)?,
            message: row.try_get(5)?,
            status: known_text(row, 6, &["pending", "completed", "skipped"])?,
        })
    }
}

/// The user's time zone, UTC if the stored name is unknown.
pub fn zone_of(timezone: &str) -> Tz {
    timezone.parse().unwrap_or(Tz::UTC)
}

/// Creates a task from parsed fields (the title is required).
pub async fn create(
    pool: &PgPool,
    user_id: Uuid,
    changes: TaskChanges,
    now: DateTime<Utc>,
) -> AppResult<Task> {
    let title = changes
        .title
        .ok_or_else(|| AppError::validation("title", "Give the task a title"))?;
    let status = changes.status.unwrap_or(Status::Todo);
    let task = sqlx::query_as::<_, Task>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO tasks (user_id, title, description, link, category, priority, status, due_at,
                            spaced_revision, desired_retention, know_by, completed_at,
                            created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
         RETURNING {COLUMNS}"
    )))
    .bind(user_id)
    .bind(title)
    .bind(changes.description.unwrap_or_default())
    .bind(changes.link.unwrap_or_default())
    .bind(
        changes
            .category
            .unwrap_or_else(|| types::DEFAULT_CATEGORY.into()),
    )
    .bind(changes.priority.unwrap_or(Priority::Medium).rank())
    .bind(status.as_str())
    .bind(changes.due_at.flatten())
    .bind(changes.spaced_revision.unwrap_or(false))
    .bind(changes.desired_retention.unwrap_or(0.9))
    .bind(changes.know_by.flatten())
    .bind((status == Status::Completed).then_some(now))
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(task)
}

/// One of the user's tasks, or 404.
pub async fn get<'e>(db: impl sqlx::PgExecutor<'e>, user_id: Uuid, id: Uuid) -> AppResult<Task> {
    sqlx::query_as::<_, Task>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2"
    )))
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)
}

/// One task with its attachments and reminders.
pub async fn details(pool: &PgPool, user_id: Uuid, id: Uuid) -> AppResult<TaskDetails> {
    let mut conn = pool.acquire().await?;
    let task = get(&mut *conn, user_id, id).await?;
    let mut list = with_relations(&mut conn, user_id, vec![task]).await?;
    list.pop().ok_or(AppError::NotFound)
}

/// Applies parsed changes. Moving to `completed` records when and tells the user (a
/// notification, in the same transaction); moving away from it clears `completed_at`.
pub async fn update(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
    changes: TaskChanges,
    now: DateTime<Utc>,
) -> AppResult<Task> {
    let mut tx = pool.begin().await?;
    let current = sqlx::query_as::<_, Task>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2 FOR UPDATE"
    )))
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let was = current.status();
    let status = changes.status.unwrap_or(was);
    let completed_at = match (was, status) {
        (Status::Completed, Status::Completed) => current.completed_at.or(Some(now)),
        (_, Status::Completed) => Some(now),
        _ => None,
    };
    let task = sqlx::query_as::<_, Task>(sqlx::AssertSqlSafe(format!(
        "UPDATE tasks SET title = $3, description = $4, link = $5, category = $6, priority = $7,
                status = $8, due_at = $9, spaced_revision = $10, desired_retention = $11,
                know_by = $12, completed_at = $13, updated_at = $14
          WHERE id = $1 AND user_id = $2
         RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(user_id)
    .bind(changes.title.unwrap_or(current.title))
    .bind(changes.description.unwrap_or(current.description))
    .bind(changes.link.unwrap_or(current.link))
    .bind(changes.category.unwrap_or(current.category))
    .bind(changes.priority.map_or(current.priority, Priority::rank))
    .bind(status.as_str())
    .bind(changes.due_at.unwrap_or(current.due_at))
    .bind(changes.spaced_revision.unwrap_or(current.spaced_revision))
    .bind(
        changes
            .desired_retention
            .unwrap_or(current.desired_retention),
    )
    .bind(changes.know_by.unwrap_or(current.know_by))
    .bind(completed_at)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    if was != Status::Completed && status == Status::Completed {
        notify_completed(&mut tx, &task, now).await?;
    }
    tx.commit().await?;
    Ok(task)
}

async fn notify_completed(
    tx: &mut Transaction<'_, Postgres>,
    task: &Task,
    now: DateTime<Utc>,
) -> AppResult<()> {
    notifications::create(
        &mut **tx,
        notifications::NewNotification {
            user_id: task.user_id,
            kind: Kind::General,
            title: "Task completed".into(),
            message: format!("You completed “{}”.", task.title),
            related_task_id: Some(task.id),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Completes or re-opens a task.
pub async fn set_status(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
    status: Status,
    now: DateTime<Utc>,
) -> AppResult<Task> {
    let changes = TaskChanges {
        status: Some(status),
        ..Default::default()
    };
    update(pool, user_id, id, changes, now).await
}

/// A task id as a client sends it; anything else names no task.
pub fn parse_id(raw: &str) -> AppResult<Uuid> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// A status as a form sends it; anything else names no status a task can take.
pub fn parse_status(raw: &str) -> AppResult<Status> {
    Status::parse(raw).map_err(|_| AppError::NotFound)
}

/// Deletes a task with its rows, then its files (once the rows are gone: the orphan sweep
/// catches any file left behind).
pub async fn delete(state: &crate::Services, user_id: Uuid, id: Uuid) -> AppResult<()> {
    let keys = delete_rows(&state.pool, user_id, id).await?;
    remove_files(state, keys).await;
    Ok(())
}

/// Deletes a task and its rows; returns the storage keys of its files.
async fn delete_rows(pool: &PgPool, user_id: Uuid, id: Uuid) -> AppResult<Vec<String>> {
    let mut tx = pool.begin().await?;
    let keys = sqlx::query_scalar::<_, String>(
        "SELECT storage_key FROM attachments WHERE task_id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let deleted = sqlx::query("DELETE FROM tasks WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(keys)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Soonest due first, undated last.
    #[default]
    DueDate,
    Newest,
    /// Highest priority first, then soonest due.
    Priority,
}

impl Sort {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "dueDate" | "due" => Some(Self::DueDate),
            "-createdAt" | "newest" => Some(Self::Newest),
            "priority" | "-priority" => Some(Self::Priority),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DueDate => "dueDate",
            Self::Newest => "-createdAt",
            Self::Priority => "priority",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            Self::DueDate => "due_at ASC NULLS LAST, created_at DESC, id",
            Self::Newest => "created_at DESC, id",
            Self::Priority => "priority DESC, due_at ASC NULLS LAST, created_at DESC, id",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Overdue,
    Today,
    Week,
}

impl Due {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "overdue" => Some(Self::Overdue),
            "today" => Some(Self::Today),
            "week" => Some(Self::Week),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overdue => "overdue",
            Self::Today => "today",
            Self::Week => "week",
        }
    }
}

pub const MAX_PAGE_SIZE: i64 = 200;

/// Filters, sort and paging of a task list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    pub priority: Option<Priority>,
    pub status: Option<Status>,
    pub due: Option<Due>,
    pub sort: Sort,
    /// 1-based; with `limit`, paging applies only when asked for.
    pub page: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct TaskList {
    pub tasks: Vec<TaskDetails>,
    pub total: i64,
    pub page: i64,
    pub limit: Option<i64>,
}

/// The `[from, to)` window of a due filter, in the user's time zone.
fn due_window(due: Due, now: DateTime<Utc>, zone: Tz) -> (Option<DateTime<Utc>>, DateTime<Utc>) {
    let today = now.with_timezone(&zone).date_naive();
    let start_of = |day: NaiveDate| {
        types::local_to_utc(day.and_time(chrono::NaiveTime::MIN), zone).unwrap_or(now)
    };
    match due {
        Due::Overdue => (None, now),
        Due::Today => (Some(start_of(today)), start_of(today + Duration::days(1))),
        Due::Week => (Some(start_of(today)), start_of(today + Duration::days(7))),
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The user's tasks with their attachments and reminders: three statements whatever the
/// number of tasks (the list, then the attachments and the reminders of all of them at once).
pub async fn list(
    pool: &PgPool,
    user_id: Uuid,
    zone: Tz,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> AppResult<TaskList> {
    // One connection for the whole list: under load, a request that started is not queued
    // again for each of its statements.
    list_on(&mut *pool.acquire().await?, user_id, zone, query, now).await
}

/// [`list`] on a connection the caller holds.
pub async fn list_on(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    zone: Tz,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> AppResult<TaskList> {
    let (due_from, due_to) = match query.due {
        Some(due) => {
            let (from, to) = due_window(due, now, zone);
            (from, Some(to))
        }
        None => (None, None),
    };
    let search = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| like_pattern(&q.chars().take(200).collect::<String>()));
    let limit = query.limit.map(|l| l.clamp(1, MAX_PAGE_SIZE));
    let page = query.page.unwrap_or(1).max(1);
    let offset = limit.map_or(0, |l| (page - 1).saturating_mul(l));
    let rows = sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, count(*) OVER () AS total
           FROM tasks
          WHERE user_id = $1
            AND ($2::text IS NULL OR (title || ' ' || description) ILIKE $2)
            AND ($3::text IS NULL OR category = $3)
            AND ($4::smallint IS NULL OR priority = $4)
            AND ($5::text IS NULL OR status = $5)
            AND ($6::timestamptz IS NULL OR due_at >= $6)
            AND ($7::timestamptz IS NULL OR (due_at < $7 AND ($8 OR status <> 'completed')))
          ORDER BY {}
          LIMIT $9 OFFSET $10",
        query.sort.order_by()
    )))
    .bind(user_id)
    .bind(search)
    .bind(query.category.as_deref().filter(|c| !c.is_empty()))
    .bind(query.priority.map(Priority::rank))
    .bind(query.status.map(Status::as_str))
    .bind(due_from)
    .bind(due_to)
    // Overdue means not done yet; "today" and "this week" list done ones too.
    .bind(query.due != Some(Due::Overdue))
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = match rows.first() {
        Some(row) => row.total,
        // Past the last page the window is empty: count separately only then.
        None if page > 1 => count(&mut *conn, user_id).await?,
        None => 0,
    };
    let tasks = rows.into_iter().map(|r| r.task).collect();
    Ok(TaskList {
        tasks: with_relations(conn, user_id, tasks).await?,
        total,
        page,
        limit,
    })
}

/// How many tasks the user has.
pub async fn count<'e>(db: impl sqlx::PgExecutor<'e>, user_id: Uuid) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM tasks WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(db)
            .await?,
    )
}

/// A task of a list page and the size of the whole list (`COLUMNS`, then the count).
struct TaskRow {
    task: Task,
    total: i64,
}

impl<'r> sqlx::FromRow<'r, PgRow> for TaskRow {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            task: Task::from_row(row)?,
            total: row.try_get(15)?,
        })
    }
}

/// Attaches attachments and reminders to tasks with one statement each.
///
/// The ids go in as an array joined with `IN (SELECT unnest(..))`, not `= ANY(..)`: a prepared
/// statement soon runs on a generic plan, where `= ANY($2)` compares every row with every id in
/// turn (up to 200 × 600 comparisons for a full list) while the semi-join hashes the ids once.
/// Run by pgbench with the ids as a parameter, the pair went 7–23 % faster (three rounds).
async fn with_relations(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    tasks: Vec<Task>,
) -> AppResult<Vec<TaskDetails>> {
    if tasks.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<Uuid> = tasks.iter().map(|t| t.id).collect();
    let attachments = sqlx::query_as::<_, AttachmentSummary>(sqlx::AssertSqlSafe(format!(
        "SELECT {ATTACHMENT_COLUMNS}
           FROM attachments
          WHERE user_id = $1 AND task_id IN (SELECT unnest($2::uuid[]))
          ORDER BY created_at, id"
    )))
    .bind(user_id)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let reminders = sqlx::query_as::<_, ReminderSummary>(sqlx::AssertSqlSafe(format!(
        "SELECT {REMINDER_COLUMNS}
           FROM reminders
          WHERE user_id = $1 AND task_id IN (SELECT unnest($2::uuid[]))
          ORDER BY scheduled_at, id"
    )))
    .bind(user_id)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_task: HashMap<Uuid, (Vec<AttachmentSummary>, Vec<ReminderSummary>)> =
        HashMap::with_capacity(tasks.len());
    for a in attachments {
        by_task.entry(a.task_id).or_default().0.push(a);
    }
    for r in reminders {
        by_task.entry(r.task_id).or_default().1.push(r);
    }
    Ok(tasks
        .into_iter()
        .map(|task| {
            let (attachments, reminders) = by_task.remove(&task.id).unwrap_or_default();
            TaskDetails {
                task,
                attachments,
                reminders,
            }
        })
        .collect())
}

/// The user's categories, most used first, then the suggestions they do not use yet.
pub async fn categories(pool: &PgPool, user_id: Uuid) -> AppResult<Vec<String>> {
    let mut used = sqlx::query_scalar::<_, String>(
        "SELECT category FROM tasks WHERE user_id = $1
          GROUP BY category ORDER BY count(*) DESC, category LIMIT 50",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    for s in types::SUGGESTED_CATEGORIES {
        if !used.iter().any(|u| u == s) {
            used.push(s.to_string());
        }
    }
    Ok(used)
}

/// Removes a deleted task's files from storage. The rows are already gone, so a failure here
/// only leaves an orphan, which the periodic sweep removes.
pub async fn remove_files(state: &crate::Services, keys: Vec<String>) {
    for key in keys
        .iter()
        .filter_map(|k| crate::attachments::StorageKey::parse(k))
    {
        if let Err(e) = state.storage.delete(&key).await {
            tracing::warn!(error = %e, "could not delete a stored file; the sweep will retry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn due_windows_follow_the_users_day() {
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        // 2026-11-25 20:00 UTC is already 2026-11-26 05:00 in Tokyo.
        let now = DateTime::parse_from_rfc3339("2026-11-25T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (from, to) = due_window(Due::Today, now, tokyo);
        assert_eq!(from.unwrap().to_rfc3339(), "2026-11-25T15:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-26T15:00:00+00:00");
        let (from, to) = due_window(Due::Overdue, now, tokyo);
        assert_eq!((from, to), (None, now));
    }
}
