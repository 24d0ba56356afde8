//! What other features ask of a task's files: the list a task shows, and the files to remove
//! when a task or an account goes. Attachments keep their table to themselves; tasks and
//! accounts come here.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::StorageKey;
use crate::{error::AppResult, state::Services};

/// A file as a task shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentSummary {
    pub id: Uuid,
    pub task_id: Uuid,
    pub original_name: String,
    pub content_type: String,
    pub size: i64,
    pub original_size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_at: DateTime<Utc>,
}

/// The files of the user's tasks `task_ids`, oldest first, in one statement.
///
/// `IN (SELECT unnest(…))` rather than `= ANY(…)`: on the generic plan a prepared statement
/// soon runs on, the semi-join hashes the ids once.
pub async fn of_tasks(
    conn: &mut PgConnection,
    user_id: Uuid,
    task_ids: &[Uuid],
) -> AppResult<Vec<AttachmentSummary>> {
    Ok(sqlx::query_as!(
        AttachmentSummary,
        "SELECT id, task_id, original_name, content_type, size, original_size, width, height,
                created_at
           FROM attachments
          WHERE user_id = $1 AND task_id IN (SELECT unnest($2::uuid[]))
          ORDER BY created_at, id",
        user_id,
        task_ids,
    )
    .fetch_all(conn)
    .await?)
}

/// Where the files of one of the user's tasks are stored (read before the task is deleted).
pub async fn keys_of_task(
    conn: &mut PgConnection,
    user_id: Uuid,
    task_id: Uuid,
) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar!(
        "SELECT storage_key FROM attachments WHERE task_id = $1 AND user_id = $2",
        task_id,
        user_id,
    )
    .fetch_all(conn)
    .await?)
}

/// Where all of a user's files are stored (read before the account is deleted).
pub async fn keys_of_user(conn: &mut PgConnection, user_id: Uuid) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar!(
        "SELECT storage_key FROM attachments WHERE user_id = $1",
        user_id
    )
    .fetch_all(conn)
    .await?)
}

/// Removes files whose rows are already gone; a failure only leaves an orphan, which the
/// periodic sweep removes.
pub async fn remove_files(state: &Services, keys: Vec<String>) {
    let keys = keys.iter().filter_map(|k| StorageKey::parse(k));
    super::service::remove_objects(state, keys).await;
}
