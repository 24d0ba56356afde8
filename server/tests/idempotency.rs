//! Run-once form submissions against a real database: the same nonce sent many times in
//! parallel does the work once, and every repeat gets the first one's outcome.

#![cfg(test)] // the helpers too are test code to clippy (rust-clippy#11119)

mod common;

use common::spawn_app;
use spacedly_server::idempotency::{self, Claim};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn forty_parallel_submissions_of_one_form_run_once_and_replay_its_outcome(pool: PgPool) {
    let app = spawn_app(pool).await;
    let nonce = "nonce-0123456789abcdef";
    let tasks = (0..40).map(|_| {
        let pool = app.state.pool.clone();
        tokio::spawn(async move {
            match idempotency::claim::<String>(&pool, nonce, chrono::Utc::now())
                .await
                .unwrap()
            {
                Claim::First => {
                    // The work of the first submission, then its outcome for the others.
                    idempotency::complete(&pool, nonce, &"/dashboard".to_string())
                        .await
                        .unwrap();
                    "first".to_string()
                }
                Claim::Replay(to) => to,
                Claim::Busy => "busy".to_string(),
            }
        })
    });
    let results: Vec<String> = futures_join(tasks).await;
    assert_eq!(results.iter().filter(|r| *r == "first").count(), 1);
    assert_eq!(
        results.iter().filter(|r| *r == "/dashboard").count(),
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
    assert!(matches!(
        idempotency::claim::<String>(&app.state.pool, nonce, app.state.now())
            .await
            .unwrap(),
        Claim::First
    ));
    idempotency::release(&app.state.pool, nonce).await.unwrap();
    assert!(matches!(
        idempotency::claim::<String>(&app.state.pool, nonce, app.state.now())
            .await
            .unwrap(),
        Claim::First
    ));
}

#[sqlx::test(migrations = false)]
async fn an_old_outcome_is_not_replayed(pool: PgPool) {
    let app = spawn_app(pool).await;
    let nonce = "old-nonce-0123456789abc";
    assert!(matches!(
        idempotency::claim::<String>(&app.state.pool, nonce, app.state.now())
            .await
            .unwrap(),
        Claim::First
    ));
    idempotency::complete(&app.state.pool, nonce, &"/x".to_string())
        .await
        .unwrap();
    sqlx::query("UPDATE form_submissions SET created_at = now() - interval '1 hour'")
        .execute(&app.state.pool)
        .await
        .unwrap();
    assert!(matches!(
        idempotency::claim::<String>(&app.state.pool, nonce, app.state.now())
            .await
            .unwrap(),
        Claim::Busy
    ));
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
