//! The shared services every feature and every piece of plumbing uses: the pool, the
//! configuration, the mailer, the file storage and the clock. It names no feature; the
//! application's full state, with the features' own long-lived parts, is composed above the
//! features in `crate::app`. Handlers and extractors take what they need of it through axum's
//! `FromRef` (`State<Services>`, `State<PgPool>`, `State<Clock>`…).

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::{clock::Clock, config::Config, email::Mailer, storage::Storage};

#[derive(Clone, Debug, FromRef)]
pub struct Services {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub mailer: Mailer,
    /// Where stored files are kept (a local folder or an S3 bucket).
    pub storage: Storage,
    /// "Now" for every time-dependent rule (settable in tests, see `clock`).
    pub clock: Clock,
}

impl Services {
    pub fn new(pool: PgPool, config: Arc<Config>) -> anyhow::Result<Self> {
        Ok(Self {
            mailer: Mailer::from_config(&config)?,
            storage: Storage::from_config(&config.storage)?,
            pool,
            config,
            clock: Clock::system(),
        })
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
