//! /api/tasks (paths and fields of API.md, including what the original web client relies on:
//! lists under `data.tasks`, capitalised priorities, strings never null for description and
//! link, ids as strings, and every task when no paging is asked for).

use crate::clock::Clock;
use axum::extract::FromRef;
use sqlx::PgPool;

use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Due, ListQuery, Priority, Sort, Status, TaskDetails, TaskInput};
pub use crate::reminders::api::ReminderJson;
use crate::{
    api::ApiJson,
    error::{created, ok, ApiOk, AppResult, Empty},
    identity::CurrentUser,
    state::Services,
    validate::{Choice, Validator},
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
    PgPool: FromRef<S>,
    Clock: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(reminders))
}

/// `data` of the answers about one task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskData {
    pub task: TaskJson,
}

impl From<TaskDetails> for TaskData {
    fn from(details: TaskDetails) -> Self {
        Self {
            task: TaskJson::from(details),
        }
    }
}

/// `data` of GET /api/tasks: every task when no paging is asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskListData {
    pub tasks: Vec<TaskJson>,
    pub page: i64,
    pub limit: Option<i64>,
    pub total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskRemindersData {
    pub reminders: Vec<ReminderJson>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskJson {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub link: String,
    pub category: String,
    /// `Low`, `Medium` or `High`, as the original client shows them.
    #[schema(example = "High")]
    pub priority: &'static str,
    /// `todo`, `in-progress` or `completed`.
    #[schema(example = "todo")]
    pub status: &'static str,
    #[serde(serialize_with = "crate::api::json::utc_opt")]
    pub due_date: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::api::json::utc_opt")]
    pub completed_at: Option<DateTime<Utc>>,
    pub spaced_revision: bool,
    pub desired_retention: f64,
    pub know_by: Option<chrono::NaiveDate>,
    #[serde(serialize_with = "crate::api::json::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::api::json::utc")]
    pub updated_at: DateTime<Utc>,
    pub attachments: Vec<AttachmentJson>,
    pub reminders: Vec<ReminderJson>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentJson {
    pub id: Uuid,
    pub file_name: String,
    pub original_name: String,
    pub file_size: i64,
    pub file_type: String,
    #[schema(example = "/api/attachments/0b6c1e9e-58a4-4c55-9d43-3f1f2f6a7b80")]
    pub file_url: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    #[serde(serialize_with = "crate::api::json::utc")]
    pub created_at: DateTime<Utc>,
}

impl From<TaskDetails> for TaskJson {
    fn from(d: TaskDetails) -> Self {
        let t = d.task;
        let status = t.status().as_str();
        Self {
            id: t.id,
            priority: t.priority.label(),
            status,
            title: t.title,
            description: t.description,
            link: t.link,
            category: t.category,
            due_date: t.due_at,
            completed_at: t.completed_at,
            spaced_revision: t.spaced_revision,
            desired_retention: t.desired_retention,
            know_by: t.know_by,
            created_at: t.created_at,
            updated_at: t.updated_at,
            attachments: d
                .attachments
                .into_iter()
                .map(|a| AttachmentJson {
                    id: a.id,
                    file_name: a.original_name.clone(),
                    file_url: crate::attachments::api::file_url(a.id),
                    original_name: a.original_name,
                    file_size: a.size,
                    file_type: a.content_type,
                    width: a.width,
                    height: a.height,
                    created_at: a.created_at,
                })
                .collect(),
            reminders: d.reminders.into_iter().map(ReminderJson::from).collect(),
        }
    }
}

/// A task id from the path; anything that is not a UUID cannot be one of the user's tasks.
use super::parse_id as task_id;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words in the title or description.
    pub q: Option<String>,
    /// One category, as the tasks carry it (trimmed).
    pub category: Option<String>,
    /// low, medium or high (any case); empty means any.
    #[param(schema_with = priority_filter)]
    pub priority: Option<String>,
    /// todo, in-progress or completed (any case); empty means any.
    #[param(schema_with = status_filter)]
    pub status: Option<String>,
    /// overdue, today or week; empty means any.
    #[param(schema_with = due_filter)]
    pub due: Option<String>,
    /// dueDate (or due), -createdAt (or newest), priority (or -priority); empty: dueDate.
    #[param(schema_with = sort_order)]
    pub sort: Option<String>,
    /// A whole number from 1; without `page` and `limit` every task is returned. With `page`
    /// alone, 20 a page.
    #[param(schema_with = crate::validate::page_number_schema)]
    pub page: Option<String>,
    /// Tasks a page, a whole number from 1 (more than 200 count as 200).
    #[param(schema_with = crate::validate::page_number_schema)]
    pub limit: Option<String>,
}

/// A query value from `values`, or empty for "any", in the document.
fn one_of_or_empty(values: &[&'static str]) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(values.iter().copied().chain([""])))
        .build()
}

/// `priority` of GET /api/tasks (any case is accepted).
fn priority_filter() -> utoipa::openapi::Object {
    one_of_or_empty(&["low", "medium", "high"])
}

/// `status` of GET /api/tasks (any case, and `_` for `-`, is accepted).
fn status_filter() -> utoipa::openapi::Object {
    one_of_or_empty(&["todo", "in-progress", "completed"])
}

/// `due` of GET /api/tasks.
fn due_filter() -> utoipa::openapi::Object {
    one_of_or_empty(&["overdue", "today", "week"])
}

/// `sort` of GET /api/tasks; empty is dueDate.
fn sort_order() -> utoipa::openapi::Object {
    one_of_or_empty(&[
        "dueDate",
        "due",
        "-createdAt",
        "newest",
        "priority",
        "-priority",
    ])
}

impl ListParams {
    /// Parses the query; unknown values are field errors, empty ones mean "any".
    pub fn parse(&self) -> AppResult<ListQuery> {
        let mut v = Validator::default();
        let given = |value: &Option<String>| value.clone().filter(|s| !s.trim().is_empty());
        let priority = given(&self.priority)
            .and_then(|p| Priority::parse(&p).map_err(|m| v.error("priority", m)).ok());
        let status = given(&self.status)
            .and_then(|s| Status::parse(&s).map_err(|m| v.error("status", m)).ok());
        let due = given(&self.due).and_then(|d| {
            let parsed = Due::parse(&d);
            if parsed.is_none() {
                v.error("due", "Choose overdue, today or week");
            }
            parsed
        });
        let sort = match given(&self.sort) {
            None => Sort::default(),
            Some(s) => Sort::parse(&s).unwrap_or_else(|| {
                v.error("sort", "Sort by dueDate, -createdAt or priority");
                Sort::default()
            }),
        };
        let mut number = |field: &str, value: &Option<String>| -> Option<i64> {
            let raw = given(value)?;
            match raw.trim().parse::<i64>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    v.error(field, "Use a whole number from 1");
                    None
                }
            }
        };
        let page = number("page", &self.page);
        let limit = number("limit", &self.limit);
        v.finish_with("Please correct the query")?;
        Ok(ListQuery {
            q: given(&self.q),
            category: given(&self.category).map(|c| c.trim().to_string()),
            priority,
            status,
            due,
            sort,
            // Paging applies only when asked for: the original client pages on its own.
            limit: limit.or(page.map(|_| 20)),
            page,
        })
    }
}

#[utoipa::path(get, path = "/", tag = "tasks", security(("cookie" = []), ("bearer" = [])), params(ListParams), responses((status = 200, body = ApiOk<TaskListData>)))]
async fn list(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Query(params): Query<ListParams>,
) -> AppResult<impl axum::response::IntoResponse> {
    let query = params.parse()?;
    let zone = super::zone_of(&user.timezone);
    let list = super::list(&state.pool, user.id, zone, &query, state.now()).await?;
    Ok(ok(
        "Tasks",
        TaskListData {
            tasks: list.tasks.into_iter().map(TaskJson::from).collect(),
            page: list.page,
            limit: list.limit,
            total: list.total,
        },
    ))
}

#[utoipa::path(post, path = "/", tag = "tasks", security(("cookie" = []), ("bearer" = [])), request_body = super::types::NewTaskInput, responses((status = 201, body = ApiOk<TaskData>), (status = 400, body = crate::error::ErrorBody)))]
async fn create(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    ApiJson(input): ApiJson<TaskInput>,
) -> AppResult<impl axum::response::IntoResponse> {
    let changes = input.parse(super::zone_of(&user.timezone), true)?;
    let task = super::create(&state.pool, user.id, changes, state.now()).await?;
    // Read back: a memory item comes with its first review.
    let details = super::details(&state.pool, user.id, task.id).await?;
    Ok(created("Task created", TaskData::from(details)))
}

#[utoipa::path(get, path = "/{id}", tag = "tasks", security(("cookie" = []), ("bearer" = [])), params(("id" = String, Path, description = "The task id")), responses((status = 200, body = ApiOk<TaskData>), (status = 404, body = crate::error::ErrorBody)))]
async fn show(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<impl axum::response::IntoResponse> {
    let details = super::details(&state.pool, user.id, task_id(&id)?).await?;
    Ok(ok("Task", TaskData::from(details)))
}

#[utoipa::path(put, path = "/{id}", tag = "tasks", security(("cookie" = []), ("bearer" = [])), params(("id" = String, Path, description = "The task id")), request_body = TaskInput, responses((status = 200, body = ApiOk<TaskData>), (status = 404, body = crate::error::ErrorBody)))]
async fn update(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TaskInput>,
) -> AppResult<impl axum::response::IntoResponse> {
    let id = task_id(&id)?;
    let changes = input.parse(super::zone_of(&user.timezone), false)?;
    super::update(&state.pool, user.id, id, changes, state.now()).await?;
    let details = super::details(&state.pool, user.id, id).await?;
    Ok(ok("Task updated", TaskData::from(details)))
}

#[utoipa::path(delete, path = "/{id}", tag = "tasks", security(("cookie" = []), ("bearer" = [])), params(("id" = String, Path, description = "The task id")), responses((status = 200, body = ApiOk<Empty>), (status = 404, body = crate::error::ErrorBody)))]
async fn remove(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<impl axum::response::IntoResponse> {
    super::delete(&state, user.id, task_id(&id)?).await?;
    Ok(ok("Task deleted", Empty {}))
}

#[utoipa::path(get, path = "/{id}/reminders", tag = "tasks", security(("cookie" = []), ("bearer" = [])), params(("id" = String, Path, description = "The task id")), responses((status = 200, body = ApiOk<TaskRemindersData>)))]
async fn reminders(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<impl axum::response::IntoResponse> {
    let details = super::details(&state.pool, user.id, task_id(&id)?).await?;
    let reminders: Vec<ReminderJson> = details
        .reminders
        .into_iter()
        .map(ReminderJson::from)
        .collect();
    Ok(ok("Reminders", TaskRemindersData { reminders }))
}
