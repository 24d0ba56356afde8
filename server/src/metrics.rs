//! Prometheus metrics: request counts and latency by route, job queue depth, pool usage.
//!
//! The `metrics` facade needs one process-wide recorder; it is installed on first use so
//! tests that build many routers share it.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets in seconds, from a fast cached page to the 30 s timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[allow(
    clippy::expect_used,
    reason = "start-up (installed before the first request): only an empty bucket list fails"
)]
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (a test harness); ours still renders.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

pub fn record_request(method: &str, route: &str, status: u16, seconds: f64) {
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        &[("method", method.to_string()), ("route", route.to_string())]
    )
    .record(seconds);
}

/// Samples the gauges that are cheaper to read at scrape time than to keep up to date.
pub async fn sample_gauges(pool: &PgPool) {
    metrics::gauge!("db_pool_connections").set(pool.size() as f64);
    metrics::gauge!("db_pool_idle_connections").set(pool.num_idle() as f64);
    match crate::jobs::queue_depths(pool).await {
        Ok(depths) => {
            for (queue, status, count) in depths {
                metrics::gauge!("job_queue_depth", "queue" => queue, "status" => status)
                    .set(count as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read the job queue depth"),
    }
}

pub async fn render(pool: &PgPool) -> String {
    let handle = handle();
    sample_gauges(pool).await;
    handle.render()
}
