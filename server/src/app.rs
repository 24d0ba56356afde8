//! The composition root: the one place above the features that names them all. It builds the
//! application's state from the shared services and each feature's long-lived parts, mounts
//! every feature's API under /api with the operational routes, and wraps them in the shared
//! middleware. (`workers` does the same for the background jobs, `maintenance` for the periodic
//! housekeeping.)

use std::{
    ops::Deref,
    sync::{Arc, OnceLock},
};

use axum::{extract::FromRef, http::header, response::IntoResponse, Router};
use sqlx::PgPool;
use utoipa::openapi::OpenApi as Document;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    analytics, api, attachments, auth, calendar,
    clock::Clock,
    config::Config,
    digest,
    http::{self, admission, body_limit},
    notifications, reminders, revision,
    state::Services,
    tasks,
};

/// What every handler and server function can reach: the shared services and the features'
/// long-lived parts. Extractors take the piece they need (`FromRef`).
#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub services: Services,
    /// Sign-in with Google, when configured.
    pub google: Option<Arc<auth::google::Google>>,
    /// Live notification updates of this instance (one LISTEN connection, many streams).
    pub live: notifications::live::Hub,
    /// Room for upload bodies in memory, shared by all requests.
    pub uploads: attachments::UploadBudget,
}

impl AppState {
    pub fn new(pool: PgPool, config: Config) -> anyhow::Result<Self> {
        let google = match &config.google {
            Some(oidc) => Some(Arc::new(auth::google::Google::new(oidc)?)),
            None => None,
        };
        let uploads = attachments::UploadBudget::new(config.upload_memory_bytes);
        Ok(Self {
            services: Services::new(pool, Arc::new(config))?,
            google,
            live: notifications::live::Hub::new(),
            uploads,
        })
    }
}

/// The services are what most code needs: `&state` stands for `&state.services`.
impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.services.pool.clone()
    }
}

impl FromRef<AppState> for Clock {
    fn from_ref(state: &AppState) -> Self {
        state.services.clock.clone()
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(state: &AppState) -> Self {
        state.services.config.clone()
    }
}

/// Every feature's API: the router and its OpenAPI document come from the same `routes!`
/// calls, so they cannot drift.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .nest("/auth", auth::api::auth_router())
        .nest("/user", auth::api::user_router())
        .nest("/user", calendar::api::user_router())
        .nest("/tokens", auth::api::tokens_router())
        .nest("/tasks", tasks::api::router())
        .nest("/analytics", analytics::api::router())
        .merge(revision::api::router())
        .nest("/notifications", notifications::api::router())
        .nest("/reminders", reminders::api::router())
        .nest("/digest", digest::api::router())
        .routes(routes!(openapi_json))
        .fallback(api::not_found)
        // JSON bodies: 1 MiB, for these routes and the fallback. Routes that take more (uploads)
        // are added after this line with their own `body_limit::layer`.
        .layer(body_limit::layer(body_limit::JSON))
        // Uploads: ten files of 10 MB.
        .nest(
            "/attachments",
            attachments::api::router()
                .layer(body_limit::layer(attachments::api::UPLOAD_BODY_LIMIT)),
        )
}

/// The OpenAPI document of the whole API, with paths under /api.
pub fn openapi() -> Document {
    api::document(api_routes())
}

/// The OpenAPI 3.1 description of this API (public).
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json")))]
async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| openapi().to_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}

/// The routes that are not pages: the JSON API, /health and /metrics.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .nest(api::PREFIX, api_routes().split_for_parts().0)
        .merge(http::operational_routes())
        .merge(calendar::feed::routes())
        .with_state(state)
}

/// Wraps the whole application (API + pages) in the shared middleware.
pub fn layers(router: Router, state: &AppState) -> Router {
    // The live notifications stay open; uploads read their files first and then enter the
    // gate themselves.
    let gate = admission::gate(
        state.config.database_max_connections,
        &[notifications::api::STREAM_PATH],
        &[attachments::api::URL_PREFIX],
    );
    http::layers(router, &state.services, gate)
}
