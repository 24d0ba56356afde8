//! The whole-request deadline (`REQUEST_TIMEOUT_SECS`): a request still running when it passes
//! is dropped and answered 408.
//!
//! Uploads are the exception. Their bodies are up to 100 MB, which takes minutes on a slow
//! line (10 MB needs about 3 Mbit/s to arrive within 30 s), so the requests that admit
//! themselves through the gate ([`admission::Gate::admits_itself`]) keep their own time: their
//! body keeps a pace (the bytes received so far at the slowest rate allowed, after a grace of
//! this timeout), and their wait for a place after it is bounded by this timeout
//! (`attachments::api`).

use std::time::Duration;

use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::admission;
use crate::clock::Clock;

/// The deadline, the clock it is kept on and the gate that tells uploads apart.
#[derive(Clone)]
pub struct Deadline {
    limit: Duration,
    clock: Clock,
    gate: admission::Gate,
}

impl Deadline {
    pub fn new(limit: Duration, clock: Clock, gate: admission::Gate) -> Self {
        Self { limit, clock, gate }
    }
}

/// Middleware: 408 for a request that is not done within the deadline, except uploads.
pub async fn enforce(State(deadline): State<Deadline>, request: Request, next: Next) -> Response {
    if deadline.gate.admits_itself(&request) {
        return next.run(request).await;
    }
    match deadline
        .clock
        .timeout(deadline.limit, next.run(request))
        .await
    {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}
