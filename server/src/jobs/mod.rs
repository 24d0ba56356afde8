//! Background jobs on PostgreSQL (apalis): durable, retried with backoff, shared by every
//! instance. This is plumbing: it knows no feature. A feature declares a job type (`impl Job`),
//! enqueues it here, and `crate::workers` is the one place that registers every worker.
//!
//! - **In the caller's transaction.** `enqueue` takes a connection: use the transaction of the
//!   write that causes the job, so a rolled-back write leaves no job behind.
//! - **At a given time.** `Schedule::at` runs a job no earlier than that instant (reminders,
//!   digests, reviews).
//! - **By key.** A job enqueued with a key is never enqueued twice for the same key and queue:
//!   the second `enqueue` answers `Enqueued::AlreadyThere`, without disturbing the caller's
//!   transaction. `cancel` and `reschedule` find a waiting job by its key.
//! - **Retries with backoff.** A failed run is tried again after an exponential, jittered
//!   delay (`backoff`), up to `Job::MAX_ATTEMPTS` runs; the delay is stored on the job row, so
//!   it survives restarts and is honoured by every instance.
//! - **Giving up.** After the last run fails, `Job::gave_up` runs once (a feature records the
//!   failure where its user sees it).
//! - **At least once.** A job may run twice (a crash after its work, before its ack), so
//!   handlers are idempotent.
//! - **In tests.** `run_due` (feature `test-clock`) runs the jobs that are due by the app's
//!   clock through the same handler as the workers, so a test moves the clock instead of
//!   waiting for a worker.
//!
//! Times: "run at" is compared with the database's clock by the queue (as apalis does), so
//! `Schedule::at` takes wall-clock instants; our own statements (the backoff's next run, rules
//! about the user's data) take their "now" from `Services::now`.

use std::{future::Future, time::Duration};

use anyhow::Context;
use apalis::prelude::*;
use apalis_postgres::{queries::push_tasks, Config as QueueConfig, PostgresStorage};
use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};
use sqlx::{Acquire, PgConnection, PgPool};

use crate::state::Services;

/// A kind of background job: its payload (ids and facts, never secrets or rendered text), its
/// queue and how it runs.
pub trait Job: Serialize + DeserializeOwned + Clone + Send + Sync + Unpin + 'static {
    /// The queue's name (the `job_type` column); one worker per queue and instance.
    const QUEUE: &'static str;
    /// Runs before the job is given up for good.
    const MAX_ATTEMPTS: usize = 5;
    /// Jobs of this queue run at once on one instance.
    const CONCURRENCY: usize = 1;
    /// How often an idle worker looks for due jobs (it is also woken by new ones).
    const POLL_EVERY: Duration = Duration::from_secs(1);

    /// Does the work; `attempt` counts the runs from 1. An error is logged and the job retried
    /// later (see `backoff`), up to `MAX_ATTEMPTS` runs.
    fn run(
        self,
        state: Services,
        attempt: usize,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Runs once when the last attempt failed: the job is given up for good.
    fn gave_up(self, state: Services) -> impl Future<Output = anyhow::Result<()>> + Send {
        let _ = state;
        async { Ok(()) }
    }
}

/// When and under which key a job is enqueued.
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    run_at: Option<DateTime<Utc>>,
    key: Option<String>,
}

impl Schedule {
    /// As soon as a worker is free.
    pub fn now() -> Self {
        Self::default()
    }

    /// No earlier than `when` (a past instant means now).
    pub fn at(when: DateTime<Utc>) -> Self {
        Self {
            run_at: Some(when),
            key: None,
        }
    }

    /// Names the event this job is for: a second job with the same key in the same queue is
    /// never enqueued, and the key finds the job to cancel or reschedule.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

/// What `enqueue` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Added,
    /// A job with this key exists already (waiting, running or done): nothing was added.
    AlreadyThere,
}

/// Creates the queue's tables (schema `apalis`, with its own migration history).
pub async fn setup(pool: &PgPool) -> anyhow::Result<()> {
    PostgresStorage::<()>::setup(pool)
        .await
        .context("creating the job queue tables")
}

fn storage<J: Job>(pool: &PgPool) -> PostgresStorage<J> {
    PostgresStorage::new(pool).with_config(
        QueueConfig::default()
            .queue(J::QUEUE)
            .batch_size(10)
            .heartbeat_interval(Duration::from_secs(15))
            .missed_heartbeats(4),
    )
}

/// Enqueues `job` on `conn` (use the transaction of the write that causes it).
pub async fn enqueue<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    schedule: Schedule,
) -> anyhow::Result<Enqueued> {
    let mut task = TaskBuilder::new(serde_json::to_vec(job)?).max_attempts(J::MAX_ATTEMPTS);
    if let Some(when) = schedule.run_at {
        // Whole seconds, rounded up: never before `when`.
        let seconds = when.timestamp() + i64::from(when.timestamp_subsec_nanos() > 0);
        task = task.run_at_timestamp(seconds.max(0) as u64);
    }
    if let Some(key) = &schedule.key {
        task = task.idempotency_key(key);
    }
    // A savepoint: a duplicate key must not abort the caller's transaction.
    let mut savepoint = conn.begin().await?;
    match push_tasks(&mut *savepoint, J::QUEUE, vec![task.build()]).await {
        Ok(()) => {
            savepoint.commit().await?;
            Ok(Enqueued::Added)
        }
        Err(apalis_postgres::Error::Database(sqlx::Error::Database(e)))
            if e.is_unique_violation() && schedule.key.is_some() =>
        {
            savepoint.rollback().await?;
            Ok(Enqueued::AlreadyThere)
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("enqueueing a {} job", J::QUEUE))),
    }
}

/// Enqueues many jobs of one type to run now, with one statement, on `conn` (the caller's
/// transaction). No keys: the caller has made sure each is wanted once.
pub async fn enqueue_many<J: Job>(conn: &mut PgConnection, jobs: &[J]) -> anyhow::Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let tasks = jobs
        .iter()
        .map(|job| {
            Ok(TaskBuilder::new(serde_json::to_vec(job)?)
                .max_attempts(J::MAX_ATTEMPTS)
                .build())
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    push_tasks(conn, J::QUEUE, tasks)
        .await
        .with_context(|| format!("enqueueing {} {} jobs", jobs.len(), J::QUEUE))
}

/// Cancels the waiting job of this queue with `key`. `false`: there is none (never enqueued,
/// already cancelled, running or done). A cancelled key may be enqueued again.
pub async fn cancel<J: Job>(conn: &mut PgConnection, key: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "DELETE FROM apalis.jobs
         WHERE job_type = $1 AND idempotency_key = $2 AND status IN ('Pending', 'Failed')",
        J::QUEUE,
        key,
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

/// Moves the waiting job of this queue with `key` to run at `when`. `false`: there is none
/// waiting (enqueue a new one instead).
pub async fn reschedule<J: Job>(
    conn: &mut PgConnection,
    key: &str,
    when: DateTime<Utc>,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "UPDATE apalis.jobs SET run_at = $3
         WHERE job_type = $1 AND idempotency_key = $2 AND status IN ('Pending', 'Failed')",
        J::QUEUE,
        key,
        when,
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

/// The wait before run `attempt + 1` after run `attempt` (from 1) failed: 30 s doubling up to
/// an hour, stretched by up to 20 % by a jitter drawn from the job's id, so jobs that failed
/// together (an SMTP outage) do not all come back in the same second.
pub fn backoff(attempt: usize, job_id: &str) -> Duration {
    const FIRST: u64 = 30;
    const MAX: u64 = 3600;
    let exponent = attempt.saturating_sub(1).min(16) as u32;
    let base = FIRST.saturating_mul(1u64 << exponent).min(MAX);
    let jitter = job_id
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 201;
    Duration::from_millis(base * 1000 * (1000 + jitter) / 1000)
}

/// Postpones the next run of a failed job to `now` (the app's clock) plus its backoff (the
/// queue retries failed jobs whose `run_at` has passed).
async fn postpone(
    pool: &PgPool,
    job_id: &str,
    now: DateTime<Utc>,
    delay: Duration,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE apalis.jobs SET run_at = $2::timestamptz + make_interval(secs => $3) WHERE id = $1",
        job_id,
        now,
        delay.as_secs_f64(),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Runs one attempt of `job` (`attempt` from 1, job row `id`): when it fails, sets the backoff
/// of the next attempt, or, after the last, calls `Job::gave_up`. The workers and `run_due` both
/// run jobs through here.
async fn execute<J: Job>(job: J, state: Services, id: &str, attempt: usize) -> anyhow::Result<()> {
    let (pool, clock) = (state.pool.clone(), state.clock.clone());
    let Err(e) = job.clone().run(state.clone(), attempt).await else {
        return Ok(());
    };
    if attempt >= J::MAX_ATTEMPTS {
        tracing::error!(queue = J::QUEUE, job_id = %id, attempt, error = ?e, "job failed for good");
        if let Err(e) = job.gave_up(state).await {
            tracing::error!(queue = J::QUEUE, job_id = %id, error = ?e, "recording a job given up failed");
        }
    } else {
        let delay = backoff(attempt, id);
        tracing::warn!(queue = J::QUEUE, job_id = %id, attempt, retry_in_s = delay.as_secs(), error = ?e, "job failed; it will be retried");
        if let Err(e) = postpone(&pool, id, clock.now(), delay).await {
            tracing::warn!(error = ?e, "could not postpone the failed job");
        }
    }
    Err(e)
}

/// The apalis handler of every job type.
async fn handle<J: Job>(
    job: J,
    state: Data<Services>,
    id: TaskId,
    attempt: Attempt,
) -> Result<(), BoxDynError> {
    execute(job, (*state).clone(), &id.to_string(), attempt.current())
        .await
        .map_err(|e| BoxDynError::from(e.to_string()))
}

/// Runs every job of type `J` that is due by the app's clock, one at a time, through the
/// workers' handler, and records each outcome as the queue does (done, or failed and waiting
/// for its next attempt); jobs they enqueue that are due run too. Returns how many ran. For
/// tests (the queue itself compares `run_at` with the database's clock, which tests do not move).
#[cfg(feature = "test-clock")]
pub async fn run_due<J: Job>(state: &Services) -> anyhow::Result<usize> {
    let mut ran = 0;
    loop {
        let claimed = sqlx::query!(
            r#"UPDATE apalis.jobs SET status = 'Running', attempts = attempts + 1, lock_at = $2
                WHERE id = (SELECT id FROM apalis.jobs
                             WHERE job_type = $1 AND status IN ('Pending', 'Failed')
                               AND attempts < max_attempts AND run_at <= $2
                             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, job, attempts"#,
            J::QUEUE,
            state.now(),
        )
        .fetch_optional(&state.pool)
        .await?;
        let Some(row) = claimed else {
            return Ok(ran);
        };
        let job: J = serde_json::from_slice(&row.job)?;
        let attempt = usize::try_from(row.attempts).unwrap_or(usize::MAX);
        let outcome = execute(job, state.clone(), &row.id, attempt).await;
        sqlx::query!(
            "UPDATE apalis.jobs SET status = $2, done_at = $3, last_result = $4 WHERE id = $1",
            row.id,
            if outcome.is_ok() { "Done" } else { "Failed" },
            state.now(),
            serde_json::json!(outcome.as_ref().map_err(|e| e.to_string()).err()),
        )
        .execute(&state.pool)
        .await?;
        ran += 1;
    }
}

/// A name unique to this process: apalis locks workers by name.
pub fn worker_name(queue: &str) -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    format!("{queue}@{host}:{}", std::process::id())
}

/// Adds the worker of job type `J` to `monitor` (see `crate::workers`).
pub fn register<J: Job>(monitor: Monitor, state: &Services) -> Monitor {
    let state = state.clone();
    monitor.register(move |_| {
        WorkerBuilder::new(worker_name(J::QUEUE))
            .backend(storage::<J>(&state.pool).poll_with_interval(J::POLL_EVERY))
            .data(state.clone())
            .concurrency(J::CONCURRENCY)
            .build(handle::<J>)
    })
}

/// Jobs per queue and status, for the metrics endpoint.
pub async fn queue_depths(pool: &PgPool) -> sqlx::Result<Vec<(String, String, i64)>> {
    Ok(sqlx::query!(
        r#"SELECT job_type, status, count(*) AS "count!" FROM apalis.jobs
         WHERE status IN ('Pending', 'Queued', 'Running', 'Failed')
         GROUP BY job_type, status"#,
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.job_type, row.status, row.count))
    .collect())
}

/// Finished jobs older than `keep` before `now` are deleted (they are kept for inspection).
pub async fn prune_finished(
    pool: &PgPool,
    now: DateTime<Utc>,
    keep: chrono::Duration,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM apalis.jobs WHERE status IN ('Done', 'Killed') AND done_at < $1",
        now - keep
    )
    .execute(pool)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_30_seconds_up_to_an_hour() {
        let secs = |attempt| backoff(attempt, "").as_secs();
        assert_eq!(secs(1), 30);
        assert_eq!(secs(2), 60);
        assert_eq!(secs(3), 120);
        assert_eq!(secs(8), 3600);
        assert_eq!(secs(60), 3600);
    }

    #[test]
    fn jitter_spreads_jobs_by_at_most_a_fifth() {
        let delays: std::collections::BTreeSet<_> = (0..50)
            .map(|i| backoff(2, &format!("01JOB{i}")).as_millis())
            .collect();
        assert!(delays.len() > 10, "different jobs get different delays");
        assert!(delays.iter().all(|&d| (60_000..=72_000).contains(&d)));
        assert_eq!(backoff(2, "01JOB7"), backoff(2, "01JOB7"));
    }
}
