//! Reminders through the API, delivered by the real job code into a local SMTP server, with the
//! app's clock moved instead of waiting.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use spacedly_server::{
    jobs,
    reminders::delivery::{self, DeliverReminder},
    tasks::due::{self, DueAlert},
};
use sqlx::PgPool;

use crate::common::{register, sign_in, smtp::SmtpSink, spawn_app_with, Client, TestApp};

/// A whole-second instant to start from (the queue keeps whole seconds): the real time when
/// the first test asked, as sessions are stamped with the real time.
fn start() -> DateTime<Utc> {
    static START: std::sync::OnceLock<DateTime<Utc>> = std::sync::OnceLock::new();
    *START.get_or_init(|| {
        let now = Utc::now().timestamp();
        DateTime::from_timestamp(now - now % 60, 0).unwrap()
    })
}

async fn app_with_smtp(pool: &PgPool) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(pool.clone(), |c| c.smtp_url = Some(url.into())).await;
    app.state.clock.set(start());
    (app, sink)
}

/// A signed-in user with a confirmed address (or not) and one task; returns the task id.
async fn user_with_task<'a>(app: &'a TestApp, email: &str, verified: bool) -> (Client<'a>, String) {
    let mut client = Client::new(app);
    register(&mut client, email).await;
    sqlx::query("UPDATE users SET email_verified = $2 WHERE email = $1")
        .bind(email)
        .bind(verified)
        .execute(&app.state.pool)
        .await
        .unwrap();
    sign_in(&mut client, email).await;
    let (status, _, body) = client
        .post(
            "/api/tasks",
            json!({"title": "Organic chemistry <b>ch. 4</b>"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        client,
        body["data"]["task"]["id"].as_str().unwrap().to_string(),
    )
}

fn at(minutes: i64) -> String {
    (start() + Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

async fn remind(client: &mut Client<'_>, task: &str, minutes: i64, channel: &str) -> Value {
    let (status, _, body) = client
        .post(
            "/api/reminders",
            json!({"taskId": task, "scheduledAt": at(minutes), "type": channel,
                   "message": "Re-read <script>alert(1)</script> & the summary", "status": "pending"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["reminder"].clone()
}

/// Moves the clock to `minutes` after the start and runs the reminder jobs then due.
async fn run_at(app: &TestApp, minutes: i64) -> usize {
    app.state.clock.set(start() + Duration::minutes(minutes));
    jobs::run_due::<DeliverReminder>(&app.state).await.unwrap()
}

async fn notifications(client: &mut Client<'_>) -> Vec<Value> {
    let (_, _, body) = client.get("/api/notifications").await;
    body["data"]["notifications"].as_array().unwrap().clone()
}

async fn reminder(client: &mut Client<'_>, id: &str) -> Value {
    let (_, _, body) = client.get("/api/reminders").await;
    body["data"]["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

#[sqlx::test(migrations = false)]
async fn a_reminder_arrives_once_at_its_time_by_email_and_in_the_app(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com", true).await;
    let created = remind(&mut ada, &task, 60, "both").await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["taskId"], task.as_str());
    assert_eq!(created["sentAt"], Value::Null);

    assert_eq!(run_at(&app, 59).await, 0, "nothing before its time");
    assert!(sink.received().is_empty());
    assert!(notifications(&mut ada).await.is_empty());

    assert_eq!(run_at(&app, 60).await, 1);
    let mail = sink.received();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, ["ada@example.com"]);
    let expected_id = format!(
        "<reminder-{id}-{}@",
        (start() + Duration::minutes(60)).timestamp()
    );
    assert!(mail[0]
        .header("Message-ID")
        .unwrap()
        .starts_with(&expected_id));
    let body = mail[0].decoded();
    assert!(body.contains(&format!(
        "Open the task: http://127.0.0.1:3000/tasks/{task}"
    )));
    assert!(body.contains("settings: http://127.0.0.1:3000/settings"));
    // The plain text keeps what the user typed; the HTML part escapes it.
    assert!(body.contains("Re-read <script>alert(1)</script> & the summary"));
    assert!(body.contains("Re-read &lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; the summary"));
    assert_eq!(
        body.matches("<script>").count(),
        1,
        "only in the plain text"
    );
    let told = notifications(&mut ada).await;
    assert_eq!(told.len(), 1);
    assert_eq!(told[0]["type"], "reminder");
    assert_eq!(told[0]["relatedTaskId"], task.as_str());
    let sent = reminder(&mut ada, id).await;
    assert_eq!(sent["sentAt"], at(60));
    // Sending does not complete it: that stays the user's.
    assert_eq!(sent["status"], "pending");

    assert_eq!(run_at(&app, 120).await, 0);
    assert_eq!(sink.received().len(), 1);
    assert_eq!(notifications(&mut ada).await.len(), 1);
}

#[sqlx::test(migrations = false)]
async fn two_runs_racing_send_once(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com", true).await;
    let id = remind(&mut ada, &task, 10, "email").await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.state.clock.set(start() + Duration::minutes(10));
    let job = DeliverReminder {
        id,
        scheduled_at: start() + Duration::minutes(10),
    };
    let runs = (0..8).map(|_| delivery::deliver(&app.state, &job));
    for outcome in futures::future::join_all(runs).await {
        outcome.unwrap();
    }
    assert_eq!(run_at(&app, 10).await, 1, "the queued job finds it sent");
    assert_eq!(sink.received().len(), 1);
}

#[sqlx::test(migrations = false)]
async fn a_refusing_mail_server_is_retried_with_backoff_until_it_takes_the_mail(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com", true).await;
    let id = remind(&mut ada, &task, 5, "both").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    sink.refuse_next(2);
    assert_eq!(run_at(&app, 5).await, 1);
    assert!(sink.received().is_empty());
    // The in-app notification does not wait for the mail server.
    assert_eq!(notifications(&mut ada).await.len(), 1);
    // The next try waits 30 s (and up to 20 % more): not at once.
    app.state
        .clock
        .set(start() + Duration::minutes(5) + Duration::seconds(20));
    assert_eq!(
        jobs::run_due::<DeliverReminder>(&app.state).await.unwrap(),
        0
    );
    assert_eq!(run_at(&app, 6).await, 1, "second try, refused again");
    assert!(sink.received().is_empty());
    assert_eq!(run_at(&app, 8).await, 1, "third try");
    assert_eq!(sink.received().len(), 1);
    assert_eq!(notifications(&mut ada).await.len(), 1, "told once");
    assert_eq!(reminder(&mut ada, &id).await["status"], "pending");
    assert_eq!(run_at(&app, 600).await, 0);
    assert_eq!(sink.received().len(), 1);
}

#[sqlx::test(migrations = false)]
async fn when_every_try_fails_the_reminder_is_failed_and_the_user_told(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com", true).await;
    let id = remind(&mut ada, &task, 5, "email").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    sink.refuse_next(usize::MAX);
    let mut tries = 0;
    for hour in 0..10 {
        tries += run_at(&app, 5 + hour * 60).await;
    }
    assert_eq!(tries, 6, "MAX_ATTEMPTS runs, then given up");
    assert!(sink.received().is_empty());
    assert_eq!(reminder(&mut ada, &id).await["status"], "failed");
    let told = notifications(&mut ada).await;
    assert_eq!(
        told.len(),
        1,
        "an email reminder tells in the app only that it failed"
    );
    assert!(told[0]["title"]
        .as_str()
        .unwrap()
        .contains("could not be emailed"));
    // A new time makes it pending and armed again.
    let (status, _, body) = ada
        .request(
            "PUT",
            &format!("/api/reminders/{id}"),
            Some(json!({"scheduledAt": at(700)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["reminder"]["status"], "pending");
    sink.refuse_next(0);
    assert_eq!(run_at(&app, 700).await, 1);
    assert_eq!(sink.received().len(), 1);
}

#[sqlx::test(migrations = false)]
async fn rescheduling_rearms_and_deleting_cancels(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com", true).await;
    let moved = remind(&mut ada, &task, 60, "email").await;
    let gone = remind(&mut ada, &task, 60, "email").await;
    let (status, _, body) = ada
        .request(
            "PUT",
            &format!("/api/reminders/{}", moved["id"].as_str().unwrap()),
            Some(json!({"scheduledAt": at(120)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["reminder"]["scheduledAt"], at(120));
    let (status, _, _) = ada
        .request(
            "DELETE",
            &format!("/api/reminders/{}", gone["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(run_at(&app, 60).await, 0, "neither goes at the old time");
    assert!(sink.received().is_empty());
    assert_eq!(run_at(&app, 120).await, 1);
    assert_eq!(sink.received().len(), 1);
    // Completing one disarms it; pending again re-arms it.
    let third = remind(&mut ada, &task, 180, "email").await;
    let path = format!("/api/reminders/{}", third["id"].as_str().unwrap());
    ada.request("PUT", &path, Some(json!({"status": "completed"})))
        .await;
    assert_eq!(run_at(&app, 180).await, 0);
    let (status, _, body) = ada
        .request(
            "PUT",
            &path,
            Some(json!({"status": "pending", "scheduledAt": at(240)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(run_at(&app, 240).await, 1);
    assert_eq!(sink.received().len(), 2);
}

#[sqlx::test(migrations = false)]
async fn an_unchanged_time_sent_again_changes_nothing_and_sends_nothing(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com", true).await;
    let created = remind(&mut ada, &task, 30, "email").await;
    let path = format!("/api/reminders/{}", created["id"].as_str().unwrap());
    assert_eq!(run_at(&app, 30).await, 1);
    assert_eq!(sink.received().len(), 1);
    // The original client saves the task an hour later and re-sends every reminder.
    app.state.clock.set(start() + Duration::minutes(90));
    for _ in 0..3 {
        let (status, _, body) = ada
            .request(
                "PUT",
                &path,
                Some(json!({"scheduledAt": created["scheduledAt"], "status": "pending"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["reminder"]["sentAt"], at(30));
    }
    assert_eq!(run_at(&app, 200).await, 0);
    assert_eq!(sink.received().len(), 1);
    // A changed time must be ahead.
    let (status, _, body) = ada
        .request("PUT", &path, Some(json!({"scheduledAt": at(60)})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["scheduledAt"].is_array(), "{body}");
}

#[sqlx::test(migrations = false)]
async fn an_unconfirmed_address_gets_no_email_but_the_app_tells(pool: PgPool) {
    let (app, sink) = app_with_smtp(&pool).await;
    let (mut eve, task) = user_with_task(&app, "eve@example.com", false).await;
    let id = remind(&mut eve, &task, 15, "email").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(run_at(&app, 15).await, 1);
    assert!(sink.received().is_empty());
    assert_eq!(notifications(&mut eve).await.len(), 1);
    assert!(reminder(&mut eve, &id).await["sentAt"].is_string());
}

#[sqlx::test(migrations = false)]
async fn reminders_are_private_and_checked(pool: PgPool) {
    let (app, _sink) = app_with_smtp(&pool).await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com", true).await;
    let (mut bob, bobs_task) = user_with_task(&app, "bob@example.com", true).await;
    let adas = remind(&mut ada, &task, 60, "push").await;
    let path = format!("/api/reminders/{}", adas["id"].as_str().unwrap());
    for (method, body) in [
        ("PUT", Some(json!({"status": "skipped"}))),
        ("DELETE", None),
    ] {
        let (status, _, _) = bob.request(method, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    let (status, _, _) = bob
        .post(
            "/api/reminders",
            json!({"taskId": task, "scheduledAt": at(60)}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another user's task");
    let (_, _, body) = bob.get("/api/reminders").await;
    assert_eq!(body["data"]["reminders"], json!([]));
    let (status, _, body) = bob
        .post(
            "/api/reminders",
            json!({"taskId": bobs_task, "scheduledAt": at(-1), "type": "pigeon", "message": "x".repeat(501)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["type", "message"] {
        assert!(body["errors"][field].is_array(), "{field}: {body}");
    }
    let (status, _, body) = bob
        .post(
            "/api/reminders",
            json!({"taskId": bobs_task, "scheduledAt": at(-1)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a past time");
    assert!(body["errors"]["scheduledAt"].is_array(), "{body}");
    // Lists by range, with the task.
    let (_, _, body) = ada
        .get(&format!(
            "/api/reminders?from={}&to={}",
            urlencode(&at(30)),
            urlencode(&at(90))
        ))
        .await;
    assert_eq!(body["data"]["reminders"][0]["task"]["id"], task.as_str());
    let (_, _, body) = ada
        .get(&format!("/api/reminders?from={}", urlencode(&at(61))))
        .await;
    assert_eq!(body["data"]["reminders"], json!([]));
    let (status, _, _) = ada.get("/api/reminders?from=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn urlencode(raw: &str) -> String {
    form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// Moves the clock to `minutes` after the start and runs the due-date alerts then due.
async fn alerts_at(app: &TestApp, minutes: i64) -> usize {
    app.state.clock.set(start() + Duration::minutes(minutes));
    jobs::run_due::<DueAlert>(&app.state).await.unwrap()
}

async fn titles(client: &mut Client<'_>) -> Vec<String> {
    let mut titles: Vec<String> = notifications(client)
        .await
        .iter()
        .map(|n| {
            format!(
                "{} {}",
                n["type"].as_str().unwrap(),
                n["title"].as_str().unwrap()
            )
        })
        .collect();
    titles.sort();
    titles
}

#[sqlx::test(migrations = false)]
async fn a_due_date_tells_an_hour_before_and_when_it_passes_once_each(pool: PgPool) {
    let (app, _sink) = app_with_smtp(&pool).await;
    let mut ada = Client::new(&app);
    register(&mut ada, "ada@example.com").await;
    sign_in(&mut ada, "ada@example.com").await;
    let (_, _, body) = ada
        .post("/api/tasks", json!({"title": "Essay", "dueDate": at(180)}))
        .await;
    let essay = body["data"]["task"]["id"].as_str().unwrap().to_string();
    assert_eq!(alerts_at(&app, 119).await, 0, "not before the hour");
    assert_eq!(alerts_at(&app, 120).await, 1);
    assert_eq!(titles(&mut ada).await, ["upcoming Due in an hour: Essay"]);
    assert_eq!(alerts_at(&app, 180).await, 1);
    assert_eq!(
        titles(&mut ada).await,
        ["overdue Overdue: Essay", "upcoming Due in an hour: Essay"]
    );
    assert_eq!(alerts_at(&app, 600).await, 0, "once each");
    // A job run again (a crash before its end was recorded) tells nothing twice.
    let again = DueAlert {
        task_id: essay.parse().unwrap(),
        due_at: start() + Duration::minutes(180),
        alert: due::Alert::Overdue,
    };
    jobs::enqueue(
        &mut app.state.pool.acquire().await.unwrap(),
        &again,
        jobs::Schedule::now(),
    )
    .await
    .unwrap();
    alerts_at(&app, 600).await;
    assert_eq!(titles(&mut ada).await.len(), 2);

    // A new date re-arms both; clearing it or completing the task disarms them.
    let path = format!("/api/tasks/{essay}");
    ada.request("PUT", &path, Some(json!({"dueDate": at(900)})))
        .await;
    let (_, _, body) = ada
        .post(
            "/api/tasks",
            json!({"title": "Lab report", "dueDate": at(900)}),
        )
        .await;
    let lab = body["data"]["task"]["id"].as_str().unwrap().to_string();
    let (_, _, body) = ada
        .post("/api/tasks", json!({"title": "Slides", "dueDate": at(900)}))
        .await;
    let slides = body["data"]["task"]["id"].as_str().unwrap().to_string();
    ada.request(
        "PUT",
        &format!("/api/tasks/{lab}"),
        Some(json!({"status": "completed"})),
    )
    .await;
    ada.request(
        "PUT",
        &format!("/api/tasks/{slides}"),
        Some(json!({"dueDate": null})),
    )
    .await;
    assert_eq!(alerts_at(&app, 840).await, 1);
    assert_eq!(alerts_at(&app, 900).await, 1);
    let titles = titles(&mut ada).await;
    assert_eq!(
        titles.iter().filter(|t| t.contains("Essay")).count(),
        4,
        "{titles:?}"
    );
    assert!(!titles
        .iter()
        .any(|t| t.contains("Lab report") || t.contains("Slides")));
}
