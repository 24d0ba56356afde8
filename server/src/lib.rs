//! Spacedly's backend: everything server-side and UI-free. The Leptos app (`spacedly-app`)
//! and the JSON API both call the domain functions here, so the two cannot drift apart.

pub mod api;
pub mod attachments;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod email;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod notifications;
pub mod sealed;
pub mod sessions;
pub mod state;
pub mod tasks;
pub mod telemetry;

pub use config::Config;
pub use error::{AppError, AppResult};
pub use state::AppState;
