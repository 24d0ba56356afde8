//! Issue 7, hole 3: parallel wrong passwords from one client are all counted before any
//! password is checked, so a burst gets no more guesses than the limit allows.
//!
//! In its own test binary: it reads the process-wide `password_verifications_total` counter,
//! which no other test may move while it runs.

#![cfg(test)] // the helpers too are test code to clippy (rust-clippy#11119)

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use common::{register, spawn_app, Client};
use serde_json::json;
use sqlx::PgPool;
use tower::ServiceExt;

fn verifications() -> u64 {
    spacedly_server::metrics::handle()
        .render()
        .lines()
        .find_map(|line| line.strip_prefix("password_verifications_total "))
        .map_or(0, |n| n.trim().parse().expect("a counter is a number"))
}

async fn login_status(router: axum::Router) -> StatusCode {
    let request = Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .header("x-forwarded-for", "198.51.100.5")
        .body(Body::from(
            json!({"email": "ada@example.com", "password": "wrong wrong"}).to_string(),
        ))
        .unwrap();
    router.oneshot(request).await.unwrap().status()
}

#[sqlx::test(migrations = false)]
async fn parallel_wrong_passwords_cannot_slip_past_the_limit(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    let before = verifications();

    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..12 {
        burst.spawn(login_status(app.router.clone()));
    }
    let statuses = burst.join_all().await;
    let count = |code| statuses.iter().filter(|s| **s == code).count();
    assert_eq!(
        (
            count(StatusCode::UNAUTHORIZED),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (5, 7),
        "{statuses:?}"
    );
    // The refused seven were turned away before their password was looked at.
    assert_eq!(verifications() - before, 5);
}
