//! The connection pool and the migrations. The pool lives in the app state (never a global),
//! so every test can run against its own database.

use std::time::Duration;

use anyhow::Context;
use sqlx::{migrate::Migrator, postgres::PgPoolOptions, PgPool};

/// The SQL files in migrations/, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Takes the URL as a secret: it usually holds the database password.
pub async fn connect(
    database_url: &secrecy::SecretString,
    max_connections: u32,
) -> anyhow::Result<PgPool> {
    use secrecy::ExposeSecret;
    PgPoolOptions::new()
        .max_connections(max_connections)
        // The half that requests may use (see `http::admission`) stays open: under a burst,
        // opening connections on a busy machine took seconds and timed requests out.
        .min_connections((max_connections / 2).max(1))
        .acquire_timeout(Duration::from_secs(5))
        // No ping before each use: a round trip per acquire costs more than the rare broken
        // connection, which fails its first statement and is then dropped by the pool.
        .test_before_acquire(false)
        .connect(database_url.expose_secret())
        .await
        .context("connecting to PostgreSQL (is DATABASE_URL right and the server running?)")
}

/// Our migrations, then the job queue's own (kept in schema `apalis` with its own history).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("applying database migrations")?;
    crate::jobs::setup(pool).await
}

/// True when the database answers a trivial query quickly.
pub async fn is_healthy(pool: &PgPool) -> bool {
    matches!(
        tokio::time::timeout(
            Duration::from_secs(2),
            sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(pool)
        )
        .await,
        Ok(Ok(1))
    )
}
