//! The job queue and the session store against a real database.

mod common;

use std::time::Duration;

use common::spawn_app;
use spacedly_server::{jobs, sessions::PgSessionStore};
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
    let store = PgSessionStore::new(app.state.pool.clone());

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
    let store = PgSessionStore::new(app.state.pool.clone());
    let mut live = record(time::Duration::hours(1));
    let mut expired = record(time::Duration::seconds(-5));
    store.create(&mut live).await.unwrap();
    store.create(&mut expired).await.unwrap();

    let first = jobs::run_maintenance(&app.state.pool, app.state.now())
        .await
        .unwrap();
    assert_eq!(first.expired_sessions, 1);
    let second = jobs::run_maintenance(&app.state.pool, app.state.now())
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
    assert!(jobs::enqueue_maintenance(&mut a, 1_700_000_000)
        .await
        .unwrap());
    assert!(!jobs::enqueue_maintenance(&mut b, 1_700_000_000)
        .await
        .unwrap());
    assert!(jobs::enqueue_maintenance(&mut b, 1_700_000_900)
        .await
        .unwrap());
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
    )
    .await
    .unwrap();
    drop(conn);
    let email = jobs::SendEmail {
        user_id: Some(user.id),
        email: spacedly_server::auth::emails::AccountEmail::PasswordChanged {
            changed_at: app.state.now(),
        },
    };

    // A rolled-back transaction enqueues nothing.
    let mut tx = app.state.pool.begin().await.unwrap();
    jobs::enqueue_email(&mut tx, email.clone()).await.unwrap();
    tx.rollback().await.unwrap();

    let mut tx = app.state.pool.begin().await.unwrap();
    jobs::enqueue_email(&mut tx, email.clone()).await.unwrap();
    tx.commit().await.unwrap();

    let shutdown = CancellationToken::new();
    let workers = tokio::spawn(jobs::run_workers(app.state.clone(), shutdown.clone()));
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
