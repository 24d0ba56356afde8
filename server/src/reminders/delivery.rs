//! Delivering a reminder when it comes due: one in-app notification (channel push or both, or
//! email to an address not yet confirmed) and one email (channel email or both, to a confirmed
//! address), through a job of the queue that runs at the reminder's time on whichever instance
//! is free.
//!
//! No duplicates: the job is keyed by the reminder and its time (one per time), and the run
//! locks the reminder row while it works. The notification is made and recorded
//! (`notified_at`) in one transaction, so it is never made twice; the email is sent while the
//! row is locked and recorded (`sent_at`) right after, so only a crash between the send and
//! that commit can repeat it, and the repeat carries the same Message-ID. A second run that
//! finds the row locked leaves it to the first. SMTP failures are retried with the queue's
//! backoff; after the last try the reminder is `failed` and the user is told in the app.

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Channel, Kind};
use crate::{
    jobs::{self, Job, Schedule},
    notifications::{self, NewNotification},
    state::Services,
};

/// The job that delivers reminder `id` for the time it had when it was armed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeliverReminder {
    pub id: Uuid,
    pub scheduled_at: DateTime<Utc>,
}

impl Job for DeliverReminder {
    const QUEUE: &'static str = "reminder";
    /// 30 s, 1, 2, 4 and 8 min apart: about a quarter of an hour of SMTP trouble is ridden out.
    const MAX_ATTEMPTS: usize = 6;
    const CONCURRENCY: usize = 8;

    async fn run(self, state: Services, _attempt: usize) -> anyhow::Result<()> {
        deliver(&state, &self).await
    }

    async fn gave_up(self, state: Services) -> anyhow::Result<()> {
        give_up(&state, &self).await
    }
}

/// The job's key: the reminder at this time (to the microsecond, as stored).
fn key(id: Uuid, at: DateTime<Utc>) -> String {
    format!("reminder:{id}:{}", at.timestamp_micros())
}

/// Arms delivery of reminder `id` at `at`, in the caller's transaction.
pub async fn arm(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> anyhow::Result<()> {
    let job = DeliverReminder {
        id,
        scheduled_at: at,
    };
    jobs::enqueue(conn, &job, Schedule::at(at).key(key(id, at))).await?;
    Ok(())
}

/// Cancels the delivery of reminder `id` armed for `at`, if it has not run yet.
pub async fn disarm(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> sqlx::Result<()> {
    jobs::cancel::<DeliverReminder>(conn, &key(id, at)).await?;
    Ok(())
}

/// What delivery needs to know, read with the reminder row locked.
struct Due {
    user_id: Uuid,
    task_id: Uuid,
    kind: Kind,
    channel: Channel,
    message: String,
    notified: bool,
    title: String,
    task_due_at: Option<DateTime<Utc>>,
    name: String,
    email: String,
    email_verified: bool,
    timezone: String,
}

/// Locks the reminder for this job, if it is still to be delivered (same time, pending, not
/// sent) and no other run holds it.
async fn lock(conn: &mut PgConnection, job: &DeliverReminder) -> sqlx::Result<Option<Due>> {
    sqlx::query_as!(
        Due,
        r#"SELECT r.user_id, r.task_id, r.kind AS "kind: Kind", r.channel AS "channel: Channel",
                  r.message, r.notified_at IS NOT NULL AS "notified!", t.title, t.due_at AS task_due_at,
                  u.name, u.email, u.email_verified, u.timezone
             FROM reminders r
             JOIN tasks t ON t.id = r.task_id
             JOIN users u ON u.id = r.user_id
            WHERE r.id = $1 AND r.scheduled_at = $2 AND r.status = 'pending' AND r.sent_at IS NULL
              FOR UPDATE OF r SKIP LOCKED"#,
        job.id,
        job.scheduled_at,
    )
    .fetch_optional(conn)
    .await
}

/// Delivers one reminder (see the module's comment).
pub async fn deliver(state: &Services, job: &DeliverReminder) -> anyhow::Result<()> {
    let now = state.now();
    let mut tx = state.pool.begin().await?;
    let Some(due) = lock(&mut tx, job).await? else {
        return Ok(());
    };
    let email = due.channel.emails() && due.email_verified;
    // The app tells of the reminder when the channel says so, and in place of an email that
    // cannot go to an unconfirmed address.
    if !due.notified && (due.channel.notifies() || !email) {
        notify(&mut tx, &due, now).await?;
        sqlx::query!(
            "UPDATE reminders SET notified_at = $2 WHERE id = $1",
            job.id,
            now
        )
        .execute(&mut *tx)
        .await?;
    }
    if !email {
        mark_sent(&mut tx, job.id, now).await?;
        tx.commit().await?;
        return Ok(());
    }
    // The notification stands even while the email is retried.
    tx.commit().await?;
    let mut tx = state.pool.begin().await?;
    let Some(due) = lock(&mut tx, job).await? else {
        return Ok(());
    };
    let message = render(state, job, &due)?;
    state.mailer.send(&message).await?;
    mark_sent(&mut tx, job.id, state.now()).await?;
    tx.commit().await?;
    Ok(())
}

async fn mark_sent(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!("UPDATE reminders SET sent_at = $2 WHERE id = $1", id, now)
        .execute(conn)
        .await?;
    Ok(())
}

async fn notify(conn: &mut PgConnection, due: &Due, now: DateTime<Utc>) -> anyhow::Result<()> {
    let message = match (due.message.trim().is_empty(), due.kind) {
        (false, _) => due.message.clone(),
        (true, Kind::Review) => {
            "Time to review it: open Review to rate how well you remember.".into()
        }
        (true, Kind::Manual) => "It is time to come back to this task.".to_string(),
    };
    let title = match due.kind {
        Kind::Review => format!("Review due: {}", due.title),
        Kind::Manual => format!("Reminder: {}", due.title),
    };
    notifications::create(
        conn,
        NewNotification {
            user_id: due.user_id,
            kind: notifications::Kind::Reminder,
            title,
            message,
            related_task_id: Some(due.task_id),
        },
        now,
    )
    .await?;
    Ok(())
}

/// A time as the user reads it: in their zone, with the zone's abbreviation.
fn local(at: DateTime<Utc>, timezone: &str) -> String {
    let zone: Tz = timezone.parse().unwrap_or(Tz::UTC);
    at.with_timezone(&zone)
        .format("%A %-d %B %Y, %H:%M %Z")
        .to_string()
}

/// The email, rendered now (the task may have changed since the reminder was set).
fn render(
    state: &Services,
    job: &DeliverReminder,
    due: &Due,
) -> anyhow::Result<crate::email::OutgoingEmail> {
    let subject = format!("Reminder: {}", due.title);
    let email = state
        .mailer
        .render(
            "reminder",
            &due.email,
            &subject,
            json!({
                "name": due.name,
                "title": due.title,
                "review": due.kind == Kind::Review,
                "at": local(job.scheduled_at, &due.timezone),
                "message": due.message,
                "due": due.task_due_at.map(|at| local(at, &due.timezone)),
                "task_link": state.config.page_url(&format!("/tasks/{}", due.task_id)).to_string(),
                "settings_link": state.config.page_url("/settings").to_string(),
            }),
        )
        .context("rendering a reminder")?;
    let id = format!("reminder-{}-{}", job.id, job.scheduled_at.timestamp());
    Ok(email.with_message_id(state.config.message_id(&id)))
}

/// After the last failed try: the reminder is `failed` and the user is told in the app.
async fn give_up(state: &Services, job: &DeliverReminder) -> anyhow::Result<()> {
    let now = state.now();
    let mut tx = state.pool.begin().await?;
    let failed = sqlx::query!(
        r#"UPDATE reminders r SET status = 'failed', updated_at = $3
             FROM tasks t
            WHERE r.id = $1 AND r.scheduled_at = $2 AND r.status = 'pending'
              AND r.sent_at IS NULL AND t.id = r.task_id
        RETURNING r.user_id, r.task_id, t.title"#,
        job.id,
        job.scheduled_at,
        now,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(failed) = failed {
        notifications::create(
            &mut *tx,
            NewNotification {
                user_id: failed.user_id,
                kind: notifications::Kind::General,
                title: format!("A reminder could not be emailed: {}", failed.title),
                message: "We tried several times and the mail server kept refusing it. \
                          Open the task to set a new time."
                    .into(),
                related_task_id: Some(failed.task_id),
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
