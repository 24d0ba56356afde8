//! Listing 200 tasks with their attachments and reminders takes a fixed number of statements.
//!
//! In its own test binary: it counts sqlx's statement events through a subscriber scoped to this
//! thread, and other tests' queries on other threads, registering the same tracing callsites at
//! the same moment, could leave them switched off for it (the count read 0 once in a full run).

#![cfg(test)] // the helpers too are test code to clippy (rust-clippy#11119)

mod common;

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use common::{register, sign_in, spawn_app, Client};
use sqlx::PgPool;
use tracing_subscriber::Layer;

async fn user<'a>(app: &'a common::TestApp, email: &str) -> Client<'a> {
    let mut client = Client::new(app);
    register(&mut client, email).await;
    sign_in(&mut client, email).await;
    client
}

/// Counts the SQL statements sqlx runs while it is installed (sqlx logs each one at debug
/// level under the target `sqlx::query`).
#[derive(Clone, Default)]
struct StatementCounter(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StatementCounter {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[sqlx::test(migrations = false)]
async fn listing_200_tasks_with_attachments_and_reminders_takes_three_statements(pool: PgPool) {
    use tracing_subscriber::layer::SubscriberExt;
    let app = spawn_app(pool.clone()).await;
    let mut ada = user(&app, "ada@example.com").await;
    let user_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO tasks (user_id, title) SELECT $1, 'Task ' || n FROM generate_series(1, 200) n",
    )
    .bind(user_id)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO attachments (user_id, task_id, original_name, content_type, size, original_size, storage_key)
         SELECT $1, t.id, 'file' || n || '.pdf', 'application/pdf', 100, 100, t.id || '/' || n
           FROM tasks t, generate_series(1, 2) n",
    )
    .bind(user_id)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO reminders (user_id, task_id, scheduled_at)
         SELECT $1, t.id, now() + n * interval '1 day' FROM tasks t, generate_series(1, 3) n",
    )
    .bind(user_id)
    .execute(&pool)
    .await
    .unwrap();

    let counter = StatementCounter::default();
    let subscriber = tracing_subscriber::registry().with(
        counter
            .clone()
            .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
    );
    let guard = tracing::subscriber::set_default(subscriber);
    let list = spacedly_server::tasks::list(
        &pool,
        user_id,
        chrono_tz::Tz::UTC,
        &Default::default(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    drop(guard);
    assert_eq!(list.tasks.len(), 200);
    assert!(list
        .tasks
        .iter()
        .all(|t| t.attachments.len() == 2 && t.reminders.len() == 3));
    assert_eq!(counter.0.load(Ordering::SeqCst), 3);

    // And through the API, every task with its attachments and reminders.
    let (_, _, body) = ada.get("/api/tasks").await;
    let tasks = body["data"]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 200);
    assert_eq!(tasks[0]["attachments"].as_array().unwrap().len(), 2);
    assert_eq!(
        tasks[0]["attachments"][0]["fileUrl"],
        format!(
            "/api/attachments/{}",
            tasks[0]["attachments"][0]["id"].as_str().unwrap()
        )
    );
    assert_eq!(tasks[0]["reminders"][0]["taskId"], tasks[0]["id"]);
}
