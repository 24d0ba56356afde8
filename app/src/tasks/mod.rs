//! Tasks in the browser: the server functions (thin adapters over `spacedly_server::tasks`)
//! and the pages in `pages`. Forms post here and come back with their outcome.

pub mod pages;
pub mod upload;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use spacedly_server::{auth::User, AppState};

/// A task as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRow {
    pub id: String,
    pub title: String,
    pub category: String,
    pub priority: String,
    pub status: String,
    pub status_label: String,
    pub due: Option<String>,
    pub overdue: bool,
    pub attachments: usize,
    pub reminders: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskPageData {
    pub tasks: Vec<TaskRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// Whether the user has any task at all (for the empty state).
    pub any: bool,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentView {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: String,
    pub is_image: bool,
}

pub use crate::reminders::ReminderView;

/// One task, for its page and its edit form (dates in the user's time zone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub link: String,
    pub category: String,
    /// The form's value (`high`).
    pub priority: String,
    /// What the page shows (`High`, as the list does).
    pub priority_label: String,
    pub status: String,
    pub status_label: String,
    pub due: Option<String>,
    pub due_date: String,
    pub due_time: String,
    pub overdue: bool,
    pub completed: Option<String>,
    pub created: String,
    pub spaced_revision: bool,
    /// "0.9" (as stored).
    pub desired_retention: String,
    /// YYYY-MM-DD or "".
    pub know_by: String,
    pub attachments: Vec<AttachmentView>,
    pub reminders: Vec<ReminderView>,
    pub categories: Vec<String>,
}

/// Form ids of the task pages.
pub mod form {
    pub const QUICK_ADD: &str = "task-quick-add";
    pub const NEW: &str = "task-new";
    pub const EDIT: &str = "task-edit";
    pub const ROW: &str = "task-row";
    pub const DELETE: &str = "task-delete";
}

/// The list page size.
pub const PAGE_SIZE: i64 = 50;

/// The list's query string, as the GET form sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    pub q: String,
    pub category: String,
    pub priority: String,
    pub status: String,
    pub due: String,
    pub sort: String,
    pub page: String,
}

impl Filters {
    pub fn is_filtered(&self) -> bool {
        [
            &self.q,
            &self.category,
            &self.priority,
            &self.status,
            &self.due,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }

    /// This list's URL with another page.
    pub fn href_for_page(&self, page: i64) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("q", &self.q),
            ("category", &self.category),
            ("priority", &self.priority),
            ("status", &self.status),
            ("due", &self.due),
            ("sort", &self.sort),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect();
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        if pairs.is_empty() {
            return "/tasks".into();
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("/tasks?{query}")
    }
}

#[cfg(feature = "ssr")]
mod backend {
    use chrono::{DateTime, Utc};
    use chrono_tz::Tz;
    use spacedly_server::tasks::{self, TaskDetails};

    use super::*;

    pub fn when(at: DateTime<Utc>, zone: Tz) -> String {
        at.with_timezone(&zone)
            .format("%a %-d %b %Y, %H:%M")
            .to_string()
    }

    pub fn size(bytes: i64) -> String {
        match bytes {
            b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / 1024.0 / 1024.0),
            b if b >= 1024 => format!("{} KB", b / 1024),
            b => format!("{b} bytes"),
        }
    }

    pub fn row(d: &TaskDetails, zone: Tz, now: DateTime<Utc>) -> TaskRow {
        let t = &d.task;
        TaskRow {
            id: t.id.to_string(),
            title: t.title.clone(),
            category: t.category.clone(),
            priority: t.priority.label().into(),
            status: t.status().as_str().into(),
            status_label: t.status().label().into(),
            due: t.due_at.map(|at| when(at, zone)),
            overdue: t.is_overdue(now),
            attachments: d.attachments.len(),
            reminders: d.reminders.len(),
        }
    }

    pub fn view(d: TaskDetails, zone: Tz, now: DateTime<Utc>, categories: Vec<String>) -> TaskView {
        let t = &d.task;
        let local_due = t.due_at.map(|at| at.with_timezone(&zone));
        TaskView {
            id: t.id.to_string(),
            title: t.title.clone(),
            description: t.description.clone(),
            link: t.link.clone(),
            category: t.category.clone(),
            priority: t.priority().as_str().into(),
            priority_label: t.priority().label().into(),
            status: t.status().as_str().into(),
            status_label: t.status().label().into(),
            due: t.due_at.map(|at| when(at, zone)),
            due_date: local_due
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            due_time: local_due
                .map(|d| d.format("%H:%M").to_string())
                .unwrap_or_default(),
            overdue: t.is_overdue(now),
            completed: t.completed_at.map(|at| when(at, zone)),
            created: when(t.created_at, zone),
            spaced_revision: t.spaced_revision,
            desired_retention: t.desired_retention.to_string(),
            know_by: t.know_by.map(|d| d.to_string()).unwrap_or_default(),
            attachments: d
                .attachments
                .iter()
                .map(|a| AttachmentView {
                    id: a.id.to_string(),
                    name: a.original_name.clone(),
                    content_type: a.content_type.to_string(),
                    size: size(a.size),
                    is_image: a.content_type.starts_with("image/"),
                })
                .collect(),
            reminders: d
                .reminders
                .iter()
                .map(|r| crate::reminders::backend::view(r, zone))
                .collect(),
            categories,
        }
    }

    /// The form's due day and time as one ISO 8601 local value.
    pub fn due_value(date: &str, time: &str) -> String {
        match (date.trim(), time.trim()) {
            ("", _) => String::new(),
            (d, "") => d.to_string(),
            (d, t) => format!("{d}T{t}"),
        }
    }

    /// API field names to form field names, for errors shown under fields.
    pub fn form_field(name: &str) -> String {
        match name {
            "dueDate" => "due_date".into(),
            "desiredRetention" => "desired_retention".into(),
            "knowBy" => "know_by".into(),
            other => other.into(),
        }
    }

    pub fn zone(user: &spacedly_server::auth::User) -> Tz {
        tasks::zone_of(&user.timezone)
    }
}

#[server(prefix = "/_sf", endpoint = "tasks/list")]
pub async fn task_list(filters: Filters) -> Result<TaskPageData, ServerFnError> {
    use spacedly_server::tasks::{self, api::ListParams};
    let state = crate::forms::state()?;
    let user = crate::forms::require_user().await?;
    let zone = backend::zone(&user);
    let now = state.now();
    let given = |v: &String| (!v.trim().is_empty()).then(|| v.clone());
    let params = ListParams {
        q: given(&filters.q),
        category: given(&filters.category),
        priority: given(&filters.priority),
        status: given(&filters.status),
        due: given(&filters.due),
        sort: given(&filters.sort),
        page: Some(given(&filters.page).unwrap_or_else(|| "1".into())),
        limit: Some(PAGE_SIZE.to_string()),
    };
    // A hand-edited URL with a bad value lists everything rather than failing the page.
    let query = params.parse().unwrap_or_else(|_| tasks::ListQuery {
        limit: Some(PAGE_SIZE),
        ..Default::default()
    });
    let list = tasks::list(&state.pool, user.id, zone, &query, now)
        .await
        .map_err(crate::forms::internal)?;
    let categories = tasks::categories(&state.pool, user.id)
        .await
        .map_err(crate::forms::internal)?;
    // Whether the user has any task at all decides between "add your first" and "no match".
    let any = list.total > 0
        || (filters.is_filtered()
            && tasks::count(&state.pool, user.id)
                .await
                .map_err(crate::forms::internal)?
                > 0);
    Ok(TaskPageData {
        tasks: list
            .tasks
            .iter()
            .map(|d| backend::row(d, zone, now))
            .collect(),
        total: list.total,
        page: list.page,
        pages: ((list.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        any,
        categories,
    })
}

/// One task for its page; `None` when it is not the user's (the page then shows 404).
#[server(prefix = "/_sf", endpoint = "tasks/detail")]
pub async fn task_detail(id: String) -> Result<Option<TaskView>, ServerFnError> {
    use spacedly_server::{tasks, AppError};
    let state = crate::forms::state()?;
    let user = crate::forms::require_user().await?;
    let Ok(id) = id.parse() else {
        return Ok(None);
    };
    match tasks::details(&state.pool, user.id, id).await {
        Ok(details) => {
            let categories = tasks::categories(&state.pool, user.id)
                .await
                .map_err(crate::forms::internal)?;
            Ok(Some(backend::view(
                details,
                backend::zone(&user),
                state.now(),
                categories,
            )))
        }
        Err(AppError::NotFound) => Ok(None),
        Err(e) => Err(crate::forms::internal(e)),
    }
}

/// The categories offered by the task forms.
#[server(prefix = "/_sf", endpoint = "tasks/categories")]
pub async fn task_categories() -> Result<Vec<String>, ServerFnError> {
    let state = crate::forms::state()?;
    let user = crate::forms::require_user().await?;
    spacedly_server::tasks::categories(&state.pool, user.id)
        .await
        .map_err(crate::forms::internal)
}

/// Where to go after a task form: a path on this site, or the default.
#[cfg(feature = "ssr")]
fn back_to(return_to: &Option<String>, default: &str) -> String {
    return_to
        .as_deref()
        .and_then(spacedly_server::http::redirect::safe_local_path)
        .unwrap_or_else(|| default.to_string())
}

/// The fields of the new-task and edit forms, as posted (the new-task form has no status).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TaskFields {
    title: String,
    description: Option<String>,
    link: Option<String>,
    category: Option<String>,
    priority: Option<String>,
    status: Option<String>,
    due_date: Option<String>,
    due_time: Option<String>,
    /// The checkbox: present when ticked.
    spaced_revision: Option<String>,
    /// 0.70 to 0.97 (a select; absent from the quick-add form).
    desired_retention: Option<String>,
    /// YYYY-MM-DD or empty (absent from the quick-add form).
    know_by: Option<String>,
}

#[cfg(feature = "ssr")]
impl TaskFields {
    /// As the API takes them: every field the form shows is set (an empty one clears it).
    fn input(&self) -> spacedly_server::tasks::TaskInput {
        let due = backend::due_value(
            self.due_date.as_deref().unwrap_or_default(),
            self.due_time.as_deref().unwrap_or_default(),
        );
        spacedly_server::tasks::TaskInput {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            link: Some(self.link.clone()),
            category: Some(self.category.clone()),
            priority: self.priority.clone().filter(|p| !p.is_empty()),
            status: self.status.clone().filter(|s| !s.is_empty()),
            due_date: Some(Some(due)),
            spaced_revision: Some(self.spaced_revision.is_some()),
            // Not a number: out of range, so refused with the field's message.
            desired_retention: self
                .desired_retention
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| r.parse().unwrap_or(f64::NAN)),
            know_by: self.know_by.clone().map(Some),
        }
    }

    /// A refused form: the errors under the form's field names, and what was typed kept.
    fn refused(&self, outcome: crate::forms::Outcome) -> crate::forms::Outcome {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        with_form_fields(outcome).keep(&[
            ("title", &self.title),
            ("description", &text(&self.description)),
            ("link", &text(&self.link)),
            ("category", &text(&self.category)),
            ("priority", &text(&self.priority)),
            ("status", &text(&self.status)),
            ("due_date", &text(&self.due_date)),
            ("due_time", &text(&self.due_time)),
            (
                "spaced_revision",
                if self.spaced_revision.is_some() {
                    "on"
                } else {
                    "off"
                },
            ),
            ("desired_retention", &text(&self.desired_retention)),
            ("know_by", &text(&self.know_by)),
        ])
    }
}

#[server(prefix = "/_sf", endpoint = "tasks/create")]
pub async fn create_task(
    #[server(flatten)] fields: TaskFields,
    return_to: Option<String>,
    form_id: Option<String>,
    nonce: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    let quick = form_id.as_deref() == Some(form::QUICK_ADD);
    let form_id = if quick { form::QUICK_ADD } else { form::NEW };
    let back = back_to(&return_to, "/tasks/new");
    let user = crate::forms::require_user().await?;
    crate::forms::submit(nonce, async move {
        let state = crate::forms::state()?;
        let created = match fields.input().parse(backend::zone(&user), true) {
            Ok(changes) => {
                spacedly_server::tasks::create(&state.pool, user.id, changes, state.now()).await
            }
            Err(e) => Err(e),
        };
        Ok(match created {
            Ok(task) => {
                let to = if quick {
                    back
                } else {
                    format!("/tasks/{}", task.id)
                };
                Outcome::ok(to, "", format!("Task “{}” added.", task.title))
            }
            Err(e) => fields.refused(Outcome::error(back, form_id, e)),
        })
    })
    .await
}

/// Renames API field names in an outcome's errors to the form's field names.
#[cfg(feature = "ssr")]
fn with_form_fields(outcome: crate::forms::Outcome) -> crate::forms::Outcome {
    outcome.rename_fields(backend::form_field)
}

#[server(prefix = "/_sf", endpoint = "tasks/update")]
pub async fn update_task(
    id: String,
    #[server(flatten)] fields: TaskFields,
) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    use spacedly_server::tasks;
    let user = crate::forms::require_user().await?;
    crate::forms::submit(None, async move {
        let state = crate::forms::state()?;
        let Ok(task_id) = id.parse() else {
            return Ok(Outcome::failed("/tasks", "", "That task does not exist."));
        };
        let page = format!("/tasks/{task_id}");
        let updated = match fields.input().parse(backend::zone(&user), false) {
            Ok(changes) => tasks::update(&state.pool, user.id, task_id, changes, state.now()).await,
            Err(e) => Err(e),
        };
        Ok(match updated {
            Ok(_) => Outcome::ok(page, form::EDIT, "Saved."),
            // Not one of the user's tasks: its page would be a 404.
            Err(e @ spacedly_server::error::AppError::NotFound) => Outcome::error("/tasks", "", e),
            Err(e) => fields.refused(Outcome::error(page, form::EDIT, e)),
        })
    })
    .await
}

/// Completes or re-opens a task from the list or its page.
#[server(prefix = "/_sf", endpoint = "tasks/status")]
pub async fn set_task_status(
    id: String,
    status: String,
    return_to: Option<String>,
) -> Result<(), ServerFnError> {
    use spacedly_server::tasks;
    let work = |state: AppState, user: User| async move {
        let (id, status) = (tasks::parse_form_id(&id)?, tasks::parse_status(&status)?);
        tasks::set_status(&state.pool, user.id, id, status, state.now()).await
    };
    let done = |t: tasks::Task| format!("“{}” is {}.", t.title, status_word(t.status()));
    crate::forms::act(None, (back_to(&return_to, "/tasks"), ""), &[], work, done).await
}

/// How the message after a status change names the new status.
#[cfg(feature = "ssr")]
fn status_word(status: spacedly_server::tasks::Status) -> &'static str {
    match status {
        spacedly_server::tasks::Status::Completed => "completed",
        _ => "open again",
    }
}

#[server(prefix = "/_sf", endpoint = "tasks/delete")]
pub async fn delete_task(id: String) -> Result<(), ServerFnError> {
    use spacedly_server::tasks;
    let work = |state: AppState, user: User| async move {
        tasks::delete(&state, user.id, tasks::parse_form_id(&id)?).await
    };
    let done = |()| "Task deleted, with its files.".to_string();
    crate::forms::act(None, ("/tasks".into(), ""), &[], work, done).await
}

#[cfg(test)]
mod tests {
    use super::Filters;

    #[test]
    fn page_links_keep_the_filters_encoded() {
        let filters = Filters {
            q: "a b&c=d".into(),
            status: "todo".into(),
            ..Filters::default()
        };
        assert_eq!(
            filters.href_for_page(2),
            "/tasks?q=a+b%26c%3Dd&status=todo&page=2"
        );
        assert_eq!(filters.href_for_page(1), "/tasks?q=a+b%26c%3Dd&status=todo");
        assert_eq!(Filters::default().href_for_page(1), "/tasks");
    }
}
