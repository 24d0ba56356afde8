//! The account emails, rendered when they are sent.
//!
//! A queued email job carries ids only (the user, the code or link row, the kind of message),
//! never rendered text, so no live link or code sits in the queue.
//!
//! How a secret reaches the email without being stored in plain text: the request only
//! creates the code row (who, what for, until when) with no hash yet. The job, at send time,
//! draws the secret from the CSPRNG, stores its SHA-256 on that row (only while the row is still
//! unused and unexpired) and puts the plain secret in the email it is about to send; the plain
//! value exists only in that job's memory and in the recipient's mailbox. A row that was used,
//! superseded by a newer one, or expired before the job ran sends nothing. A retry after a
//! failed delivery draws a new secret, which replaces the old hash, so at most the newest sent
//! secret works. (The alternative, encrypting the secret in the job with a key derived from
//! SECRET_KEY, would still put a decryptable secret at rest and tie the queue to the key.)

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{
    codes::{self, Purpose},
    users, User,
};
use crate::{
    jobs::{self, Job, Schedule},
    state::Services,
};

/// The job that sends one account email. Carries ids, never rendered text or secrets: the
/// email is rendered (and its code or link drawn) when it is sent. Retried with backoff: SMTP
/// servers fail transiently.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SendEmail {
    pub user_id: Option<Uuid>,
    pub email: AccountEmail,
}

impl Job for SendEmail {
    const QUEUE: &'static str = "email";
    const MAX_ATTEMPTS: usize = 5;
    const CONCURRENCY: usize = 4;

    async fn run(self, state: Services, _attempt: usize) -> anyhow::Result<()> {
        deliver(&state, self.user_id, &self.email).await.map(|_| ())
    }
}

/// Enqueues an account email on `conn` (the caller's transaction).
pub async fn enqueue(conn: &mut sqlx::PgConnection, job: SendEmail) -> anyhow::Result<()> {
    jobs::enqueue(conn, &job, Schedule::now()).await?;
    Ok(())
}

/// Removes every email job, queued or finished, that names this user (by id, or by address
/// for reset requests), in the caller's transaction (account deletion).
pub async fn delete_user_jobs(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    email: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM apalis.jobs
         WHERE job_type = $1
           AND (convert_from(job, 'UTF8')::jsonb ->> 'user_id' = $2::text
                OR convert_from(job, 'UTF8')::jsonb -> 'email' ->> 'email' = $3)",
        SendEmail::QUEUE,
        user_id.to_string(),
        email,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Which account email to send. Ids and non-secret facts only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AccountEmail {
    /// A sign-in code, reset link or confirmation link for the `one_time_codes` row `code_id`
    /// (its purpose says which).
    Secret { code_id: Uuid },
    /// The password was changed or reset at `changed_at`.
    PasswordChanged { changed_at: DateTime<Utc> },
    /// The account was taken back from an unverified sign-up (see `secure_taken_over_account`).
    AccountSecured { provider: String },
    /// Someone asked for a reset link for `email`. Whether an account exists is decided here,
    /// in the job, so the request takes the same time either way.
    ResetRequested { email: String },
}

fn link(state: &Services, path: &str, token: &str) -> String {
    let mut url = state.config.page_url(path);
    url.query_pairs_mut().append_pair("token", token);
    url.to_string()
}

/// Renders and sends `email` for `user_id`. `Ok(false)`: nothing to send any more (the account
/// is gone, the code or link was used or expired).
pub async fn deliver(
    state: &Services,
    user_id: Option<Uuid>,
    email: &AccountEmail,
) -> anyhow::Result<bool> {
    let now = state.now();
    let (user, code_id) = match email {
        AccountEmail::ResetRequested { email } => {
            let Some(user) = users::find_by_email(&state.pool, email).await? else {
                return Ok(false);
            };
            let mut tx = state.pool.begin().await?;
            let id = codes::issue(
                &mut tx,
                now,
                user.id,
                Purpose::PasswordReset,
                super::RESET_LINK_TTL,
            )
            .await?;
            tx.commit().await?;
            (user, Some(id))
        }
        AccountEmail::Secret { code_id } => {
            let Some(user) = find(state, user_id).await? else {
                return Ok(false);
            };
            (user, Some(*code_id))
        }
        _ => {
            let Some(user) = find(state, user_id).await? else {
                return Ok(false);
            };
            (user, None)
        }
    };
    let (template, subject, values) = match (email, code_id) {
        (AccountEmail::Secret { .. } | AccountEmail::ResetRequested { .. }, Some(code_id)) => {
            let Some((purpose, secret)) = codes::arm(&state.pool, now, user.id, code_id).await?
            else {
                tracing::info!(%code_id, "code or link no longer valid: not sent");
                return Ok(false);
            };
            match purpose {
                Purpose::LoginOtp => (
                    "login_code",
                    "Your Spacedly sign-in code",
                    json!({"name": user.name, "code": secret}),
                ),
                Purpose::PasswordReset => (
                    "password_reset",
                    "Reset your Spacedly password",
                    json!({"name": user.name, "link": link(state, "/reset-password", &secret)}),
                ),
                Purpose::EmailVerify => (
                    "verify_email",
                    "Confirm your email address",
                    json!({"name": user.name, "link": link(state, "/verify-email", &secret)}),
                ),
            }
        }
        (AccountEmail::PasswordChanged { changed_at }, _) => (
            "password_changed",
            "Your Spacedly password was changed",
            json!({
                "name": user.name,
                "changed_at": changed_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                "reset_link": state.config.page_url("/forgot-password").to_string(),
            }),
        ),
        (AccountEmail::AccountSecured { provider }, _) => (
            "account_secured",
            "We secured your Spacedly account",
            json!({"name": user.name, "provider": provider}),
        ),
        _ => anyhow::bail!("an email of a kind that needs a code came without one"),
    };
    let rendered = state
        .mailer
        .render(template, &user.email, subject, values)?;
    state.mailer.send(&rendered).await?;
    Ok(true)
}

async fn find(state: &Services, user_id: Option<Uuid>) -> anyhow::Result<Option<User>> {
    match user_id {
        Some(id) => Ok(users::find_by_id(&state.pool, id).await?),
        None => Ok(None),
    }
}
