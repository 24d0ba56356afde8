//! "Now", from one place. Production reads the system clock; tests build a manual clock they
//! can set and advance. The manual clock exists only with the `test-clock` feature (turned on
//! for this crate's own tests through its dev-dependency on itself), so a release build has no
//! way to move time from outside.
//!
//! Every rule that depends on the time (expiries, cooldowns, rate-limit windows, recent
//! sign-ins, session expiry, the next run of a failed job) takes `now` from here, and our SQL
//! receives it as a bind parameter instead of calling `now()` (nor leaving a timestamp to a
//! column's `DEFAULT now()`), so the database and the code agree on the time in tests too. The
//! one clock we do not control is the job queue's: apalis's own statements compare a job's
//! `run_at` with the database's `now()` (see `jobs`).

use chrono::{DateTime, Utc};

#[derive(Clone, Default)]
pub struct Clock {
    #[cfg(feature = "test-clock")]
    manual: Option<std::sync::Arc<std::sync::Mutex<DateTime<Utc>>>>,
}

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
            return *manual.lock().unwrap_or_else(|e| e.into_inner());
        }
        Utc::now()
    }
}

#[cfg(feature = "test-clock")]
impl Clock {
    /// A clock that stands still at `start` until set or advanced (tests only).
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self {
            manual: Some(std::sync::Arc::new(std::sync::Mutex::new(start))),
        }
    }

    /// Moves a manual clock to `at` (every clone sees it). Panics on the system clock.
    #[allow(
        clippy::expect_used,
        reason = "tests only (feature test-clock): setting the system clock is a test's mistake"
    )]
    pub fn set(&self, at: DateTime<Utc>) {
        let manual = self
            .manual
            .as_ref()
            .expect("only a manual clock can be set");
        *manual.lock().unwrap_or_else(|e| e.into_inner()) = at;
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

    #[test]
    fn the_system_clock_follows_real_time() {
        let before = Utc::now();
        let now = Clock::system().now();
        assert!(now >= before && now <= Utc::now());
    }
}
