//! Spacedly's backend: everything server-side and UI-free. The Leptos app (`spacedly-app`)
//! and the JSON API both call the domain functions here, so the two cannot drift apart.

pub mod analytics;
pub mod api;
pub mod app;
pub mod attachments;
pub mod auth;
pub mod bench;
pub mod blocking;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod db;
pub mod digest;
pub mod email;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod jobs;
pub mod limits;
pub mod maintenance;
pub mod metrics;
pub mod notifications;
pub mod reminders;
pub mod revision;
pub mod rooms;
pub mod sealed;
pub mod secrets;
pub mod sessions;
pub mod state;
pub mod storage;
pub mod tasks;
pub mod telemetry;
pub mod users;
pub mod validate;
pub mod workers;

pub use app::AppState;
pub use config::Config;
pub use error::{AppError, AppResult};
pub use state::Services;
