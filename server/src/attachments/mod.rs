//! File attachments, the UI-free core: what a file is ([`kind`]), how images are made safe
//! and small ([`image`]), and where the bytes are kept (`crate::storage`).
//!
//! The upload flow the API and the pages share:
//! 1. refuse more than [`MAX_FILES_PER_REQUEST`] files, any file above [`MAX_FILE_SIZE`], or a
//!    batch above the user's remaining quota — before the bytes are processed;
//! 2. [`kind::detect`] decides the type from the bytes and checks the extension;
//! 3. raster images go through [`image::optimize`] on the blocking pool (bounded concurrency);
//! 4. the result is stored under a fresh [`storage::StorageKey`] and a row records it.

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

/// The test fixtures (copies of the shared bench images) inside this crate.
#[cfg(test)]
pub(crate) fn fixture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}
