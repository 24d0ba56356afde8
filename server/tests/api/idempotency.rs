//! Run-once form submissions against a real database: the same nonce sent many times in
//! parallel does the work once, and every repeat gets the first one's outcome.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use crate::common::spawn_app;
use spacedly_server::{
    idempotency::{self, Once},
    AppError,
};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn forty_parallel_submissions_of_one_form_run_once_and_replay_its_outcome(pool: PgPool) {
    let app = spawn_app(pool).await;
    let nonce = "nonce-0123456789abcdef";
    let runs = Arc::new(AtomicUsize::new(0));
    let now = app.state.now();
    let tasks = (0..40).map(|_| {
        let (pool, runs) = (app.state.pool.clone(), runs.clone());
        tokio::spawn(async move {
            idempotency::run_once(&pool, nonce, now, async {
                runs.fetch_add(1, Ordering::SeqCst);
                // The work takes a while: the others are waiting meanwhile, in the database.
                tokio::task::yield_now().await;
                Ok::<_, AppError>("/dashboard".to_string())
            })
            .await
            .unwrap()
        })
    });
    let results = futures_join(tasks).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the work ran once");
    assert_eq!(
        results.iter().filter(|r| matches!(r, Once::Ran(_))).count(),
        1
    );
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == Once::Replayed("/dashboard".to_string()))
            .count(),
        39,
        "every repeat replays the outcome: {results:?}"
    );
    // Only the digest of the nonce is stored.
    let stored: Vec<String> = sqlx::query_scalar("SELECT nonce_hash FROM form_submissions")
        .fetch_all(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(nonce));
}

#[sqlx::test(migrations = false)]
async fn a_failed_first_submission_gives_the_nonce_back(pool: PgPool) {
    let app = spawn_app(pool).await;
    let nonce = "another-nonce-0123456789";
    let failed = idempotency::run_once(&app.state.pool, nonce, app.state.now(), async {
        Err::<String, _>(AppError::validation("title", "Give the task a title"))
    })
    .await;
    assert!(failed.is_err());
    let again = idempotency::run_once(&app.state.pool, nonce, app.state.now(), async {
        Ok::<_, AppError>("/tasks".to_string())
    })
    .await
    .unwrap();
    assert_eq!(again, Once::Ran("/tasks".to_string()));
}

#[sqlx::test(migrations = false)]
async fn an_old_outcome_is_not_replayed(pool: PgPool) {
    let app = spawn_app(pool).await;
    let nonce = "old-nonce-0123456789abc";
    let first = app.state.now();
    let ran = idempotency::run_once(&app.state.pool, nonce, first, async {
        Ok::<_, AppError>("/x".to_string())
    })
    .await
    .unwrap();
    assert_eq!(ran, Once::Ran("/x".to_string()));
    let soon = first + chrono::Duration::minutes(9);
    let replayed = idempotency::run_once(&app.state.pool, nonce, soon, async {
        Ok::<_, AppError>("/y".to_string())
    })
    .await
    .unwrap();
    assert_eq!(replayed, Once::Replayed("/x".to_string()));
    let an_hour_later = first + chrono::Duration::hours(1);
    let late = idempotency::run_once(&app.state.pool, nonce, an_hour_later, async {
        Ok::<_, AppError>("/y".to_string())
    })
    .await
    .unwrap();
    assert_eq!(late, Once::Busy);
}

async fn futures_join<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}
