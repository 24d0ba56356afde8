//! /api/attachments (API.md): upload to a task (multipart field `files`), download to the
//! owner only, delete. A browser form posting here (it accepts HTML) gets a redirect back to
//! the task's page with the outcome as a flash; scripts get JSON.

use crate::clock::Clock;
use axum::extract::FromRef;
use sqlx::PgPool;
use std::time::Duration;

use axum::{
    body::Body,
    extract::{multipart::MultipartRejection, Multipart, Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    service::{self, Upload},
    MAX_FILES_PER_REQUEST, MAX_FILE_SIZE,
};
use crate::{
    error::{created, ok, ApiOk, AppError, AppResult, Empty},
    http::{admission::Deferred, flash::Flash},
    identity::CurrentUser,
    state::Services,
};

/// Where one stored file is downloaded: this and its id.
pub const URL_PREFIX: &str = "/api/attachments/";

/// The root-relative address of one stored file.
pub fn file_url(id: Uuid) -> String {
    format!("{URL_PREFIX}{id}")
}

/// Ten files of 10 MB and the multipart framing around them.
pub const UPLOAD_BODY_LIMIT: usize = MAX_FILES_PER_REQUEST * (MAX_FILE_SIZE as usize) + 1024 * 1024;

/// Mounted under /api/attachments with its own body limit ([`UPLOAD_BODY_LIMIT`]).
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
    PgPool: FromRef<S>,
    Clock: FromRef<S>,
    super::UploadBudget: FromRef<S>,
{
    OpenApiRouter::new()
        // One path shape: for POST the id is the task's, for GET and DELETE the file's.
        .routes(routes!(upload, download, remove))
}

/// One stored file, as the original web client reads it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentJson {
    pub id: String,
    pub task_id: String,
    pub file_name: String,
    pub original_name: String,
    pub file_size: i64,
    pub file_type: String,
    /// Root-relative: `/api/attachments/<id>`.
    #[schema(value_type = String)]
    pub file_url: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    #[serde(serialize_with = "crate::api::json::utc")]
    pub created_at: DateTime<Utc>,
    pub optimization_stats: OptimizationStats,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptimizationStats {
    pub original_size: i64,
    pub optimized_size: i64,
    /// The share saved, 0-1.
    pub compression_ratio: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadedData {
    pub attachments: Vec<AttachmentJson>,
}

/// The multipart form, for the document only: one or more `files` parts (parts of other names
/// are skipped).
pub struct UploadForm;

impl utoipa::PartialSchema for UploadForm {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{
            schema::Type, ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat,
        };
        let file = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)));
        ObjectBuilder::new()
            .property(
                "files",
                ArrayBuilder::new()
                    .items(file)
                    .min_items(Some(1))
                    .max_items(Some(MAX_FILES_PER_REQUEST))
                    .description(Some(
                        "1 to 10 files of at most 10 MB each: JPEG, PNG, GIF, WebP, PDF, Word, \
                         Excel, PowerPoint or plain text, as their bytes show (the name's \
                         extension must agree)",
                    )),
            )
            .required("files")
            // A part's name is a header parameter: no control characters.
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[^\u0000-\u001F\u007F]*$")),
            ))
            .into()
    }
}

impl utoipa::ToSchema for UploadForm {}

fn id(raw: &str) -> AppResult<Uuid> {
    raw.parse().map_err(|_| AppError::NotFound)
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// How long an upload waits for memory while others are read before it is told to retry.
const UPLOAD_MEMORY_WAIT: Duration = Duration::from_secs(20);

/// The slowest line an upload may come over, in bytes per second (512 kbit/s).
pub const SLOWEST_UPLOAD_RATE: u64 = 64 * 1024;

/// The pace an upload body must keep while it is read: after a grace of the request timeout
/// (counted from when its memory is reserved), the bytes received so far at
/// [`SLOWEST_UPLOAD_RATE`]. A 10 MB
/// photo from a phone on a poor line (30 s + 160 s) gets through, and the whole body's time
/// grows with its length; a body trickled in a few bytes at a time is cut off soon after the
/// grace, so it cannot hold its memory reservation for long without sending.
#[derive(Debug, Clone)]
pub struct Pace {
    clock: Clock,
    start: DateTime<Utc>,
    grace: Duration,
}

impl Pace {
    /// A pace that starts now on `clock`.
    pub fn new(clock: &Clock, grace: Duration) -> Self {
        Self {
            clock: clock.clone(),
            start: clock.now(),
            grace,
        }
    }

    /// When the next bytes must have come, `received` bytes in.
    pub fn due(&self, received: u64) -> DateTime<Utc> {
        let wait = self
            .grace
            .saturating_add(Duration::from_secs(received.div_ceil(SLOWEST_UPLOAD_RATE)));
        // A request timeout set absurdly high means, in effect, no deadline (not a panic).
        chrono::TimeDelta::from_std(wait)
            .ok()
            .and_then(|wait| self.start.checked_add_signed(wait))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Runs one read of the body, 408 when it ends past [`Pace::due`].
    async fn keep<T>(
        &self,
        received: u64,
        read: impl std::future::Future<Output = T>,
    ) -> AppResult<T> {
        self.clock
            .timeout_at(self.due(received), read)
            .await
            .map_err(|_| {
                AppError::TimedOut(
                    "The upload arrived too slowly. Try again with fewer files at a time.".into(),
                )
            })
    }
}

/// Reserves memory for the whole body (`AppState::uploads`, 503 after
/// [`UPLOAD_MEMORY_WAIT`]), then reads the files at the body's [`Pace`], which starts once the
/// memory is there; the reservation is held until the files are stored.
async fn reserve_and_read(
    state: &Services,
    budget: &super::UploadBudget,
    user: Uuid,
    headers: &HeaderMap,
    multipart: Multipart,
) -> AppResult<(Vec<Upload>, super::UploadReservation)> {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let reservation = budget.reserve(user, length, UPLOAD_MEMORY_WAIT).await?;
    let pace = Pace::new(&state.clock, state.config.request_timeout);
    Ok((read_files(multipart, pace).await?, reservation))
}

/// Reads the `files` parts, refusing the 11th file or a file past 10 MB as soon as it shows,
/// before the rest of the body is read.
async fn read_files(mut multipart: Multipart, pace: Pace) -> AppResult<Vec<Upload>> {
    let mut files = Vec::new();
    let mut received = 0u64;
    loop {
        let field = match pace.keep(received, multipart.next_field()).await? {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge)
            }
            Err(_) => return Err(AppError::BadRequest("The upload could not be read".into())),
        };
        if field.name() != Some("files") {
            continue;
        }
        let Some(file_name) = field.file_name().map(str::to_string) else {
            continue;
        };
        // A form with no file chosen still sends one empty, unnamed part.
        if file_name.is_empty() {
            continue;
        }
        if files.len() == MAX_FILES_PER_REQUEST {
            return Err(AppError::validation(
                "files",
                format!("Upload at most {MAX_FILES_PER_REQUEST} files at a time."),
            ));
        }
        let mut field = field;
        let mut bytes = Vec::new();
        loop {
            match pace.keep(received, field.chunk()).await? {
                Ok(Some(chunk)) => {
                    if (bytes.len() + chunk.len()) as u64 > MAX_FILE_SIZE {
                        return Err(AppError::validation(
                            "files",
                            format!("{} is larger than 10 MB.", service::clean_name(&file_name)),
                        ));
                    }
                    received += chunk.len() as u64;
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(AppError::PayloadTooLarge)
                }
                Err(_) => return Err(AppError::BadRequest("The upload could not be read".into())),
            }
        }
        files.push(Upload {
            file_name,
            bytes: bytes.into(),
        });
    }
    Ok(files)
}

fn attachment_json(a: &service::Attachment) -> AttachmentJson {
    let ratio = if a.original_size > 0 {
        1.0 - a.size as f64 / a.original_size as f64
    } else {
        0.0
    };
    AttachmentJson {
        id: a.id.to_string(),
        task_id: a.task_id.to_string(),
        file_name: a.original_name.clone(),
        original_name: a.original_name.clone(),
        file_size: a.size,
        file_type: a.content_type.clone(),
        file_url: file_url(a.id),
        width: a.width,
        height: a.height,
        created_at: a.created_at,
        optimization_stats: OptimizationStats {
            original_size: a.original_size,
            optimized_size: a.size,
            compression_ratio: (ratio * 1000.0).round() / 1000.0,
        },
    }
}

#[utoipa::path(post, path = "/{id}", tag = "attachments", security(("cookie" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The task to attach the files to")),
    request_body(content = UploadForm, content_type = "multipart/form-data",
        description = "Up to 10 files of 10 MB each in parts named `files`"),
    responses((status = 201, body = ApiOk<UploadedData>), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody)))]
// An axum handler takes its inputs as arguments: eight extractors are eight arguments.
#[allow(clippy::too_many_arguments)]
async fn upload(
    State(state): State<Services>,
    State(budget): State<super::UploadBudget>,
    CurrentUser(user): CurrentUser,
    session: Session,
    headers: HeaderMap,
    Path(task_id): Path<String>,
    deferred: Option<Extension<Deferred>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let html = wants_html(&headers);
    let task_id = match id(&task_id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let result = async {
        let multipart = multipart.map_err(|_| {
            AppError::BadRequest(
                "Send the files as multipart/form-data, in parts named \"files\"".into(),
            )
        })?;
        let (files, _reservation) =
            reserve_and_read(&state, &budget, user.id, &headers, multipart).await?;
        // The files are in: only now a place among the requests being worked on, waited for at
        // most the request timeout (503: the server is busy). Once it has one, storing runs to
        // the end rather than being cut off between a stored file and its row.
        let _place = match &deferred {
            Some(Extension(deferred)) => Some(
                state
                    .clock
                    .timeout(state.config.request_timeout, deferred.enter())
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .ok_or(AppError::Unavailable)?,
            ),
            None => None,
        };
        service::upload(&state, user.id, task_id, files).await
    }
    .await;
    if html {
        // The plain form (no JavaScript): back to the task's page with the outcome.
        let flash = match &result {
            Ok(list) => Flash::ok("upload", format!("{} file(s) uploaded.", list.len())),
            Err(AppError::NotFound) => return AppError::NotFound.into_response(),
            Err(e) => Flash::error("upload", e),
        };
        if let Err(e) = session.insert(crate::http::flash::FLASH, flash).await {
            tracing::error!(error = %e, "storing the flash");
        }
        let mut response = StatusCode::SEE_OTHER.into_response();
        if let Ok(location) = HeaderValue::from_str(&format!("/tasks/{task_id}#files")) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        return response;
    }
    match result {
        Ok(list) => {
            let items: Vec<_> = list
                .iter()
                .map(|u| attachment_json(&u.attachment))
                .collect();
            created("Files uploaded", UploadedData { attachments: items }).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` with the name made safe for a header.
fn content_disposition(name: &str, inline: bool) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let kind = if inline { "inline" } else { "attachment" };
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encoded.replace('+', "%20")
    ))
    .unwrap_or(HeaderValue::from_static("attachment"))
}

#[utoipa::path(get, path = "/{id}", tag = "attachments", security(("cookie" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The attachment id")),
    responses((status = 200, description = "The file, with its Content-Type and Content-Disposition",
        content(("image/jpeg"), ("image/png"), ("image/gif"), ("image/webp"), ("application/pdf"),
            ("application/msword"),
            ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ("application/vnd.ms-excel"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("application/vnd.ms-powerpoint"),
            ("application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            ("text/plain"))),
        (status = 404, body = crate::error::ErrorBody)))]
async fn download(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(raw): Path<String>,
) -> AppResult<Response> {
    let attachment = service::get(&state.pool, user.id, id(&raw)?).await?;
    let key = super::StorageKey::parse(&attachment.storage_key).ok_or(AppError::NotFound)?;
    let Some(object) = state.storage.get(&key).await.map_err(AppError::Internal)? else {
        tracing::error!(attachment = %attachment.id, "stored object missing");
        return Err(AppError::NotFound);
    };
    // Images we re-encoded ourselves may show inline (previews); everything else downloads.
    let inline = matches!(attachment.content_type.as_str(), "image/webp" | "image/png");
    let mut response = Response::new(Body::from_stream(object.stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&attachment.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(object.size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&attachment.original_name, inline),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}

#[utoipa::path(delete, path = "/{id}", tag = "attachments", security(("cookie" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The attachment id")),
    responses((status = 200, body = ApiOk<Empty>), (status = 404, body = crate::error::ErrorBody)))]
async fn remove(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(raw): Path<String>,
) -> AppResult<impl IntoResponse> {
    service::delete(&state, user.id, id(&raw)?).await?;
    Ok(ok("File deleted", Empty {}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Clock {
        Clock::manual(chrono::Utc::now())
    }

    #[test]
    fn an_upload_body_keeps_the_slowest_rate_after_the_request_timeout() {
        let clock = clock();
        let start = clock.now();
        let secs = chrono::Duration::seconds;
        let pace = Pace::new(&clock, Duration::from_secs(30));
        assert_eq!(pace.due(0), start + secs(30));
        // 10 MB in: 160 s more at 64 KiB/s.
        assert_eq!(pace.due(10 * 1024 * 1024), start + secs(30 + 160));
        // Rounded up: a byte past a second's worth is another second.
        assert_eq!(pace.due(SLOWEST_UPLOAD_RATE + 1), start + secs(32));
        // A request timeout set absurdly high does not overflow the clock.
        let endless = Pace::new(&clock, Duration::MAX);
        assert!(endless.due(u64::MAX) > start + chrono::Duration::days(365));
        // The largest body allowed: under half an hour in all.
        assert_eq!(pace.due(UPLOAD_BODY_LIMIT as u64), start + secs(30 + 1616));
    }

    #[tokio::test]
    async fn a_read_past_its_pace_is_a_408() {
        // A grace of 100 ms: with nothing in yet, the next bytes are due 100 ms from now.
        let clock = clock();
        let pace = Pace::new(&clock, Duration::from_millis(100));
        // A read that ends in time is kept.
        assert!(pace.keep(1024, async {}).await.is_ok());
        // Nothing in, and nothing coming: given up once the clock passes the 100 ms.
        let late = tokio::spawn(async move { pace.keep(0, std::future::pending::<()>()).await });
        clock.advance(chrono::Duration::milliseconds(100));
        match late.await.unwrap() {
            Err(e @ AppError::TimedOut(_)) => {
                assert_eq!(e.status(), StatusCode::REQUEST_TIMEOUT)
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
}
