//! The HTTP foundation driven in-process: health, errors, security headers, origin check,
//! limits and metrics.

use crate::common::{json, spawn_app, spawn_app_with, text};
use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn health_reports_the_database(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["db"], "ok");
}

#[sqlx::test(migrations = false)]
async fn health_is_503_when_the_database_is_gone(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.state.pool.close().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(response).await["db"], "unavailable");
}

#[sqlx::test(migrations = false)]
async fn unknown_api_path_is_a_json_404(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/api/does-not-exist").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = json(response).await;
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "not_found");
    assert!(body["message"].is_string());
}

#[sqlx::test(migrations = false)]
async fn wrong_method_under_api_keeps_the_envelope(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app
        .send(Request::post("/health").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let response = app
        .send(
            Request::delete("/api/anything")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(json(response).await["success"], false);
}

#[sqlx::test(migrations = false)]
async fn responses_carry_security_headers_with_a_fresh_nonce(pool: PgPool) {
    let app = spawn_app(pool).await;
    let first = app.get("/health").await;
    let second = app.get("/health").await;
    let csp = |r: &axum::http::Response<Body>| {
        r.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_string()
    };
    let (a, b) = (csp(&first), csp(&second));
    assert!(a.contains("script-src 'self' 'nonce-"));
    assert!(a.contains("frame-ancestors 'none'"));
    assert!(
        !a.contains("'unsafe-inline' 'wasm") && !a.contains("script-src 'self' 'unsafe-inline'")
    );
    assert_ne!(a, b, "each response gets its own nonce");
    let h = first.headers();
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(
        h[header::REFERRER_POLICY],
        "strict-origin-when-cross-origin"
    );
    assert!(
        h.contains_key(header::STRICT_TRANSPORT_SECURITY),
        "HSTS outside development"
    );
    assert!(h.contains_key("x-request-id"));
}

#[sqlx::test(migrations = false)]
async fn development_sends_no_hsts(pool: PgPool) {
    let app = spawn_app_with(pool, |c| {
        c.app_env = spacedly_server::config::AppEnv::Development
    })
    .await;
    let response = app.get("/health").await;
    assert!(!response
        .headers()
        .contains_key(header::STRICT_TRANSPORT_SECURITY));
}

#[sqlx::test(migrations = false)]
async fn unsafe_request_from_a_foreign_origin_is_403(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app
        .send(
            Request::post("/api/auth/logout")
                .header(header::ORIGIN, "https://evil.example")
                .header(header::HOST, "127.0.0.1:3000")
                .header(header::COOKIE, "spacedly_session=abc")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(response).await["code"], "forbidden");

    // The same request from our own origin reaches the router (and finds no such route yet).
    let response = app
        .send(
            Request::post("/api/auth/logout")
                .header(header::ORIGIN, "http://127.0.0.1:3000")
                .header(header::HOST, "127.0.0.1:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(response.status(), StatusCode::FORBIDDEN);
}

#[sqlx::test(migrations = false)]
async fn allow_listed_origin_gets_cors_and_passes_the_origin_check(pool: PgPool) {
    let app = spawn_app_with(pool, |c| {
        c.allowed_origins = vec!["https://app.example".into()]
    })
    .await;
    let preflight = app
        .send(
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/api/tasks")
                .header(header::ORIGIN, "https://app.example")
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        preflight.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example"
    );
    let other = app
        .send(
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/api/tasks")
                .header(header::ORIGIN, "https://evil.example")
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(!other
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));

    let post = app
        .send(
            Request::post("/api/tasks")
                .header(header::ORIGIN, "https://app.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(post.status(), StatusCode::FORBIDDEN);
}

#[sqlx::test(migrations = false)]
async fn oversized_body_is_413_before_any_handler(pool: PgPool) {
    let app = spawn_app(pool).await;
    let big = vec![b'x'; spacedly_server::http::BODY_LIMIT + 1];
    let response = app
        .send(
            Request::post("/api/anything")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, big.len())
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(response).await["code"], "payload_too_large");
}

#[sqlx::test(migrations = false)]
async fn global_rate_limit_answers_429_with_retry_after(pool: PgPool) {
    let app = spawn_app_with(pool, |c| {
        c.global_rate_per_second = 1;
        c.global_rate_burst = 3;
    })
    .await;
    let mut statuses = vec![];
    for _ in 0..5 {
        statuses.push(app.get("/api/nothing").await);
    }
    let limited = statuses
        .into_iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .expect("the burst of 3 is exceeded");
    assert!(limited.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(json(limited).await["code"], "rate_limited");
}

#[sqlx::test(migrations = false)]
async fn metrics_need_the_token_and_report_routes_queue_and_pool(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.get("/health").await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    let wrong = app
        .send(
            Request::get("/metrics")
                .header(header::AUTHORIZATION, "Bearer nope")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let response = app
        .send(
            Request::get("/metrics")
                .header(header::AUTHORIZATION, "Bearer test-metrics-token")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = text(response).await;
    assert!(body.contains("http_requests_total"), "{body}");
    assert!(body.contains("route=\"/health\""), "{body}");
    assert!(
        body.contains("http_request_duration_seconds_bucket"),
        "{body}"
    );
    assert!(body.contains("db_pool_connections"), "{body}");
}

#[sqlx::test(migrations = false)]
async fn metrics_are_off_without_a_token(pool: PgPool) {
    let app = spawn_app_with(pool, |c| c.metrics_token = None).await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
}

/// JSON routes keep the 1 MiB limit while a route given a larger one (as the upload route
/// will be) takes more through the same stack: the stack-wide cap must not stop it.
#[sqlx::test(migrations = false)]
async fn body_limits_are_per_route(pool: PgPool) {
    use axum::{routing::post, Router};
    use spacedly_server::http::body_limit;
    use tower::ServiceExt;

    let app = spawn_app(pool).await;
    // Signed in, so that a body without a Content-Length reaches the JSON extractor.
    let mut client = crate::common::Client::new(&app);
    crate::common::register(&mut client, "limits@example.com").await;
    crate::common::sign_in(&mut client, "limits@example.com").await;
    let cookie = client.cookie.clone().expect("signed in");
    let large = Router::new()
        .route(
            "/api/test-large-body",
            post(|body: axum::body::Bytes| async move { body.len().to_string() }),
        )
        .layer(body_limit::layer(body_limit::UPLOAD));
    let router = spacedly_server::app::layers(
        spacedly_server::app::routes(app.state.clone()).merge(large),
        &app.state,
    );
    let two_mib = || {
        let mut body = br#"{"title": ""#.to_vec();
        body.resize(2 * 1024 * 1024 - 2, b'x');
        body.extend_from_slice(br#""}"#);
        body
    };
    let send = |uri: &str, body: Vec<u8>, with_length: bool| {
        let mut request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, &cookie);
        if with_length {
            request = request.header(header::CONTENT_LENGTH, body.len());
        }
        let body = if with_length {
            Body::from(body)
        } else {
            // Without a Content-Length the limit is met while the body is read.
            Body::from_stream(futures::stream::iter(
                body.chunks(64 * 1024)
                    .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                    .collect::<Vec<_>>(),
            ))
        };
        router.clone().oneshot(request.body(body).unwrap())
    };

    for with_length in [true, false] {
        let response = send("/api/tasks", two_mib(), with_length).await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = json(response).await;
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], "payload_too_large");

        let response = send("/api/test-large-body", two_mib(), with_length)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(text(response).await, (2 * 1024 * 1024).to_string());
    }
}

#[sqlx::test(migrations = false)]
async fn dynamic_responses_are_gzipped_never_brotli(pool: PgPool) {
    let app = spawn_app(pool).await;
    let request = |accept: &'static str| {
        Request::get("/api/openapi.json")
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap()
    };
    let response = app.send(request("br, gzip")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let response = app.send(request("br")).await;
    assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
}
