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
        // Every connection stays open: opening one in the middle of a burst, on a busy machine,
        // took seconds and timed requests out (the first burst after a start saw 503s while the
        // pool grew from half to full).
        .min_connections(max_connections)
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
            sqlx::query_scalar!(r#"SELECT 1 AS "one!""#).fetch_one(pool)
        )
        .await,
        Ok(Ok(1))
    )
}

/// Makes enums stored as text (with a CHECK) columns of PostgreSQL's built-in `TEXT`. The
/// derive's `type_name = "text"` would name the type instead, and sqlx then looks its id up
/// once on every pooled connection (a fourth statement in the task list's three).
macro_rules! text_column_type {
    ($($ty:ty),+ $(,)?) => {$(
        impl sqlx::Type<sqlx::Postgres> for $ty {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }
    )+};
}
pub(crate) use text_column_type;
