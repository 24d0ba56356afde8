//! The one place that registers every background worker. A feature's job type is added here
//! once; enqueueing it is the feature's business (`jobs::enqueue`).

use std::str::FromStr;

use anyhow::Context;
use apalis::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::{
    auth::emails::SendEmail,
    digest::{self, DigestTick, SendDigest},
    jobs, maintenance,
    reminders::delivery::DeliverReminder,
    state::Services,
    tasks::due::DueAlert,
};

async fn maintenance_tick(
    tick: apalis_cron::Tick,
    state: Data<Services>,
) -> Result<(), BoxDynError> {
    let mut conn = state.pool.acquire().await?;
    maintenance::enqueue(&mut conn, tick.get_timestamp())
        .await
        .map_err(|e| BoxDynError::from(e.to_string()))?;
    Ok(())
}

async fn digest_tick(tick: apalis_cron::Tick, state: Data<Services>) -> Result<(), BoxDynError> {
    let at = chrono::DateTime::from_timestamp(i64::try_from(tick.get_timestamp())?, 0)
        .ok_or("the tick's time is out of range")?;
    let mut conn = state.pool.acquire().await?;
    digest::enqueue_tick(&mut conn, at)
        .await
        .map_err(|e| BoxDynError::from(e.to_string()))?;
    Ok(())
}

/// Runs every worker until `shutdown` is cancelled, then lets running jobs finish (30 s at most).
pub async fn run(state: Services, shutdown: CancellationToken) -> anyhow::Result<()> {
    let schedule =
        cron::Schedule::from_str(maintenance::SCHEDULE).context("maintenance schedule")?;
    let every_minute = cron::Schedule::from_str(digest::SCHEDULE).context("digest schedule")?;
    let monitor = Monitor::new();
    let monitor = jobs::register::<SendEmail>(monitor, &state);
    let monitor = jobs::register::<maintenance::Maintenance>(monitor, &state);
    let monitor = jobs::register::<DeliverReminder>(monitor, &state);
    let monitor = jobs::register::<DueAlert>(monitor, &state);
    let monitor = jobs::register::<DigestTick>(monitor, &state);
    let monitor = jobs::register::<SendDigest>(monitor, &state);
    let monitor = jobs::register::<crate::revision::optimiser::FitParameters>(monitor, &state);
    let cron_state = state.clone();
    let digest_state = state.clone();
    tracing::info!("job workers started");
    monitor
        .register(move |_| {
            WorkerBuilder::new(jobs::worker_name("maintenance-cron"))
                .backend(apalis_cron::CronScheduler::new(schedule.clone()))
                .data(cron_state.clone())
                .build(maintenance_tick)
        })
        .register(move |_| {
            WorkerBuilder::new(jobs::worker_name("digest-cron"))
                .backend(apalis_cron::CronScheduler::new(every_minute.clone()))
                .data(digest_state.clone())
                .build(digest_tick)
        })
        // A worker whose backend failed (database briefly down) is started again.
        .should_restart(|_, _| true)
        .shutdown_timeout(std::time::Duration::from_secs(30))
        .run_with_signal(async move {
            shutdown.cancelled().await;
            Ok(())
        })
        .await
        .context("job workers")?;
    tracing::info!("job workers stopped");
    Ok(())
}
