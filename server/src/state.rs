//! The shared application state handed to every handler and server function.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::{config::Config, email::Mailer};

#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub mailer: Mailer,
}

impl AppState {
    pub fn new(pool: PgPool, config: Config) -> anyhow::Result<Self> {
        let mailer = Mailer::from_config(&config)?;
        Ok(Self {
            pool,
            config: Arc::new(config),
            mailer,
        })
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.pool.clone()
    }
}
