//! File attachments, the UI-free core: what a file is ([`kind`]), how images are made safe
//! and small ([`image`]), and where the bytes are kept (`crate::storage`).
//!
//! The upload flow the API and the pages share:
//! 1. refuse more than [`MAX_FILES_PER_REQUEST`] files, any file above [`MAX_FILE_SIZE`], or a
//!    batch above the user's remaining quota — before the bytes are processed;
//! 2. [`kind::detect`] decides the type from the bytes and checks the extension;
//! 3. raster images go through [`image::optimize`] on the blocking pool (bounded concurrency);
//! 4. the result is stored under a fresh [`storage::StorageKey`] and a row records it.

use std::{sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AppError, AppResult};

pub mod api;
pub mod image;
pub mod kind;
pub mod service;

/// Where the bytes live: shared object storage (`crate::storage`).
pub use crate::storage;

pub use self::image::{bench_optimize, optimize, ImageError, OptimizedImage};
pub use kind::{detect, FileKind, KindError};
pub use storage::{Storage, StorageConfig, StorageKey};

/// At most this many files in one upload request.
pub const MAX_FILES_PER_REQUEST: usize = 10;
/// At most this many bytes per file, as uploaded.
pub const MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// How many bytes of upload bodies the server holds in memory at once, across all requests
/// (`UPLOAD_MEMORY_MB`). A request reserves its whole body (its Content-Length, or the largest
/// body allowed when it does not say) before reading a byte of it, and waits its turn in
/// arrival order while others hold the room; whole reservations cannot deadlock each other.
/// Without it, 40 parallel uploads of 100 MB would ask for 4 GB.
#[derive(Debug, Clone)]
pub struct UploadBudget {
    megabytes: Arc<Semaphore>,
}

/// What a request holds of the [`UploadBudget`] while its body is in memory.
pub type UploadReservation = OwnedSemaphorePermit;

impl UploadBudget {
    /// Room for `bytes`, and at least for one request of the largest size allowed.
    pub fn new(bytes: u64) -> Self {
        let floor = megabytes(api::UPLOAD_BODY_LIMIT as u64);
        let permits = megabytes(bytes).max(floor);
        Self {
            megabytes: Arc::new(Semaphore::new(permits as usize)),
        }
    }

    /// Reserves room for a body of `length` bytes (the largest allowed when unknown), waiting
    /// at most `wait`; 503 when the room did not come free in time.
    pub async fn reserve(
        &self,
        length: Option<u64>,
        wait: Duration,
    ) -> AppResult<UploadReservation> {
        let limit = api::UPLOAD_BODY_LIMIT as u64;
        let wanted = megabytes(length.unwrap_or(limit).min(limit));
        match tokio::time::timeout(wait, self.megabytes.clone().acquire_many_owned(wanted)).await {
            Ok(Ok(permit)) => Ok(permit),
            // Never closed; waited too long.
            Ok(Err(_)) | Err(_) => {
                tracing::warn!(megabytes = wanted, "upload waited too long for memory");
                Err(AppError::Unavailable)
            }
        }
    }

    /// Megabytes free right now.
    pub fn available_megabytes(&self) -> usize {
        self.megabytes.available_permits()
    }
}

/// Whole megabytes, rounded up (at least one: a reservation is never empty).
fn megabytes(bytes: u64) -> u32 {
    bytes.div_ceil(1024 * 1024).clamp(1, u32::MAX as u64) as u32
}

/// The test fixtures (copies of the shared bench images) inside this crate.
#[cfg(test)]
pub(crate) fn fixture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    const LIMIT_MB: u32 = (api::UPLOAD_BODY_LIMIT as u64).div_ceil(1024 * 1024) as u32;

    #[tokio::test]
    async fn a_body_reserves_its_length_rounded_up_to_whole_megabytes() {
        let budget = UploadBudget::new(1024 * 1024 * 1024);
        let before = budget.available_megabytes();
        let held = budget
            .reserve(Some(3 * 1024 * 1024 + 1), Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(budget.available_megabytes(), before - 4);
        drop(held);
        assert_eq!(budget.available_megabytes(), before);
        let tiny = budget
            .reserve(Some(0), Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(budget.available_megabytes(), before - 1);
        drop(tiny);
    }

    #[tokio::test]
    async fn an_unknown_or_lying_length_reserves_the_largest_body() {
        let budget = UploadBudget::new(1024 * 1024 * 1024);
        let before = budget.available_megabytes();
        let unknown = budget
            .reserve(None, Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(budget.available_megabytes(), before - LIMIT_MB as usize);
        drop(unknown);
        let huge = budget
            .reserve(Some(u64::MAX), Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(budget.available_megabytes(), before - LIMIT_MB as usize);
        drop(huge);
    }

    #[tokio::test]
    async fn a_full_budget_makes_the_next_body_wait_then_refuses_it() {
        // Too small a budget still fits one largest request.
        let budget = UploadBudget::new(1);
        assert_eq!(budget.available_megabytes(), LIMIT_MB as usize);
        let first = budget
            .reserve(None, Duration::from_millis(10))
            .await
            .unwrap();
        let second = budget.reserve(Some(1), Duration::from_millis(50)).await;
        assert!(matches!(second, Err(AppError::Unavailable)));
        // Once the first body is done, the waiting one gets its turn.
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(Some(1), Duration::from_secs(5)).await }
        });
        tokio::task::yield_now().await;
        drop(first);
        assert!(waiting.await.unwrap().is_ok());
    }
}
