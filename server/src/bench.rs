//! Load for `make bench` (hidden commands of the binary): many reminders due at the same time,
//! made through the domain functions so that their delivery is armed exactly as in use, and a
//! bare SMTP client, the anchor the delivery rate is compared with.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{
    reminders::{self, Channel, Kind},
    state::Services,
    tasks::{self, TaskChanges},
    users,
};

/// Makes `users` confirmed users with one task each and `per_user` email reminders on it, all
/// due at `at`; returns how many reminders.
pub async fn seed_reminders(
    state: &Services,
    users: usize,
    per_user: usize,
    at: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let now = state.now();
    let mut made = 0;
    for u in 0..users {
        let mut conn = state.pool.acquire().await?;
        let email = format!("bench-{u}@example.com");
        let user = users::insert(
            &mut conn,
            &format!("Bench user {u}"),
            &email,
            None,
            "UTC",
            now,
        )
        .await?;
        drop(conn);
        sqlx::query!(
            "UPDATE users SET email_verified = true WHERE id = $1",
            user.id
        )
        .execute(&state.pool)
        .await?;
        let task = tasks::create(
            &state.pool,
            user.id,
            TaskChanges {
                title: Some(format!("Topic {u}")),
                ..TaskChanges::default()
            },
            now,
        )
        .await?;
        for r in 0..per_user {
            let changes = reminders::Changes {
                task_id: Some(task.id),
                scheduled_at: Some(at),
                channel: Some(Channel::Email),
                message: Some(format!("Reminder {r} of user {u}")),
                status: None,
            };
            reminders::create(state, user.id, changes, Kind::Manual)
                .await
                .context("creating a reminder")?;
            made += 1;
        }
    }
    Ok(made)
}

/// Sends `count` small messages through a plain lettre SMTP transport to `smtp_url`,
/// `concurrency` at a time; returns the elapsed time.
pub async fn bare_smtp(
    smtp_url: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Duration> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)?.build();
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(0..count)
        .map(|i| {
            let transport = transport.clone();
            async move {
                let message = Message::builder()
                    .from("Spacedly <bench@example.com>".parse()?)
                    .to(format!("bench-{}@example.com", i % 1000).parse()?)
                    .message_id(Some(format!("<bare-{i}@bench.example>")))
                    .subject("Reminder")
                    .body(format!("Bare message {i}"))?;
                transport.send(message).await?;
                Ok(())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let failed = results.iter().filter(|r| r.is_err()).count();
    anyhow::ensure!(failed == 0, "{failed} bare sends failed");
    Ok(elapsed)
}

/// Gives the user `tasks` tasks in six categories (a third completed over the past year, some
/// with due dates) and `completed` completed reminders and reviews spread over the past year,
/// plus pending ones over the next two weeks; set-based, a few statements.
pub async fn seed_analytics(
    state: &Services,
    email: &str,
    tasks: i32,
    completed: i32,
) -> anyhow::Result<uuid::Uuid> {
    let now = state.now();
    let user = registered(state, email).await?;
    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "INSERT INTO tasks (user_id, title, category, status, completed_at, due_at, created_at, updated_at)
         SELECT $1, 'Topic ' || n,
                (ARRAY['Biology', 'Chemistry', 'History', 'Languages', 'Work', 'Personal'])[1 + n % 6],
                CASE WHEN n % 3 = 0 THEN 'completed' ELSE 'todo' END,
                CASE WHEN n % 3 = 0 THEN $2::timestamptz - (n % 365) * interval '1 day' - (n % 24) * interval '1 hour' END,
                CASE WHEN n % 4 = 0 THEN $2::timestamptz + ((n % 60) - 30) * interval '1 day' END,
                $2 - interval '1 year', $2
           FROM generate_series(1, $3::int) n",
        user.id,
        now,
        tasks,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "WITH t AS (SELECT array_agg(id) AS ids FROM tasks WHERE user_id = $1)
         INSERT INTO reminders (user_id, task_id, kind, scheduled_at, status, sent_at, completed_at,
                                created_at, updated_at)
         SELECT $1, t.ids[1 + n % cardinality(t.ids)], CASE WHEN n % 2 = 0 THEN 'review' ELSE 'manual' END,
                at, 'completed', at, at + (n % 5) * interval '1 hour', at, at
           FROM t, (SELECT n, $2::timestamptz - (n % 365) * interval '1 day' - (n % 13) * interval '1 hour' AS at
                      FROM generate_series(1, $3::int) n) r
         UNION ALL
         SELECT $1, t.ids[1 + n % cardinality(t.ids)], 'review',
                $2::timestamptz + (n % 14) * interval '1 day' + interval '1 hour', 'pending', NULL, NULL, $2, $2
           FROM t, generate_series(1, 300) n",
        user.id,
        now,
        completed,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    settle(&state.pool).await?;
    Ok(user.id)
}

/// As the maintenance run and autovacuum would have left seeded data: the analytics rows
/// folded, statistics and the visibility map (which index-only scans need).
async fn settle(pool: &sqlx::PgPool) -> sqlx::Result<()> {
    crate::analytics::settle(pool).await?;
    sqlx::query!("VACUUM ANALYZE activity_days")
        .execute(pool)
        .await?;
    sqlx::query!("VACUUM ANALYZE tasks").execute(pool).await?;
    sqlx::query!("VACUUM ANALYZE reminders")
        .execute(pool)
        .await?;
    sqlx::query!("VACUUM ANALYZE memory_states")
        .execute(pool)
        .await?;
    Ok(())
}

/// What the original product did for GET /api/analytics, one statement after another as its
/// code awaited them: 4 counts, 7 daily counts, 4 weekly counts and a scan of the categories
/// counted in the application. Days are UTC days, as its server computed them.
pub async fn original_analytics(
    pool: &sqlx::PgPool,
    user_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let mut checksum = 0;
    checksum += sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM tasks WHERE user_id = $1"#,
        user_id
    )
    .fetch_one(pool)
    .await?;
    checksum += sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM reminders WHERE user_id = $1 AND status = 'completed'"#,
        user_id
    )
    .fetch_one(pool)
    .await?;
    checksum += sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM reminders WHERE user_id = $1 AND status = 'pending' AND scheduled_at > $2"#,
        user_id,
        now
    )
    .fetch_one(pool)
    .await?;
    checksum += sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM reminders WHERE user_id = $1 AND status = 'pending' AND scheduled_at < $2"#,
        user_id,
        now
    )
    .fetch_one(pool)
    .await?;
    let midnight = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let ranges = (0..7)
        .map(|i| {
            (
                midnight - chrono::Duration::days(i),
                chrono::Duration::days(1),
            )
        })
        .chain((0..4).map(|i| {
            (
                midnight - chrono::Duration::weeks(i + 1) + chrono::Duration::days(1),
                chrono::Duration::weeks(1),
            )
        }));
    for (start, length) in ranges {
        checksum += sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM reminders
                WHERE user_id = $1 AND status = 'completed' AND scheduled_at BETWEEN $2 AND $3"#,
            user_id,
            start,
            start + length - chrono::Duration::milliseconds(1),
        )
        .fetch_one(pool)
        .await?;
    }
    let categories = sqlx::query_scalar!("SELECT category FROM tasks WHERE user_id = $1", user_id)
        .fetch_all(pool)
        .await?;
    let mut counts = std::collections::HashMap::<String, i64>::new();
    for c in categories {
        *counts.entry(c).or_default() += 1;
    }
    Ok(checksum + counts.len() as i64)
}

/// Runs `work` on `connections` concurrent loops for `duration`; returns completed runs per
/// second.
pub async fn rate<F, Fut>(connections: usize, duration: Duration, work: F) -> anyhow::Result<f64>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let started = Instant::now();
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let work = work.clone();
        loops.spawn(async move {
            let mut runs = 0u64;
            while started.elapsed() < duration {
                work().await?;
                runs += 1;
            }
            Ok::<_, anyhow::Error>(runs)
        });
    }
    let mut total = 0;
    while let Some(runs) = loops.join_next().await {
        total += runs??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// A user with `items` memory items a few weeks into learning (FSRS state, one pending review
/// each), `due` of them due now and the others spread over the next two months, for the
/// Review page and GET /api/reviews/due under load.
pub async fn seed_revision(
    state: &Services,
    email: &str,
    items: i32,
    due: i32,
) -> anyhow::Result<uuid::Uuid> {
    let now = state.now();
    let user = registered(state, email).await?;
    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "WITH made AS (
            INSERT INTO tasks (user_id, title, description, category, spaced_revision, created_at, updated_at)
            SELECT $1, 'Memory item ' || n, 'Notes on item ' || n,
                   (ARRAY['Biology', 'Chemistry', 'History', 'Languages'])[1 + n % 4], true,
                   $2::timestamptz - interval '60 days', $2
              FROM generate_series(1, $3::int) n
            RETURNING id),
         numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM made),
         states AS (
            INSERT INTO memory_states (task_id, user_id, stability, difficulty, last_reviewed_at, reviews)
            SELECT id, $1, 1 + n % 90, 1 + n % 9, $2::timestamptz - (n % 30) * interval '1 day', 1 + n % 8
              FROM numbered)
         INSERT INTO reminders (user_id, task_id, kind, channel, scheduled_at, status, created_at, updated_at)
         SELECT $1, id, 'review', 'push',
                CASE WHEN n <= $4 THEN $2::timestamptz - (n % 20) * interval '1 minute'
                     ELSE $2::timestamptz + (1 + n % 60) * interval '1 day' END,
                'pending', $2, $2
           FROM numbered",
        user.id,
        now,
        items,
        i64::from(due),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query!("VACUUM ANALYZE tasks")
        .execute(&state.pool)
        .await?;
    sqlx::query!("VACUUM ANALYZE reminders")
        .execute(&state.pool)
        .await?;
    sqlx::query!("VACUUM ANALYZE memory_states")
        .execute(&state.pool)
        .await?;
    Ok(user.id)
}

/// Fits parameters to a synthetic log of about `reviews` reviews (8 per item) on the blocking
/// pool, as the weekly job does; answers the time it took, the reviews and the fit.
pub async fn fit_time(
    reviews: usize,
) -> anyhow::Result<(Duration, usize, crate::revision::optimiser::Fit)> {
    use crate::revision::optimiser;
    let log = optimiser::synthetic_log(u32::try_from(reviews / 8)?, 8, 42)?;
    let items = optimiser::training_items(&log);
    let started = Instant::now();
    let fit = optimiser::fit_on_blocking_pool(items, vec![]).await?;
    Ok((started.elapsed(), log.len(), fit))
}

/// The user the bench script registered through the API.
async fn registered(state: &Services, email: &str) -> anyhow::Result<users::User> {
    users::find_by_email(&state.pool, email)
        .await?
        .context("no such user: register it first")
}
