//! Background jobs on PostgreSQL (apalis): durable, retried, shared by every instance.
//!
//! Jobs are enqueued in the same transaction as the write that causes them (`enqueue_*` take a
//! connection), and handlers are idempotent because delivery is at-least-once. Periodic work is
//! a cron tick that only enqueues, keyed by the tick's time, so several instances produce one job.

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use apalis::prelude::*;
use apalis_postgres::{queries::push_tasks, Config as QueueConfig, PgTask, PostgresStorage};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use uuid::Uuid;

use crate::{auth::emails::AccountEmail, sessions::PgSessionStore, state::AppState};

pub const EMAIL_QUEUE: &str = "email";
pub const MAINTENANCE_QUEUE: &str = "maintenance";

/// How often the maintenance tick enqueues a purge (sec min hour day month weekday).
const MAINTENANCE_SCHEDULE: &str = "0 */15 * * * *";
/// Finished jobs are kept this long for inspection, then pruned.
const KEEP_FINISHED_JOBS: &str = "7 days";

/// Send one account email. Carries ids, never rendered text or secrets: the email is rendered
/// (and its code or link drawn) when it is sent, see `auth::emails`. Retried a few times: SMTP
/// servers fail transiently.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SendEmail {
    pub user_id: Option<Uuid>,
    pub email: AccountEmail,
}

/// Delete expired sessions and prune finished jobs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Maintenance {
    /// The cron tick (unix seconds) that asked for this run.
    pub tick: u64,
}

/// Creates the queue's tables (schema `apalis`, with its own migration history).
pub async fn setup(pool: &PgPool) -> anyhow::Result<()> {
    PostgresStorage::<()>::setup(pool)
        .await
        .context("creating the job queue tables")
}

fn storage<T>(pool: &PgPool, queue: &str) -> PostgresStorage<T>
where
    T: Serialize + for<'de> Deserialize<'de> + Send + Sync + Unpin + 'static,
{
    PostgresStorage::new(pool).with_config(
        QueueConfig::default()
            .queue(queue)
            .batch_size(10)
            .heartbeat_interval(Duration::from_secs(15))
            .missed_heartbeats(4),
    )
}

fn task<T: Serialize>(job: &T, max_attempts: usize) -> anyhow::Result<PgTask> {
    Ok(TaskBuilder::new(serde_json::to_vec(job)?)
        .max_attempts(max_attempts)
        .build())
}

/// Enqueues an email on `conn` (use the transaction of the write that causes it).
pub async fn enqueue_email(conn: &mut PgConnection, job: SendEmail) -> anyhow::Result<()> {
    let task = task(&job, 5)?;
    push_tasks(conn, EMAIL_QUEUE, vec![task])
        .await
        .context("enqueueing an email")
}

/// Enqueues the maintenance run for `tick` unless another instance already did.
pub async fn enqueue_maintenance(conn: &mut PgConnection, tick: u64) -> anyhow::Result<bool> {
    let task = TaskBuilder::new(serde_json::to_vec(&Maintenance { tick })?)
        .max_attempts(3)
        .idempotency_key(format!("maintenance:{tick}"))
        .build();
    match push_tasks(conn, MAINTENANCE_QUEUE, vec![task]).await {
        Ok(()) => Ok(true),
        Err(apalis_postgres::Error::Database(sqlx::Error::Database(e)))
            if e.is_unique_violation() =>
        {
            Ok(false)
        }
        Err(e) => Err(anyhow::Error::new(e).context("enqueueing maintenance")),
    }
}

/// Renders and sends one email job. `Ok(false)`: nothing was sent because the account, code
/// or link is gone (used, expired, or the account deleted).
pub async fn deliver_email(state: &AppState, job: &SendEmail) -> anyhow::Result<bool> {
    crate::auth::emails::deliver(state, job.user_id, &job.email).await
}

async fn send_email(job: SendEmail, state: Data<AppState>) -> Result<(), BoxDynError> {
    deliver_email(&state, &job).await.map(|_| ()).map_err(|e| {
        tracing::warn!(error = ?e, "email not sent; it will be retried");
        BoxDynError::from(e.to_string())
    })
}

/// Removes every email job, queued or finished, that names this user (by id, or by address
/// for reset requests), in the caller's transaction (account deletion).
pub async fn delete_user_jobs(
    conn: &mut PgConnection,
    user_id: Uuid,
    email: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM apalis.jobs
         WHERE job_type = $1
           AND (convert_from(job, 'UTF8')::jsonb ->> 'user_id' = $2::text
                OR convert_from(job, 'UTF8')::jsonb -> 'email' ->> 'email' = $3)",
    )
    .bind(EMAIL_QUEUE)
    .bind(user_id)
    .bind(email)
    .execute(conn)
    .await?
    .rows_affected())
}

/// What one maintenance run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceReport {
    pub expired_sessions: u64,
    pub pruned_jobs: u64,
}

/// Idempotent: running it twice deletes nothing more the second time.
pub async fn run_maintenance(
    pool: &PgPool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<MaintenanceReport> {
    let expired_sessions = PgSessionStore::delete_expired(pool).await?;
    crate::limits::purge_old(pool, now).await?;
    crate::auth::codes::purge_dead(pool, now).await?;
    crate::idempotency::purge_old(pool, now).await?;
    let pruned_jobs = sqlx::query(
        "DELETE FROM apalis.jobs WHERE status IN ('Done', 'Killed')
           AND done_at < $2 - $1::interval",
    )
    .bind(KEEP_FINISHED_JOBS)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(MaintenanceReport {
        expired_sessions,
        pruned_jobs,
    })
}

async fn maintenance(_job: Maintenance, state: Data<AppState>) -> Result<(), BoxDynError> {
    let report = run_maintenance(&state.pool, state.now())
        .await
        .map_err(|e| {
            tracing::error!(error = ?e, "maintenance failed");
            BoxDynError::from(e.to_string())
        })?;
    tracing::info!(?report, "maintenance done");
    match crate::attachments::service::sweep_orphans(&state).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "orphaned files removed"),
        Err(e) => tracing::warn!(error = ?e, "orphan sweep failed; the next tick retries"),
    }
    Ok(())
}

async fn maintenance_tick(
    tick: apalis_cron::Tick,
    state: Data<AppState>,
) -> Result<(), BoxDynError> {
    let mut conn = state.pool.acquire().await?;
    enqueue_maintenance(&mut conn, tick.get_timestamp())
        .await
        .map_err(|e| BoxDynError::from(e.to_string()))?;
    Ok(())
}

/// Jobs per queue and status, for the metrics endpoint.
pub async fn queue_depths(pool: &PgPool) -> sqlx::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(
        "SELECT job_type, status, count(*) FROM apalis.jobs
         WHERE status IN ('Pending', 'Queued', 'Running', 'Failed')
         GROUP BY job_type, status",
    )
    .fetch_all(pool)
    .await
}

/// A name unique to this process: apalis locks workers by name.
fn worker_name(queue: &str) -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    format!("{queue}@{host}:{}", std::process::id())
}

/// Runs every worker until `shutdown` is cancelled, then lets running jobs finish (30 s at most).
pub async fn run_workers(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    let schedule =
        cron::Schedule::from_str(MAINTENANCE_SCHEDULE).context("maintenance schedule")?;
    let (s1, s2, s3) = (state.clone(), state.clone(), state.clone());
    tracing::info!("job workers started");
    Monitor::new()
        .register(move |_| {
            WorkerBuilder::new(worker_name(EMAIL_QUEUE))
                .backend(
                    storage::<SendEmail>(&s1.pool, EMAIL_QUEUE)
                        .poll_with_interval(Duration::from_secs(1)),
                )
                .data(s1.clone())
                .concurrency(4)
                .build(send_email)
        })
        .register(move |_| {
            WorkerBuilder::new(worker_name(MAINTENANCE_QUEUE))
                .backend(
                    storage::<Maintenance>(&s2.pool, MAINTENANCE_QUEUE)
                        .poll_with_interval(Duration::from_secs(5)),
                )
                .data(s2.clone())
                .concurrency(1)
                .build(maintenance)
        })
        .register(move |_| {
            WorkerBuilder::new(worker_name("maintenance-cron"))
                .backend(apalis_cron::CronScheduler::new(schedule.clone()))
                .data(s3.clone())
                .build(maintenance_tick)
        })
        // A worker whose backend failed (database briefly down) is started again.
        .should_restart(|_, _| true)
        .shutdown_timeout(Duration::from_secs(30))
        .run_with_signal(async move {
            shutdown.cancelled().await;
            Ok(())
        })
        .await
        .context("job workers")?;
    tracing::info!("job workers stopped");
    Ok(())
}
