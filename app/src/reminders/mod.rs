//! Reminders in the browser: the task page's panel (each reminder with complete, skip, delete
//! and a new time; a form to add one) and the server functions behind it, thin adapters over
//! `spacedly_server::reminders`. Every form posts and comes back to the task page
//! (Post/Redirect/Get), with or without JavaScript.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

use crate::forms::{FormMessage, FormState, PostForm};

/// Form ids of the panel.
pub mod form {
    pub const ADD: &str = "reminder-add";
    pub const ITEM: &str = "reminder";
}

/// One reminder as the task page shows it (times in the user's time zone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReminderView {
    pub id: String,
    pub at: String,
    /// The reschedule form's values.
    pub date: String,
    pub time: String,
    /// email, push or both.
    pub channel: String,
    /// pending, completed, skipped or failed.
    pub status: String,
    pub message: String,
    /// When it was delivered, if it was.
    pub sent: Option<String>,
    pub review: bool,
}

/// How the page names a channel.
fn channel_label(channel: &str) -> &'static str {
    match channel {
        "push" => "In the app",
        "both" => "Email and in the app",
        _ => "Email",
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "completed" => "Completed",
        "skipped" => "Skipped",
        "failed" => "Could not be emailed",
        _ => "Pending",
    }
}

/// The reminders of a task and the form to add one.
#[component]
pub fn RemindersPanel(
    task_id: String,
    reminders: Vec<ReminderView>,
    /// Whether the user's address is confirmed (emails wait for it).
    email_verified: bool,
) -> impl IntoView {
    let add = FormState::of(form::ADD);
    let value = |name: &str, default: &str| add.value(name).unwrap_or_else(|| default.into());
    let channel = value("channel", "both");
    let (date, time, message) = (
        value("date", ""),
        value("time", "09:00"),
        value("message", ""),
    );
    let list = if reminders.is_empty() {
        view! { <p class="muted">"No reminders yet."</p> }.into_any()
    } else {
        let items = reminders
            .into_iter()
            .map(|r| view! { <ReminderItem task_id=task_id.clone() reminder=r /> })
            .collect_view();
        view! { <ul class="reminders">{items}</ul> }.into_any()
    };
    let error = |name: &str| {
        add.field(name)
            .map(|e| view! { <p class="field__error" role="alert">{e}</p> })
    };
    let (date_error, channel_error, message_error) =
        (error("date"), error("channel"), error("message"));
    let (date_invalid, message_invalid) = (date_error.is_some(), message_error.is_some());
    let options = ["email", "push", "both"].map(|c| {
        view! { <option value=c selected=channel == c>{channel_label(c)}</option> }
    });
    view! {
        <FormMessage state=FormState::of(form::ITEM) />
        {list}
        {(!email_verified).then(|| view! {
            <p class="muted">"Email reminders wait for your confirmed address: until then they arrive in the app only."</p>
        })}
        <h3>"Add a reminder"</h3>
        <PostForm action=AddReminder::PATH class="form reminder-form" novalidate=true>
            <FormMessage state=add.clone() />
            <input type="hidden" name="task_id" value=task_id.clone() />
            <div class="form__grid">
                <div class="field" class:field--invalid=date_invalid>
                    <label for="reminder-date">"Day"</label>
                    <input id="reminder-date" type="date" name="date" required value=date />
                    {date_error}
                </div>
                <div class="field">
                    <label for="reminder-time">"Time"</label>
                    <input id="reminder-time" type="time" name="time" required value=time />
                </div>
                <div class="field">
                    <label for="reminder-channel">"How"</label>
                    <select id="reminder-channel" name="channel">{options}</select>
                    {channel_error}
                </div>
            </div>
            <div class="field" class:field--invalid=message_invalid>
                <label for="reminder-message">"Message (optional)"</label>
                <textarea id="reminder-message" name="message" maxlength="500" rows="2">{message}</textarea>
                {message_error}
            </div>
            <button class="button button--primary" type="submit">"Add reminder"</button>
        </PostForm>
    }
}

/// One reminder: what and when, and its actions.
#[component]
fn ReminderItem(task_id: String, reminder: ReminderView) -> impl IntoView {
    let r = reminder;
    let pending = r.status == "pending";
    let (id, task) = (r.id.clone(), task_id.clone());
    let action = move |act: &'static str, label: &'static str, class: &'static str| {
        let (id, task) = (id.clone(), task.clone());
        view! {
            <PostForm action=SetReminder::PATH class="form form--inline">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="task_id" value=task />
                <input type="hidden" name="action" value=act />
                <button class=class type="submit">{label}</button>
            </PostForm>
        }
    };
    let actions = if r.review {
        // Answered by a rating; the Review page has it when it is due.
        pending
            .then(|| view! { <a class="button button--small" href="/review">"Review"</a> })
            .into_any()
    } else if pending {
        let (done, skip) = (
            action("complete", "Done", "button button--small"),
            action("skip", "Skip", "button button--small"),
        );
        view! { {done} {skip} }.into_any()
    } else {
        action("reopen", "Back to pending", "button button--small").into_any()
    };
    let delete = (!(r.review && pending))
        .then(|| action("delete", "Delete", "button button--small button--danger"));
    let time_id = format!("reminder-{}-time", r.id);
    let date_id = format!("reminder-{}-date", r.id);
    view! {
        <li class="reminder" class:reminder--failed=r.status == "failed">
            <p>
                <strong>{r.at.clone()}</strong>
                " · "{channel_label(&r.channel)}
                " · "<span class=format!("badge badge--{}", r.status)>{status_label(&r.status)}</span>
                {r.review.then_some(" · review")}
                {r.sent.clone().map(|s| view! { <span class="muted">" · sent "{s}</span> })}
            </p>
            {(!r.message.is_empty()).then(|| view! { <p class="reminder__message">{r.message.clone()}</p> })}
            <div class="reminder__actions">
                {actions}
                {delete}
                <PostForm action=RescheduleReminder::PATH class="form form--inline">
                    <input type="hidden" name="id" value=r.id.clone() />
                    <input type="hidden" name="task_id" value=task_id.clone() />
                    <label class="visually-hidden" for=date_id.clone()>"New day"</label>
                    <input id=date_id type="date" name="date" required value=r.date.clone() />
                    <label class="visually-hidden" for=time_id.clone()>"New time"</label>
                    <input id=time_id type="time" name="time" required value=r.time.clone() />
                    <button class="button button--small" type="submit">"Move"</button>
                </PostForm>
            </div>
        </li>
    }
}

#[cfg(feature = "ssr")]
pub mod backend {
    use chrono::{DateTime, Utc};
    use chrono_tz::Tz;
    use spacedly_server::reminders::{Kind, Reminder};

    use super::ReminderView;

    /// A reminder for the page, in `zone`.
    pub fn view(r: &Reminder, zone: Tz) -> ReminderView {
        let local = r.scheduled_at.with_timezone(&zone);
        let when = |at: DateTime<Utc>| {
            at.with_timezone(&zone)
                .format("%a %-d %b %Y, %H:%M")
                .to_string()
        };
        ReminderView {
            id: r.id.to_string(),
            at: when(r.scheduled_at),
            date: local.format("%Y-%m-%d").to_string(),
            time: local.format("%H:%M").to_string(),
            channel: r.channel.as_str().into(),
            status: r.status.as_str().into(),
            message: r.message.clone(),
            sent: r.sent_at.map(when),
            review: r.kind == Kind::Review,
        }
    }

    /// The page a reminder form comes back to.
    pub fn page(task_id: &str) -> String {
        match task_id.parse::<uuid::Uuid>() {
            Ok(id) => format!("/tasks/{id}#reminders"),
            Err(_) => "/tasks".into(),
        }
    }

    /// API field names to the add form's.
    pub fn form_field(name: &str) -> String {
        match name {
            "scheduledAt" => "date".into(),
            "type" => "channel".into(),
            other => other.into(),
        }
    }
}

/// Adds a reminder to a task.
#[server(prefix = "/_sf", endpoint = "reminders/add")]
pub async fn add_reminder(
    task_id: String,
    date: String,
    time: String,
    channel: Option<String>,
    message: Option<String>,
    nonce: Option<String>,
) -> Result<(), ServerFnError> {
    use spacedly_server::reminders::{self, Kind, ReminderInput};
    let page = backend::page(&task_id);
    let keep = [("date", date.clone()), ("time", time.clone())]
        .into_iter()
        .chain(channel.clone().map(|c| ("channel", c)))
        .chain(message.clone().map(|m| ("message", m)))
        .collect::<Vec<_>>();
    let input = ReminderInput {
        task_id: Some(task_id),
        scheduled_at: Some(format!("{}T{}", date.trim(), time.trim())),
        channel,
        message,
        status: None,
    };
    let user = crate::forms::require_user().await?;
    crate::forms::submit(nonce, async move {
        let state = crate::forms::state()?;
        let zone = spacedly_server::tasks::zone_of(&user.timezone);
        let result = match input.parse(zone, true) {
            Ok(changes) => reminders::create(&state, user.id, changes, Kind::Manual).await,
            Err(e) => Err(e),
        };
        let failed = result.is_err();
        let outcome =
            crate::forms::Outcome::of(result, page, form::ADD, |_| "Reminder added.".into())
                .rename_fields(backend::form_field);
        let keep: Vec<(&str, &str)> = keep.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Ok(if failed { outcome.keep(&keep) } else { outcome })
    })
    .await
}

/// Completes, skips, re-opens or deletes a reminder.
#[server(prefix = "/_sf", endpoint = "reminders/set")]
pub async fn set_reminder(
    id: String,
    task_id: String,
    action: String,
    back: Option<String>,
    nonce: Option<String>,
) -> Result<(), ServerFnError> {
    use spacedly_server::reminders::{self, Changes, Status};
    let work = |state: spacedly_server::AppState, user: spacedly_server::auth::User| async move {
        let id = reminders::parse_id(&id)?;
        let status = match action.as_str() {
            "delete" => {
                return reminders::delete(&state, user.id, id)
                    .await
                    .map(|()| "Reminder deleted.")
            }
            "complete" => (Status::Completed, "Reminder done."),
            "skip" => (Status::Skipped, "Reminder skipped."),
            "reopen" => (Status::Pending, "Reminder pending again."),
            _ => {
                return Err(spacedly_server::AppError::BadRequest(
                    "Unknown action".into(),
                ))
            }
        };
        let changes = Changes {
            status: Some(status.0),
            ..Default::default()
        };
        reminders::update(&state, user.id, id, changes)
            .await
            .map(|_| status.1)
    };
    // The calendar's buttons come back to the calendar page they were on.
    let page = back
        .as_deref()
        .and_then(spacedly_server::http::redirect::safe_local_path)
        .filter(|p| p.starts_with("/calendar?") || p == "/calendar")
        .unwrap_or_else(|| backend::page(&task_id));
    crate::forms::act(nonce, (page, form::ITEM), &[], work, str::to_string).await
}

/// Moves a reminder to a new day and time.
#[server(prefix = "/_sf", endpoint = "reminders/reschedule")]
pub async fn reschedule_reminder(
    id: String,
    task_id: String,
    date: String,
    time: String,
    nonce: Option<String>,
) -> Result<(), ServerFnError> {
    use spacedly_server::reminders::{self, ReminderInput};
    let work = |state: spacedly_server::AppState, user: spacedly_server::auth::User| async move {
        let input = ReminderInput {
            scheduled_at: Some(format!("{}T{}", date.trim(), time.trim())),
            ..Default::default()
        };
        let changes = input.parse(spacedly_server::tasks::zone_of(&user.timezone), false)?;
        reminders::update(&state, user.id, reminders::parse_id(&id)?, changes).await
    };
    let page = (backend::page(&task_id), form::ITEM);
    crate::forms::act(nonce, page, &[], work, |_| "Reminder moved.".into()).await
}
