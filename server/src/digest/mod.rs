//! The morning digest: at each user's digest hour (default 05:00) in their own time zone, one
//! email with the reminders due that day, the tasks due that day and what is overdue; one per
//! user per local day, none when there is nothing to say. This feature owns `digest_settings`
//! (no row: the digest is on).
//!
//! A tick each minute (`DigestTick`, one per minute whatever the number of instances) finds the
//! users whose local hour has come and who have not had today's digest, and claims their day,
//! in one statement with their zones evaluated in Postgres; a second enqueues one `SendDigest`
//! each. So 100,000 users cost two statements a tick, not one per user. The email carries
//! one-click unsubscribe headers (RFC 8058) with a sealed token that works without signing in
//! (`api`).

pub mod api;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::{
    jobs::{self, Job, Schedule},
    reminders::{self, Status},
    state::Services,
    tasks,
};

/// When the tick runs (cron, with seconds): every minute.
pub const SCHEDULE: &str = "0 * * * * *";

/// The job of one minute: start the digests whose hour has come.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DigestTick {
    pub at: DateTime<Utc>,
}

impl Job for DigestTick {
    const QUEUE: &'static str = "digest-tick";
    const MAX_ATTEMPTS: usize = 3;

    async fn run(self, state: Services, _attempt: usize) -> anyhow::Result<()> {
        start_due(&state, self.at).await.map(|_| ())
    }
}

/// Enqueues the tick of minute `at` (the cron of every instance calls this; the key keeps one).
pub async fn enqueue_tick(conn: &mut sqlx::PgConnection, at: DateTime<Utc>) -> anyhow::Result<()> {
    let key = format!("digest-tick:{}", at.timestamp() / 60);
    jobs::enqueue(conn, &DigestTick { at }, Schedule::now().key(key)).await?;
    Ok(())
}

/// The job that sends one user's digest for their local `day`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SendDigest {
    pub user_id: Uuid,
    pub day: NaiveDate,
}

impl Job for SendDigest {
    const QUEUE: &'static str = "digest";
    const CONCURRENCY: usize = 4;

    async fn run(self, state: Services, _attempt: usize) -> anyhow::Result<()> {
        send(&state, &self).await.map(|_| ())
    }
}

/// Whether the user wants the morning digest (no row: yes).
pub async fn enabled(pool: &sqlx::PgPool, user_id: Uuid) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!(
        "SELECT enabled FROM digest_settings WHERE user_id = $1",
        user_id
    )
    .fetch_optional(pool)
    .await?
    .unwrap_or(true))
}

/// Turns the user's morning digest on or off; `false` when there is no such user.
pub async fn set_enabled(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    on: bool,
) -> sqlx::Result<bool> {
    let changed = sqlx::query!(
        "INSERT INTO digest_settings (user_id, enabled)
         SELECT id, $2 FROM users WHERE id = $1
         ON CONFLICT (user_id) DO UPDATE SET enabled = $2",
        user_id,
        on,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed > 0)
}

/// Claims the day of every user whose digest hour has come at `at` and enqueues their digests;
/// returns how many. Two statements, whatever the number of users. A user claimed by a
/// concurrent tick is not claimed again (the upsert re-checks the stored day).
pub async fn start_due(state: &Services, at: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut tx = state.pool.begin().await?;
    let due = sqlx::query!(
        r#"WITH due AS (
             SELECT u.id, ($1::timestamptz AT TIME ZONE u.timezone)::date AS day
               FROM users u LEFT JOIN digest_settings d ON d.user_id = u.id
              WHERE u.email_verified AND coalesce(d.enabled, true)
                AND extract(hour FROM $1::timestamptz AT TIME ZONE u.timezone) = u.digest_hour
                AND (d.sent_on IS NULL OR d.sent_on < ($1::timestamptz AT TIME ZONE u.timezone)::date)
           )
           INSERT INTO digest_settings AS s (user_id, sent_on)
           SELECT id, day FROM due
           ON CONFLICT (user_id) DO UPDATE SET sent_on = EXCLUDED.sent_on
            WHERE s.enabled AND (s.sent_on IS NULL OR s.sent_on < EXCLUDED.sent_on)
           RETURNING user_id, sent_on AS "day!""#,
        at,
    )
    .fetch_all(&mut *tx)
    .await
    .context("claiming the digests due")?;
    let jobs: Vec<SendDigest> = due
        .into_iter()
        .map(|row| SendDigest {
            user_id: row.user_id,
            day: row.day,
        })
        .collect();
    jobs::enqueue_many(&mut tx, &jobs).await?;
    tx.commit().await?;
    Ok(jobs.len())
}

/// The start of `day` in `zone` (the first instant of it, across a DST change at midnight).
fn start_of(day: NaiveDate, zone: Tz) -> Option<DateTime<Utc>> {
    crate::validate::local_to_utc(day.and_time(NaiveTime::MIN), zone)
}

fn local(at: DateTime<Utc>, zone: Tz, format: &str) -> String {
    at.with_timezone(&zone).format(format).to_string()
}

/// The link that stops the digest without signing in: a sealed token naming the user.
pub fn unsubscribe_url(state: &Services, user_id: Uuid) -> String {
    let token = api::token(state, user_id);
    let mut url = state.config.page_url("/api/digest/unsubscribe");
    url.query_pairs_mut().append_pair("token", &token);
    url.to_string()
}

/// Renders and sends one digest. `Ok(false)`: nothing to send (nothing due, the digest turned
/// off or the address no longer confirmed since it was claimed, the account gone).
pub async fn send(state: &Services, job: &SendDigest) -> anyhow::Result<bool> {
    let user = sqlx::query!(
        r#"SELECT u.name, u.email, u.timezone, u.email_verified,
                  coalesce(d.enabled, true) AS "enabled!"
             FROM users u LEFT JOIN digest_settings d ON d.user_id = u.id WHERE u.id = $1"#,
        job.user_id,
    )
    .fetch_optional(&state.pool)
    .await?;
    let Some(user) = user.filter(|u| u.enabled && u.email_verified) else {
        return Ok(false);
    };
    let zone: Tz = user.timezone.parse().unwrap_or(Tz::UTC);
    let (Some(start), Some(end)) = (
        start_of(job.day, zone),
        job.day.succ_opt().and_then(|next| start_of(next, zone)),
    ) else {
        return Ok(false);
    };
    let reminders: Vec<_> = reminders::list(
        &state.pool,
        job.user_id,
        Some(start),
        Some(end - Duration::microseconds(1)),
    )
    .await?
    .into_iter()
    .filter(|r| r.reminder.status == Status::Pending)
    .map(|r| {
        json!({
            "title": r.task_title,
            "at": local(r.reminder.scheduled_at, zone, "%H:%M"),
            "message": r.reminder.message,
            "review": r.reminder.kind == reminders::Kind::Review,
        })
    })
    .collect();
    let open = tasks::open_due_before(&state.pool, job.user_id, end).await?;
    let (overdue, today): (Vec<_>, Vec<_>) = open.into_iter().partition(|t| t.due_at < start);
    if reminders.is_empty() && today.is_empty() && overdue.is_empty() {
        return Ok(false);
    }
    let task_json = |t: &tasks::DueTask, format: &str| {
        let link = state.config.page_url(&format!("/tasks/{}", t.id));
        json!({"title": t.title, "due": local(t.due_at, zone, format), "link": link.to_string()})
    };
    let unsubscribe = unsubscribe_url(state, job.user_id);
    let subject = format!("Your day: {}", job.day.format("%A %-d %B"));
    let email = state
        .mailer
        .render(
            "digest",
            &user.email,
            &subject,
            json!({
                "name": user.name,
                "reminders": reminders,
                "today": today.iter().map(|t| task_json(t, "%H:%M")).collect::<Vec<_>>(),
                "overdue": overdue.iter().map(|t| task_json(t, "%a %-d %b")).collect::<Vec<_>>(),
                "settings_link": state.config.page_url("/settings").to_string(),
                "unsubscribe_link": unsubscribe,
            }),
        )
        .context("rendering a digest")?
        .with_message_id(
            state
                .config
                .message_id(&format!("digest-{}-{}", job.user_id, job.day)),
        )
        .with_header("List-Unsubscribe", format!("<{unsubscribe}>"))
        .with_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    state.mailer.send(&email).await?;
    Ok(true)
}
