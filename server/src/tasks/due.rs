//! A task's due-date alerts in the app: "due in an hour" one hour before its due time (whatever
//! the minute) and "overdue" when the time passes, once each. Each is a job keyed by the task,
//! its due time and the alert, armed when the task gets a due time and is open, disarmed when
//! the time changes or is cleared, the task is completed or deleted. The job checks the task
//! again (same due time, still open) and tells the user with a notification keyed by the same
//! event, so a repeated run tells once.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    jobs::{self, Job, Schedule},
    notifications::{self, Kind, NewNotification},
    state::Services,
};

/// How long before the due time the first alert comes.
pub const SOON: Duration = Duration::hours(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Alert {
    Soon,
    Overdue,
}

impl Alert {
    fn word(self) -> &'static str {
        match self {
            Self::Soon => "soon",
            Self::Overdue => "overdue",
        }
    }
}

/// The job that tells of one alert of task `task_id` due at `due_at`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DueAlert {
    pub task_id: Uuid,
    pub due_at: DateTime<Utc>,
    pub alert: Alert,
}

impl Job for DueAlert {
    const QUEUE: &'static str = "due-alert";
    const CONCURRENCY: usize = 4;

    async fn run(self, state: Services, _attempt: usize) -> anyhow::Result<()> {
        tell(&state, &self).await
    }
}

/// The event: this alert of this task for this due time.
fn key(task_id: Uuid, due_at: DateTime<Utc>, alert: Alert) -> String {
    format!(
        "due-{}:{task_id}:{}",
        alert.word(),
        due_at.timestamp_micros()
    )
}

/// Arms the alerts of an open task due at `due_at` (none for a time already past but the
/// overdue one, at once).
pub async fn arm(
    conn: &mut PgConnection,
    task_id: Uuid,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let alerts = [(Alert::Soon, due_at - SOON), (Alert::Overdue, due_at)];
    for (alert, at) in alerts {
        if alert == Alert::Soon && due_at <= now {
            continue;
        }
        let job = DueAlert {
            task_id,
            due_at,
            alert,
        };
        let key = key(task_id, due_at, alert);
        jobs::enqueue(conn, &job, Schedule::at(at).key(key)).await?;
    }
    Ok(())
}

/// Cancels the alerts armed for `due_at` that have not run yet.
pub async fn disarm(
    conn: &mut PgConnection,
    task_id: Uuid,
    due_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    for alert in [Alert::Soon, Alert::Overdue] {
        jobs::cancel::<DueAlert>(conn, &key(task_id, due_at, alert)).await?;
    }
    Ok(())
}

/// Re-arms a task's alerts after a change: `before` and `after` are its due time while open
/// (`None`: no due time, or completed).
pub async fn rearm(
    conn: &mut PgConnection,
    task_id: Uuid,
    before: Option<DateTime<Utc>>,
    after: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if before == after {
        return Ok(());
    }
    if let Some(before) = before {
        disarm(conn, task_id, before).await?;
    }
    if let Some(after) = after {
        arm(conn, task_id, after, now).await?;
    }
    Ok(())
}

async fn tell(state: &Services, job: &DueAlert) -> anyhow::Result<()> {
    let now = state.now();
    let mut tx = state.pool.begin().await?;
    let task = sqlx::query!(
        "SELECT user_id, title FROM tasks
          WHERE id = $1 AND due_at = $2 AND status <> 'completed' FOR UPDATE",
        job.task_id,
        job.due_at,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(task) = task else {
        return Ok(());
    };
    let (kind, title, message) = match job.alert {
        Alert::Soon => (
            Kind::Upcoming,
            format!("Due in an hour: {}", task.title),
            "Its due time is an hour away.",
        ),
        Alert::Overdue => (
            Kind::Overdue,
            format!("Overdue: {}", task.title),
            "Its due time has passed. Complete it or give it a new date.",
        ),
    };
    let new = NewNotification {
        user_id: task.user_id,
        kind,
        title,
        message: message.into(),
        related_task_id: Some(job.task_id),
    };
    notifications::create_once(&mut *tx, new, &key(job.task_id, job.due_at, job.alert), now)
        .await?;
    tx.commit().await?;
    Ok(())
}
