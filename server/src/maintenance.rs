//! Periodic housekeeping: expired sessions, old rate-limit counters, dead one-time codes,
//! answered form submissions, finished jobs, stored files no row points to, and the analytics
//! rows appended since the last run (folded to one a day). A cron tick
//! (see `crate::workers`) only enqueues a run, keyed by the tick's time, so several instances
//! produce one run per tick.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};

use crate::{
    jobs::{self, Enqueued, Job, Schedule},
    sessions::PgSessionStore,
    state::Services,
};

/// How often the tick enqueues a run (sec min hour day month weekday).
pub const SCHEDULE: &str = "0 */15 * * * *";
/// Finished jobs are kept this long for inspection, then pruned.
const KEEP_FINISHED_JOBS: chrono::Duration = chrono::Duration::days(7);

/// One maintenance run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Maintenance {
    /// The cron tick (unix seconds) that asked for this run.
    pub tick: u64,
}

impl Job for Maintenance {
    const QUEUE: &'static str = "maintenance";
    const MAX_ATTEMPTS: usize = 3;
    const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

    async fn run(self, state: Services, _attempt: usize) -> anyhow::Result<()> {
        let report = run(&state.pool, state.now()).await?;
        tracing::info!(?report, "maintenance done");
        let mut conn = state.pool.acquire().await?;
        let fits = crate::revision::optimiser::enqueue_due_fits(&mut conn, state.now()).await?;
        if fits > 0 {
            tracing::info!(fits, "weekly parameter fits enqueued");
        }
        match crate::attachments::service::sweep_orphans(&state).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "orphaned files removed"),
            Err(e) => tracing::warn!(error = ?e, "orphan sweep failed; the next tick retries"),
        }
        Ok(())
    }
}

/// Enqueues the run for `tick` unless another instance already did (`false` then).
pub async fn enqueue(conn: &mut PgConnection, tick: u64) -> anyhow::Result<bool> {
    let added = jobs::enqueue(
        conn,
        &Maintenance { tick },
        Schedule::now().key(format!("maintenance:{tick}")),
    )
    .await?;
    Ok(added == Enqueued::Added)
}

/// What one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub expired_sessions: u64,
    pub pruned_jobs: u64,
    pub settled_days: u64,
}

/// The database part of a run. Idempotent: running it twice deletes nothing more.
pub async fn run(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<Report> {
    let expired_sessions = PgSessionStore::delete_expired(pool, now).await?;
    crate::limits::purge_old(pool, now).await?;
    crate::auth::codes::purge_dead(pool, now).await?;
    crate::idempotency::purge_old(pool, now).await?;
    let pruned_jobs = jobs::prune_finished(pool, now, KEEP_FINISHED_JOBS).await?;
    let settled_days = crate::analytics::settle(pool).await?;
    Ok(Report {
        expired_sessions,
        pruned_jobs,
        settled_days,
    })
}
