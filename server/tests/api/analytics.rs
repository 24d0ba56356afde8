//! /api/analytics and /api/analytics/streaks on fixed datasets with known answers, counted in
//! the user's time zone: an empty user, gaps, a completion late in the evening in Kolkata, a week
//! holding New York's autumn daylight-saving change, a day with nothing due inside a streak,
//! each week-start day, category shares, and someone else's data left out.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{register, sign_in, spawn_app, Client, TestApp};

fn utc(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .unwrap()
        .with_timezone(&Utc)
}

/// A signed-in user in `zone` starting weeks on `week_start`; returns the client and the id.
async fn user<'a>(
    app: &'a TestApp,
    email: &str,
    zone: &str,
    week_start: &str,
) -> (Client<'a>, Uuid) {
    let mut client = Client::new(app);
    register(&mut client, email).await;
    sign_in(&mut client, email).await;
    let id: Uuid = sqlx::query_scalar(
        "UPDATE users SET timezone = $2, week_start = $3 WHERE email = $1 RETURNING id",
    )
    .bind(email)
    .bind(zone)
    .bind(week_start)
    .fetch_one(&app.state.pool)
    .await
    .unwrap();
    (client, id)
}

async fn task(
    pool: &PgPool,
    user: Uuid,
    category: &str,
    completed: Option<&str>,
    due: Option<&str>,
) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO tasks (user_id, title, category, status, completed_at, due_at)
         VALUES ($1, 'Topic', $2, CASE WHEN $3::timestamptz IS NULL THEN 'todo' ELSE 'completed' END, $3, $4)
         RETURNING id",
    )
    .bind(user)
    .bind(category)
    .bind(completed.map(utc))
    .bind(due.map(utc))
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn reminder(pool: &PgPool, user: Uuid, task: Uuid, at: &str, completed: Option<&str>) {
    sqlx::query(
        "INSERT INTO reminders (user_id, task_id, scheduled_at, status, completed_at)
         VALUES ($1, $2, $3, CASE WHEN $4::timestamptz IS NULL THEN 'pending' ELSE 'completed' END, $4)",
    )
    .bind(user)
    .bind(task)
    .bind(utc(at))
    .bind(completed.map(utc))
    .execute(pool)
    .await
    .unwrap();
}

async fn analytics(client: &mut Client<'_>) -> Value {
    let (status, _, body) = client.get("/api/analytics").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

async fn streaks(client: &mut Client<'_>) -> (i64, i64) {
    let (status, _, body) = client.get("/api/analytics/streaks").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["data"]["active"].as_i64().unwrap(),
        body["data"]["longest"].as_i64().unwrap(),
    )
}

fn daily(a: &Value) -> Vec<(String, i64)> {
    a["dailyData"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().to_string(),
                d["completed"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn weekly(a: &Value) -> Vec<(String, i64)> {
    a["weeklyData"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["weekStart"].as_str().unwrap().to_string(),
                d["completed"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[sqlx::test(migrations = false)]
async fn an_empty_user_has_zeros_in_the_original_shape(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.state.clock.set(utc("2026-12-06T10:00:00Z"));
    let (mut ada, _) = user(&app, "ada@example.com", "Europe/London", "monday").await;
    let a = analytics(&mut ada).await;
    for field in [
        "totalTasks",
        "completedReminders",
        "upcomingReminders",
        "overdueReminders",
    ] {
        assert_eq!(a[field], 0, "{field}: {a}");
    }
    assert_eq!(a["categoryData"], json!([]));
    let days = a["dailyData"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(
        days[0],
        json!({"date": "Nov 30", "day": "2026-11-30", "completed": 0})
    );
    assert_eq!(
        days[6],
        json!({"date": "Dec 6", "day": "2026-12-06", "completed": 0})
    );
    let weeks = a["weeklyData"].as_array().unwrap();
    assert_eq!(weeks.len(), 4);
    assert_eq!(
        weeks[0],
        json!({"week": "Week 1", "weekStart": "2026-11-09", "completed": 0})
    );
    assert_eq!(weeks[3]["week"], "Week 4");
    assert_eq!(streaks(&mut ada).await, (0, 0));
    let (status, _, _) = Client::new(&app).get("/api/analytics").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = false)]
async fn days_are_the_users_local_days(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    // Sunday 6 December 2026, 17:30 in Kolkata (+05:30).
    app.state.clock.set(utc("2026-12-06T12:00:00Z"));
    let (mut ada, id) = user(&app, "ada@example.com", "Asia/Kolkata", "monday").await;
    let t = task(&pool, id, "Chemistry", None, None).await;
    // 23:30 on Friday 4 December in Kolkata, and 00:30 on Saturday 5 December there
    // (still Friday in UTC).
    reminder(
        &pool,
        id,
        t,
        "2026-12-04T10:00:00Z",
        Some("2026-12-04T18:00:00Z"),
    )
    .await;
    reminder(
        &pool,
        id,
        t,
        "2026-12-04T10:00:00Z",
        Some("2026-12-04T19:00:00Z"),
    )
    .await;
    task(&pool, id, "Chemistry", Some("2026-12-01T06:00:00Z"), None).await;
    // Pending: one ahead, one past its time.
    reminder(&pool, id, t, "2026-12-07T04:00:00Z", None).await;
    reminder(&pool, id, t, "2026-12-06T04:00:00Z", None).await;
    // Bob's, in the same days, are not Ada's.
    let (_, bob) = user(&app, "bob@example.com", "Asia/Kolkata", "monday").await;
    let bt = task(&pool, bob, "Other", Some("2026-12-04T18:00:00Z"), None).await;
    reminder(
        &pool,
        bob,
        bt,
        "2026-12-04T10:00:00Z",
        Some("2026-12-04T18:00:00Z"),
    )
    .await;

    let a = analytics(&mut ada).await;
    assert_eq!(
        daily(&a),
        vec![
            ("2026-11-30".into(), 0),
            ("2026-12-01".into(), 1),
            ("2026-12-02".into(), 0),
            ("2026-12-03".into(), 0),
            ("2026-12-04".into(), 1),
            ("2026-12-05".into(), 1),
            ("2026-12-06".into(), 0),
        ]
    );
    assert_eq!(
        (
            &a["totalTasks"],
            &a["completedReminders"],
            &a["upcomingReminders"],
            &a["overdueReminders"]
        ),
        (&json!(2), &json!(2), &json!(1), &json!(1))
    );
    assert_eq!(a["timezone"], "Asia/Kolkata");
}

#[sqlx::test(migrations = false)]
async fn weeks_hold_the_daylight_saving_change_and_start_on_the_chosen_day(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    // Saturday 21 November 2026, noon in New York; clocks went back on Sunday 1 November.
    app.state.clock.set(utc("2026-11-21T17:00:00Z"));
    let (mut ada, id) = user(&app, "ada@example.com", "America/New_York", "sunday").await;
    for completed in [
        "2026-11-01T03:30:00Z", // Sat 31 Oct, 23:30 EDT
        "2026-11-01T04:30:00Z", // Sun 1 Nov, 00:30 EDT
        "2026-11-02T04:30:00Z", // Sun 1 Nov, 23:30 EST
        "2026-11-02T05:30:00Z", // Mon 2 Nov, 00:30 EST
        "2026-11-21T16:00:00Z", // Sat 21 Nov, 11:00 EST
    ] {
        task(&pool, id, "Personal", Some(completed), None).await;
    }
    let a = analytics(&mut ada).await;
    assert_eq!(
        weekly(&a),
        vec![
            ("2026-10-25".into(), 1),
            ("2026-11-01".into(), 3),
            ("2026-11-08".into(), 0),
            ("2026-11-15".into(), 1),
        ]
    );
    for (start, expected) in [
        (
            "monday",
            vec![
                ("2026-10-26", 3),
                ("2026-11-02", 1),
                ("2026-11-09", 0),
                ("2026-11-16", 1),
            ],
        ),
        (
            "saturday",
            vec![
                ("2026-10-31", 4),
                ("2026-11-07", 0),
                ("2026-11-14", 0),
                ("2026-11-21", 1),
            ],
        ),
    ] {
        // The setting changes the weeks at once (through the API, as the settings page does).
        let (status, _, _) = ada
            .request("PATCH", "/api/user/me", Some(json!({"week_start": start})))
            .await;
        assert_eq!(status, StatusCode::OK);
        let expected: Vec<(String, i64)> = expected
            .into_iter()
            .map(|(d, n)| (d.to_string(), n))
            .collect();
        assert_eq!(
            weekly(&analytics(&mut ada).await),
            expected,
            "weeks from {start}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn streaks_skip_days_with_nothing_due_and_categories_share_the_whole(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    // Thursday 10 December 2026, 09:00 in London.
    app.state.clock.set(utc("2026-12-10T09:00:00Z"));
    let (mut ada, id) = user(&app, "ada@example.com", "Europe/London", "monday").await;
    let t = task(&pool, id, "Work", None, None).await;
    // An older streak of three days, broken on 24 Nov by a reminder left undone.
    for day in ["2026-11-21", "2026-11-22", "2026-11-23"] {
        reminder(
            &pool,
            id,
            t,
            &format!("{day}T08:00:00Z"),
            Some(&format!("{day}T09:00:00Z")),
        )
        .await;
    }
    reminder(&pool, id, t, "2026-11-24T08:00:00Z", None).await;
    // Then: Mon 7 done, Tue 8 nothing due and nothing done, Wed 9 done; today nothing yet.
    task(&pool, id, "Work", Some("2026-12-07T20:00:00Z"), None).await;
    task(&pool, id, "Reading", Some("2026-12-09T07:00:00Z"), None).await;
    reminder(&pool, id, t, "2026-12-10T08:00:00Z", None).await;
    // The pending one of 24 Nov is overdue and counts as due that day only.
    assert_eq!(streaks(&mut ada).await, (2, 3));

    let a = analytics(&mut ada).await;
    let shares: Vec<(String, i64, f64)> = a["categoryData"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category"].as_str().unwrap().into(),
                c["count"].as_i64().unwrap(),
                c["percent"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shares
            .iter()
            .map(|s| (s.0.as_str(), s.1))
            .collect::<Vec<_>>(),
        vec![("Work", 2), ("Reading", 1)]
    );
    let total: f64 = shares.iter().map(|s| s.2).sum();
    assert!((total - 1.0).abs() < 1e-9, "{shares:?}");
    assert!((shares[1].2 - 1.0 / 3.0).abs() < 1e-9);
}

type Counts = std::collections::BTreeMap<chrono::NaiveDate, (i64, i64, i64, i64)>;

/// The counts the database keeps for `user` (tasks created, tasks done, reminders done, due by
/// local day), as a reader sums them.
async fn kept(pool: &PgPool, user: Uuid) -> Counts {
    counts(
        pool,
        user,
        "SELECT day, sum(tasks)::bigint, sum(tasks_done)::bigint, sum(reminders_done)::bigint,
                sum(due)::bigint
           FROM activity_days WHERE user_id = $1 GROUP BY day
         HAVING sum(tasks) <> 0 OR sum(tasks_done) <> 0 OR sum(reminders_done) <> 0 OR sum(due) <> 0",
    )
    .await
}

/// The same counts recounted from the tasks and reminders themselves.
async fn recount(pool: &PgPool, user: Uuid) -> Counts {
    counts(
        pool,
        user,
        "SELECT day, sum(c)::bigint, sum(d)::bigint, sum(r)::bigint, sum(due)::bigint FROM (
           SELECT (t.created_at AT TIME ZONE u.timezone)::date AS day, 1 AS c, 0 AS d, 0 AS r, 0 AS due
             FROM tasks t JOIN users u ON u.id = t.user_id WHERE u.id = $1
           UNION ALL
           SELECT (t.completed_at AT TIME ZONE u.timezone)::date, 0, 1, 0, 0
             FROM tasks t JOIN users u ON u.id = t.user_id WHERE u.id = $1 AND t.completed_at IS NOT NULL
           UNION ALL
           SELECT (t.due_at AT TIME ZONE u.timezone)::date, 0, 0, 0, 1
             FROM tasks t JOIN users u ON u.id = t.user_id WHERE u.id = $1 AND t.due_at IS NOT NULL
           UNION ALL
           SELECT (r.completed_at AT TIME ZONE u.timezone)::date, 0, 0, 1, 0
             FROM reminders r JOIN users u ON u.id = r.user_id WHERE u.id = $1 AND r.status = 'completed'
           UNION ALL
           SELECT (r.scheduled_at AT TIME ZONE u.timezone)::date, 0, 0, 0, 1
             FROM reminders r JOIN users u ON u.id = r.user_id WHERE u.id = $1
         ) a GROUP BY day",
    )
    .await
}

/// `sql`'s rows (a day and four sums) for `user`.
async fn counts(pool: &PgPool, user: Uuid, sql: &'static str) -> Counts {
    let rows: Vec<(chrono::NaiveDate, i64, i64, i64, i64)> = sqlx::query_as(sql)
        .bind(user)
        .fetch_all(pool)
        .await
        .unwrap();
    rows.into_iter()
        .map(|(d, a, b, c, e)| (d, (a, b, c, e)))
        .collect()
}

async fn assert_kept(pool: &PgPool, user: Uuid, step: &str) {
    let recounted = recount(pool, user).await;
    assert!(!recounted.is_empty(), "{step}: nothing to count");
    assert_eq!(kept(pool, user).await, recounted, "{step}");
}

async fn rows_of(pool: &PgPool, user: Uuid) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), count(DISTINCT day) FROM activity_days WHERE user_id = $1")
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn the_kept_counts_follow_every_write(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    // Sunday 6 December 2026, 17:30 in Kolkata.
    app.state.clock.set(utc("2026-12-06T12:00:00Z"));
    let (mut ada, id) = user(&app, "ada@example.com", "Asia/Kolkata", "monday").await;
    let (mut bob, bob_id) = user(&app, "bob@example.com", "UTC", "monday").await;

    // Through the API: tasks with and without due dates, reminders, a completion, a move, a
    // deletion, a completed task, a task deleted with its reminders.
    let mut tasks = Vec::new();
    for (title, due) in [
        ("One", "2026-12-07T23:30"),
        ("Two", ""),
        ("Three", "2026-12-01T09:00"),
    ] {
        let (status, _, body) = ada
            .post("/api/tasks", json!({"title": title, "dueDate": due}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        tasks.push(body["data"]["task"]["id"].as_str().unwrap().to_string());
    }
    let mut reminders = Vec::new();
    for (task, at) in [
        (&tasks[0], "2026-12-06T18:45:00Z"),
        (&tasks[0], "2026-12-08T01:00:00Z"),
        (&tasks[1], "2026-12-09T20:00:00Z"),
        (&tasks[2], "2026-12-10T10:00:00Z"),
    ] {
        let (status, _, body) = ada
            .post(
                "/api/reminders",
                json!({"taskId": task, "scheduledAt": at, "type": "push", "status": "pending"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        reminders.push(body["data"]["reminder"]["id"].as_str().unwrap().to_string());
    }
    assert_kept(&pool, id, "created").await;
    let api = analytics(&mut ada).await;
    assert_eq!(api["totalTasks"], 3);
    assert_eq!(api["upcomingReminders"], 4);

    let (cookie, device_cookie) = (ada.cookie.clone(), ada.device_cookie.clone());
    let put = |path: String, body: Value| {
        let mut client = Client {
            app: &app,
            cookie: cookie.clone(),
            device_cookie: device_cookie.clone(),
            ip: "203.0.113.7",
            bearer: None,
        };
        async move { client.request("PUT", &path, Some(body)).await.0 }
    };
    for (path, body) in [
        (
            format!("/api/reminders/{}", reminders[0]),
            json!({"status": "completed"}),
        ),
        (
            format!("/api/reminders/{}", reminders[1]),
            json!({"scheduledAt": "2026-12-20T12:00:00Z"}),
        ),
        (
            format!("/api/tasks/{}", tasks[1]),
            json!({"status": "completed"}),
        ),
    ] {
        assert_eq!(put(path, body).await, StatusCode::OK);
    }
    let path = format!("/api/reminders/{}", reminders[3]);
    assert_eq!(ada.request("DELETE", &path, None).await.0, StatusCode::OK);
    assert_kept(&pool, id, "changed").await;
    let path = format!("/api/tasks/{}", tasks[0]);
    assert_eq!(ada.request("DELETE", &path, None).await.0, StatusCode::OK);
    assert_kept(&pool, id, "task deleted with its reminders").await;
    let api = analytics(&mut ada).await;
    assert_eq!(
        (api["totalTasks"].clone(), api["completedReminders"].clone()),
        (json!(2), json!(0))
    );

    // A year of history written in one statement, then 40 reminders completed at once while
    // maintenance folds the rows: nobody waits on anybody, and nothing is lost or counted twice.
    sqlx::query(
        "INSERT INTO reminders (user_id, task_id, scheduled_at, status, completed_at)
         SELECT $1, $2, at, CASE WHEN n % 4 = 0 THEN 'pending' ELSE 'completed' END,
                CASE WHEN n % 4 = 0 THEN NULL ELSE at + interval '90 minutes' END
           FROM (SELECT n, timestamptz '2026-12-06 12:00Z' - n * interval '7 hours' AS at
                   FROM generate_series(1, 1500) n) s",
    )
    .bind(id)
    .bind(Uuid::parse_str(&tasks[1]).unwrap())
    .execute(&pool)
    .await
    .unwrap();
    assert_kept(&pool, id, "history").await;
    let pending: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT id FROM reminders WHERE user_id = $1 AND status = 'pending' LIMIT 40",
    )
    .bind(id)
    .fetch_all(&pool)
    .await
    .unwrap();
    let completions = pending.iter().map(|(r,)| {
        put(
            format!("/api/reminders/{r}"),
            json!({"status": "completed"}),
        )
    });
    let pool_for_fold = pool.clone();
    let (statuses, folded) = tokio::join!(futures::future::join_all(completions), async move {
        spacedly_server::analytics::settle(&pool_for_fold).await
    });
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    folded.unwrap();
    assert_kept(&pool, id, "40 at once beside a fold").await;

    // Folding leaves one row a day and the same sums; folding again changes nothing.
    spacedly_server::analytics::settle(&pool).await.unwrap();
    let (rows, days) = rows_of(&pool, id).await;
    assert_eq!(rows, days);
    assert_kept(&pool, id, "folded").await;
    assert_eq!(spacedly_server::analytics::settle(&pool).await.unwrap(), 0);

    // A new time zone moves every day: 23:30 in Kolkata is the afternoon in London.
    let before = kept(&pool, id).await;
    let (status, _, body) = ada
        .request(
            "PATCH",
            "/api/user/me",
            Some(json!({"timezone": "America/Los_Angeles"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_kept(&pool, id, "new zone").await;
    assert_ne!(kept(&pool, id).await, before);

    // Bob's account goes, with his rows; Ada's stay.
    bob.post("/api/tasks", json!({"title": "Bob's"})).await;
    assert_kept(&pool, bob_id, "bob").await;
    let (status, _, _) = bob
        .request(
            "DELETE",
            "/api/user/me",
            Some(json!({"password": crate::common::PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows_of(&pool, bob_id).await, (0, 0));
    assert_kept(&pool, id, "after bob").await;
}
