//! The connection pool and the migrations. The pool lives in the app state (never a global),
//! so every test can run against its own database.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use sqlx::{migrate::Migrator, pool::PoolConnection, postgres::PgPoolOptions, PgPool, Postgres};

use crate::error::AppError;

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

/// A connection an extractor already took for this request (the bearer token's lookup), left
/// for the handler's [`Db`]. If no handler takes it, it goes back to the pool when the request's
/// parts are dropped, at the end of extraction.
#[derive(Clone)]
struct Held(Arc<Mutex<Option<PoolConnection<Postgres>>>>);

/// Leaves `conn` for this request's [`Db`] extractor.
pub fn hold(parts: &mut Parts, conn: PoolConnection<Postgres>) {
    parts
        .extensions
        .insert(Held(Arc::new(Mutex::new(Some(conn)))));
}

/// Extractor: one pooled connection for the handler, the one an earlier extractor held if there
/// is one. A request then waits for the pool once, not once per step: under load each wait is a
/// place to queue, and each connection released is a round trip (sqlx checks it on release).
pub struct Db(pub PoolConnection<Postgres>);

impl<S> FromRequestParts<S> for Db
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let held = parts
            .extensions
            .remove::<Held>()
            .and_then(|held| held.0.lock().ok()?.take());
        match held {
            Some(conn) => Ok(Db(conn)),
            None => Ok(Db(PgPool::from_ref(state).acquire().await?)),
        }
    }
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
