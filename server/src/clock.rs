//! "Now", from one place. Production reads the system clock; tests build a manual clock they
//! can set and advance. The manual clock exists only with the `test-clock` feature (turned on
//! for this crate's own tests through its dev-dependency on itself), so a release build has no
//! way to move time from outside.
//!
//! Every rule that depends on the time (expiries, cooldowns, rate-limit windows, recent
//! sign-ins, session expiry, the next run of a failed job, request deadlines) takes `now` from
//! here, and waits for a moment with [`Clock::sleep_until`] (which a manual clock ends when it
//! is moved past that moment, so a test moves time instead of sleeping), and our SQL
//! receives it as a bind parameter instead of calling `now()` (nor leaving a timestamp to a
//! column's `DEFAULT now()`), so the database and the code agree on the time in tests too. The
//! one clock we do not control is the job queue's: apalis's own statements compare a job's
//! `run_at` with the database's `now()` (see `jobs`).

use std::future::Future;

use chrono::{DateTime, Utc};

#[derive(Clone, Default)]
pub struct Clock {
    /// The manual time; its receivers are the waits in progress.
    #[cfg(feature = "test-clock")]
    manual: Option<std::sync::Arc<tokio::sync::watch::Sender<DateTime<Utc>>>>,
}

/// A wait on the clock ended before the work it bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[cfg(feature = "test-clock")]
        if self.manual.is_some() {
            return f.write_str("Clock(manual)");
        }
        f.write_str("Clock(system)")
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        #[cfg(feature = "test-clock")]
        if let Some(manual) = &self.manual {
            return *manual.borrow();
        }
        Utc::now()
    }

    /// Ends once the clock reads `at` or later (at once for a past instant).
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        #[cfg(feature = "test-clock")]
        if let Some(manual) = &self.manual {
            // The sender lives as long as this clock, so the wait ends only by the time.
            let _ = manual.subscribe().wait_for(|now| *now >= at).await;
            return;
        }
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
    }

    /// Runs `work` until the clock reads `at`; [`Elapsed`] if it was not done by then.
    pub async fn timeout_at<T>(
        &self,
        at: DateTime<Utc>,
        work: impl Future<Output = T>,
    ) -> Result<T, Elapsed> {
        tokio::select! {
            biased;
            done = work => Ok(done),
            () = self.sleep_until(at) => Err(Elapsed),
        }
    }

    /// Runs `work` for at most `limit` from now (a limit past the calendar means no limit).
    pub async fn timeout<T>(
        &self,
        limit: std::time::Duration,
        work: impl Future<Output = T>,
    ) -> Result<T, Elapsed> {
        let at = chrono::TimeDelta::from_std(limit)
            .ok()
            .and_then(|limit| self.now().checked_add_signed(limit))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.timeout_at(at, work).await
    }
}

#[cfg(feature = "test-clock")]
impl Clock {
    /// A clock that stands still at `start` until set or advanced (tests only).
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self {
            manual: Some(std::sync::Arc::new(tokio::sync::watch::Sender::new(start))),
        }
    }

    /// Moves a manual clock to `at` (every clone sees it, and the waits it passes end). Panics
    /// on the system clock.
    #[allow(
        clippy::expect_used,
        reason = "tests only (feature test-clock): setting the system clock is a test's mistake"
    )]
    pub fn set(&self, at: DateTime<Utc>) {
        let manual = self
            .manual
            .as_ref()
            .expect("only a manual clock can be set");
        manual.send_replace(at);
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.set(self.now() + by);
    }
}

#[cfg(all(test, feature = "test-clock"))]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let start = DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::manual(start);
        let clone = clock.clone();
        assert_eq!(clock.now(), start);
        clone.advance(chrono::Duration::minutes(5));
        assert_eq!(clock.now(), start + chrono::Duration::minutes(5));
    }

    #[tokio::test]
    async fn a_wait_on_a_manual_clock_ends_when_the_clock_passes_it() {
        let start = Utc::now();
        let clock = Clock::manual(start);
        let wait = tokio::spawn({
            let clock = clock.clone();
            async move {
                clock
                    .timeout_at(
                        start + chrono::Duration::hours(1),
                        std::future::pending::<()>(),
                    )
                    .await
            }
        });
        tokio::task::yield_now().await;
        clock.advance(chrono::Duration::minutes(59));
        tokio::task::yield_now().await;
        assert!(!wait.is_finished(), "not before its time");
        clock.advance(chrono::Duration::minutes(1));
        assert_eq!(wait.await.unwrap(), Err(Elapsed));
        // Work done in time is not cut off, and a past instant does not wait.
        assert_eq!(
            clock.timeout(std::time::Duration::ZERO, async { 7 }).await,
            Ok(7)
        );
        clock.sleep_until(start).await;
    }

    #[test]
    fn the_system_clock_follows_real_time() {
        let before = Utc::now();
        let now = Clock::system().now();
        assert!(now >= before && now <= Utc::now());
    }
}
