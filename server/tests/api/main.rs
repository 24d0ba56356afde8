//! The server's integration tests against a real PostgreSQL (a fresh database per test), in one
//! test binary: each separate binary links the whole server again, which cost minutes of every
//! cold CI run. Tests that read process-wide state (a tracing callsite, a global counter) keep
//! their own binaries beside this one (`task_statements`, `login_burst`).

#![cfg(test)] // the helpers too are test code to clippy (rust-clippy#11119)

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod analytics;
mod attachments;
mod calendar;
mod digest;
mod hardening;
mod hostile_input;
mod http_stack;
mod idempotency;
mod jobs_and_sessions;
mod openapi;
mod reminders;
mod revision;
mod tasks;
