//! Object storage shared by every feature that keeps files (attachments today): a local folder
//! (default `<DATA_DIR>/uploads`) or an S3-compatible bucket, both through `object_store`.
//!
//! Keys are `u/<user-uuid>/<random-uuid>`: they never carry the user's file name (no path
//! tricks, no personal data in bucket listings) and the per-user prefix lets the orphan sweep
//! and account deletion list one user's objects.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{stream::BoxStream, StreamExt, TryStreamExt};
use object_store::{path::Path, ObjectStore, ObjectStoreExt, PutPayload};
use uuid::Uuid;

/// Settings for [`Storage::from_config`] (STORAGE_BACKEND and friends in `Config`).
#[derive(Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// A folder on this machine (created if missing).
    Local { root: PathBuf },
    /// An S3-compatible bucket (AWS, MinIO, R2, …).
    S3(S3Config),
}

#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// For S3-compatible services; `None` is AWS itself.
    pub endpoint: Option<String>,
    /// Without keys, object_store's usual AWS sources apply (AWS_* variables, instance role).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local { root } => f.debug_struct("Local").field("root", root).finish(),
            // Never print the secret key.
            Self::S3(s3) => f
                .debug_struct("S3")
                .field("bucket", &s3.bucket)
                .field("region", &s3.region)
                .field("endpoint", &s3.endpoint)
                .field("access_key_id", &s3.access_key_id)
                .finish_non_exhaustive(),
        }
    }
}

/// The storage key of one object: `u/<user-uuid>/<random-uuid>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StorageKey(String);

impl StorageKey {
    /// A fresh key for a new object of `user_id`.
    pub fn new_for_user(user_id: Uuid) -> Self {
        Self(format!("u/{user_id}/{}", Uuid::new_v4()))
    }

    /// Accepts only keys of the form we make (e.g. read back from the database).
    pub fn parse(key: &str) -> Option<Self> {
        let mut parts = key.split('/');
        let well_formed = parts.next() == Some("u")
            && parts.next().is_some_and(|u| Uuid::parse_str(u).is_ok())
            && parts.next().is_some_and(|o| Uuid::parse_str(o).is_ok())
            && parts.next().is_none();
        well_formed.then(|| Self(key.to_string()))
    }

    /// The prefix under which all of a user's objects live (for listing).
    pub fn user_prefix(user_id: Uuid) -> String {
        format!("u/{user_id}")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn path(&self) -> Path {
        Path::from(self.0.as_str())
    }
}

impl std::fmt::Display for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored object being read: its size and its bytes as a stream (for the download body).
pub struct StoredObject {
    pub size: u64,
    pub stream: BoxStream<'static, object_store::Result<Bytes>>,
}

/// One listed object, for the orphan sweep.
#[derive(Debug, Clone)]
pub struct ListedObject {
    /// `None` for objects whose key we did not make (left alone by the sweep).
    pub key: Option<StorageKey>,
    pub raw_key: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

/// Cheap to clone; share one in the app state.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    description: String,
    /// The folder of a local store: where half-written files can be left (see
    /// [`Storage::remove_partial_files`]).
    local_root: Option<PathBuf>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl Storage {
    pub fn from_config(config: &StorageConfig) -> anyhow::Result<Self> {
        match config {
            StorageConfig::Local { root } => Self::local(root),
            StorageConfig::S3(s3) => {
                let mut builder = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                let store = builder
                    .build()
                    .with_context(|| format!("configuring the S3 bucket {:?}", s3.bucket))?;
                Ok(Self {
                    store: Arc::new(store),
                    description: format!("s3 bucket {}", s3.bucket),
                    // A PUT is atomic: S3 never keeps half an object.
                    local_root: None,
                })
            }
        }
    }

    /// A folder on this machine, created if missing.
    pub fn local(root: &std::path::Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(root)
            .with_context(|| format!("opening {}", root.display()))?
            // Remove the per-user folders that deletes leave empty.
            .with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            description: format!("local folder {}", root.display()),
            local_root: Some(root.to_path_buf()),
        })
    }

    /// In memory, for tests.
    pub fn in_memory() -> Self {
        Self {
            store: Arc::new(object_store::memory::InMemory::new()),
            description: "in memory".into(),
            local_root: None,
        }
    }

    pub async fn put(&self, key: &StorageKey, bytes: Bytes) -> anyhow::Result<()> {
        self.store
            .put(&key.path(), PutPayload::from_bytes(bytes))
            .await
            .with_context(|| format!("storing {key}"))?;
        Ok(())
    }

    /// The object as a stream, or `None` when it does not exist.
    pub async fn get(&self, key: &StorageKey) -> anyhow::Result<Option<StoredObject>> {
        match self.store.get(&key.path()).await {
            Ok(result) => Ok(Some(StoredObject {
                size: result.meta.size,
                stream: result.into_stream(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {key}")),
        }
    }

    /// Deletes the object; deleting a missing object is not an error (retried jobs).
    pub async fn delete(&self, key: &StorageKey) -> anyhow::Result<()> {
        match self.store.delete(&key.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting {key}")),
        }
    }

    /// Every object under `prefix` (e.g. [`StorageKey::user_prefix`]), or all objects.
    pub fn list(&self, prefix: Option<&str>) -> BoxStream<'static, anyhow::Result<ListedObject>> {
        let prefix = prefix.map(Path::from);
        self.store
            .list(prefix.as_ref())
            .map_err(|e| anyhow::Error::new(e).context("listing stored objects"))
            .map_ok(|meta| {
                let raw_key = meta.location.to_string();
                ListedObject {
                    key: StorageKey::parse(&raw_key),
                    raw_key,
                    size: meta.size,
                    last_modified: meta.last_modified,
                }
            })
            .boxed()
    }
}

impl Storage {
    /// Removes the half-written files that a crash (`kill -9` during an upload) left in a
    /// local store, last modified before `cutoff`; returns how many.
    ///
    /// object_store writes a local object to `<key>#<n>` and renames it when complete. A file
    /// still named so was never finished, and `list` does not show it (such names are not valid
    /// keys), so the orphan sweep would never see it. Only names of that shape under our key
    /// prefix are touched.
    pub async fn remove_partial_files(&self, cutoff: DateTime<Utc>) -> anyhow::Result<u64> {
        let Some(root) = self.local_root.clone() else {
            return Ok(0);
        };
        tokio::task::spawn_blocking(move || remove_partials_under(&root.join("u"), cutoff))
            .await
            .context("the partial-file sweep panicked")?
    }
}

/// Whether a file name is object_store's name for an unfinished write: `<name>#<digits>`.
fn is_partial_name(name: &str) -> bool {
    name.rsplit_once('#').is_some_and(|(stem, n)| {
        !stem.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

fn remove_partials_under(dir: &std::path::Path, cutoff: DateTime<Utc>) -> anyhow::Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            removed += remove_partials_under(&path, cutoff)?;
            continue;
        }
        let name = entry.file_name();
        if !kind.is_file() || !is_partial_name(&name.to_string_lossy()) {
            continue;
        }
        let modified: DateTime<Utc> = entry.metadata()?.modified()?.into();
        if modified < cutoff {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                // Finished or removed by another instance meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_names_are_object_stores_staging_names() {
        assert!(is_partial_name("0b6c1e9e-58a4-4c55-9d43-3f1f2f6a7b80#1"));
        assert!(is_partial_name("x#12345"));
        assert!(!is_partial_name("0b6c1e9e-58a4-4c55-9d43-3f1f2f6a7b80"));
        assert!(!is_partial_name("x#"));
        assert!(!is_partial_name("#1"));
        assert!(!is_partial_name("x#1a"));
    }

    async fn read_all(storage: &Storage, key: &StorageKey) -> Option<Vec<u8>> {
        let object = storage.get(key).await.unwrap()?;
        let chunks: Vec<Bytes> = object.stream.try_collect().await.unwrap();
        Some(chunks.concat())
    }

    #[test]
    fn keys_never_hold_the_file_name_and_parse_strictly() {
        let user = Uuid::new_v4();
        let key = StorageKey::new_for_user(user);
        assert!(key.as_str().starts_with(&format!("u/{user}/")));
        assert_eq!(StorageKey::parse(key.as_str()), Some(key.clone()));
        assert_ne!(StorageKey::new_for_user(user), key);
        assert_eq!(StorageKey::parse("u/x/y"), None);
        assert_eq!(
            StorageKey::parse(&format!("u/{user}/../../etc/passwd")),
            None
        );
        assert_eq!(StorageKey::parse(&format!("u/{user}/{user}/x")), None);
    }

    #[tokio::test]
    async fn local_storage_round_trip_list_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("uploads");
        let storage = Storage::from_config(&StorageConfig::Local { root: root.clone() }).unwrap();
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let a1 = StorageKey::new_for_user(alice);
        let a2 = StorageKey::new_for_user(alice);
        let b1 = StorageKey::new_for_user(bob);
        let big = vec![7u8; 3 * 1024 * 1024];
        storage.put(&a1, Bytes::from(big.clone())).await.unwrap();
        storage.put(&a2, Bytes::from_static(b"two")).await.unwrap();
        storage.put(&b1, Bytes::from_static(b"bob")).await.unwrap();

        // The bytes are on disk under the key, nowhere else.
        assert!(root.join(a1.as_str()).is_file());
        let object = storage.get(&a1).await.unwrap().unwrap();
        assert_eq!(object.size, big.len() as u64);
        assert_eq!(read_all(&storage, &a1).await.unwrap(), big);

        let mut alices: Vec<String> = storage
            .list(Some(&StorageKey::user_prefix(alice)))
            .map_ok(|o| o.key.expect("our key").to_string())
            .try_collect()
            .await
            .unwrap();
        alices.sort();
        let mut expected = vec![a1.to_string(), a2.to_string()];
        expected.sort();
        assert_eq!(alices, expected);
        let all: Vec<ListedObject> = storage.list(None).try_collect().await.unwrap();
        assert_eq!(all.len(), 3);

        storage.delete(&a1).await.unwrap();
        assert!(storage.get(&a1).await.unwrap().is_none());
        // Deleting twice is fine (a retried job).
        storage.delete(&a1).await.unwrap();
        assert_eq!(read_all(&storage, &a2).await.unwrap(), b"two");
    }

    #[tokio::test]
    async fn in_memory_storage_answers_none_for_missing_objects() {
        let storage = Storage::in_memory();
        let key = StorageKey::new_for_user(Uuid::new_v4());
        assert!(storage.get(&key).await.unwrap().is_none());
        storage.put(&key, Bytes::from_static(b"x")).await.unwrap();
        assert_eq!(read_all(&storage, &key).await.unwrap(), b"x");
    }

    #[test]
    fn s3_config_debug_hides_the_secret() {
        let config = StorageConfig::S3(S3Config {
            bucket: "b".into(),
            region: "eu-west-1".into(),
            endpoint: Some("http://127.0.0.1:9000".into()),
            access_key_id: Some("AKIA".into()),
            secret_access_key: Some("very-secret".into()),
        });
        assert!(!format!("{config:?}").contains("very-secret"));
        // Building needs no network.
        assert!(Storage::from_config(&config).is_ok());
    }
}
