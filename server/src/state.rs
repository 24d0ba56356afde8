//! The shared application state handed to every handler and server function. It is the
//! composition root, with `api`, `workers` and `maintenance`: the one place (with those) that
//! names the features' long-lived parts (the Google client, the live notification hub).

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::{clock::Clock, config::Config, email::Mailer};

#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub mailer: Mailer,
    /// Sign-in with Google, when configured.
    pub google: Option<Arc<crate::auth::google::Google>>,
    /// Live notification updates of this instance (one LISTEN connection, many streams).
    pub live: crate::notifications::live::Hub,
    /// Where stored files are kept (a local folder or an S3 bucket).
    pub storage: crate::storage::Storage,
    /// Room for upload bodies in memory, shared by all requests.
    pub uploads: crate::attachments::UploadBudget,
    /// "Now" for every time-dependent rule (settable in tests, see `clock`).
    pub clock: Clock,
}

impl AppState {
    pub fn new(pool: PgPool, config: Config) -> anyhow::Result<Self> {
        let mailer = Mailer::from_config(&config)?;
        let storage = crate::storage::Storage::from_config(&config.storage)?;
        let google = match &config.google {
            Some(oidc) => Some(Arc::new(crate::auth::google::Google::new(oidc)?)),
            None => None,
        };
        let uploads = crate::attachments::UploadBudget::new(config.upload_memory_bytes);
        Ok(Self {
            pool,
            config: Arc::new(config),
            mailer,
            google,
            live: crate::notifications::live::Hub::new(),
            uploads,
            storage,
            clock: Clock::system(),
        })
    }
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.pool.clone()
    }
}
