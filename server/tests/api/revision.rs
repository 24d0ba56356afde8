//! Spaced revision through the API with the app's clock: a memory item's first review comes due
//! the next morning and is delivered through the reminders path, rating it schedules the next
//! review as FSRS predicts, undo restores every row, and the hostile cases answer cleanly.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use spacedly_server::{
    jobs,
    reminders::{delivery::DeliverReminder, reviews::at_local_hour},
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{register, sign_in, spawn_app, Client, TestApp};

/// A whole-second instant to start from: the real time when the first test asked (sessions
/// are stamped with the real time).
fn start() -> DateTime<Utc> {
    static START: std::sync::OnceLock<DateTime<Utc>> = std::sync::OnceLock::new();
    *START.get_or_init(|| {
        let now = Utc::now().timestamp();
        DateTime::from_timestamp(now - now % 60, 0).unwrap()
    })
}

const ZONE: &str = "Asia/Kolkata";
const HOUR: u32 = 7;

/// A signed-in user in Kolkata whose morning is at 7; returns the client and the user's id.
async fn learner<'a>(app: &'a TestApp, email: &str) -> (Client<'a>, Uuid) {
    let mut client = Client::new(app);
    register(&mut client, email).await;
    sign_in(&mut client, email).await;
    let id = sqlx::query_scalar(
        "UPDATE users SET timezone = $2, digest_hour = $3 WHERE email = $1 RETURNING id",
    )
    .bind(email)
    .bind(ZONE)
    .bind(HOUR as i16)
    .fetch_one(&app.state.pool)
    .await
    .unwrap();
    (client, id)
}

async fn create(client: &mut Client<'_>, body: Value) -> Value {
    let (status, _, body) = client.post("/api/tasks", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["task"].clone()
}

/// Local day `days` after the start's, at the morning hour.
fn morning(days: i64) -> DateTime<Utc> {
    let zone: chrono_tz::Tz = ZONE.parse().unwrap();
    let today = start().with_timezone(&zone).date_naive();
    at_local_hour(today + Duration::days(days), zone, HOUR)
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn due(client: &mut Client<'_>) -> Vec<Value> {
    let (status, _, body) = client.get("/api/reviews/due").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["reviews"].as_array().unwrap().clone()
}

async fn review(client: &mut Client<'_>, task: &str, rating: &str) -> (StatusCode, Value) {
    let (status, _, body) = client
        .post(
            &format!("/api/tasks/{task}/review"),
            json!({ "rating": rating }),
        )
        .await;
    (status, body)
}

/// Every row that rating and undo touch, as text, for exact comparison.
async fn snapshot(pool: &PgPool, task: &str) -> Vec<String> {
    let task: Uuid = task.parse().unwrap();
    sqlx::query_scalar(
        "SELECT format('reminder %s %s %s %s %s', id, kind, status, scheduled_at, completed_at)
           FROM reminders WHERE task_id = $1
         UNION ALL
         SELECT format('memory %s %s %s %s', stability, difficulty, last_reviewed_at, reviews)
           FROM memory_states WHERE task_id = $1
         UNION ALL
         SELECT format('log %s %s %s', reviewed_at, rating, stability)
           FROM review_log WHERE task_id = $1
         ORDER BY 1",
    )
    .bind(task)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_memory_item_is_reviewed_scheduled_delivered_and_undone(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.state.clock.set(start());
    let (mut ada, _) = learner(&app, "ada@example.com").await;
    let task = create(
        &mut ada,
        json!({"title": "Krebs cycle", "spacedRevision": true, "desiredRetention": 0.9}),
    )
    .await;
    let id = task["id"].as_str().unwrap().to_string();
    // The first review: tomorrow morning, local time, a review reminder in the app.
    let first = &task["reminders"][0];
    assert_eq!(first["kind"], "review");
    assert_eq!(first["type"], "push");
    assert_eq!(time(&first["scheduledAt"]), morning(1));
    assert!(due(&mut ada).await.is_empty());

    // Tomorrow morning it is delivered like any reminder, and due.
    app.state.clock.set(morning(1) + Duration::minutes(1));
    assert_eq!(
        jobs::run_due::<DeliverReminder>(&app.state).await.unwrap(),
        1
    );
    let (_, _, notes) = ada.get("/api/notifications").await;
    let notes = notes["data"]["notifications"].as_array().unwrap().clone();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0]["title"].as_str().unwrap().contains("Krebs cycle"),
        "{notes:?}"
    );
    let list = due(&mut ada).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["task"]["id"], id.as_str());
    assert_eq!(list[0]["recall"], Value::Null);
    assert_eq!(
        list[0]["intervals"],
        json!({"again": 1, "hard": 1, "good": 2, "easy": 8})
    );

    // Good: FSRS's first good stability (2.3 days), so two days on, in the morning.
    let before = snapshot(&pool, &id).await;
    let (status, body) = review(&mut ada, &id, "good").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(time(&data["nextReviewAt"]), morning(3));
    assert_eq!(data["intervals"]["good"], 2);
    assert_eq!(data["task"]["id"], id.as_str());
    assert!(due(&mut ada).await.is_empty());
    let logged: (String, f64, f64, Option<f64>, i32) = sqlx::query_as(
        "SELECT rating, elapsed_days, stability, retrievability, scheduled_days FROM review_log",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(logged.0, "good");
    assert_eq!(logged.1, 0.0);
    assert!((logged.2 - 2.3065).abs() < 1e-4, "{logged:?}");
    assert_eq!(logged.3, None);
    assert_eq!(logged.4, 2);

    // Undo within ten minutes: every row as it was.
    app.state.clock.set(morning(1) + Duration::minutes(9));
    let (status, _, body) = ada
        .post(&format!("/api/tasks/{id}/review/undo"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(time(&body["data"]["nextReviewAt"]), morning(1));
    assert_eq!(snapshot(&pool, &id).await, before);
    // Nothing left to undo.
    let (status, _, body) = ada
        .post(&format!("/api/tasks/{id}/review/undo"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // Rated again, then reviewed late: the real elapsed time counts.
    let (status, _) = review(&mut ada, &id, "good").await;
    assert_eq!(status, StatusCode::OK);
    // Too late to undo after ten minutes.
    app.state.clock.set(morning(1) + Duration::minutes(25));
    let (status, _, body) = ada
        .post(&format!("/api/tasks/{id}/review/undo"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("10 minutes"),
        "{body}"
    );

    // Reviews are answered by ratings: the original client's re-send of "pending" for every
    // reminder changes nothing, done by hand or deleting the next review is refused.
    let (_, _, body) = ada.get(&format!("/api/tasks/{id}/reminders")).await;
    let reminders = body["data"]["reminders"].as_array().unwrap().clone();
    let (done, next): (Vec<&Value>, Vec<&Value>) =
        reminders.iter().partition(|r| r["status"] == "completed");
    assert_eq!((done.len(), next.len()), (1, 1), "{reminders:?}");
    let (status, _, body) = ada
        .request(
            "PUT",
            &format!("/api/reminders/{}", done[0]["id"].as_str().unwrap()),
            Some(json!({"scheduledAt": done[0]["scheduledAt"], "status": "pending"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["reminder"]["status"], "completed");
    let next_id = next[0]["id"].as_str().unwrap();
    let (status, _, body) = ada
        .request(
            "PUT",
            &format!("/api/reminders/{next_id}"),
            Some(json!({"status": "completed"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _, body) = ada
        .request("DELETE", &format!("/api/reminders/{next_id}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    app.state.clock.set(morning(6));
    let list = due(&mut ada).await;
    assert_eq!(list.len(), 1);
    let recall = list[0]["recall"].as_f64().unwrap();
    assert!(recall > 0.5 && recall < 0.9, "{recall}");
    let (status, body) = review(&mut ada, &id, "hard").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let elapsed: f64 =
        sqlx::query_scalar("SELECT elapsed_days FROM review_log ORDER BY reviewed_at DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!((elapsed - 5.0).abs() < 0.01, "{elapsed}");
    // Exactly one pending review, and the completed ones count as done reminders.
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT status FROM reminders WHERE task_id = $1::uuid ORDER BY scheduled_at",
    )
    .bind(&id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(statuses, ["completed", "completed", "pending"]);

    // Retention: the item with its recall, a falling forecast of 30 days.
    let (status, _, body) = ada.get("/api/analytics/retention").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r = &body["data"];
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    assert_eq!(r["items"][0]["taskId"], id.as_str());
    assert!((r["items"][0]["recall"].as_f64().unwrap() - 1.0).abs() < 1e-6);
    assert!(r["items"][0]["stability"].as_f64().unwrap() > 0.0);
    assert!(r["items"][0]["nextReviewAt"].is_string());
    let forecast: Vec<f64> = r["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["averageRecall"].as_f64().unwrap())
        .collect();
    assert_eq!(forecast.len(), 30);
    assert!(forecast.windows(2).all(|w| w[1] < w[0]), "{forecast:?}");
    assert!(r["forecast"][0]["day"].is_string());
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_ratings_other_tasks_and_switching_off_answer_cleanly(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.state.clock.set(start());
    let (mut ada, _) = learner(&app, "ada@example.com").await;
    let (mut bob, _) = learner(&app, "bob@example.com").await;
    let memory = create(
        &mut ada,
        json!({"title": "Anatomy", "spacedRevision": true}),
    )
    .await;
    let memory = memory["id"].as_str().unwrap().to_string();
    // The API keeps spacedRevision false when omitted (the original client's tasks).
    let plain = create(&mut ada, json!({"title": "Buy milk"})).await;
    assert_eq!(plain["spacedRevision"], false);
    assert_eq!(plain["reminders"], json!([]));
    let plain = plain["id"].as_str().unwrap().to_string();

    for bad in [
        json!({"rating": "perfect"}),
        json!({"rating": 3}),
        json!({}),
    ] {
        let (status, _, body) = ada
            .post(&format!("/api/tasks/{memory}/review"), bad.clone())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (_, _, body) = ada
        .post(
            &format!("/api/tasks/{memory}/review"),
            json!({"rating": "perfect"}),
        )
        .await;
    assert!(body["errors"]["rating"].is_array(), "{body}");
    let (status, body) = review(&mut ada, &plain, "good").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("spaced"),
        "{body}"
    );
    // Bob cannot rate, undo or see Ada's item; ids that are not ids are not found either.
    let (status, _) = review(&mut bob, &memory, "good").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = bob
        .post(&format!("/api/tasks/{memory}/review/undo"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = review(&mut ada, "not-a-uuid", "good").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.state.clock.set(morning(1));
    assert!(due(&mut bob).await.is_empty());
    assert_eq!(snapshot(&pool, &memory).await.len(), 1);

    // 40 ratings at once: each is recorded, one after the other, and one review stays pending.
    let requests = (0..40).map(|_| {
        let mut client = Client {
            app: &app,
            cookie: ada.cookie.clone(),
            device_cookie: ada.device_cookie.clone(),
            ip: ada.ip,
            bearer: None,
        };
        let uri = format!("/api/tasks/{memory}/review");
        async move { client.post(&uri, json!({"rating": "good"})).await.0 }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let (logged, pending): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM review_log),
                (SELECT count(*) FROM reminders WHERE status = 'pending' AND kind = 'review')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((logged, pending), (40, 1));

    // Off: the pending review is cancelled and rating is refused; on again: a new first review.
    let (status, _, body) = ada
        .request(
            "PUT",
            &format!("/api/tasks/{memory}"),
            Some(json!({"spacedRevision": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(due(&mut ada).await.is_empty());
    let (status, _) = review(&mut ada, &memory, "good").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, _, body) = ada
        .request(
            "PUT",
            &format!("/api/tasks/{memory}"),
            Some(json!({"spacedRevision": true})),
        )
        .await;
    let pending: Vec<&Value> = body["data"]["task"]["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "pending")
        .collect();
    assert_eq!(pending.len(), 1, "{body}");
    assert_eq!(time(&pending[0]["scheduledAt"]), morning(2));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_user_with_enough_reviews_gets_a_weekly_fit(pool: PgPool) {
    use spacedly_server::revision::optimiser::{self, FitParameters};
    let app = spawn_app(pool.clone()).await;
    app.state.clock.set(start());
    let (_, user) = learner(&app, "ada@example.com").await;
    // 60 topics reviewed 8 times each (480 reviews), a log generated from known parameters.
    let log = optimiser::synthetic_log(60, 8, 1).unwrap();
    let items: Vec<Uuid> = log.iter().map(|r| r.item).collect();
    sqlx::query(
        "INSERT INTO tasks (id, user_id, title, spaced_revision)
         SELECT DISTINCT id, $2, 'Topic', true FROM unnest($1::uuid[]) id",
    )
    .bind(&items)
    .bind(user)
    .execute(&pool)
    .await
    .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let count = |c| {
        let app = &app;
        async move {
            let mut conn = app.state.pool.acquire().await.unwrap();
            optimiser::enqueue_due_fits(&mut conn, c).await.unwrap()
        }
    };
    // Under 400 reviews: no fit.
    for r in log.iter().take(399) {
        insert_review(&mut conn, user, r).await;
    }
    assert_eq!(count(start()).await, 0);
    for r in log.iter().skip(399) {
        insert_review(&mut conn, user, r).await;
    }
    assert_eq!(count(start()).await, 1);
    assert_eq!(
        count(start()).await,
        0,
        "the same week's job is not enqueued twice"
    );
    // (The job is due at the database's time, a little after the start.)
    app.state.clock.set(start() + Duration::minutes(2));
    assert_eq!(jobs::run_due::<FitParameters>(&app.state).await.unwrap(), 1);
    let in_use = optimiser::parameters_in_use(&pool, user).await.unwrap();
    assert_eq!(in_use.reviews, 480);
    let fit = in_use.last_fit.expect("a fit is recorded");
    assert_eq!(fit.reviews, 480);
    assert!(fit.kept && fit.log_loss < fit.previous_log_loss, "{fit:?}");
    assert_eq!(in_use.fitted, Some(fit));
    // A week on, not before, the user is due again.
    assert_eq!(count(start() + Duration::days(6)).await, 0);
    assert_eq!(count(start() + Duration::days(8)).await, 1);
}

async fn insert_review(
    conn: &mut sqlx::PgConnection,
    user: Uuid,
    r: &spacedly_server::revision::optimiser::LoggedReview,
) {
    sqlx::query(
        "INSERT INTO review_log (user_id, task_id, reviewed_at, rating, elapsed_days, stability,
                                 difficulty, scheduled_days, next_review_at)
         VALUES ($1, $2, ($3::date + time '09:00') AT TIME ZONE 'Asia/Kolkata', $4, 0, 1, 5, 1, now())",
    )
    .bind(user)
    .bind(r.item)
    .bind(r.day)
    .bind(r.rating.as_str())
    .execute(conn)
    .await
    .unwrap();
}
