//! The task list (search, filters, sort and paging as a GET form whose state lives in the
//! URL), a task's page (details, edit, complete, delete with confirmation) and the full
//! "new task" form. Everything renders on the server; the keyboard shortcuts are an island.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::*;
use crate::{
    components::{layout::SignedInLayout, text::TextArea},
    forms::{Field, FormMessage, FormState, PostForm},
    page::require_me,
    pages::not_found::NotFound,
};

fn options(choices: &[(&'static str, &'static str)], selected: String) -> impl IntoView {
    choices
        .iter()
        .map(|(value, label)| {
            let is = *value == selected;
            view! { <option value=*value selected=is>{*label}</option> }
        })
        .collect_view()
}

const PRIORITIES: [(&str, &str); 3] = [("low", "Low"), ("medium", "Medium"), ("high", "High")];
const STATUSES: [(&str, &str); 3] = [
    ("todo", "To do"),
    ("in-progress", "In progress"),
    ("completed", "Completed"),
];

#[component]
pub fn TasksPage() -> impl IntoView {
    let Some(me) = require_me() else {
        return ().into_any();
    };
    let filters = use_query_map().with_untracked(|q| Filters {
        q: q.get("q").unwrap_or_default(),
        category: q.get("category").unwrap_or_default(),
        priority: q.get("priority").unwrap_or_default(),
        status: q.get("status").unwrap_or_default(),
        due: q.get("due").unwrap_or_default(),
        sort: q.get("sort").unwrap_or_default(),
        page: q.get("page").unwrap_or_default(),
    });
    let data = Resource::new(
        {
            let filters = filters.clone();
            move || filters.clone()
        },
        task_list,
    );
    let quick = FormState::of(form::QUICK_ADD);
    let here = filters.href_for_page(filters.page.parse().unwrap_or(1));
    let return_to = here.clone();
    view! {
        <Title text="Tasks" />
        <SignedInLayout title="Tasks" me=me>
            <section class="panel" aria-labelledby="quick-add-title-label">
                <PostForm action=CreateTask::PATH class="form form--inline quick-add" novalidate=true>
                    <input type="hidden" name="form_id" value=form::QUICK_ADD />
                    <input type="hidden" name="return_to" value=return_to />
                    <FormMessage state=quick.clone() />
                    <div class="quick-add__row">
                        <Field name="title" id="quick-add-title" label="New task" hint="Press q anywhere to come here." state=quick />
                        <button class="button button--primary" type="submit">"Add"</button>
                    </div>
                    <a href="/tasks/new">"More options (description, due date, category…)"</a>
                </PostForm>
            </section>
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || {
                    let filters = filters.clone();
                    let here = here.clone();
                    Suspend::new(async move {
                        match data.await {
                            Ok(data) => view! { <TaskListView data filters here /> }.into_any(),
                            Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </SignedInLayout>
    }
    .into_any()
}

#[component]
fn TaskListView(data: TaskPageData, filters: Filters, here: String) -> impl IntoView {
    let categories = data
        .categories
        .iter()
        .map(|c| {
            let is = *c == filters.category;
            view! { <option value=c.clone() selected=is>{c.clone()}</option> }
        })
        .collect_view();
    let filtered = filters.is_filtered();
    let list = if data.tasks.is_empty() {
        if data.any || filtered {
            view! {
                <div class="empty">
                    <p><strong>"No task matches these filters."</strong></p>
                    <p><a href="/tasks">"Clear the filters"</a>" to see all your tasks."</p>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="empty">
                    <p><strong>"No tasks yet."</strong></p>
                    <p>"Add a topic you want to learn or a thing to do above. Give it a due date and Spacedly reminds you."</p>
                </div>
            }
            .into_any()
        }
    } else {
        let rows = data
            .tasks
            .into_iter()
            .map(|t| view! { <TaskRowView task=t here=here.clone() /> })
            .collect_view();
        view! { <ul class="task-list" id="task-list">{rows}</ul> }.into_any()
    };
    let paging = (data.pages > 1).then(|| {
        let prev = (data.page > 1).then(|| filters.href_for_page(data.page - 1));
        let next = (data.page < data.pages).then(|| filters.href_for_page(data.page + 1));
        view! {
            <nav class="paging" aria-label="Pages">
                {prev.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
                <span>{format!("Page {} of {}", data.page, data.pages)}</span>
                {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
            </nav>
        }
    });
    view! {
        <section class="panel" aria-labelledby="tasks-title">
            <h2 id="tasks-title" class="visually-hidden">"Your tasks"</h2>
            <form method="get" action="/tasks" class="filters" role="search" aria-label="Search and filter tasks">
                <div class="field filters__search">
                    <label for="filter-q">"Search"</label>
                    <input id="filter-q" type="search" name="q" value=filters.q.clone() placeholder="Title or description" />
                </div>
                <div class="field">
                    <label for="filter-category">"Category"</label>
                    <select id="filter-category" name="category">
                        <option value="">"Any"</option>
                        {categories}
                    </select>
                </div>
                <div class="field">
                    <label for="filter-priority">"Priority"</label>
                    <select id="filter-priority" name="priority">
                        <option value="">"Any"</option>
                        {options(&PRIORITIES, filters.priority.clone())}
                    </select>
                </div>
                <div class="field">
                    <label for="filter-status">"Status"</label>
                    <select id="filter-status" name="status">
                        <option value="">"Any"</option>
                        {options(&STATUSES, filters.status.clone())}
                    </select>
                </div>
                <div class="field">
                    <label for="filter-due">"Due"</label>
                    <select id="filter-due" name="due">
                        <option value="">"Any time"</option>
                        {options(&[("overdue", "Overdue"), ("today", "Today"), ("week", "This week")], filters.due.clone())}
                    </select>
                </div>
                <div class="field">
                    <label for="filter-sort">"Sort by"</label>
                    <select id="filter-sort" name="sort">
                        {options(&[("dueDate", "Due date"), ("-createdAt", "Newest"), ("priority", "Priority")], filters.sort.clone())}
                    </select>
                </div>
                <div class="filters__actions">
                    <button class="button" type="submit">"Apply"</button>
                    {filtered.then(|| view! { <a href="/tasks">"Clear"</a> })}
                </div>
            </form>
            <p class="muted" role="status">{format!("{} task{}", data.total, if data.total == 1 { "" } else { "s" })}</p>
            {list}
            {paging}
        </section>
    }
}

#[component]
fn TaskRowView(task: TaskRow, here: String) -> impl IntoView {
    let done = task.status == "completed";
    let (next_status, action_label) = if done {
        ("todo", format!("Re-open {}", task.title))
    } else {
        ("completed", format!("Complete {}", task.title))
    };
    let priority_class = format!("badge badge--{}", task.priority.to_lowercase());
    view! {
        <li class="task-row" class:task-row--done=done data-task-row="">
            <form method="post" action=SetTaskStatus::PATH class="task-row__toggle">
                <input type="hidden" name="id" value=task.id.clone() />
                <input type="hidden" name="status" value=next_status />
                <input type="hidden" name="return_to" value=here />
                <button type="submit" class="check" class:check--on=done aria-label=action_label.clone() title=action_label>
                    <span aria-hidden="true">{if done { "✓" } else { "" }}</span>
                </button>
            </form>
            <div class="task-row__main">
                <a class="task-row__title" href=format!("/tasks/{}", task.id)>{task.title.clone()}</a>
                <div class="task-row__meta">
                    <span class=priority_class>{task.priority.clone()}</span>
                    <span class="badge">{task.category.clone()}</span>
                    {(task.status == "in-progress").then(|| view! { <span class="badge">"In progress"</span> })}
                    {task.due.clone().map(|due| view! {
                        <span class="task-row__due" class:task-row__due--overdue=task.overdue>
                            {if task.overdue { "Overdue: " } else { "Due " }}{due}
                        </span>
                    })}
                    {(task.attachments > 0).then(|| view! { <span class="muted">{format!("{} file(s)", task.attachments)}</span> })}
                </div>
            </div>
        </li>
    }
}

/// The fields shared by the new and edit forms.
#[component]
fn TaskFields(
    state: FormState,
    #[prop(optional)] task: Option<TaskView>,
    categories: Vec<String>,
) -> impl IntoView {
    let value = |name: &str, current: Option<String>| state.value(name).or(current);
    let t = task.clone();
    let description =
        value("description", t.as_ref().map(|t| t.description.clone())).unwrap_or_default();
    let priority = value("priority", t.as_ref().map(|t| t.priority.clone()))
        .unwrap_or_else(|| "medium".into());
    let due_date = value("due_date", t.as_ref().map(|t| t.due_date.clone())).unwrap_or_default();
    let due_time = value("due_time", t.as_ref().map(|t| t.due_time.clone())).unwrap_or_default();
    let description_error = state.field("description");
    let due_error = state.field("due_date");
    let priority_error = state.field("priority");
    let (description_invalid, due_invalid, priority_invalid) = (
        description_error.is_some(),
        due_error.is_some(),
        priority_error.is_some(),
    );
    // On by default for a new topic; a refused form keeps what was ticked.
    let spaced = match state.value("spaced_revision") {
        Some(kept) => kept == "on",
        None => t.as_ref().is_none_or(|t| t.spaced_revision),
    };
    let retention = value(
        "desired_retention",
        t.as_ref().map(|t| t.desired_retention.clone()),
    )
    .unwrap_or_else(|| "0.9".into());
    let know_by = value("know_by", t.as_ref().map(|t| t.know_by.clone())).unwrap_or_default();
    let retention_error = state.field("desired_retention");
    let know_by_error = state.field("know_by");
    let (retention_invalid, know_by_invalid) = (retention_error.is_some(), know_by_error.is_some());
    let mut choices: Vec<(String, String)> = RETENTIONS
        .iter()
        .map(|(v, label)| (v.to_string(), label.to_string()))
        .collect();
    // A value set through the API stays as it is when the form is saved.
    if !choices.iter().any(|(v, _)| *v == retention) {
        choices.push((retention.clone(), format!("{retention} (current)")));
    }
    let retention_options = choices
        .into_iter()
        .map(|(v, label)| {
            let selected = retention == v;
            view! { <option value=v selected=selected>{label}</option> }
        })
        .collect_view();
    let category_list = categories
        .into_iter()
        .map(|c| view! { <option value=c></option> })
        .collect_view();
    view! {
        <Field name="title" id="task-title" label="Title" value=t.as_ref().map(|t| t.title.clone()).unwrap_or_default() required=true state=state.clone() />
        <div class="field" class:field--invalid=description_invalid>
            <label for="task-description">"Description"</label>
            <TextArea
                id="task-description"
                name="description"
                rows=6
                maxlength=5000
                value=description
                invalid=description_invalid
                described_by=description_invalid.then(|| "task-description-error".to_string())
            />
            {description_error.map(|e| view! { <p class="field__error" id="task-description-error" role="alert">{e}</p> })}
        </div>
        <Field name="link" id="task-link" label="Link" kind="url" hint="An http:// or https:// address, optional." value=t.as_ref().map(|t| t.link.clone()).unwrap_or_default() state=state.clone() />
        <div class="form__grid">
            <div class="field" class:field--invalid=state.field("category").is_some()>
                <label for="task-category">"Category"</label>
                <input id="task-category" name="category" list="task-categories" maxlength="50"
                    value=value("category", t.as_ref().map(|t| t.category.clone())).unwrap_or_else(|| "Personal".into()) />
                <datalist id="task-categories">{category_list}</datalist>
                {state.field("category").map(|e| view! { <p class="field__error" role="alert">{e}</p> })}
            </div>
            <div class="field" class:field--invalid=priority_invalid>
                <label for="task-priority">"Priority"</label>
                <select id="task-priority" name="priority">{options(&PRIORITIES, priority)}</select>
                {priority_error.map(|e| view! { <p class="field__error" role="alert">{e}</p> })}
            </div>
            <div class="field" class:field--invalid=due_invalid>
                <label for="task-due-date">"Due date"</label>
                <input id="task-due-date" type="date" name="due_date" value=due_date
                    aria-invalid=due_invalid.then_some("true") />
                {due_error.map(|e| view! { <p class="field__error" role="alert">{e}</p> })}
            </div>
            <div class="field">
                <label for="task-due-time">"Time"</label>
                <input id="task-due-time" type="time" name="due_time" value=due_time />
            </div>
        </div>
        <fieldset class="fieldset">
            <legend>"Spaced repetition"</legend>
            <label class="checkbox">
                <input type="checkbox" name="spaced_revision" value="on" checked=spaced />
                " Review it with spaced repetition"
            </label>
            <p class="muted">"Its first review comes the day after, at your morning hour; each review asks how well you remembered and schedules the next."</p>
            <div class="form__grid">
                <div class="field" class:field--invalid=retention_invalid>
                    <label for="task-retention">"Desired retention"</label>
                    <select id="task-retention" name="desired_retention">{retention_options}</select>
                    <p class="field__hint">"How sure you want to be to remember it; higher means more reviews."</p>
                    {retention_error.map(|e| view! { <p class="field__error" role="alert">{e}</p> })}
                </div>
                <div class="field" class:field--invalid=know_by_invalid>
                    <label for="task-know-by">"Know it by (optional)"</label>
                    <input id="task-know-by" type="date" name="know_by" value=know_by
                        aria-invalid=know_by_invalid.then_some("true") />
                    <p class="field__hint">"An exam date: reviews are never scheduled after it until it has passed."</p>
                    {know_by_error.map(|e| view! { <p class="field__error" role="alert">{e}</p> })}
                </div>
            </div>
        </fieldset>
    }
}

/// The desired retentions offered (the API takes any value from 0.70 to 0.97).
const RETENTIONS: [(&str, &str); 7] = [
    ("0.7", "70 %"),
    ("0.75", "75 %"),
    ("0.8", "80 %"),
    ("0.85", "85 %"),
    ("0.9", "90 % (recommended)"),
    ("0.95", "95 %"),
    ("0.97", "97 %"),
];

#[component]
pub fn NewTaskPage() -> impl IntoView {
    let Some(me) = require_me() else {
        return ().into_any();
    };
    let state = FormState::of(form::NEW);
    let categories = Resource::new(|| (), |_| task_categories());
    view! {
        <Title text="New task" />
        <SignedInLayout title="New task" me=me>
            <section class="panel">
                <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                    {move || {
                        let state = state.clone();
                        Suspend::new(async move {
                            let categories = categories.await.unwrap_or_default();
                            view! {
                                <PostForm action=CreateTask::PATH novalidate=true>
                                    <input type="hidden" name="form_id" value=form::NEW />
                                    <FormMessage state=state.clone() />
                                    <TaskFields state categories />
                                    <div class="form__actions">
                                        <button class="button button--primary" type="submit">"Add task"</button>
                                        <a href="/tasks">"Cancel"</a>
                                    </div>
                                </PostForm>
                            }
                        })
                    }}
                </Suspense>
            </section>
        </SignedInLayout>
    }
    .into_any()
}

#[component]
pub fn TaskPage() -> impl IntoView {
    let Some(me) = require_me() else {
        return ().into_any();
    };
    let id = use_params_map().with_untracked(|p| p.get("id").unwrap_or_default());
    let confirm =
        use_query_map().with_untracked(|q| q.get("confirm").is_some_and(|c| c == "delete"));
    let task = Resource::new(move || id.clone(), task_detail);
    view! {
        <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
            {move || {
                let me = me.clone();
                let email_verified = me.email_verified;
                Suspend::new(async move {
                    match task.await {
                        Ok(Some(task)) => view! {
                            <Title text=task.title.clone() />
                            <SignedInLayout title=task.title.clone() me=me>
                                <TaskDetailView task confirm email_verified />
                            </SignedInLayout>
                        }.into_any(),
                        Ok(None) => view! { <NotFound /> }.into_any(),
                        Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
    .into_any()
}

#[component]
fn TaskDetailView(task: TaskView, confirm: bool, email_verified: bool) -> impl IntoView {
    let state = FormState::of(form::EDIT);
    let page = format!("/tasks/{}", task.id);
    let done = task.status == "completed";
    let status_value = state.value("status").unwrap_or_else(|| task.status.clone());
    let description = (!task.description.is_empty()).then(|| {
        view! { <div class="task-description">{task.description.clone()}</div> }
    });
    let link = (!task.link.is_empty()).then(|| {
        let (href, text) = (task.link.clone(), task.link.clone());
        view! { <p><a href=href rel="noopener noreferrer nofollow" target="_blank">{text}</a></p> }
    });
    let attachments = if task.attachments.is_empty() {
        view! { <p class="muted">"No files yet."</p> }.into_any()
    } else {
        let items = task.attachments
            .iter()
            .map(|a| {
                let url = format!("/api/attachments/{}", a.id);
                view! {
                    <li class="attachment">
                        {a.is_image.then(|| view! { <img src=url.clone() alt=a.name.clone() loading="lazy" class="attachment__preview" /> })}
                        <a href=url.clone()>{a.name.clone()}</a>
                        <span class="muted">{format!(" {} · {}", a.content_type, a.size)}</span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="attachments">{items}</ul> }.into_any()
    };
    let categories = task.categories.clone();
    let (id_status, id_edit, id_delete) = (task.id.clone(), task.id.clone(), task.id.clone());
    let delete_question = format!(
        "Delete “{}” and its files? This cannot be undone.",
        task.title
    );
    let (page_status, page_keep, confirm_href) = (
        page.clone(),
        page.clone(),
        format!("{page}?confirm=delete#delete"),
    );
    view! {
        <section class="panel task-detail">
            <p class="task-detail__meta">
                <span class=format!("badge badge--{}", task.priority)>{task.priority_label.clone()}</span>
                <span class="badge">{task.category.clone()}</span>
                <span class="badge">{task.status_label.clone()}</span>
                {task.due.clone().map(|d| view! {
                    <span class="task-row__due" class:task-row__due--overdue=task.overdue>
                        {if task.overdue { "Overdue: " } else { "Due " }}{d}
                    </span>
                })}
                {task.completed.clone().map(|c| view! { <span class="muted">" Completed "{c}</span> })}
            </p>
            {description}
            {link}
            <form method="post" action=SetTaskStatus::PATH class="form form--inline">
                <input type="hidden" name="id" value=id_status />
                <input type="hidden" name="status" value=if done { "todo" } else { "completed" } />
                <input type="hidden" name="return_to" value=page_status />
                <button class="button button--primary" type="submit">{if done { "Re-open" } else { "Mark as completed" }}</button>
            </form>
        </section>
        {task.spaced_revision.then(|| view! { <crate::revision::TaskRecallPanel id=task.id.clone() /> })}
        <section class="panel" id="files" aria-labelledby="files-title">
            <h2 id="files-title">"Files"</h2>
            <FormMessage state=FormState::of("upload") />
            {FormState::of("upload")
                .field("files")
                .map(|e| view! { <p class="field__error" role="alert">{e}</p> })}
            {attachments}
            <super::upload::UploadForm task_id=task.id.clone() />
        </section>
        <section class="panel" id="reminders" aria-labelledby="reminders-title">
            <h2 id="reminders-title">"Reminders"</h2>
            <crate::reminders::RemindersPanel task_id=task.id.clone() reminders=task.reminders.clone() email_verified />
        </section>
        <section class="panel" id="edit" aria-labelledby="edit-title">
            <h2 id="edit-title">"Edit"</h2>
            <PostForm action=UpdateTask::PATH novalidate=true>
                <input type="hidden" name="id" value=id_edit />
                <FormMessage state=state.clone() />
                <TaskFields state=state.clone() task=task.clone() categories />
                <div class="field">
                    <label for="task-status">"Status"</label>
                    <select id="task-status" name="status">{options(&STATUSES, status_value)}</select>
                </div>
                <button class="button button--primary" type="submit">"Save changes"</button>
            </PostForm>
        </section>
        <section class="panel" id="delete" aria-labelledby="delete-title">
            <h2 id="delete-title">"Delete"</h2>
            {if confirm {
                view! {
                    <div class="confirm" role="alertdialog" aria-labelledby="confirm-text">
                        <p id="confirm-text"><strong>{delete_question}</strong></p>
                        <PostForm action=DeleteTask::PATH class="form form--inline">
                            <input type="hidden" name="id" value=id_delete />
                            <button class="button button--danger" type="submit">"Yes, delete it"</button>
                            <a href=page_keep>"Keep it"</a>
                        </PostForm>
                    </div>
                }.into_any()
            } else {
                view! {
                    <p><a class="button button--danger" href=confirm_href>"Delete this task…"</a></p>
                }.into_any()
            }}
        </section>
    }
}
