//! The HTTP stack shared by the JSON API and the Leptos pages: the operational routes (/health,
//! /metrics) and the middleware around everything. It knows no feature: `crate::app` mounts the
//! features' routes and names the routes the admission gate treats apart.

pub mod admission;
pub mod body_limit;
pub mod client_ip;
pub mod deadline;
pub mod flash;
pub mod nul;
pub mod redirect;
pub mod security;
pub mod static_files;

use std::{
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use axum::{
    extract::{DefaultBodyLimit, FromRef, MatchedPath, Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{CompressionLayer, CompressionLevel},
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use crate::{
    config::Config,
    db,
    error::AppError,
    secrets::{digests_equal, sha256_hex},
    sessions::PgSessionStore,
    state::Services,
};

pub use client_ip::ClientIp;
pub use security::CspNonce;

/// Where the JSON API is nested in the site.
pub const API_PREFIX: &str = "/api";
/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "spacedly_session";
/// Default limit for request bodies; upload routes set their own (see [`body_limit`]).
pub const BODY_LIMIT: usize = body_limit::JSON;
/// Requests slower than this are logged as warnings.
const SLOW_REQUEST: Duration = Duration::from_secs(1);

/// The operational routes: /health and /metrics.
pub fn operational_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
    Arc<Config>: FromRef<S>,
{
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
}

/// GET /health: 200 when the database answers, 503 otherwise.
async fn health(State(pool): State<PgPool>) -> Response {
    let db_ok = db::is_healthy(&pool).await;
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if db_ok { "ok" } else { "unavailable" },
        "db": if db_ok { "ok" } else { "unavailable" },
        "version": env!("CARGO_PKG_VERSION"),
    });
    (status, Json(body)).into_response()
}

/// GET /metrics in Prometheus text format; only with `Authorization: Bearer $METRICS_TOKEN`.
async fn metrics(
    State(pool): State<PgPool>,
    State(config): State<Arc<Config>>,
    request: Request,
) -> Response {
    let Some(expected) = config
        .metrics_token
        .as_ref()
        .map(secrecy::ExposeSecret::expose_secret)
    else {
        return AppError::NotFound.into_response();
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Comparing digests keeps the time independent of where, and whether, the lengths differ.
    let (given, expected) = (sha256_hex(given), sha256_hex(expected));
    if !digests_equal(&given, &expected) {
        return AppError::NotFound.into_response();
    }
    let body = crate::metrics::render(&pool).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The cookie-signing key: 64 bytes derived from SECRET_KEY (at least 32 random characters).
fn session_key(secret: &[u8]) -> tower_sessions::cookie::Key {
    use sha2::{Digest, Sha512};
    let mut hasher = Sha512::new();
    hasher.update(b"spacedly session cookie v1\0");
    hasher.update(secret);
    tower_sessions::cookie::Key::from(&hasher.finalize())
}

/// Paths whose last segment is a secret (a calendar feed's URL is its own key): the logs keep
/// the rest of the path.
const SECRET_PATHS: &[&str] = &["/calendar/"];

/// `path` as the request log shows it, secrets hidden.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match SECRET_PATHS.iter().find(|p| path.starts_with(*p)) {
        Some(prefix) => format!("{prefix}[secret]").into(),
        None => path.into(),
    }
}

/// The route template a request matched, filled in by the inner layer for the outer one.
#[derive(Clone, Default)]
struct RouteSlot(Arc<OnceLock<String>>);

async fn note_route(request: Request, next: Next) -> Response {
    if let (Some(slot), Some(path)) = (
        request.extensions().get::<RouteSlot>(),
        request.extensions().get::<MatchedPath>(),
    ) {
        let _ = slot.0.set(path.as_str().to_string());
    }
    next.run(request).await
}

/// Records metrics and logs slow requests, with the matched route as the label (never the raw
/// path, which would make one series per id).
async fn observe(mut request: Request, next: Next) -> Response {
    let slot = RouteSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let route = slot
        .0
        .get()
        .map(String::as_str)
        .unwrap_or(if path.starts_with("/pkg/") {
            "/pkg/{file}"
        } else {
            "unmatched"
        });
    crate::metrics::record_request(
        method.as_str(),
        route,
        response.status().as_u16(),
        elapsed.as_secs_f64(),
    );
    if elapsed > SLOW_REQUEST {
        tracing::warn!(%method, route, status = response.status().as_u16(), elapsed_ms = elapsed.as_millis() as u64, "slow request");
    }
    response
}

/// Resolves the client IP once for the rate limiter and the handlers.
async fn attach_client_ip(
    State(config): State<Arc<Config>>,
    mut request: Request,
    next: Next,
) -> Response {
    client_ip::attach(&mut request, &config.trusted_proxies);
    next.run(request).await
}

/// Development-only routes: the dev mailbox pages and their server functions.
pub fn is_dev_route(path: &str) -> bool {
    path == "/dev" || path.starts_with("/dev/") || path.starts_with("/_sf/dev/")
}

/// Development-only routes (the dev mailbox shows every reset link) answer only to loopback
/// clients; anyone else gets the same 404 as for a route that does not exist.
async fn dev_routes_for_loopback_only(request: Request, next: Next) -> Response {
    if is_dev_route(request.uri().path()) {
        let loopback = request
            .extensions()
            .get::<ClientIp>()
            .is_some_and(|ip| ip.0.is_loopback());
        if !loopback {
            return StatusCode::NOT_FOUND.into_response();
        }
    }
    next.run(request).await
}

/// Errors made by middleware (timeouts, body limits, rate limits, unknown methods) are plain
/// text; under /api every answer must be the JSON envelope.
async fn api_error_envelope(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with(API_PREFIX);
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_api || !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let body = crate::error::ErrorBody {
        success: false,
        message: crate::error::message_for_status(status).to_string(),
        code: crate::error::code_for_status(status),
        errors: None,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::to_vec(&body).unwrap_or_default();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Wraps the whole application (API + pages) in the shared middleware, outermost last. `gate`
/// is the admission gate, made by the caller with the routes it treats apart.
pub fn layers(router: Router, state: &Services, gate: admission::Gate) -> Router {
    // Install the metrics recorder before the first request is counted.
    crate::metrics::handle();
    let config = &state.config;
    let sessions =
        SessionManagerLayer::new(PgSessionStore::new(state.pool.clone(), state.clock.clone()))
            .with_name(SESSION_COOKIE)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(config.cookie_secure)
            .with_path("/")
            .with_expiry(Expiry::OnSessionEnd)
            .with_signed(session_key(secrecy::ExposeSecret::expose_secret(
                &config.secret_key,
            )));

    let governor = crate::http::rate_limit::global_layer(config);

    let cors = (!config.allowed_origins.is_empty()).then(|| {
        let origins: Vec<HeaderValue> = config
            .allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(true)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT])
            .max_age(Duration::from_secs(3600))
    });

    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or_default();
        let path = loggable_path(request.uri().path());
        tracing::info_span!("request", method = %request.method(), %path, request_id)
    });

    let router = router
        .route_layer(middleware::from_fn(note_route))
        // No NUL character reaches a handler (inside the sessions: a form's answer is a flash).
        .layer(middleware::from_fn(nul::refuse))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            gate.clone(),
            admission::admit,
        ))
        .layer(middleware::from_fn_with_state(
            state.config.clone(),
            security::require_same_origin,
        ))
        // The hard cap for every request; each router sets its own, smaller limit, and axum's
        // extractors default to 1 MiB where none is set (see `body_limit`).
        .layer(DefaultBodyLimit::max(body_limit::JSON))
        .layer(RequestBodyLimitLayer::new(body_limit::MAX))
        // Uploads keep their own time (see `deadline`).
        .layer(middleware::from_fn_with_state(
            deadline::Deadline::new(config.request_timeout, state.clock.clone(), gate),
            deadline::enforce,
        ));
    let router = match cors {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(middleware::from_fn(observe))
            .layer(CatchPanicLayer::new())
            .layer(middleware::from_fn_with_state(
                state.config.clone(),
                security::security_headers,
            ))
            // Dynamic responses: gzip at its fastest level (zlib-rs, see server/Cargo.toml).
            // Level 4 took a quarter of the server's CPU on GET /api/tasks (318 KB of JSON) at
            // 32 connections. Brotli is left to the static assets, which are compressed once at
            // build time at its highest quality: a streaming brotli encoder allocates and clears
            // a window of several MiB per response (measured: 445 MiB of RSS and a third of the
            // CPU for GET /api/tasks), for ~10 % less than gzip on pages and JSON.
            .layer(
                CompressionLayer::new()
                    .no_br()
                    .quality(CompressionLevel::Fastest),
            )
            // Inside the compression: a body it replaces is then compressed like any other, and
            // never left with the Content-Encoding of the body it replaced.
            .layer(middleware::from_fn(api_error_envelope))
            .layer(middleware::from_fn_with_state(
                state.config.clone(),
                attach_client_ip,
            ))
            .layer(middleware::from_fn(dev_routes_for_loopback_only))
            .layer(governor),
    )
}

pub mod rate_limit;

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn secret_paths_are_not_logged() {
        assert_eq!(
            loggable_path("/calendar/abc_DEF-123.ics"),
            "/calendar/[secret]"
        );
        assert_eq!(loggable_path("/calendar"), "/calendar");
        assert_eq!(loggable_path("/api/tasks/1"), "/api/tasks/1");
    }
}
