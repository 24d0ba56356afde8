//! The scheduling rules as pure functions (no database, no clock): FSRS's next memory states
//! and intervals (crate `fsrs`), clamped to [1, 365] days and capped by the "know it by" date,
//! then a fuzz range around the interval and a load balancer that picks the least busy day in
//! it. Recall probabilities come from the same model.

use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, NaiveDate, Utc};
use fsrs::{current_retrievability, MemoryState, DEFAULT_PARAMETERS, FSRS};
use serde::{Deserialize, Serialize};

/// The shortest and longest intervals, in days.
pub const MIN_INTERVAL: i64 = 1;
pub const MAX_INTERVAL: i64 = 365;
/// FSRS takes whole days; this is one, in seconds.
const DAY: f64 = 86_400.0;

/// How well the user remembered (`review_log.rating`, TEXT with a CHECK).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    sqlx::Encode,
    sqlx::Decode,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum Rating {
    Again,
    Hard,
    Good,
    Easy,
}

crate::db::text_column_type!(Rating);

impl crate::validate::Choice for Rating {
    const ALL: &'static [Self] = &[Self::Again, Self::Hard, Self::Good, Self::Easy];
    const NAME: &'static str = "rating";

    fn word(self) -> &'static str {
        self.as_str()
    }
}

impl Rating {
    pub const FOUR: [Self; 4] = [Self::Again, Self::Hard, Self::Good, Self::Easy];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Again => "again",
            Self::Hard => "hard",
            Self::Good => "good",
            Self::Easy => "easy",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Again => "Again",
            Self::Hard => "Hard",
            Self::Good => "Good",
            Self::Easy => "Easy",
        }
    }

    /// FSRS's grade: 1 (again) to 4 (easy).
    pub fn grade(self) -> u32 {
        match self {
            Self::Again => 1,
            Self::Hard => 2,
            Self::Good => 3,
            Self::Easy => 4,
        }
    }

    pub fn from_grade(grade: u32) -> Option<Self> {
        Self::FOUR.get(grade.checked_sub(1)? as usize).copied()
    }
}

/// A memory item's state after its last review.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    pub stability: f64,
    pub difficulty: f64,
    pub last_reviewed_at: DateTime<Utc>,
}

impl Memory {
    fn fsrs(&self) -> MemoryState {
        MemoryState {
            stability: self.stability as f32,
            difficulty: self.difficulty as f32,
        }
    }
}

/// What one rating would do: the new memory state and the interval before fuzz (clamped and
/// capped), in days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub rating: Rating,
    pub stability: f64,
    pub difficulty: f64,
    pub interval: i64,
}

/// The interval each rating would give, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Intervals {
    pub again: i64,
    pub hard: i64,
    pub good: i64,
    pub easy: i64,
}

impl Intervals {
    pub fn of(&self, rating: Rating) -> i64 {
        match rating {
            Rating::Again => self.again,
            Rating::Hard => self.hard,
            Rating::Good => self.good,
            Rating::Easy => self.easy,
        }
    }
}

/// FSRS with one user's parameters.
#[derive(Debug, Clone)]
pub struct Scheduler {
    fsrs: FSRS,
    decay: f32,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self {
            fsrs: FSRS::default(),
            decay: DEFAULT_PARAMETERS[20],
        }
    }
}

impl Scheduler {
    /// The scheduler for `parameters` (21 numbers; none for the defaults).
    pub fn new(parameters: &[f32]) -> anyhow::Result<Self> {
        let fsrs = FSRS::new(parameters)?;
        let decay = parameters
            .get(20)
            .copied()
            .unwrap_or(DEFAULT_PARAMETERS[20]);
        Ok(Self { fsrs, decay })
    }

    /// The probability of recalling the item at `at`.
    pub fn recall(&self, memory: &Memory, at: DateTime<Utc>) -> f64 {
        let days = ((at - memory.last_reviewed_at).num_seconds().max(0) as f64 / DAY) as f32;
        f64::from(current_retrievability(memory.fsrs(), days, self.decay))
    }

    /// What each rating would do for an item reviewed `elapsed_days` after its last review
    /// (none for the first review), at desired retention `retention`, on local day `today`,
    /// never past `know_by` while it is ahead.
    pub fn outcomes(
        &self,
        memory: Option<&Memory>,
        retention: f64,
        elapsed_days: u32,
        today: NaiveDate,
        know_by: Option<NaiveDate>,
    ) -> anyhow::Result<[Outcome; 4]> {
        let next =
            self.fsrs
                .next_states(memory.map(Memory::fsrs), retention as f32, elapsed_days)?;
        let cap = days_until(today, know_by);
        let outcome = |rating, state: fsrs::ItemState| Outcome {
            rating,
            stability: f64::from(state.memory.stability),
            difficulty: f64::from(state.memory.difficulty),
            interval: clamp_interval(state.interval, cap),
        };
        Ok([
            outcome(Rating::Again, next.again),
            outcome(Rating::Hard, next.hard),
            outcome(Rating::Good, next.good),
            outcome(Rating::Easy, next.easy),
        ])
    }
}

/// The intervals of four outcomes.
pub fn intervals(outcomes: &[Outcome; 4]) -> Intervals {
    Intervals {
        again: outcomes[0].interval,
        hard: outcomes[1].interval,
        good: outcomes[2].interval,
        easy: outcomes[3].interval,
    }
}

/// Days from `today` to `know_by` while that date is ahead (none on it or after it: the item
/// is back to normal scheduling).
pub fn days_until(today: NaiveDate, know_by: Option<NaiveDate>) -> Option<i64> {
    know_by
        .map(|k| (k - today).num_days())
        .filter(|d| *d >= MIN_INTERVAL)
}

/// FSRS's interval rounded to whole days, within [1, 365] and no further than `cap`.
pub fn clamp_interval(interval: f32, cap: Option<i64>) -> i64 {
    let days = (interval.round() as i64).clamp(MIN_INTERVAL, MAX_INTERVAL);
    cap.map_or(days, |c| days.min(c))
}

/// The whole local days between the last review and today (what FSRS calls elapsed days).
pub fn elapsed_days(last_review_day: NaiveDate, today: NaiveDate) -> u32 {
    u32::try_from((today - last_review_day).num_days()).unwrap_or(0)
}

/// The days an interval may move to (Anki's fuzz: none under 2.5 days, then ±1 day plus 15 %
/// of the part from 2.5 to 7 days, 10 % from 7 to 20 and 5 % beyond), inside [1, 365] and
/// never past `cap`.
pub fn fuzz_range(interval: i64, cap: Option<i64>) -> (i64, i64) {
    let ivl = interval as f64;
    let (lo, hi) = if ivl < 2.5 {
        (interval, interval)
    } else {
        let ranges = [
            (2.5, 7.0, 0.15),
            (7.0, 20.0, 0.1),
            (20.0, f64::INFINITY, 0.05),
        ];
        let delta = 1.0
            + ranges
                .iter()
                .map(|(start, end, factor)| factor * (ivl.min(*end) - start).max(0.0))
                .sum::<f64>();
        (
            ((ivl - delta).round() as i64).max(2),
            (ivl + delta).round() as i64,
        )
    };
    let hi = hi.min(MAX_INTERVAL).min(cap.unwrap_or(MAX_INTERVAL));
    (lo.clamp(MIN_INTERVAL, hi), hi)
}

/// The interval in `range` whose day has the fewest reviews already (`load(days)`), ties
/// broken by `seed` (so the same item and review always land the same way, and items with the
/// same interval spread over the tied days).
pub fn balance(range: (i64, i64), load: impl Fn(i64) -> i64, seed: u64) -> i64 {
    let (lo, hi) = range;
    let least = (lo..=hi).map(&load).min().unwrap_or(0);
    let tied: Vec<i64> = (lo..=hi).filter(|d| load(*d) == least).collect();
    tied.get((seed % tied.len().max(1) as u64) as usize)
        .copied()
        .unwrap_or(lo)
}

/// A stable seed for one review of one item.
pub fn seed(item: impl Hash, review: i64) -> u64 {
    let mut hasher = DefaultHasher::new();
    item.hash(&mut hasher);
    review.hash(&mut hasher);
    hasher.finish()
}

/// Average recall of `memories` at each of `at` (0 when there are none).
pub fn average_recall(scheduler: &Scheduler, memories: &[Memory], at: DateTime<Utc>) -> f64 {
    if memories.is_empty() {
        return 0.0;
    }
    memories
        .iter()
        .map(|m| scheduler.recall(m, at))
        .sum::<f64>()
        / memories.len() as f64
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + Duration::days(n)
    }

    fn at(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap() + Duration::days(n)
    }

    #[test]
    fn intervals_before_fuzz_are_the_fsrs_crates() {
        let ours = Scheduler::default();
        let theirs = FSRS::default();
        let memory = Memory {
            stability: 12.5,
            difficulty: 6.2,
            last_reviewed_at: at(0),
        };
        for retention in [0.7, 0.9, 0.97] {
            for elapsed in [0, 3, 12, 40] {
                let outcomes = ours
                    .outcomes(Some(&memory), retention, elapsed, day(0), None)
                    .unwrap();
                let next = theirs
                    .next_states(Some(memory.fsrs()), retention as f32, elapsed)
                    .unwrap();
                for (o, s) in outcomes
                    .iter()
                    .zip([next.again, next.hard, next.good, next.easy])
                {
                    let expected = (s.interval.round() as i64).clamp(1, 365);
                    assert_eq!(
                        o.interval, expected,
                        "{:?} at {retention}, {elapsed} d",
                        o.rating
                    );
                    assert_eq!(o.stability, f64::from(s.memory.stability));
                    assert_eq!(o.difficulty, f64::from(s.memory.difficulty));
                }
            }
        }
        // A first review: the crate's initial stabilities (0.2, 1.3, 2.3 and 8.3 days).
        let first = ours.outcomes(None, 0.9, 0, day(0), None).unwrap();
        assert_eq!(
            intervals(&first),
            Intervals {
                again: 1,
                hard: 1,
                good: 2,
                easy: 8
            }
        );
    }

    #[test]
    fn intervals_stay_between_one_day_and_a_year() {
        assert_eq!(clamp_interval(0.2, None), 1);
        assert_eq!(clamp_interval(3.4, None), 3);
        assert_eq!(clamp_interval(5000.0, None), 365);
        let strong = Memory {
            stability: 3000.0,
            difficulty: 1.0,
            last_reviewed_at: at(0),
        };
        let outcomes = Scheduler::default()
            .outcomes(Some(&strong), 0.7, 2000, day(0), None)
            .unwrap();
        assert_eq!(outcomes[3].interval, 365);
        assert_eq!(fuzz_range(365, None).1, 365);
    }

    #[test]
    fn the_fuzz_range_grows_with_the_interval_and_respects_the_cap() {
        assert_eq!(fuzz_range(1, None), (1, 1));
        assert_eq!(fuzz_range(2, None), (2, 2));
        assert_eq!(fuzz_range(4, None), (3, 5));
        assert_eq!(fuzz_range(10, None), (8, 12));
        assert_eq!(fuzz_range(100, None), (93, 107));
        assert_eq!(fuzz_range(100, Some(101)), (93, 101));
        assert_eq!(fuzz_range(5, Some(5)), (4, 5));
        assert_eq!(fuzz_range(3, Some(3)), (2, 3));
    }

    #[test]
    fn balancing_flattens_a_crowded_day_and_stays_in_range() {
        // Day 10 already has 30 reviews, its neighbours 2 or 3.
        let load = |d: i64| match d {
            10 => 30,
            9 | 11 => 3,
            8 | 12 => 2,
            _ => 0,
        };
        let range = fuzz_range(10, None);
        let mut picked = std::collections::BTreeMap::new();
        for item in 0..200u32 {
            let d = balance(range, load, seed(item, 1));
            assert!((range.0..=range.1).contains(&d));
            *picked.entry(d).or_insert(0) += 1;
        }
        // Never the crowded day; the two least busy days share the items.
        assert_eq!(picked.keys().copied().collect::<Vec<_>>(), [8, 12]);
        assert!(picked.values().all(|n| *n > 60), "{picked:?}");
        // Placing items one by one keeps every day within one of its neighbours.
        let mut days = std::collections::HashMap::<i64, i64>::new();
        for item in 0..100u32 {
            let d = balance((20, 24), |d| *days.get(&d).unwrap_or(&0), seed(item, 3));
            *days.entry(d).or_insert(0) += 1;
        }
        let counts: Vec<i64> = (20..=24).map(|d| days[&d]).collect();
        assert_eq!(counts, [20, 20, 20, 20, 20]);
    }

    #[test]
    fn know_by_dates_are_met_then_scheduling_is_normal_again() {
        let scheduler = Scheduler::default();
        for ahead in [2, 7, 60] {
            let know_by = day(ahead);
            let mut memory: Option<Memory> = None;
            let mut today = day(0);
            let mut last_day = today;
            let mut reviews = vec![];
            loop {
                let elapsed = elapsed_days(last_day, today);
                let outcomes = scheduler
                    .outcomes(memory.as_ref(), 0.9, elapsed, today, Some(know_by))
                    .unwrap();
                let good = outcomes[2];
                reviews.push(today);
                memory = Some(Memory {
                    stability: good.stability,
                    difficulty: good.difficulty,
                    last_reviewed_at: at((today - day(0)).num_days()),
                });
                last_day = today;
                let next = today + Duration::days(good.interval);
                if today < know_by {
                    assert!(
                        next <= know_by,
                        "{ahead} d: {today} → {next} passes {know_by}"
                    );
                } else {
                    // On the date: FSRS's own interval again, not capped.
                    let free = scheduler
                        .outcomes(memory.as_ref(), 0.9, 0, today, None)
                        .unwrap();
                    assert_eq!(
                        scheduler
                            .outcomes(memory.as_ref(), 0.9, 0, today, Some(know_by))
                            .unwrap(),
                        free
                    );
                    break;
                }
                today = next;
            }
            // The last review before the date falls on it.
            assert_eq!(*reviews.last().unwrap(), know_by, "{ahead} d: {reviews:?}");
            assert!(reviews.len() >= 2);
        }
        // Uncapped, 60 days ahead would have been passed in one jump by an easy item.
        let easy = Memory {
            stability: 90.0,
            difficulty: 2.0,
            last_reviewed_at: at(0),
        };
        let capped = scheduler
            .outcomes(Some(&easy), 0.9, 30, day(30), Some(day(60)))
            .unwrap();
        assert!(capped.iter().all(|o| o.interval <= 30));
    }

    #[test]
    fn late_and_early_reviews_use_the_real_elapsed_time() {
        let scheduler = Scheduler::default();
        let memory = Memory {
            stability: 10.0,
            difficulty: 5.0,
            last_reviewed_at: at(0),
        };
        // Due on day 10; reviewed early (day 3), on time and late (day 30).
        let good = |elapsed| {
            scheduler
                .outcomes(Some(&memory), 0.9, elapsed, day(i64::from(elapsed)), None)
                .unwrap()[2]
        };
        let (early, on_time, late) = (good(3), good(10), good(30));
        assert!(early.stability < on_time.stability);
        assert!(on_time.stability < late.stability);
        assert!(early.interval < on_time.interval && on_time.interval < late.interval);
        assert_eq!(elapsed_days(day(0), day(30)), 30);
        assert_eq!(elapsed_days(day(5), day(3)), 0);
        // Recall falls with the real time since the review: 0.9 at one stability.
        assert!((scheduler.recall(&memory, at(10)) - 0.9).abs() < 1e-4);
        assert!(scheduler.recall(&memory, at(3)) > scheduler.recall(&memory, at(10)));
    }

    #[test]
    fn average_recall_falls_day_after_day_without_reviews() {
        let scheduler = Scheduler::default();
        let memories: Vec<Memory> = (1..40)
            .map(|i| Memory {
                stability: f64::from(i) * 1.7,
                difficulty: 1.0 + f64::from(i % 9),
                last_reviewed_at: at(-i64::from(i % 5)),
            })
            .collect();
        let forecast: Vec<f64> = (1..=30)
            .map(|d| average_recall(&scheduler, &memories, at(d)))
            .collect();
        assert!(forecast.windows(2).all(|w| w[1] < w[0]), "{forecast:?}");
        assert!(forecast.iter().all(|r| (0.0..=1.0).contains(r)));
        assert_eq!(average_recall(&scheduler, &[], at(1)), 0.0);
    }

    #[test]
    fn ratings_map_to_fsrs_grades() {
        for r in Rating::FOUR {
            assert_eq!(Rating::from_grade(r.grade()), Some(r));
        }
        assert_eq!(Rating::from_grade(0), None);
        assert_eq!(Rating::from_grade(5), None);
    }
}
