//! The profile's new settings (digest, week start, calendar feed URL) through /api/user/me, and
//! the calendar feed: made, read by an independent iCalendar parser, replaced, and refused.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{register, sign_in, spawn_app, text, Client, TestApp};

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn user<'a>(app: &'a TestApp, email: &str) -> Client<'a> {
    let mut client = Client::new(app);
    register(&mut client, email).await;
    sign_in(&mut client, email).await;
    client
}

async fn me(client: &mut Client<'_>) -> Value {
    let (status, _, body) = client.get("/api/user/me").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["user"].clone()
}

/// The events of an iCalendar document, as Python's `icalendar` reads them.
fn parse_ics(document: &str) -> Value {
    use std::io::Write;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut child = std::process::Command::new(format!("{root}/.tools/venv/bin/python"))
        .arg(format!("{root}/scripts/ics_summary.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the iCalendar parser is installed by `make setup-test`");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(document.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused the feed:\n{document}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[sqlx::test(migrations = false)]
async fn settings_are_read_and_changed_through_the_profile(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut ada = user(&app, "ada@example.com").await;
    let profile = me(&mut ada).await;
    assert_eq!(profile["email_verified"], false);
    assert_eq!(profile["digest_hour"], 5);
    assert_eq!(profile["digest_enabled"], true);
    assert_eq!(profile["week_start"], "monday");
    assert_eq!(profile["calendar_feed_url"], Value::Null);

    let (status, _, body) = ada
        .request(
            "PATCH",
            "/api/user/me",
            Some(json!({"digest_enabled": false, "week_start": "Sunday", "digest_hour": 7})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["user"]["digest_enabled"], false);
    let profile = me(&mut ada).await;
    assert_eq!(
        (
            &profile["digest_enabled"],
            &profile["week_start"],
            &profile["digest_hour"]
        ),
        (&json!(false), &json!("sunday"), &json!(7))
    );

    // Bad values are field errors and change nothing, the valid ones beside them included.
    let (status, _, body) = ada
        .request(
            "PATCH",
            "/api/user/me",
            Some(json!({"week_start": "friday", "digest_enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["errors"]["week_start"][0],
        "Choose a week start: monday, sunday or saturday"
    );
    let (status, _, _) = ada
        .request(
            "PATCH",
            "/api/user/me",
            Some(json!({"digest_enabled": "true"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let profile = me(&mut ada).await;
    assert_eq!(
        (&profile["digest_enabled"], &profile["week_start"]),
        (&json!(false), &json!("sunday"))
    );

    // Absent fields keep their value.
    let (status, _, _) = ada
        .request(
            "PATCH",
            "/api/user/me",
            Some(json!({"digest_enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let profile = me(&mut ada).await;
    assert_eq!(
        (&profile["digest_enabled"], &profile["week_start"]),
        (&json!(true), &json!("sunday"))
    );
}

#[sqlx::test(migrations = false)]
async fn the_feed_holds_the_users_reminders_and_due_dates_and_a_new_url_retires_the_old(
    pool: PgPool,
) {
    let app = spawn_app(pool).await;
    app.state.clock.set(start());
    let mut ada = user(&app, "ada@example.com").await;
    let mut bob = user(&app, "bob@example.com").await;
    sqlx::query("UPDATE users SET timezone = 'Asia/Kolkata' WHERE email = 'ada@example.com'")
        .execute(&app.state.pool)
        .await
        .unwrap();

    let due = (start() + Duration::days(3)).to_rfc3339();
    let (status, _, body) = ada
        .post(
            "/api/tasks",
            json!({"title": "Thermodynamics, ch. 2 & <3>", "dueDate": due}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let task = body["data"]["task"]["id"].as_str().unwrap().to_string();
    let at = (start() + Duration::days(1)).to_rfc3339();
    let (status, _, body) = ada
        .post(
            "/api/reminders",
            json!({"taskId": task, "scheduledAt": at, "type": "push",
                   "message": "Line one\nLine two; with, commas"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let reminder = body["data"]["reminder"]["id"].as_str().unwrap().to_string();
    let (_, _, body) = bob
        .post(
            "/api/tasks",
            json!({"title": "Bob's secret", "dueDate": due}),
        )
        .await;
    assert!(body["data"]["task"]["id"].is_string());

    // No feed until one is made.
    assert_eq!(me(&mut ada).await["calendar_feed_url"], Value::Null);
    let (status, _, body) = ada.post("/api/user/calendar-feed", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["data"]["calendar_feed_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(me(&mut ada).await["calendar_feed_url"], url.as_str());
    let path = url::Url::parse(&url).unwrap().path().to_string();
    assert!(
        path.starts_with("/calendar/") && path.ends_with(".ics"),
        "{url}"
    );

    // Read without cookies, as a calendar app does.
    let response = app.get(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/calendar"), "{content_type}");
    let document = text(response).await;
    let feed = parse_ics(&document);
    assert_eq!(feed["name"], "Spacedly");
    let events = feed["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{feed}");
    let reminder_event = events
        .iter()
        .find(|e| {
            e["uid"]
                .as_str()
                .unwrap()
                .starts_with(&format!("reminder-{reminder}@"))
        })
        .unwrap_or_else(|| panic!("no reminder in {feed}"));
    assert_eq!(
        reminder_event["summary"],
        "Reminder: Thermodynamics, ch. 2 & <3>"
    );
    assert_eq!(reminder_event["start"], "2026-12-08T08:00:00+00:00");
    assert!(reminder_event["description"]
        .as_str()
        .unwrap()
        .starts_with("Line one\nLine two; with, commas"));
    assert!(reminder_event["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/tasks/{task}")));
    let due_event = events
        .iter()
        .find(|e| e["summary"] == "Due: Thermodynamics, ch. 2 & <3>")
        .unwrap_or_else(|| panic!("no due date in {feed}"));
    assert_eq!(due_event["start"], "2026-12-10T08:00:00+00:00");
    assert_eq!(due_event["categories"], json!(["due"]));
    assert!(!document.contains("Bob"));

    // A new URL: the old one stops answering, the new one answers.
    let (_, _, body) = ada.post("/api/user/calendar-feed", json!({})).await;
    let new_url = body["data"]["calendar_feed_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_url, url);
    assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND);
    let new_path = url::Url::parse(&new_url).unwrap().path().to_string();
    assert_eq!(app.get(&new_path).await.status(), StatusCode::OK);

    // Bob's feed has only his; made-up and malformed secrets are 404.
    let (_, _, body) = bob.post("/api/user/calendar-feed", json!({})).await;
    let bob_path = url::Url::parse(body["data"]["calendar_feed_url"].as_str().unwrap())
        .unwrap()
        .path()
        .to_string();
    let bobs = text(app.get(&bob_path).await).await;
    assert!(bobs.contains("Bob's secret") && !bobs.contains("Thermodynamics"));
    for wrong in [
        "/calendar/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.ics",
        "/calendar/..%2F..%2Fetc%2Fpasswd.ics",
        "/calendar/x.ics",
        &new_path.replace(".ics", ""),
    ] {
        assert_eq!(
            app.get(wrong).await.status(),
            StatusCode::NOT_FOUND,
            "{wrong}"
        );
    }

    // Signed out, no new URL can be made.
    let mut stranger = Client::new(&app);
    let (status, _, _) = stranger.post("/api/user/calendar-feed", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
