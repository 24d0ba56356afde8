//! Uploading, reading and deleting attachments: the flow the API and the pages share.
//! Limits are checked before any byte is processed (count, size, quota), the type is decided
//! by the bytes, images are re-encoded on the blocking pool, and rows are written only once
//! every file of the request is stored (all or nothing).

use std::sync::LazyLock;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{detect, optimize, FileKind, StorageKey, MAX_FILES_PER_REQUEST, MAX_FILE_SIZE};
use crate::{
    blocking::CpuPool,
    error::{AppError, AppResult, FieldErrors},
    Services,
};

/// One file as received.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Bytes,
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: Uuid,
    pub user_id: Uuid,
    pub task_id: Uuid,
    pub original_name: String,
    pub content_type: String,
    pub size: i64,
    pub original_size: i64,
    pub storage_key: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_at: DateTime<Utc>,
}

fn files_error(message: impl Into<String>) -> AppError {
    let message = message.into();
    let mut fields = FieldErrors::new();
    fields.insert("files".into(), vec![message.clone()]);
    AppError::Validation { message, fields }
}

/// The name kept for display and downloads: the last path component, without control
/// characters, at most 255 characters.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let name: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = name.trim().to_string();
    if name.is_empty() {
        "file".into()
    } else {
        name
    }
}

/// Bytes the user's files take now (on the pool, or inside a transaction).
pub async fn used_bytes<'e>(db: impl sqlx::PgExecutor<'e>, user_id: Uuid) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT coalesce(sum(size), 0)::bigint AS "used!" FROM attachments WHERE user_id = $1"#,
        user_id
    )
    .fetch_one(db)
    .await?)
}

fn quota_error(quota: u64) -> AppError {
    files_error(format!(
        "These files do not fit in your storage ({} MB in all); delete some files first.",
        quota / 1024 / 1024
    ))
}

/// Image work runs on the blocking pool, as many at a time as there are cores.
static IMAGES: LazyLock<CpuPool> = LazyLock::new(|| CpuPool::per_core("image optimisation", 1));

/// What one stored file became.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub attachment: Attachment,
}

struct Prepared {
    name: String,
    content_type: &'static str,
    bytes: Bytes,
    original_size: i64,
    width: Option<i32>,
    height: Option<i32>,
}

/// Stores `files` on the user's task `task_id`: all of them, or none.
pub async fn upload(
    state: &Services,
    user_id: Uuid,
    task_id: Uuid,
    files: Vec<Upload>,
) -> AppResult<Vec<Uploaded>> {
    // Limits first, before any byte is looked at.
    if files.is_empty() {
        return Err(files_error("Choose at least one file."));
    }
    if files.len() > MAX_FILES_PER_REQUEST {
        return Err(files_error(format!(
            "Upload at most {MAX_FILES_PER_REQUEST} files at a time."
        )));
    }
    if let Some(big) = files.iter().find(|f| f.bytes.len() as u64 > MAX_FILE_SIZE) {
        return Err(files_error(format!(
            "{} is larger than 10 MB.",
            clean_name(&big.file_name)
        )));
    }
    task_is_users(&state.pool, user_id, task_id).await?;
    let quota = state.config.storage_quota_bytes;
    let incoming: u64 = files.iter().map(|f| f.bytes.len() as u64).sum();
    let used = used_bytes(&state.pool, user_id).await? as u64;
    if used + incoming > quota {
        return Err(quota_error(quota));
    }

    // Every file must be acceptable before any is processed.
    let mut kinds = Vec::with_capacity(files.len());
    let mut problems = Vec::new();
    for file in &files {
        match detect(&file.file_name, &file.bytes) {
            Ok(kind) => kinds.push(kind),
            Err(e) => problems.push(format!("{}: {}", clean_name(&file.file_name), e.message())),
        }
    }
    if !problems.is_empty() {
        return Err(files_error(problems.join(" ")));
    }

    let mut prepared = Vec::with_capacity(files.len());
    for (file, kind) in files.into_iter().zip(kinds) {
        prepared.push(prepare(file, kind).await?);
    }

    // Store the bytes, then record them; undo the stored objects if anything fails.
    let mut stored: Vec<(StorageKey, Prepared)> = Vec::with_capacity(prepared.len());
    for p in prepared {
        let key = StorageKey::new_for_user(user_id);
        if let Err(e) = state.storage.put(&key, p.bytes.clone()).await {
            remove_objects(state, stored.iter().map(|(k, _)| k.clone())).await;
            return Err(AppError::Internal(e));
        }
        stored.push((key, p));
    }
    match record(state, user_id, task_id, &stored, quota).await {
        Ok(rows) => Ok(rows
            .into_iter()
            .map(|attachment| Uploaded { attachment })
            .collect()),
        Err(e) => {
            remove_objects(state, stored.iter().map(|(k, _)| k.clone())).await;
            Err(e)
        }
    }
}

/// Whether `task_id` is one of the user's tasks (404 otherwise), asked before any file is
/// looked at. The row an attachment hangs on is the one thing of the tasks table this feature
/// reads (its foreign key's parent; `record` asks again as it inserts).
async fn task_is_users(pool: &PgPool, user_id: Uuid, task_id: Uuid) -> AppResult<()> {
    let found = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM tasks WHERE id = $1 AND user_id = $2) AS "found!""#,
        task_id,
        user_id,
    )
    .fetch_one(pool)
    .await?;
    if found {
        Ok(())
    } else {
        Err(crate::AppError::NotFound)
    }
}

async fn prepare(file: Upload, kind: FileKind) -> AppResult<Prepared> {
    let name = clean_name(&file.file_name);
    let original_size = file.bytes.len() as i64;
    if !kind.is_raster_image() {
        return Ok(Prepared {
            name,
            content_type: kind.content_type(),
            bytes: file.bytes,
            original_size,
            width: None,
            height: None,
        });
    }
    let bytes = file.bytes.clone();
    let result = IMAGES.run(move || optimize(&bytes, kind)).await?;
    match result {
        Ok(image) => Ok(Prepared {
            // The stored file is the re-encoded one: name it for what it is now.
            name: renamed(&name, image.kind.extension()),
            content_type: image.content_type(),
            width: Some(image.width as i32),
            height: Some(image.height as i32),
            bytes: Bytes::from(image.bytes),
            original_size,
        }),
        Err(e) => Err(files_error(format!("{name}: {}", e.message()))),
    }
}

/// `photo.jpg` stored as WebP becomes `photo.webp`.
fn renamed(name: &str, extension: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => format!("{stem}.{extension}"),
        _ => format!("{name}.{extension}"),
    }
}

async fn record(
    state: &Services,
    user_id: Uuid,
    task_id: Uuid,
    stored: &[(StorageKey, Prepared)],
    quota: u64,
) -> AppResult<Vec<Attachment>> {
    let mut tx = state.pool.begin().await?;
    // One upload of this user at a time past this point: the quota holds under parallel uploads.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
        user_id.to_string()
    )
    .execute(&mut *tx)
    .await?;
    let used = used_bytes(&mut *tx, user_id).await? as u64;
    let adding: u64 = stored.iter().map(|(_, p)| p.bytes.len() as u64).sum();
    if used + adding > quota {
        return Err(quota_error(quota));
    }
    // One statement for every file of the request; nothing if the task was deleted meanwhile.
    let column =
        |f: fn(&(StorageKey, Prepared)) -> String| stored.iter().map(f).collect::<Vec<_>>();
    let names = column(|(_, p)| p.name.clone());
    let types = column(|(_, p)| p.content_type.to_string());
    let keys = column(|(k, _)| k.as_str().to_string());
    let sizes: Vec<i64> = stored.iter().map(|(_, p)| p.bytes.len() as i64).collect();
    let original_sizes: Vec<i64> = stored.iter().map(|(_, p)| p.original_size).collect();
    let widths: Vec<Option<i32>> = stored.iter().map(|(_, p)| p.width).collect();
    let heights: Vec<Option<i32>> = stored.iter().map(|(_, p)| p.height).collect();
    let rows = sqlx::query_as!(
        Attachment,
        "INSERT INTO attachments (user_id, task_id, original_name, content_type, size,
                                  original_size, storage_key, width, height, created_at)
         SELECT $1, t.id, f.name, f.content_type, f.size, f.original_size, f.storage_key,
                f.width, f.height, $10
           FROM tasks t,
                unnest($3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[],
                       $8::int[], $9::int[])
                  WITH ORDINALITY AS f(name, content_type, size, original_size, storage_key,
                                       width, height, n)
          WHERE t.id = $2 AND t.user_id = $1
          ORDER BY f.n
         RETURNING id, user_id, task_id, original_name, content_type, size, original_size,
                   storage_key, width, height, created_at",
        user_id,
        task_id,
        &names,
        &types,
        &sizes,
        &original_sizes,
        &keys,
        &widths as &[Option<i32>],
        &heights as &[Option<i32>],
        state.now(),
    )
    .fetch_all(&mut *tx)
    .await?;
    if rows.len() != stored.len() {
        // The task was deleted meanwhile.
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(rows)
}

pub(super) async fn remove_objects(state: &Services, keys: impl Iterator<Item = StorageKey>) {
    for key in keys {
        if let Err(e) = state.storage.delete(&key).await {
            tracing::warn!(error = %e, "could not remove a stored object; the sweep will");
        }
    }
}

/// One of the user's attachments, or 404.
pub async fn get(pool: &PgPool, user_id: Uuid, id: Uuid) -> AppResult<Attachment> {
    sqlx::query_as!(
        Attachment,
        "SELECT id, user_id, task_id, original_name, content_type, size, original_size,
                storage_key, width, height, created_at
           FROM attachments WHERE id = $1 AND user_id = $2",
        id,
        user_id,
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)
}

/// Deletes one of the user's attachments, row then object.
pub async fn delete(state: &Services, user_id: Uuid, id: Uuid) -> AppResult<Attachment> {
    let row = sqlx::query_as!(
        Attachment,
        "DELETE FROM attachments WHERE id = $1 AND user_id = $2
         RETURNING id, user_id, task_id, original_name, content_type, size, original_size,
                   storage_key, width, height, created_at",
        id,
        user_id,
    )
    .fetch_optional(&state.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    if let Some(key) = StorageKey::parse(&row.storage_key) {
        remove_objects(state, std::iter::once(key)).await;
    }
    Ok(row)
}

/// Removes stored objects that no row points to (left by a crash between storing and
/// recording, or a failed delete), and the half-written files of uploads cut off by a crash.
/// Anything younger than an hour is left alone: an upload may be between its two steps. The
/// quota never counts either kind: it sums the rows (see [`used_bytes`]).
pub async fn sweep_orphans(state: &Services) -> anyhow::Result<u64> {
    use futures::TryStreamExt;
    let cutoff = state.now() - chrono::Duration::hours(1);
    let partials = state.storage.remove_partial_files(cutoff).await?;
    let mut listed = state.storage.list(None);
    let mut candidates = Vec::new();
    while let Some(object) = listed.try_next().await? {
        if let Some(key) = object.key {
            if object.last_modified < cutoff {
                candidates.push(key);
            }
        }
    }
    let mut removed = partials;
    for chunk in candidates.chunks(500) {
        let keys: Vec<String> = chunk.iter().map(|k| k.as_str().to_string()).collect();
        let known: Vec<String> = sqlx::query_scalar!(
            "SELECT storage_key FROM attachments WHERE storage_key = ANY($1)",
            &keys
        )
        .fetch_all(&state.pool)
        .await?;
        for key in chunk {
            if !known.iter().any(|k| k == key.as_str()) {
                state.storage.delete(key).await?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("C:\\Users\\ada\\notes.pdf"), "notes.pdf");
        assert_eq!(clean_name("../../etc/passwd.txt"), "passwd.txt");
        assert_eq!(clean_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_name(""), "file");
        assert_eq!(renamed("photo.jpg", "webp"), "photo.webp");
        assert_eq!(renamed("scan", "png"), "scan.png");
    }
}
