//! Test helpers: the real router over a fresh, migrated database (one per test, by sqlx::test).
#![allow(dead_code)]

use axum::{
    body::Body,
    http::{Request, Response},
    Router,
};
use http_body_util::BodyExt;
use spacedly_server::{db, AppState, Config};
use sqlx::PgPool;
use tower::ServiceExt;

pub mod smtp;

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    _data_dir: tempfile::TempDir,
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, |_| {}).await
}

pub async fn spawn_app_with(pool: PgPool, adjust: impl FnOnce(&mut Config)) -> TestApp {
    db::migrate(&pool).await.expect("migrations apply");
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests("postgres://from-sqlx-test", data_dir.path().to_path_buf());
    // Tests speak for many clients through X-Forwarded-For: in-process requests have no peer
    // address (0.0.0.0), which is made the trusted proxy.
    config.trusted_proxies = vec!["0.0.0.0/32".parse().unwrap()];
    adjust(&mut config);
    let mut state = AppState::new(pool, config).expect("state");
    // A clock the test can move; it starts at the real time.
    state.services.clock = spacedly_server::clock::Clock::manual(chrono::Utc::now());
    let router = spacedly_server::app::layers(spacedly_server::app::routes(state.clone()), &state);
    TestApp {
        state,
        router,
        _data_dir: data_dir,
    }
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible")
    }

    pub async fn get(&self, uri: &str) -> Response<Body> {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }
}

pub async fn json(response: Response<Body>) -> serde_json::Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
}

pub async fn text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A browser-like client: keeps the session cookie between requests.
pub struct Client<'a> {
    pub app: &'a TestApp,
    /// The session cookie (`name=value`).
    pub cookie: Option<String>,
    /// The device cookie given at sign-in (`name=value`).
    pub device_cookie: Option<String>,
    pub ip: &'static str,
    pub bearer: Option<String>,
}

impl<'a> Client<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookie: None,
            device_cookie: None,
            ip: "203.0.113.7",
            bearer: None,
        }
    }

    pub async fn request(
        &mut self,
        method: &str,
        uri: &str,
        body: Option<serde_json::Value>,
    ) -> (
        axum::http::StatusCode,
        axum::http::HeaderMap,
        serde_json::Value,
    ) {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("x-forwarded-for", self.ip);
        let cookies: Vec<&str> = [&self.cookie, &self.device_cookie]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !cookies.is_empty() {
            builder = builder.header("cookie", cookies.join("; "));
        }
        if let Some(token) = &self.bearer {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(json) => builder
                .header("content-type", "application/json")
                .body(Body::from(json.to_string()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        let response = self.app.send(request).await;
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = set.split(';').next().unwrap_or_default().to_string();
            let slot = if pair.starts_with("spacedly_device=") {
                &mut self.device_cookie
            } else {
                &mut self.cookie
            };
            if set.contains("Max-Age=0") {
                *slot = None;
            } else {
                *slot = Some(pair);
            }
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, headers, json)
    }

    pub async fn post(
        &mut self,
        uri: &str,
        body: serde_json::Value,
    ) -> (
        axum::http::StatusCode,
        axum::http::HeaderMap,
        serde_json::Value,
    ) {
        self.request("POST", uri, Some(body)).await
    }

    pub async fn get(
        &mut self,
        uri: &str,
    ) -> (
        axum::http::StatusCode,
        axum::http::HeaderMap,
        serde_json::Value,
    ) {
        self.request("GET", uri, None).await
    }
}

/// Runs the queued email jobs as the worker would (rendering and sending each into the dev
/// outbox), oldest first, and marks them done. Returns how many sent an email.
pub async fn run_email_jobs(app: &TestApp) -> usize {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, job FROM apalis.jobs WHERE job_type = 'email' AND status = 'Pending'
         ORDER BY run_at, id",
    )
    .fetch_all(&app.state.pool)
    .await
    .unwrap();
    let mut sent = 0;
    for (id, bytes) in rows {
        let job: spacedly_server::auth::emails::SendEmail = serde_json::from_slice(&bytes).unwrap();
        if spacedly_server::auth::emails::deliver(&app.state, job.user_id, &job.email)
            .await
            .unwrap()
        {
            sent += 1;
        }
        sqlx::query("UPDATE apalis.jobs SET status = 'Done', done_at = now() WHERE id = $1")
            .bind(id)
            .execute(&app.state.pool)
            .await
            .unwrap();
    }
    sent
}

/// Every email sent so far (after running the queued jobs), oldest first.
pub async fn sent_emails(app: &TestApp) -> Vec<spacedly_server::email::OutgoingEmail> {
    run_email_jobs(app).await;
    let outbox = app.state.mailer.outbox().expect("tests use the dev outbox");
    let mut all = outbox.list(usize::MAX).await.unwrap();
    all.reverse();
    all.into_iter()
        .map(|m| spacedly_server::email::OutgoingEmail {
            to: m.to,
            subject: m.subject,
            html: m.html,
            text: m.text,
            message_id: None,
            headers: vec![],
        })
        .collect()
}

/// The `token=` of the last link sent to `to` whose subject contains `subject`.
pub async fn last_link_token(app: &TestApp, to: &str, subject: &str) -> String {
    let email = sent_emails(app)
        .await
        .into_iter()
        .rev()
        .find(|e| e.to == to && e.subject.contains(subject))
        .unwrap_or_else(|| panic!("no email {subject:?} to {to}"));
    let start = email.text.find("token=").expect("a link with a token") + 6;
    email.text[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

pub const PASSWORD: &str = "a long $ecret <script>";

pub async fn register(client: &mut Client<'_>, email: &str) -> serde_json::Value {
    let (status, _, body) = client
        .post(
            "/api/auth/register",
            serde_json::json!({"name": "Ada Lovelace", "email": email, "password": PASSWORD, "timezone": "Europe/London"}),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::CREATED, "{body}");
    body
}

pub async fn sign_in(client: &mut Client<'_>, email: &str) {
    let (status, _, body) = client
        .post(
            "/api/auth/login",
            serde_json::json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
}

/// The 6-digit code of the last sign-in code email sent to `to`.
pub async fn last_sign_in_code(app: &TestApp, to: &str) -> String {
    let email = sent_emails(app)
        .await
        .into_iter()
        .rev()
        .find(|e| e.to == to && e.subject.contains("sign-in code"))
        .unwrap_or_else(|| panic!("no sign-in code sent to {to}"));
    email
        .text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code")
        .to_string()
}
