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

use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    rooms::{Places, Rooms},
};

pub mod api;
pub mod image;
pub mod kind;
mod of_tasks;
pub mod service;

/// Where the bytes live: shared object storage (`crate::storage`).
pub use crate::storage;

pub use self::image::{bench_optimize, optimize, ImageError, OptimizedImage};
pub use kind::{detect, FileKind, KindError};
pub use of_tasks::{keys_of_task, keys_of_user, of_tasks, remove_files, AttachmentSummary};
pub use storage::{Storage, StorageConfig, StorageKey};

/// At most this many files in one upload request.
pub const MAX_FILES_PER_REQUEST: usize = 10;
/// At most this many bytes per file, as uploaded.
pub const MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// How many bytes of upload bodies the server holds in memory at once, across all requests
/// (`UPLOAD_MEMORY_MB`), and how much of it one user may hold: half, or one largest body if
/// that is more. A request reserves its whole body (its Content-Length, or the largest body
/// allowed when it does not say) before reading a byte of it, first from its user's share and
/// then from the whole, always in that order; it waits its turn in arrival order while others
/// hold the room, and whole reservations taken in one order cannot deadlock each other.
/// Without it, 40 parallel uploads of 100 MB would ask for 4 GB; without the share, one account
/// sending a few large bodies slowly could keep everyone else's uploads waiting.
#[derive(Debug, Clone)]
pub struct UploadBudget {
    megabytes: Arc<Semaphore>,
    /// Each user's share, in megabytes.
    users: Rooms<Uuid>,
}

/// What a request holds of the [`UploadBudget`] while its body is in memory.
#[derive(Debug)]
pub struct UploadReservation {
    _room: OwnedSemaphorePermit,
    _share: Places<Uuid>,
}

impl UploadBudget {
    /// Room for `bytes`, and at least for one request of the largest size allowed.
    pub fn new(bytes: u64) -> Self {
        let floor = megabytes(api::UPLOAD_BODY_LIMIT as u64);
        let permits = megabytes(bytes).max(floor);
        Self {
            megabytes: Arc::new(Semaphore::new(permits as usize)),
            users: Rooms::new((permits / 2).max(floor)),
        }
    }

    /// Reserves room for a body of `length` bytes (the largest allowed when unknown) sent by
    /// `user`, waiting at most `wait`; 503 when the room did not come free in time.
    pub async fn reserve(
        &self,
        user: Uuid,
        length: Option<u64>,
        wait: Duration,
    ) -> AppResult<UploadReservation> {
        let limit = api::UPLOAD_BODY_LIMIT as u64;
        let wanted = megabytes(length.unwrap_or(limit).min(limit));
        let reserved = tokio::time::timeout(wait, async {
            let share = self.users.take(user, wanted).await;
            let room = self.megabytes.clone().acquire_many_owned(wanted).await;
            (share, room)
        })
        .await;
        match reserved {
            Ok((Ok(share), Ok(room))) => Ok(UploadReservation {
                _room: room,
                _share: share,
            }),
            // Waited too long (or a room closed, which none is).
            _ => {
                tracing::warn!(megabytes = wanted, "upload waited too long for memory");
                Err(AppError::Unavailable)
            }
        }
    }

    /// Megabytes free right now.
    pub fn available_megabytes(&self) -> usize {
        self.megabytes.available_permits()
    }

    /// Users with a share held or waited for right now.
    #[cfg(test)]
    fn users_reserving(&self) -> usize {
        self.users.busy()
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
    const ADA: Uuid = Uuid::from_u128(1);
    const BEA: Uuid = Uuid::from_u128(2);

    #[tokio::test]
    async fn a_body_reserves_its_length_rounded_up_to_whole_megabytes() {
        let budget = UploadBudget::new(1024 * 1024 * 1024);
        let before = budget.available_megabytes();
        let held = budget
            .reserve(ADA, Some(3 * 1024 * 1024 + 1), Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(budget.available_megabytes(), before - 4);
        drop(held);
        assert_eq!(budget.available_megabytes(), before);
        let tiny = budget
            .reserve(ADA, Some(0), Duration::from_millis(10))
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
            .reserve(ADA, None, Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(budget.available_megabytes(), before - LIMIT_MB as usize);
        drop(unknown);
        let huge = budget
            .reserve(ADA, Some(u64::MAX), Duration::from_millis(10))
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
            .reserve(ADA, None, Duration::from_millis(10))
            .await
            .unwrap();
        let second = budget
            .reserve(BEA, Some(1), Duration::from_millis(50))
            .await;
        assert!(matches!(second, Err(AppError::Unavailable)));
        // Once the first body is done, the waiting one gets its turn.
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(BEA, Some(1), Duration::from_secs(5)).await }
        });
        tokio::task::yield_now().await;
        drop(first);
        assert!(waiting.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn one_user_holds_at_most_half_of_the_room_and_leaves_no_entry_behind() {
        const MB: u64 = 1024 * 1024;
        // 1 GiB: Ada's share is 512 MB, five largest bodies of 101 MB.
        let budget = UploadBudget::new(1024 * MB);
        let mut ada = Vec::new();
        for _ in 0..5 {
            ada.push(
                budget
                    .reserve(ADA, None, Duration::from_millis(10))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(budget.available_megabytes(), 1024 - 5 * LIMIT_MB as usize);
        // Her sixth does not fit in the 7 MB left of her share: it waits for one of her own,
        // though the room has 519 MB free…
        let sixth = budget.reserve(ADA, None, Duration::from_millis(50)).await;
        assert!(matches!(sixth, Err(AppError::Unavailable)));
        // …which Bea still gets.
        let bea = budget
            .reserve(BEA, None, Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(budget.users_reserving(), 2);
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(ADA, None, Duration::from_secs(5)).await }
        });
        tokio::task::yield_now().await;
        drop(ada.pop());
        let sixth = waiting.await.unwrap().unwrap();
        drop((ada, bea, sixth));
        assert_eq!(budget.available_megabytes(), 1024);
        assert_eq!(budget.users_reserving(), 0);
    }

    #[tokio::test]
    async fn a_wait_given_up_leaves_no_entry_behind() {
        let budget = UploadBudget::new(1);
        let held = budget
            .reserve(ADA, None, Duration::from_millis(10))
            .await
            .unwrap();
        let refused = budget.reserve(BEA, None, Duration::from_millis(20)).await;
        assert!(matches!(refused, Err(AppError::Unavailable)));
        assert_eq!(budget.users_reserving(), 1);
        drop(held);
        assert_eq!(budget.users_reserving(), 0);
    }
}
