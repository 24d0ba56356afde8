//! The job queue and the session store against a real database.

use std::time::Duration;

use crate::common::spawn_app;
use spacedly_server::{
    auth::emails::{self, SendEmail},
    jobs, maintenance,
    sessions::PgSessionStore,
    workers,
};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tower_sessions::{
    session::{Id, Record},
    SessionStore,
};

fn record(expires_in: time::Duration) -> Record {
    let mut data = std::collections::HashMap::new();
    data.insert("user".to_string(), serde_json::json!("ada"));
    Record {
        id: Id::default(),
        data,
        expiry_date: time::OffsetDateTime::now_utc() + expires_in,
    }
}

#[sqlx::test(migrations = false)]
async fn sessions_round_trip_and_expired_ones_are_not_loaded(pool: PgPool) {
    let app = spawn_app(pool).await;
    let store = PgSessionStore::new(app.state.pool.clone(), app.state.clock.clone());

    let mut live = record(time::Duration::hours(1));
    store.create(&mut live).await.unwrap();
    let loaded = store
        .load(&live.id)
        .await
        .unwrap()
        .expect("live session loads");
    assert_eq!(loaded.data["user"], "ada");

    let mut expired = record(time::Duration::seconds(-5));
    store.create(&mut expired).await.unwrap();
    assert!(store.load(&expired.id).await.unwrap().is_none());

    store.delete(&live.id).await.unwrap();
    assert!(store.load(&live.id).await.unwrap().is_none());
}

#[sqlx::test(migrations = false)]
async fn maintenance_purges_expired_sessions_only_and_is_idempotent(pool: PgPool) {
    let app = spawn_app(pool).await;
    let store = PgSessionStore::new(app.state.pool.clone(), app.state.clock.clone());
    let mut live = record(time::Duration::hours(1));
    let mut expired = record(time::Duration::seconds(-5));
    store.create(&mut live).await.unwrap();
    store.create(&mut expired).await.unwrap();

    let first = maintenance::run(&app.state.pool, app.state.now())
        .await
        .unwrap();
    assert_eq!(first.expired_sessions, 1);
    let second = maintenance::run(&app.state.pool, app.state.now())
        .await
        .unwrap();
    assert_eq!(second.expired_sessions, 0);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(left, 1);
}

#[sqlx::test(migrations = false)]
async fn one_maintenance_job_per_tick_across_instances(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut a = app.state.pool.acquire().await.unwrap();
    let mut b = app.state.pool.acquire().await.unwrap();
    assert!(maintenance::enqueue(&mut a, 1_700_000_000).await.unwrap());
    assert!(!maintenance::enqueue(&mut b, 1_700_000_000).await.unwrap());
    assert!(maintenance::enqueue(&mut b, 1_700_000_900).await.unwrap());
    let queued: i64 =
        sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = 'maintenance'")
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    assert_eq!(queued, 2);
}

#[sqlx::test(migrations = false)]
async fn an_email_enqueued_in_a_transaction_is_sent_by_the_worker(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut conn = app.state.pool.acquire().await.unwrap();
    let user = spacedly_server::auth::users::insert(
        &mut conn,
        "Ada Lovelace",
        "ada@example.com",
        None,
        "UTC",
        app.state.now(),
    )
    .await
    .unwrap();
    drop(conn);
    let email = SendEmail {
        user_id: Some(user.id),
        email: spacedly_server::auth::emails::AccountEmail::PasswordChanged {
            changed_at: app.state.now(),
        },
    };

    // A rolled-back transaction enqueues nothing.
    let mut tx = app.state.pool.begin().await.unwrap();
    emails::enqueue(&mut tx, email.clone()).await.unwrap();
    tx.rollback().await.unwrap();

    let mut tx = app.state.pool.begin().await.unwrap();
    emails::enqueue(&mut tx, email.clone()).await.unwrap();
    tx.commit().await.unwrap();

    let shutdown = CancellationToken::new();
    let workers = tokio::spawn(workers::run(app.state.services.clone(), shutdown.clone()));
    let outbox = app
        .state
        .mailer
        .outbox()
        .expect("tests use the dev outbox")
        .clone();
    let mut sent = vec![];
    for _ in 0..100 {
        sent = outbox.list(10).await.unwrap();
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    workers.await.unwrap().unwrap();

    assert_eq!(sent.len(), 1, "exactly the committed email is sent");
    assert_eq!(sent[0].subject, "Your Spacedly password was changed");
    assert_eq!(sent[0].to, "ada@example.com");
    let done: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'email' AND status = 'Done'",
    )
    .fetch_one(&app.state.pool)
    .await
    .unwrap();
    assert_eq!(done, 1);
}

async fn a_user(app: &crate::common::TestApp) -> uuid::Uuid {
    let mut conn = app.state.pool.acquire().await.unwrap();
    spacedly_server::auth::users::insert(
        &mut conn,
        "Ada Lovelace",
        "ada@example.com",
        None,
        "UTC",
        app.state.now(),
    )
    .await
    .unwrap()
    .id
}

fn password_changed(app: &crate::common::TestApp, user_id: uuid::Uuid) -> SendEmail {
    SendEmail {
        user_id: Some(user_id),
        email: emails::AccountEmail::PasswordChanged {
            changed_at: app.state.now(),
        },
    }
}

/// The ids a worker of `queue` would take now (and takes: they become Queued).
async fn due_now(pool: &PgPool, queue: &str) -> Vec<String> {
    sqlx::query(
        "INSERT INTO apalis.workers (id, worker_type, storage_name, layers, last_seen)
         VALUES ('probe', $1, 'PostgresStorage', '', now()) ON CONFLICT (id) DO NOTHING",
    )
    .bind(queue)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query_scalar("SELECT id FROM apalis.get_jobs('probe', $1, 10)")
        .bind(queue)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn a_keyed_job_is_enqueued_once_and_the_callers_transaction_goes_on(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = a_user(&app).await;
    let job = password_changed(&app, user);
    let mut tx = app.state.pool.begin().await.unwrap();
    let key = jobs::Schedule::now().key("password-changed:1");
    assert_eq!(
        jobs::enqueue(&mut tx, &job, key.clone()).await.unwrap(),
        jobs::Enqueued::Added
    );
    assert_eq!(
        jobs::enqueue(&mut tx, &job, key.clone()).await.unwrap(),
        jobs::Enqueued::AlreadyThere
    );
    // The duplicate did not abort the transaction: it still works and commits.
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(one, 1);
    tx.commit().await.unwrap();

    // 40 requests for the same event at once still give one job.
    let results = futures::future::join_all((0..40).map(|_| {
        let (pool, job, key) = (app.state.pool.clone(), job.clone(), key.clone());
        async move {
            let mut conn = pool.acquire().await.unwrap();
            jobs::enqueue(&mut conn, &job, key).await.unwrap()
        }
    }))
    .await;
    assert!(results.iter().all(|r| *r == jobs::Enqueued::AlreadyThere));
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = 'email'")
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test(migrations = false)]
async fn a_job_set_for_later_waits_and_can_be_rescheduled_or_cancelled(pool: PgPool) {
    let app = spawn_app(pool).await;
    let user = a_user(&app).await;
    let job = password_changed(&app, user);
    let in_an_hour = chrono::Utc::now() + chrono::Duration::hours(1);
    let mut conn = app.state.pool.acquire().await.unwrap();
    for key in ["later:a", "later:b"] {
        jobs::enqueue(&mut conn, &job, jobs::Schedule::at(in_an_hour).key(key))
            .await
            .unwrap();
    }
    assert!(
        due_now(&app.state.pool, "email").await.is_empty(),
        "nothing is due yet"
    );

    // Cancelled: gone, and its key may be used again.
    assert!(jobs::cancel::<SendEmail>(&mut conn, "later:b")
        .await
        .unwrap());
    assert!(!jobs::cancel::<SendEmail>(&mut conn, "later:b")
        .await
        .unwrap());
    assert!(
        !jobs::reschedule::<SendEmail>(&mut conn, "later:b", in_an_hour)
            .await
            .unwrap()
    );
    assert!(
        !jobs::cancel::<maintenance::Maintenance>(&mut conn, "later:a")
            .await
            .unwrap(),
        "keys belong to their queue"
    );

    // Moved to the past: a worker takes it now, and a taken job can no longer be cancelled.
    let a_minute_ago = chrono::Utc::now() - chrono::Duration::minutes(1);
    assert!(
        jobs::reschedule::<SendEmail>(&mut conn, "later:a", a_minute_ago)
            .await
            .unwrap()
    );
    assert_eq!(due_now(&app.state.pool, "email").await.len(), 1);
    assert!(!jobs::cancel::<SendEmail>(&mut conn, "later:a")
        .await
        .unwrap());
    assert_eq!(
        jobs::enqueue(&mut conn, &job, jobs::Schedule::now().key("later:b"))
            .await
            .unwrap(),
        jobs::Enqueued::Added
    );
}

#[sqlx::test(migrations = false)]
async fn a_failed_job_is_retried_only_after_its_backoff(pool: PgPool) {
    // Nothing listens on port 9 here: every delivery fails at connect.
    let app = crate::common::spawn_app_with(pool, |config| {
        config.smtp_url = Some("smtp://127.0.0.1:9".to_string().into());
    })
    .await;
    let user = a_user(&app).await;
    let mut conn = app.state.pool.acquire().await.unwrap();
    emails::enqueue(&mut conn, password_changed(&app, user))
        .await
        .unwrap();

    let shutdown = CancellationToken::new();
    let running = tokio::spawn(workers::run(app.state.services.clone(), shutdown.clone()));
    let mut row = None;
    for _ in 0..200 {
        row = sqlx::query_as::<_, (String, i32, f64)>(
            "SELECT status, attempts, extract(epoch FROM run_at - now())::float8
             FROM apalis.jobs WHERE job_type = 'email'",
        )
        .fetch_optional(&app.state.pool)
        .await
        .unwrap()
        .filter(|(status, _, _)| status == "Failed");
        if row.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    running.await.unwrap().unwrap();

    let (_, attempts, wait) = row.expect("the delivery failed and was recorded");
    assert_eq!(attempts, 1, "not retried at once");
    // The first backoff is 30 s plus at most 20 % jitter.
    assert!((20.0..=37.0).contains(&wait), "next run in {wait} s");
    assert!(due_now(&app.state.pool, "email").await.is_empty());
}
