//! Per-user FSRS parameters. Once a user has logged [`MIN_REVIEWS`] reviews, a weekly job fits
//! parameters to their log with the crate's optimiser (CPU-bound: on the blocking pool, one fit
//! at a time per instance) and keeps them only if they predict the user's history better than
//! the parameters in use (lower log loss). Every fit is recorded (`parameter_fits`), kept or
//! not, so settings can say which parameters are in use and how well they did.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use fsrs::{
    compute_parameters, ComputeParametersInput, FSRSItem, FSRSReview, MemoryState,
    DEFAULT_PARAMETERS, FSRS,
};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::Rating;
use crate::{
    blocking::CpuPool,
    jobs::{self, Enqueued, Job, Schedule},
    state::Services,
};

/// Reviews a user needs before their own parameters are fitted.
pub const MIN_REVIEWS: i64 = 400;
/// How often a user's parameters are fitted again.
pub const REFIT_AFTER: chrono::Duration = chrono::Duration::days(7);

/// Fits are CPU-bound for seconds: one at a time keeps the other cores for requests.
static FITTING: LazyLock<CpuPool> = LazyLock::new(|| CpuPool::new("parameter fitting", 1));

/// One logged review: the item, its local day and the rating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoggedReview {
    pub item: Uuid,
    pub day: NaiveDate,
    pub rating: Rating,
}

/// The optimiser's training items from a log sorted by item then time: each review with the
/// item's history before it (delta_t in local days), from the second review on, as FSRS wants.
pub fn training_items(log: &[LoggedReview]) -> Vec<FSRSItem> {
    let mut items = vec![];
    for history in log.chunk_by(|a, b| a.item == b.item) {
        let mut reviews = Vec::with_capacity(history.len());
        let mut last = history[0].day;
        for r in history {
            reviews.push(FSRSReview {
                rating: r.rating.grade(),
                delta_t: u32::try_from((r.day - last).num_days()).unwrap_or(0),
            });
            last = r.day;
            let item = FSRSItem {
                reviews: reviews.clone(),
            };
            if item.long_term_review_cnt() > 0 {
                items.push(item);
            }
        }
    }
    items
}

/// The outcome of one fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub parameters: Vec<f32>,
    /// Log loss of the fitted parameters on the history, and of those in use.
    pub log_loss: f64,
    pub previous_log_loss: f64,
    pub kept: bool,
}

/// How well `parameters` (none: the defaults) predict `items` (log loss, lower is better).
pub fn log_loss(parameters: &[f32], items: &[FSRSItem]) -> anyhow::Result<f64> {
    let model = FSRS::new(parameters)?;
    Ok(f64::from(
        model.evaluate(items.to_vec(), |_| true)?.log_loss,
    ))
}

/// Fits parameters to `items` and compares them with `current` (CPU-bound: call it through
/// [`fit_on_blocking_pool`] from async code).
pub fn fit(items: Vec<FSRSItem>, current: &[f32]) -> anyhow::Result<Fit> {
    let parameters = compute_parameters(ComputeParametersInput {
        train_set: items.clone(),
        ..Default::default()
    })?;
    let fitted = log_loss(&parameters, &items)?;
    let previous_log_loss = log_loss(current, &items)?;
    Ok(Fit {
        kept: fitted < previous_log_loss,
        parameters,
        log_loss: fitted,
        previous_log_loss,
    })
}

/// [`fit`] on the blocking pool, one fit at a time.
pub async fn fit_on_blocking_pool(items: Vec<FSRSItem>, current: Vec<f32>) -> anyhow::Result<Fit> {
    FITTING.run(move || fit(items, &current)).await?
}

/// What settings shows about the parameters in use.
#[derive(Debug, Clone, PartialEq)]
pub struct ParametersInUse {
    /// The reviews logged so far.
    pub reviews: i64,
    /// The kept fit in use (none: FSRS's defaults).
    pub fitted: Option<FitRecord>,
    /// The last fit, kept or not.
    pub last_fit: Option<FitRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FitRecord {
    pub fitted_at: DateTime<Utc>,
    pub reviews: i32,
    pub log_loss: f64,
    pub previous_log_loss: f64,
    pub kept: bool,
}

pub async fn parameters_in_use(pool: &PgPool, user_id: Uuid) -> anyhow::Result<ParametersInUse> {
    let reviews = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM review_log WHERE user_id = $1"#,
        user_id
    )
    .fetch_one(pool)
    .await?;
    let fits = sqlx::query!(
        r#"(SELECT fitted_at AS "fitted_at!", reviews AS "reviews!", log_loss AS "log_loss!",
                   previous_log_loss AS "previous_log_loss!", kept AS "kept!"
              FROM parameter_fits WHERE user_id = $1 AND kept ORDER BY fitted_at DESC LIMIT 1)
           UNION ALL
           (SELECT fitted_at, reviews, log_loss, previous_log_loss, kept
              FROM parameter_fits WHERE user_id = $1 ORDER BY fitted_at DESC LIMIT 1)"#,
        user_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|f| FitRecord {
        fitted_at: f.fitted_at,
        reviews: f.reviews,
        log_loss: f.log_loss,
        previous_log_loss: f.previous_log_loss,
        kept: f.kept,
    })
    .collect::<Vec<_>>();
    Ok(ParametersInUse {
        reviews,
        fitted: fits.iter().find(|f| f.kept).cloned(),
        last_fit: fits.last().cloned(),
    })
}

/// Fits the user's parameters now if they have enough reviews, records the fit and answers it
/// (none: too few reviews).
pub async fn fit_user(state: &Services, user_id: Uuid) -> anyhow::Result<Option<Fit>> {
    let now = state.now();
    let rows = sqlx::query!(
        r#"SELECT l.task_id, (l.reviewed_at AT TIME ZONE u.timezone)::date AS "day!",
                  l.rating AS "rating: Rating"
             FROM review_log l JOIN users u ON u.id = l.user_id
            WHERE l.user_id = $1
            ORDER BY l.task_id, l.reviewed_at"#,
        user_id,
    )
    .fetch_all(&state.pool)
    .await?;
    if (rows.len() as i64) < MIN_REVIEWS {
        return Ok(None);
    }
    let log: Vec<LoggedReview> = rows
        .iter()
        .map(|r| LoggedReview {
            item: r.task_id,
            day: r.day,
            rating: r.rating,
        })
        .collect();
    let current = current_parameters(&state.pool, user_id).await?;
    let fit = fit_on_blocking_pool(training_items(&log), current).await?;
    let parameters: Vec<f64> = fit.parameters.iter().map(|p| f64::from(*p)).collect();
    sqlx::query!(
        "INSERT INTO parameter_fits (user_id, fitted_at, reviews, parameters, log_loss,
                                     previous_log_loss, kept)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        user_id,
        now,
        rows.len() as i32,
        &parameters,
        fit.log_loss,
        fit.previous_log_loss,
        fit.kept,
    )
    .execute(&state.pool)
    .await?;
    tracing::info!(%user_id, reviews = rows.len(), log_loss = fit.log_loss,
        previous = fit.previous_log_loss, kept = fit.kept, "parameters fitted");
    Ok(Some(fit))
}

async fn current_parameters(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Vec<f32>> {
    let stored = sqlx::query_scalar!(
        "SELECT parameters FROM parameter_fits WHERE user_id = $1 AND kept
          ORDER BY fitted_at DESC LIMIT 1",
        user_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(super::stored_parameters(stored))
}

/// The weekly fit of one user's parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FitParameters {
    pub user_id: Uuid,
}

impl Job for FitParameters {
    const QUEUE: &'static str = "fit-parameters";
    const MAX_ATTEMPTS: usize = 3;

    async fn run(self, state: Services, _attempt: usize) -> anyhow::Result<()> {
        fit_user(&state, self.user_id).await?;
        Ok(())
    }
}

/// Enqueues a fit for every user with enough reviews whose last fit is a week old (or who has
/// none), once per user and week whatever the number of instances and ticks; answers how many
/// it added. One statement finds them.
pub async fn enqueue_due_fits(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let users = sqlx::query_scalar!(
        r#"SELECT l.user_id FROM review_log l
            GROUP BY l.user_id
           HAVING count(*) >= $1
              AND NOT EXISTS (SELECT 1 FROM parameter_fits f
                               WHERE f.user_id = l.user_id AND f.fitted_at > $2)"#,
        MIN_REVIEWS,
        now - REFIT_AFTER,
    )
    .fetch_all(&mut *conn)
    .await?;
    let week = now.timestamp() / REFIT_AFTER.num_seconds();
    let mut added = 0;
    for user_id in &users {
        let enqueued = jobs::enqueue(
            &mut *conn,
            &FitParameters { user_id: *user_id },
            Schedule::now().key(format!("fit-parameters:{user_id}:{week}")),
        )
        .await?;
        added += usize::from(enqueued == Enqueued::Added);
    }
    Ok(added)
}

/// A small deterministic generator (xorshift64*), so the synthetic log is the same on
/// every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Someone who forgets much faster than FSRS's average learner: their true parameters.
pub fn forgetful() -> Vec<f32> {
    let mut w = DEFAULT_PARAMETERS.to_vec();
    w[..4].copy_from_slice(&[0.05, 0.2, 0.4, 1.2]);
    w[8] = 0.9;
    w
}

/// A synthetic log (for tests and the benchmark): `cards` items reviewed `per_card` times, at
/// the intervals the default scheduler would give, remembered or not as [`forgetful`]
/// parameters predict, from a seeded generator (the same log on every run).
pub fn synthetic_log(cards: u32, per_card: usize, seed: u64) -> anyhow::Result<Vec<LoggedReview>> {
    let truth = FSRS::new(&forgetful())?;
    let decay = forgetful()[20];
    let scheduler = FSRS::default();
    let mut random = Random(seed);
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let mut log = vec![];
    for card in 0..cards {
        let item = Uuid::from_u128(u128::from(card) + 1);
        let mut day = start + Duration::days(i64::from(card % 30));
        let mut true_state: Option<MemoryState> = None;
        let mut seen_state: Option<MemoryState> = None;
        let mut elapsed = 0u32;
        for _ in 0..per_card {
            let rating = match true_state {
                None => 3,
                Some(s) => {
                    let recall = fsrs::current_retrievability(s, elapsed as f32, decay);
                    if random.next() < f64::from(recall) {
                        if random.next() < 0.15 {
                            4
                        } else {
                            3
                        }
                    } else {
                        1
                    }
                }
            };
            log.push(LoggedReview {
                item,
                day,
                rating: Rating::from_grade(rating).unwrap_or(Rating::Good),
            });
            let grade = |n: fsrs::NextStates| match rating {
                1 => n.again,
                2 => n.hard,
                3 => n.good,
                _ => n.easy,
            };
            true_state = Some(grade(truth.next_states(true_state, 0.9, elapsed)?).memory);
            let seen = grade(scheduler.next_states(seen_state, 0.9, elapsed)?);
            seen_state = Some(seen.memory);
            elapsed = (seen.interval.round() as u32).max(1);
            day += Duration::days(i64::from(elapsed));
        }
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_items_carry_each_items_history_in_local_days() {
        let a = Uuid::from_u128(1);
        let day = |d| NaiveDate::from_ymd_opt(2026, 5, d).unwrap();
        let log = [
            LoggedReview {
                item: a,
                day: day(1),
                rating: Rating::Good,
            },
            LoggedReview {
                item: a,
                day: day(3),
                rating: Rating::Again,
            },
            LoggedReview {
                item: a,
                day: day(4),
                rating: Rating::Easy,
            },
            LoggedReview {
                item: Uuid::from_u128(2),
                day: day(2),
                rating: Rating::Hard,
            },
        ];
        let items = training_items(&log);
        // The lone review of the second item teaches nothing yet.
        assert_eq!(items.len(), 2);
        let last: Vec<(u32, u32)> = items[1]
            .reviews
            .iter()
            .map(|r| (r.rating, r.delta_t))
            .collect();
        assert_eq!(last, [(3, 0), (1, 2), (4, 1)]);
    }

    #[test]
    fn fitted_parameters_predict_held_out_reviews_better_than_the_defaults() {
        let log = synthetic_log(360, 6, 0x5eed).unwrap();
        assert!(log.len() >= 1_000, "{} reviews", log.len());
        // Two thirds of the items to fit on, the others held out.
        let (train, test): (Vec<LoggedReview>, Vec<LoggedReview>) =
            log.iter().partition(|r| r.item.as_u128() % 3 != 0);
        let fit = fit(training_items(&train), &[]).unwrap();
        assert!(fit.kept, "{fit:?}");
        let held_out = training_items(&test);
        let fitted = log_loss(&fit.parameters, &held_out).unwrap();
        let defaults = log_loss(&[], &held_out).unwrap();
        assert!(fitted < defaults, "fitted {fitted} vs defaults {defaults}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn fitting_runs_off_the_async_runtime() {
        let items = training_items(&synthetic_log(200, 6, 7).unwrap());
        let mut fitting = Box::pin(fit_on_blocking_pool(items, vec![]));
        // Had the fit run inside the future, its first poll would have done all of it (a
        // fit takes milliseconds); on the blocking pool the first poll only hands it over.
        assert!(futures::poll!(&mut fitting).is_pending());
        assert!(fitting.await.unwrap().kept);
    }
}
