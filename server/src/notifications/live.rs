//! Live updates: one Postgres LISTEN connection per app instance (not one per browser) fans
//! "user X's notifications changed" out to that instance's open event streams. Because the
//! signal travels through Postgres, a change made on any instance reaches pages served by all.

use std::time::Duration;

use sqlx::{postgres::PgListener, PgPool};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct Hub {
    tx: broadcast::Sender<Uuid>,
    closing: CancellationToken,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self {
            tx,
            closing: CancellationToken::new(),
        }
    }

    /// Users whose notifications changed, as they are announced.
    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.tx.subscribe()
    }

    /// Cancelled when the server shuts down: open streams end so shutdown can finish.
    pub fn closing(&self) -> CancellationToken {
        self.closing.clone()
    }

    /// Listens on the notifications channel until `shutdown`, reconnecting after errors.
    pub async fn run(self, pool: PgPool, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                result = self.listen(&pool) => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "notification listener stopped; reconnecting");
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
        self.closing.cancel();
    }

    async fn listen(&self, pool: &PgPool) -> sqlx::Result<()> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(super::CHANNEL).await?;
        loop {
            let message = listener.recv().await?;
            if let Ok(user) = message.payload().parse::<Uuid>() {
                // Nobody listening on this instance is fine.
                let _ = self.tx.send(user);
            }
        }
    }
}
