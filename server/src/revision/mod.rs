//! Spaced revision: a task with spaced revision on is a memory item. Rating a review (again,
//! hard, good, easy) writes the review log and schedules the next review with FSRS (`schedule`)
//! at the task's desired retention, in the user's time zone, at their morning hour. The next
//! review is the task's one pending `review` reminder (see `reminders::reviews`), so it is
//! delivered, listed, digested and put in the calendar like any reminder. The last rating can
//! be undone for ten minutes; each user's parameters are fitted weekly from their own log
//! (`optimiser`). The JSON API (`api`) and the pages call the same functions here.

pub mod api;
pub mod optimiser;
pub mod schedule;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub use schedule::{Intervals, Memory, Rating, Scheduler};

use crate::{
    error::{AppError, AppResult},
    reminders::reviews::{self, at_local_hour},
    state::Services,
    tasks::{self, TaskDetails},
};

/// How long a rating can be undone.
pub const UNDO_WINDOW: Duration = Duration::minutes(10);
/// Recall under this within a week puts an item at risk.
pub const AT_RISK_RECALL: f64 = 0.8;
/// Days of the recall forecast.
pub const FORECAST_DAYS: i64 = 30;

/// Parameters as stored (DOUBLE PRECISION[]) as FSRS takes them; none: the defaults.
pub(crate) fn stored_parameters(stored: Option<Vec<f64>>) -> Vec<f32> {
    stored
        .unwrap_or_default()
        .into_iter()
        .map(|p| p as f32)
        .collect()
}

/// What the rules need to know about the user: their zone, morning hour and parameters.
pub struct Learner {
    pub zone: Tz,
    pub hour: u32,
    pub scheduler: Scheduler,
}

impl Learner {
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.zone).date_naive()
    }

    /// The start of local day `day`.
    pub fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        at_local_hour(day, self.zone, 0)
    }
}

/// The user's zone, morning hour and scheduler (with their kept parameters, else FSRS's).
pub async fn learner(conn: &mut PgConnection, user_id: Uuid) -> AppResult<Learner> {
    let row = sqlx::query!(
        r#"SELECT u.timezone, u.digest_hour,
                  (SELECT f.parameters FROM parameter_fits f
                    WHERE f.user_id = u.id AND f.kept ORDER BY f.fitted_at DESC LIMIT 1) AS parameters
             FROM users u WHERE u.id = $1"#,
        user_id,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let parameters = stored_parameters(row.parameters);
    let scheduler = Scheduler::new(&parameters).or_else(|e| {
        tracing::warn!(error = ?e, %user_id, "stored parameters refused; using the defaults");
        Scheduler::new(&[])
    })?;
    Ok(Learner {
        zone: tasks::zone_of(&row.timezone),
        hour: u32::try_from(row.digest_hour).unwrap_or(9),
        scheduler,
    })
}

/// A memory item as rating reads it, locked for the rating.
struct Item {
    retention: f64,
    know_by: Option<NaiveDate>,
    memory: Option<Memory>,
    reviews: i32,
}

async fn lock_item(conn: &mut PgConnection, user_id: Uuid, task_id: Uuid) -> AppResult<Item> {
    let row = sqlx::query!(
        r#"SELECT t.spaced_revision, t.desired_retention, t.know_by,
                  m.stability AS "stability?", m.difficulty AS "difficulty?",
                  m.last_reviewed_at AS "last_reviewed_at?", m.reviews AS "reviews?"
             FROM tasks t LEFT JOIN memory_states m ON m.task_id = t.id
            WHERE t.id = $1 AND t.user_id = $2
              FOR UPDATE OF t"#,
        task_id,
        user_id,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)?;
    if !row.spaced_revision {
        return Err(AppError::Conflict(
            "This task is not reviewed with spaced repetition: turn spaced revision on first"
                .into(),
        ));
    }
    let memory = match (row.stability, row.difficulty, row.last_reviewed_at) {
        (Some(stability), Some(difficulty), Some(last_reviewed_at)) => Some(Memory {
            stability,
            difficulty,
            last_reviewed_at,
        }),
        _ => None,
    };
    Ok(Item {
        retention: row.desired_retention,
        know_by: row.know_by,
        memory,
        reviews: row.reviews.unwrap_or(0),
    })
}

/// What a rating did.
#[derive(Debug, Clone)]
pub struct Rated {
    pub task: TaskDetails,
    pub next_review_at: DateTime<Utc>,
    /// The interval each rating would have given this review (before fuzz), in days.
    pub intervals: Intervals,
}

/// Rates one of the user's memory items (404 for another's task, 409 for a task that is not
/// a memory item) and schedules its next review.
pub async fn rate(
    state: &Services,
    user_id: Uuid,
    task_id: Uuid,
    rating: Rating,
) -> AppResult<Rated> {
    let now = state.now();
    let mut tx = state.pool.begin().await?;
    let item = lock_item(&mut tx, user_id, task_id).await?;
    let learner = learner(&mut tx, user_id).await?;
    let today = learner.today(now);
    let elapsed = item.memory.map_or(0, |m| {
        schedule::elapsed_days(
            m.last_reviewed_at.with_timezone(&learner.zone).date_naive(),
            today,
        )
    });
    let outcomes = learner.scheduler.outcomes(
        item.memory.as_ref(),
        item.retention,
        elapsed,
        today,
        item.know_by,
    )?;
    let chosen = outcomes[rating.grade() as usize - 1];
    let range = schedule::fuzz_range(chosen.interval, schedule::days_until(today, item.know_by));
    let load = reviews::load(
        &mut tx,
        user_id,
        task_id,
        learner.zone,
        today + Duration::days(range.0),
        today + Duration::days(range.1),
    )
    .await?;
    let load_on = |d: i64| {
        let day = today + Duration::days(d);
        load.iter().find(|(l, _)| *l == day).map_or(0, |(_, n)| *n)
    };
    let days = schedule::balance(
        range,
        load_on,
        schedule::seed(task_id, i64::from(item.reviews)),
    );
    let next_review_at = at_local_hour(today + Duration::days(days), learner.zone, learner.hour);

    let completed = reviews::pending(&mut tx, task_id).await?;
    if let Some((id, at)) = completed {
        reviews::complete(&mut tx, id, at, now).await?;
    }
    let next_id = reviews::schedule(&mut tx, user_id, task_id, next_review_at, now).await?;
    sqlx::query!(
        "INSERT INTO memory_states (task_id, user_id, stability, difficulty, last_reviewed_at, reviews)
         VALUES ($1, $2, $3, $4, $5, 1)
         ON CONFLICT (task_id) DO UPDATE
            SET stability = $3, difficulty = $4, last_reviewed_at = $5,
                reviews = memory_states.reviews + 1",
        task_id,
        user_id,
        chosen.stability,
        chosen.difficulty,
        now,
    )
    .execute(&mut *tx)
    .await?;
    let elapsed_real = item.memory.map_or(0.0, |m| {
        (now - m.last_reviewed_at).num_seconds().max(0) as f64 / 86_400.0
    });
    sqlx::query!(
        "INSERT INTO review_log (user_id, task_id, reviewed_at, rating, elapsed_days, stability,
                                 difficulty, retrievability, scheduled_days, next_review_at,
                                 prev_stability, prev_difficulty, prev_reviewed_at,
                                 completed_reminder_id, next_reminder_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        user_id,
        task_id,
        now,
        rating as Rating,
        elapsed_real,
        chosen.stability,
        chosen.difficulty,
        item.memory.map(|m| learner.scheduler.recall(&m, now)),
        days as i32,
        next_review_at,
        item.memory.map(|m| m.stability),
        item.memory.map(|m| m.difficulty),
        item.memory.map(|m| m.last_reviewed_at),
        completed.map(|(id, _)| id),
        next_id,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Rated {
        task: tasks::details(&state.pool, user_id, task_id).await?,
        next_review_at,
        intervals: schedule::intervals(&outcomes),
    })
}

/// What an undo restored.
#[derive(Debug, Clone)]
pub struct Undone {
    pub task: TaskDetails,
    pub next_review_at: Option<DateTime<Utc>>,
}

/// Undoes the last rating of one of the user's memory items if it is at most ten minutes old:
/// the memory state, the review it answered and the review log are as they were before it.
pub async fn undo(state: &Services, user_id: Uuid, task_id: Uuid) -> AppResult<Undone> {
    let now = state.now();
    let mut tx = state.pool.begin().await?;
    lock_item(&mut tx, user_id, task_id).await?;
    let last = sqlx::query!(
        "SELECT id, reviewed_at, prev_stability, prev_difficulty, prev_reviewed_at,
                completed_reminder_id, next_reminder_id
           FROM review_log WHERE task_id = $1 AND user_id = $2
          ORDER BY reviewed_at DESC, id DESC LIMIT 1",
        task_id,
        user_id,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("There is no rating to undo".into()))?;
    if now - last.reviewed_at > UNDO_WINDOW {
        return Err(AppError::Conflict(
            "A rating can be undone for 10 minutes only; this one is older".into(),
        ));
    }
    if let Some(next) = last.next_reminder_id {
        reviews::remove(&mut tx, next).await?;
    }
    if let Some(previous) = last.completed_reminder_id {
        reviews::reopen(&mut tx, previous, now).await?;
    }
    match (
        last.prev_stability,
        last.prev_difficulty,
        last.prev_reviewed_at,
    ) {
        (Some(stability), Some(difficulty), Some(reviewed_at)) => {
            sqlx::query!(
                "UPDATE memory_states SET stability = $2, difficulty = $3, last_reviewed_at = $4,
                        reviews = reviews - 1
                  WHERE task_id = $1",
                task_id,
                stability,
                difficulty,
                reviewed_at,
            )
            .execute(&mut *tx)
            .await?;
        }
        _ => {
            sqlx::query!("DELETE FROM memory_states WHERE task_id = $1", task_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    sqlx::query!("DELETE FROM review_log WHERE id = $1", last.id)
        .execute(&mut *tx)
        .await?;
    let next_review_at = reviews::pending(&mut tx, task_id).await?.map(|(_, at)| at);
    tx.commit().await?;
    Ok(Undone {
        task: tasks::details(&state.pool, user_id, task_id).await?,
        next_review_at,
    })
}

/// A review due today.
#[derive(Debug, Clone)]
pub struct DueReview {
    pub task: TaskDetails,
    pub due_at: DateTime<Utc>,
    /// The probability of recalling it now (none before its first review).
    pub recall: Option<f64>,
    pub intervals: Intervals,
}

/// A review due today, ranked, before its task is read.
struct Ranked {
    task_id: Uuid,
    due_at: DateTime<Utc>,
    recall: Option<f64>,
    intervals: Intervals,
}

/// The user's reviews due by the end of their local day, weakest first (those never reviewed,
/// then by rising recall probability, then by time): two statements whatever their number.
async fn ranked_due(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<Ranked>> {
    let learner = learner(&mut *conn, user_id).await?;
    let today = learner.today(now);
    let rows = sqlx::query!(
        r#"SELECT r.task_id, r.scheduled_at, t.desired_retention, t.know_by,
                  m.stability AS "stability?", m.difficulty AS "difficulty?",
                  m.last_reviewed_at AS "last_reviewed_at?"
             FROM reminders r
             JOIN tasks t ON t.id = r.task_id
             LEFT JOIN memory_states m ON m.task_id = r.task_id
            WHERE r.user_id = $1 AND r.kind = 'review' AND r.status = 'pending'
              AND r.scheduled_at < $2"#,
        user_id,
        learner.start_of(today + Duration::days(1)),
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut found = Vec::with_capacity(rows.len());
    for r in rows {
        let memory = match (r.stability, r.difficulty, r.last_reviewed_at) {
            (Some(stability), Some(difficulty), Some(last_reviewed_at)) => Some(Memory {
                stability,
                difficulty,
                last_reviewed_at,
            }),
            _ => None,
        };
        let elapsed = memory.map_or(0, |m| {
            schedule::elapsed_days(
                m.last_reviewed_at.with_timezone(&learner.zone).date_naive(),
                today,
            )
        });
        let outcomes = learner.scheduler.outcomes(
            memory.as_ref(),
            r.desired_retention,
            elapsed,
            today,
            r.know_by,
        )?;
        found.push(Ranked {
            task_id: r.task_id,
            due_at: r.scheduled_at,
            recall: memory.map(|m| learner.scheduler.recall(&m, now)),
            intervals: schedule::intervals(&outcomes),
        });
    }
    found.sort_by(|a, b| {
        let weakness = |r: Option<f64>| r.unwrap_or(-1.0);
        weakness(a.recall)
            .total_cmp(&weakness(b.recall))
            .then(a.due_at.cmp(&b.due_at))
            .then(a.task_id.cmp(&b.task_id))
    });
    Ok(found)
}

/// `ranked` with their tasks (three statements whatever their number).
async fn with_tasks(
    conn: &mut PgConnection,
    user_id: Uuid,
    ranked: Vec<Ranked>,
) -> AppResult<Vec<DueReview>> {
    let ids: Vec<Uuid> = ranked.iter().map(|r| r.task_id).collect();
    let details = tasks::details_of(conn, user_id, &ids).await?;
    Ok(ranked
        .into_iter()
        .zip(details)
        .map(|(r, task)| DueReview {
            task,
            due_at: r.due_at,
            recall: r.recall,
            intervals: r.intervals,
        })
        .collect())
}

/// Every review due today with its task, weakest first (the API's list).
pub async fn due(pool: &PgPool, user_id: Uuid, now: DateTime<Utc>) -> AppResult<Vec<DueReview>> {
    let mut conn = pool.acquire().await?;
    let ranked = ranked_due(&mut conn, user_id, now).await?;
    with_tasks(&mut conn, user_id, ranked).await
}

/// The weakest review due today with its task, and how many are due (the Review page shows
/// one card at a time, so it reads one task, not all of them).
pub async fn first_due(
    pool: &PgPool,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<(Option<DueReview>, usize)> {
    let mut conn = pool.acquire().await?;
    let mut ranked = ranked_due(&mut conn, user_id, now).await?;
    let count = ranked.len();
    ranked.truncate(1);
    let first = with_tasks(&mut conn, user_id, ranked).await?.pop();
    Ok((first, count))
}

/// How many reviews the user has due by the end of their local day (the navigation's figure).
pub async fn due_count(
    pool: &PgPool,
    user_id: Uuid,
    zone: Tz,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let end = at_local_hour(
        now.with_timezone(&zone).date_naive() + Duration::days(1),
        zone,
        0,
    );
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM reminders
            WHERE user_id = $1 AND kind = 'review' AND status = 'pending' AND scheduled_at < $2"#,
        user_id,
        end,
    )
    .fetch_one(pool)
    .await?)
}

/// Where the user's reviews stand: done today, and the next days with reviews.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub reviewed_today: i64,
    pub upcoming: Vec<(NaiveDate, i64)>,
}

pub async fn progress(pool: &PgPool, user_id: Uuid, now: DateTime<Utc>) -> AppResult<Progress> {
    let mut conn = pool.acquire().await?;
    let learner = learner(&mut conn, user_id).await?;
    let today = learner.today(now);
    let start = learner.start_of(today);
    let end = learner.start_of(today + Duration::days(1));
    let reviewed_today = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM review_log WHERE user_id = $1 AND reviewed_at >= $2"#,
        user_id,
        start,
    )
    .fetch_one(&mut *conn)
    .await?;
    let upcoming = sqlx::query!(
        r#"SELECT (scheduled_at AT TIME ZONE $3)::date AS "day!", count(*) AS "n!"
             FROM reminders
            WHERE user_id = $1 AND kind = 'review' AND status = 'pending' AND scheduled_at >= $2
            GROUP BY 1 ORDER BY 1 LIMIT 5"#,
        user_id,
        end,
        learner.zone.name(),
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.day, r.n))
    .collect();
    Ok(Progress {
        reviewed_today,
        upcoming,
    })
}

/// One memory item's recall.
#[derive(Debug, Clone, PartialEq)]
pub struct Recall {
    pub task_id: Uuid,
    pub title: String,
    pub recall: f64,
    pub stability: f64,
    pub next_review_at: Option<DateTime<Utc>>,
}

/// The recall of every reviewed memory item, weakest first; those at risk (under 0.8 within
/// a week without review); and the average recall on each of the next 30 days if nothing is
/// reviewed.
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    pub average_recall: f64,
    pub items: Vec<Recall>,
    pub at_risk: Vec<Recall>,
    pub forecast: Vec<(NaiveDate, f64)>,
}

/// The user's retention (one task's alone with `only`; the 30-day forecast only when
/// `forecast`, it is 30 evaluations per item), from two statements.
pub async fn retention(
    pool: &PgPool,
    user_id: Uuid,
    now: DateTime<Utc>,
    only: Option<Uuid>,
    forecast: bool,
) -> AppResult<Retention> {
    let mut conn = pool.acquire().await?;
    let learner = learner(&mut conn, user_id).await?;
    let rows = sqlx::query!(
        r#"SELECT m.task_id, t.title, m.stability, m.difficulty, m.last_reviewed_at,
                  r.scheduled_at AS "next_review_at?"
             FROM memory_states m
             JOIN tasks t ON t.id = m.task_id AND t.spaced_revision
             LEFT JOIN reminders r
               ON r.task_id = m.task_id AND r.kind = 'review' AND r.status = 'pending'
            WHERE m.user_id = $1 AND ($2::uuid IS NULL OR m.task_id = $2)"#,
        user_id,
        only,
    )
    .fetch_all(&mut *conn)
    .await?;
    let scheduler = &learner.scheduler;
    let memories: Vec<Memory> = rows
        .iter()
        .map(|r| Memory {
            stability: r.stability,
            difficulty: r.difficulty,
            last_reviewed_at: r.last_reviewed_at,
        })
        .collect();
    let week = now + Duration::days(7);
    let mut items = Vec::with_capacity(rows.len());
    let mut at_risk = vec![];
    for (r, m) in rows.into_iter().zip(&memories) {
        let item = Recall {
            task_id: r.task_id,
            title: r.title,
            recall: scheduler.recall(m, now),
            stability: r.stability,
            next_review_at: r.next_review_at,
        };
        if scheduler.recall(m, week) < AT_RISK_RECALL {
            at_risk.push(item.clone());
        }
        items.push(item);
    }
    let weakest = |a: &Recall, b: &Recall| {
        a.recall
            .total_cmp(&b.recall)
            .then(a.task_id.cmp(&b.task_id))
    };
    items.sort_by(weakest);
    at_risk.sort_by(weakest);
    let today = learner.today(now);
    let days = if forecast { FORECAST_DAYS } else { 0 };
    let forecast = (1..=days)
        .map(|d| {
            (
                today + Duration::days(d),
                schedule::average_recall(scheduler, &memories, now + Duration::days(d)),
            )
        })
        .collect();
    Ok(Retention {
        average_recall: schedule::average_recall(scheduler, &memories, now),
        items,
        at_risk,
        forecast,
    })
}

/// The user's last rating if it can still be undone: the task's id and title, and the rating.
pub async fn last_undoable(
    pool: &PgPool,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<(Uuid, String, Rating)>> {
    let row = sqlx::query!(
        r#"SELECT l.task_id, t.title, l.rating AS "rating: Rating"
             FROM review_log l JOIN tasks t ON t.id = l.task_id
            WHERE l.user_id = $1 AND l.reviewed_at >= $2
            ORDER BY l.reviewed_at DESC, l.id DESC LIMIT 1"#,
        user_id,
        now - UNDO_WINDOW,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.task_id, r.title, r.rating)))
}

/// A task's pending review time and how many reviews it has had (404 for another's task).
pub async fn next_review(
    pool: &PgPool,
    user_id: Uuid,
    task_id: Uuid,
) -> AppResult<(Option<DateTime<Utc>>, i64)> {
    let row = sqlx::query!(
        r#"SELECT (SELECT r.scheduled_at FROM reminders r
                    WHERE r.task_id = t.id AND r.kind = 'review' AND r.status = 'pending') AS next,
                  (SELECT count(*) FROM review_log l WHERE l.task_id = t.id) AS "reviews!"
             FROM tasks t WHERE t.id = $1 AND t.user_id = $2"#,
        task_id,
        user_id,
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok((row.next, row.reviews))
}
