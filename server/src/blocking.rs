//! CPU-heavy work (password hashing, image re-encoding) never runs on the async runtime: it goes
//! to tokio's blocking pool through a `CpuPool`, which bounds how many such jobs run at once so
//! that a burst of sign-ins or uploads queues up instead of exhausting memory and threads.
//!
//! The permit travels with the work: if the caller stops waiting (the client went away), the
//! job still holds its permit until it really ends, so the bound stays true.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Semaphore;

#[derive(Debug)]
pub struct CpuPool {
    name: &'static str,
    permits: Arc<Semaphore>,
}

impl CpuPool {
    /// A pool running at most `permits` jobs at once (at least one).
    pub fn new(name: &'static str, permits: usize) -> Self {
        Self {
            name,
            permits: Arc::new(Semaphore::new(permits.max(1))),
        }
    }

    /// A pool running as many jobs at once as the machine has cores (at least `min`).
    pub fn per_core(name: &'static str, min: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(name, cores.max(min))
    }

    /// Runs `work` on the blocking pool once a permit is free and returns its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .with_context(|| format!("{} pool closed", self.name))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .with_context(|| format!("{} task failed", self.name))
    }

    /// Permits free right now (for tests and metrics).
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_than_the_bound_at_once() {
        let pool = Arc::new(CpuPool::new("test", 2));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..12)
            .map(|_| {
                let (pool, running, peak) = (pool.clone(), running.clone(), peak.clone());
                tokio::spawn(async move {
                    pool.run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        // Real CPU work, long enough for the others to pile up behind it.
                        let mut x = 0u64;
                        for i in 0..3_000_000u64 {
                            x = x.wrapping_mul(31).wrapping_add(i);
                        }
                        running.fetch_sub(1, Ordering::SeqCst);
                        std::hint::black_box(x)
                    })
                    .await
                    .unwrap()
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
        assert_eq!(pool.available(), 2);
    }

    #[tokio::test]
    async fn a_caller_that_stops_waiting_does_not_free_the_permit_early() {
        let pool = Arc::new(CpuPool::new("test", 1));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(move || rx.recv().ok()).await })
        };
        while pool.available() != 0 {
            tokio::task::yield_now().await;
        }
        waiting.abort();
        let _ = waiting.await;
        assert_eq!(pool.available(), 0, "the work is still running");
        tx.send(()).unwrap();
        pool.run(|| ()).await.unwrap();
        assert_eq!(pool.available(), 1);
    }
}
