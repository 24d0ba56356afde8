//! A tower-sessions store on PostgreSQL: any instance can serve any request, and sessions
//! survive restarts. (The published sqlx store targets an older sqlx; this one is ours.)

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::clock::Clock;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};

/// Expiry is judged by the app's clock (`clock`), not the database's `now()`.
#[derive(Debug, Clone)]
pub struct PgSessionStore {
    pool: PgPool,
    clock: Clock,
}

impl PgSessionStore {
    pub fn new(pool: PgPool, clock: Clock) -> Self {
        Self { pool, clock }
    }

    /// Removes the sessions expired at `now`; returns how many. Run by the periodic purge job.
    pub async fn delete_expired(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
        let done = sqlx::query!("DELETE FROM sessions WHERE expires_at < $1", now)
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry(record: &Record) -> session_store::Result<DateTime<Utc>> {
    let ts = record.expiry_date.unix_timestamp_nanos();
    let secs = ts.div_euclid(1_000_000_000) as i64;
    let nanos = ts.rem_euclid(1_000_000_000) as u32;
    DateTime::from_timestamp(secs, nanos).ok_or_else(|| backend("session expiry out of range"))
}

/// The signed-in user of a session record (see `auth::session::sign_in`), kept in its own column.
fn owner(record: &Record) -> Option<uuid::Uuid> {
    record
        .data
        .get(crate::identity::USER_ID)
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse().ok())
}

fn encode(record: &Record) -> session_store::Result<serde_json::Value> {
    serde_json::to_value(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A collision of 128-bit random ids is practically impossible, but never overwrite one.
        loop {
            let inserted = sqlx::query!(
                "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO NOTHING",
                record.id.to_string(),
                encode(record)?,
                expiry(record)?,
                owner(record),
            )
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query!(
            "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at,
                 user_id = EXCLUDED.user_id",
            record.id.to_string(),
            encode(record)?,
            expiry(record)?,
            owner(record),
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = sqlx::query!(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
            id.to_string(),
            self.clock.now(),
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let expires_at = row.expires_at;
        let data = serde_json::from_value(row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp_nanos(
            expires_at.timestamp_nanos_opt().unwrap_or(i64::MAX) as i128,
        )
        .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query!("DELETE FROM sessions WHERE id = $1", id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
