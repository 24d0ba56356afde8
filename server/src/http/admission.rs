//! Admission: at most a fixed number of dynamic requests are worked on at once; the others wait
//! their turn in arrival order (tokio's semaphore is fair) before they touch the database.
//!
//! Each request holds at most one pool connection at a time (a bearer request keeps the one its
//! token was read on, `db::Db`), so the gate keeps the pool's own queue short. Without it, 32
//! clients on a 20-connection pool made several requests per run wait out the pool's 5 s
//! acquire timeout (503) while others were served in 100 ms. The 503s that remained at the
//! start of a burst came from the pool opening its second half under load; it now keeps every
//! connection open (`db::connect`), and the last `make bench` had no failed request.
//!
//! Not admitted through the gate: event streams (open for as long as the page is) and static
//! files (a path whose last segment has an extension), which never use the database.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::Response,
};
use tokio::sync::Semaphore;

/// The gate for a pool of `pool_size` connections: half of them for requests, the other half
/// for what runs beside them (the job workers' polls and heartbeats, the LISTEN connection).
/// Measured: with 16 of 20 for requests, every connection was still taken under load and
/// requests again waited out the pool's timeout.
pub fn gate(pool_size: u32) -> Arc<Semaphore> {
    let permits = (pool_size / 2).max(2);
    Arc::new(Semaphore::new(permits as usize))
}

fn bypasses_gate(request: &Request) -> bool {
    let event_stream = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let last_segment = request.uri().path().rsplit('/').next().unwrap_or_default();
    event_stream || last_segment.contains('.')
}

pub async fn admit(State(gate): State<Arc<Semaphore>>, request: Request, next: Next) -> Response {
    if bypasses_gate(&request) {
        return next.run(request).await;
    }
    // The request's own timeout (an outer layer) bounds the wait; the gate is never closed.
    let _permit = gate
        .acquire()
        .await
        .expect("the admission gate is never closed");
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, accept: &str) -> Request {
        Request::get(path)
            .header(header::ACCEPT, accept)
            .body(axum::body::Body::empty())
            .unwrap()
    }

    #[test]
    fn streams_and_static_files_bypass_the_gate() {
        assert!(bypasses_gate(&request("/pkg/app-1f2e.wasm", "*/*")));
        assert!(bypasses_gate(&request("/favicon.svg", "*/*")));
        assert!(bypasses_gate(&request(
            "/api/notifications/stream",
            "text/event-stream"
        )));
        assert!(!bypasses_gate(&request("/api/tasks", "application/json")));
        assert!(!bypasses_gate(&request("/tasks", "text/html")));
        assert!(!bypasses_gate(&request("/api/attachments/4a1c", "*/*")));
    }

    #[test]
    fn the_gate_leaves_connections_for_the_workers() {
        assert_eq!(gate(20).available_permits(), 10);
        assert_eq!(gate(3).available_permits(), 2);
    }
}
