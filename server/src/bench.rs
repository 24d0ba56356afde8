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
