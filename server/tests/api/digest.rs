//! The morning digest: the minute tick finds the users whose local hour has come (in their own
//! zone, across daylight-saving changes), one digest per local day into a local SMTP server,
//! and the one-click unsubscribe works signed out.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use chrono::{DateTime, Duration, Utc};
use spacedly_server::{
    digest::{self, SendDigest},
    jobs,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{json, smtp::SmtpSink, spawn_app_with, TestApp};

fn utc(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .unwrap()
        .with_timezone(&Utc)
}

async fn app_with_smtp(pool: &PgPool) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(pool.clone(), |c| c.smtp_url = Some(url.into())).await;
    (app, sink)
}

/// A user with a confirmed address in `zone` and an overdue task (so a digest has something to
/// say).
async fn user(app: &TestApp, email: &str, zone: &str) -> Uuid {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO users (name, email, email_verified, timezone) VALUES ('Ada', $1, true, $2)
         RETURNING id",
    )
    .bind(email)
    .bind(zone)
    .fetch_one(&app.state.pool)
    .await
    .unwrap();
    task(app, id, "Overdue essay", utc("2020-01-01T12:00:00Z")).await;
    id
}

async fn task(app: &TestApp, user: Uuid, title: &str, due: DateTime<Utc>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO tasks (user_id, title, due_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(user)
    .bind(title)
    .bind(due)
    .fetch_one(&app.state.pool)
    .await
    .unwrap()
}

/// Runs the tick of `at` (the clock set there) and sends what it started; returns how many
/// digests it started.
async fn tick(app: &TestApp, at: DateTime<Utc>) -> usize {
    app.state.clock.set(at);
    let started = digest::start_due(&app.state, at).await.unwrap();
    jobs::run_due::<SendDigest>(&app.state).await.unwrap();
    started
}

/// The instants of a whole UTC span, every `step` minutes, at which a digest started.
async fn ticks_that_start(app: &TestApp, from: &str, to: &str, step: i64) -> Vec<DateTime<Utc>> {
    let (mut at, end) = (utc(from), utc(to));
    let mut started = vec![];
    while at <= end {
        if tick(app, at).await > 0 {
            started.push(at);
        }
        at += Duration::minutes(step);
    }
    started
}

#[sqlx::test(migrations = false)]
async fn asia_kolkata_gets_it_at_five_local_once_a_day(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    let ada = user(&app, "ada@example.com", "Asia/Kolkata").await;
    // 05:00 in Kolkata (+05:30) is 23:30 UTC the day before.
    task(&app, ada, "Due <today>", utc("2027-06-02T10:00:00Z")).await;
    task(&app, ada, "Due tomorrow", utc("2027-06-03T10:00:00Z")).await;
    let started = ticks_that_start(&app, "2027-06-01T18:00:00Z", "2027-06-02T23:45:00Z", 5).await;
    assert_eq!(
        started,
        [utc("2027-06-01T23:30:00Z"), utc("2027-06-02T23:30:00Z")],
        "05:00 local, once a day"
    );
    let mail = sink.received();
    assert_eq!(mail.len(), 2);
    let first = mail[0].decoded();
    assert!(
        first.contains("Subject: Your day: Wednesday 2 June"),
        "{first}"
    );
    assert!(
        first.contains("Due <today> at 15:30"),
        "in the user's zone: {first}"
    );
    assert!(first.contains("Due &lt;today&gt;"), "escaped in HTML");
    assert!(first.contains("Overdue essay, due Wed 1 Jan"));
    assert!(!first.contains("Due tomorrow"));
    let unsubscribe = mail[0].header("List-Unsubscribe").unwrap();
    assert!(unsubscribe.starts_with("<http://127.0.0.1:3000/api/digest/unsubscribe?token="));
    assert_eq!(
        mail[0].header("List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click"
    );
    assert!(mail[1].decoded().contains("Due tomorrow"));
}

#[sqlx::test(migrations = false)]
async fn new_york_gets_it_at_five_local_on_both_daylight_saving_days(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    user(&app, "ada@example.com", "America/New_York").await;
    // 14 March 2027: clocks go forward at 02:00 (EST, -5, to EDT, -4): 05:00 is 09:00 UTC.
    let spring = ticks_that_start(&app, "2027-03-14T04:00:00Z", "2027-03-15T03:55:00Z", 5).await;
    assert_eq!(spring, [utc("2027-03-14T09:00:00Z")]);
    // 7 November 2027: clocks go back at 02:00 (EDT to EST): 05:00 is 10:00 UTC.
    let autumn = ticks_that_start(&app, "2027-11-07T04:00:00Z", "2027-11-08T04:55:00Z", 5).await;
    assert_eq!(autumn, [utc("2027-11-07T10:00:00Z")]);
    assert_eq!(sink.received().len(), 2);
}

#[sqlx::test(migrations = false)]
async fn pacific_chatham_gets_it_at_five_local(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    user(&app, "ada@example.com", "Pacific/Chatham").await;
    // January is summer there: +13:45, so 05:00 on the 15th is 15:15 UTC on the 14th.
    let started = ticks_that_start(&app, "2027-01-14T00:00:00Z", "2027-01-14T23:55:00Z", 5).await;
    assert_eq!(started, [utc("2027-01-14T15:15:00Z")]);
    assert_eq!(sink.received().len(), 1);
}

#[sqlx::test(migrations = false)]
async fn nothing_to_say_sends_nothing_and_an_unconfirmed_address_gets_none(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    sqlx::query(
        "INSERT INTO users (name, email, email_verified, timezone) VALUES
           ('Idle', 'idle@example.com', true, 'UTC'), ('New', 'new@example.com', false, 'UTC')",
    )
    .execute(&app.state.pool)
    .await
    .unwrap();
    let unconfirmed: Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'new@example.com'")
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    task(&app, unconfirmed, "Overdue", utc("2020-01-01T00:00:00Z")).await;
    assert_eq!(
        tick(&app, utc("2027-06-02T05:00:00Z")).await,
        1,
        "only the confirmed one"
    );
    assert!(sink.received().is_empty(), "and it had nothing to say");
}

async fn post_unsubscribe(app: &TestApp, url: &str) -> (StatusCode, serde_json::Value) {
    let path = url.trim_start_matches("http://127.0.0.1:3000");
    let response = app
        .send(
            Request::post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-forwarded-for", "198.51.100.9")
                .body(Body::from("List-Unsubscribe=One-Click"))
                .unwrap(),
        )
        .await;
    (response.status(), json(response).await)
}

#[sqlx::test(migrations = false)]
async fn one_click_unsubscribe_works_signed_out_and_refuses_a_forged_token(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    let ada = user(&app, "ada@example.com", "UTC").await;
    let bob = user(&app, "bob@example.com", "UTC").await;
    assert_eq!(tick(&app, utc("2027-06-02T05:00:00Z")).await, 2);
    let to_ada = sink
        .received()
        .into_iter()
        .find(|m| m.to == ["ada@example.com"])
        .unwrap();
    let header = to_ada.header("List-Unsubscribe").unwrap();
    let url = header.trim_start_matches('<').trim_end_matches('>');
    assert!(url.starts_with("http://127.0.0.1:3000/api/digest/unsubscribe?token="));

    // Forged: another token's letters changed, or a token naming someone by hand.
    let token_at = url.find("token=").unwrap() + 6;
    let mut forged = url.to_string();
    let flipped = if &forged[token_at..token_at + 1] == "A" {
        "B"
    } else {
        "A"
    };
    forged.replace_range(token_at..token_at + 1, flipped);
    let (status, _) = post_unsubscribe(&app, &forged).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post_unsubscribe(&app, &format!("/api/digest/unsubscribe?token={bob}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A link made now for Ada works as well as the mailed one (a new nonce each time).
    assert_ne!(digest::unsubscribe_url(&app.state, ada), url);

    for _ in 0..2 {
        let (status, body) = post_unsubscribe(&app, url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(tick(&app, utc("2027-06-03T05:00:00Z")).await, 1, "bob only");
    let to_ada_count = sink
        .received()
        .iter()
        .filter(|m| m.to == ["ada@example.com"])
        .count();
    assert_eq!(to_ada_count, 1);
}
