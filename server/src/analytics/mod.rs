//! Analytics: the numbers of the dashboard and the analytics page, in the user's time zone.
//!
//! The database keeps each user's counts by local day (`activity_days`, migration 0017: tasks
//! created, tasks and reminders completed, things due), appended to by triggers on every write
//! to tasks and reminders and folded to one row a day by the maintenance run ([`settle`]). A
//! request reads three things in one statement, whatever the history's size: those days (the
//! API the last five weeks and a sum of the rest, the page all of them), the pending reminders
//! by local day, and the tasks per category. Everything else (totals, the last 7 days, the last 4
//! weeks from the user's first weekday, the streaks, the year's heatmap, the next 14 days'
//! load) is arithmetic on those few rows.
//!
//! A write that races a time-zone change (its statement read the old zone, the recount did not see
//! its uncommitted rows) keeps that write's day in the old zone: at most one day off for what was
//! written in that instant, until the next change of zone.
//!
//! "Completed on a day" means completed on that local day, not scheduled on it. A completion is
//! a reminder (reviews included) or a task completed.

pub mod api;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{error::AppResult, users::WeekStart};

/// The counts of the original product (reminders include reviews).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub tasks: i64,
    pub completed_tasks: i64,
    pub completed_reminders: i64,
    /// Pending and due later.
    pub upcoming_reminders: i64,
    /// Pending and past their time.
    pub overdue_reminders: i64,
}

/// What happened on one local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub day: NaiveDate,
    /// Reminders and tasks completed that day.
    pub done: i64,
    /// Reminders scheduled and tasks due that day (up to now).
    pub due: i64,
}

/// A category's tasks and their share of all the user's tasks (0 to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryShare {
    pub category: String,
    pub count: i64,
    pub share: f64,
}

/// Everything the pages and the API show.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub today: NaiveDate,
    pub totals: Totals,
    /// Days with any activity, oldest first (days without are absent).
    pub activity: Vec<Day>,
    pub categories: Vec<CategoryShare>,
    /// Reminders and reviews due on each of the next 14 days, today first.
    pub load: Vec<(NaiveDate, i64)>,
}

/// Days the charts reach back.
pub const HEATMAP_DAYS: i64 = 365;
pub const LOAD_DAYS: i64 = 14;

/// How much history an overview reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Enough for the last 7 days and the last 4 weeks (the API's numbers).
    Recent,
    /// All of it (the streaks and the year's heatmap).
    All,
}

impl History {
    /// The first local day read day by day (`None`: all of them).
    fn since(self, today: NaiveDate) -> Option<NaiveDate> {
        match self {
            // 4 weeks back from the start of this week is at most 34 days ago.
            Self::Recent => Some(today - Duration::days(35)),
            Self::All => None,
        }
    }
}

/// The user's numbers at `now` in `zone`, from `history`.
pub async fn overview(
    pool: &PgPool,
    user_id: Uuid,
    zone: Tz,
    now: DateTime<Utc>,
    history: History,
) -> AppResult<Overview> {
    let today = now.with_timezone(&zone).date_naive();
    // One statement of three parts rather than three statements side by side: at 32 concurrent
    // loops it ran 1.33x as many overviews in the same run (6.0x against 4.5x the original
    // pattern's rate, medians of 6 rounds), the same within noise at 1 loop.
    let rows = sqlx::query!(
        r#"-- Part 1: the kept counts (migration 0017), a row per day read and one for the rest.
           SELECT 1 AS "part!", CASE WHEN $2::date IS NULL OR day >= $2 THEN day END AS day,
                  NULL::text AS category, sum(tasks)::bigint AS "a!", sum(tasks_done)::bigint AS "b!",
                  sum(reminders_done)::bigint AS "c!", sum(due)::bigint AS "d!"
             FROM activity_days WHERE user_id = $1 GROUP BY 2
           UNION ALL
           -- Part 2: the pending reminders and reviews by local day, and how many are overdue.
           SELECT 2, (scheduled_at AT TIME ZONE $3)::date, NULL, count(*),
                  count(*) FILTER (WHERE scheduled_at <= $4), 0, 0
             FROM reminders WHERE user_id = $1 AND status = 'pending' GROUP BY 2
           UNION ALL
           -- Part 3: the tasks per category, the largest first.
           SELECT 3, NULL, category, count(*), 0, 0, 0 FROM tasks WHERE user_id = $1 GROUP BY 3
           ORDER BY 1, 2, 4 DESC, 3"#,
        user_id,
        history.since(today),
        zone.name(),
        now,
    )
    .fetch_all(pool)
    .await?;
    let mut totals = Totals::default();
    let mut activity = Vec::new();
    let mut pending = BTreeMap::new();
    let mut categories = Vec::new();
    for r in rows {
        match r.part {
            1 => {
                let (tasks, tasks_done, reminders_done, due) = (r.a, r.b, r.c, r.d);
                totals.tasks += tasks;
                totals.completed_tasks += tasks_done;
                totals.completed_reminders += reminders_done;
                let done = tasks_done + reminders_done;
                if let Some(day) = r.day.filter(|d| *d <= today && (done > 0 || due > 0)) {
                    activity.push(Day { day, done, due });
                }
            }
            2 => {
                let (count, overdue) = (r.a, r.b);
                totals.overdue_reminders += overdue;
                totals.upcoming_reminders += count - overdue;
                if let Some(day) = r.day {
                    pending.insert(day, count);
                }
            }
            _ => categories.push((r.category.unwrap_or_default(), r.a)),
        }
    }
    let load = (0..LOAD_DAYS)
        .map(|i| {
            let day = today + Duration::days(i);
            (day, pending.get(&day).copied().unwrap_or(0))
        })
        .collect();
    Ok(Overview {
        today,
        totals,
        activity,
        categories: shares(categories),
        load,
    })
}

/// Folds each day with rows appended since the last run into one row, and answers how many
/// days it folded. Counts stay the same (readers sum); only the number of rows shrinks.
pub async fn settle(pool: &PgPool) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    // Before this statement's snapshot: a rebuild (time zone change) never interleaves.
    sqlx::query!("SELECT activity_lock()")
        .execute(&mut *tx)
        .await?;
    // The users first, as an account deletion does: it then waits for this or this for it,
    // instead of each holding what the other needs.
    sqlx::query!(
        "SELECT 1 AS one FROM users
          WHERE id IN (SELECT user_id FROM activity_days WHERE NOT settled)
          ORDER BY id FOR KEY SHARE"
    )
    .fetch_all(&mut *tx)
    .await?;
    let folded = sqlx::query!(
        "WITH touched AS (SELECT DISTINCT user_id, day FROM activity_days WHERE NOT settled),
              moved AS (DELETE FROM activity_days a USING touched t
                         WHERE a.user_id = t.user_id AND a.day = t.day
                     RETURNING a.user_id, a.day, a.tasks, a.tasks_done, a.reminders_done, a.due)
         INSERT INTO activity_days (user_id, day, tasks, tasks_done, reminders_done, due, settled)
         SELECT user_id, day, sum(tasks), sum(tasks_done), sum(reminders_done), sum(due), true
           FROM moved GROUP BY 1, 2
         HAVING sum(tasks) <> 0 OR sum(tasks_done) <> 0 OR sum(reminders_done) <> 0
             OR sum(due) <> 0"
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(folded)
}

/// Each category's share of the total (they add up to 1, or there are none).
pub fn shares(counts: Vec<(String, i64)>) -> Vec<CategoryShare> {
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    counts
        .into_iter()
        .map(|(category, count)| CategoryShare {
            category,
            count,
            share: if total > 0 {
                count as f64 / total as f64
            } else {
                0.0
            },
        })
        .collect()
}

impl Overview {
    fn done_on(&self) -> BTreeMap<NaiveDate, i64> {
        self.activity.iter().map(|d| (d.day, d.done)).collect()
    }

    /// Completions on each of the last `n` local days, oldest first, today last.
    pub fn daily(&self, n: i64) -> Vec<(NaiveDate, i64)> {
        let done = self.done_on();
        (0..n)
            .rev()
            .map(|i| {
                let day = self.today - Duration::days(i);
                (day, done.get(&day).copied().unwrap_or(0))
            })
            .collect()
    }

    /// Completions in each of the last `n` weeks (starting on `week_start`; the current week
    /// so far included), oldest first: each week's first day and its count.
    pub fn weekly(&self, n: i64, week_start: WeekStart) -> Vec<(NaiveDate, i64)> {
        let this_week = week_start.week_of(self.today);
        let first = this_week - Duration::weeks(n - 1);
        let mut weeks: Vec<(NaiveDate, i64)> =
            (0..n).map(|i| (first + Duration::weeks(i), 0)).collect();
        for d in &self.activity {
            if d.day >= first && d.day <= self.today {
                let index = ((d.day - first).num_days() / 7) as usize;
                if let Some(week) = weeks.get_mut(index) {
                    week.1 += d.done;
                }
            }
        }
        weeks
    }

    /// The streaks, in local days (see [`streaks`]).
    pub fn streaks(&self) -> Streaks {
        streaks(&self.activity, self.today)
    }
}

/// Active and longest streaks, in days that counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Streaks {
    pub active: i64,
    pub longest: i64,
}

/// The streak rule: a day counts when the user completed at least one review, reminder or task;
/// a day on which nothing was done but something was due breaks the streak; a day on which
/// nothing was due and nothing was done neither counts nor breaks it. Today cannot break the
/// active streak (it is not over): it is alive today if the last day that mattered counted.
/// `activity` is sorted by day and holds only days with something done or due.
pub fn streaks(activity: &[Day], today: NaiveDate) -> Streaks {
    let mut longest = 0;
    let mut run = 0;
    for d in activity.iter().filter(|d| d.day <= today) {
        if d.done > 0 {
            run += 1;
            longest = longest.max(run);
        } else if d.day < today {
            run = 0;
        }
    }
    Streaks {
        active: run,
        longest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn days(list: &[(&str, i64, i64)]) -> Vec<Day> {
        list.iter()
            .map(|(d, done, due)| Day {
                day: day(d),
                done: *done,
                due: *due,
            })
            .collect()
    }

    fn overview(today: &str, activity: &[(&str, i64, i64)]) -> Overview {
        Overview {
            today: day(today),
            totals: Totals::default(),
            activity: days(activity),
            categories: vec![],
            load: vec![],
        }
    }

    #[test]
    fn an_empty_history_has_zeros_everywhere() {
        let o = overview("2026-12-06", &[]);
        assert_eq!(o.daily(7).len(), 7);
        assert!(o.daily(7).iter().all(|(_, n)| *n == 0));
        assert_eq!(o.daily(7)[6].0, day("2026-12-06"));
        assert!(o.weekly(4, WeekStart::Monday).iter().all(|(_, n)| *n == 0));
        assert_eq!(o.streaks(), Streaks::default());
        assert!(shares(vec![]).is_empty());
    }

    #[test]
    fn daily_counts_fill_gaps_with_zeros() {
        let o = overview(
            "2026-12-06",
            &[
                ("2026-11-29", 9, 0),
                ("2026-12-01", 2, 1),
                ("2026-12-06", 3, 0),
            ],
        );
        let counts: Vec<i64> = o.daily(7).iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, vec![0, 2, 0, 0, 0, 0, 3]);
        assert_eq!(o.daily(7)[0].0, day("2026-11-30"));
    }

    #[test]
    fn weeks_start_on_the_users_day() {
        // Sunday 6 December 2026.
        let activity = [
            ("2026-11-15", 1, 0),
            ("2026-11-16", 2, 0),
            ("2026-11-29", 4, 0),
            ("2026-11-30", 8, 0),
            ("2026-12-05", 16, 0),
            ("2026-12-06", 32, 0),
        ];
        let o = overview("2026-12-06", &activity);
        assert_eq!(
            o.weekly(4, WeekStart::Monday),
            vec![
                (day("2026-11-09"), 1),
                (day("2026-11-16"), 2),
                (day("2026-11-23"), 4),
                (day("2026-11-30"), 56)
            ]
        );
        assert_eq!(
            o.weekly(4, WeekStart::Sunday),
            vec![
                (day("2026-11-15"), 3),
                (day("2026-11-22"), 0),
                (day("2026-11-29"), 28),
                (day("2026-12-06"), 32)
            ]
        );
        assert_eq!(
            o.weekly(4, WeekStart::Saturday),
            vec![
                (day("2026-11-14"), 3),
                (day("2026-11-21"), 0),
                (day("2026-11-28"), 12),
                (day("2026-12-05"), 48)
            ]
        );
    }

    #[test]
    fn a_day_with_nothing_due_does_not_break_a_streak() {
        // Done Mon, nothing due or done Tue (absent), done Wed: two days, unbroken.
        let s = streaks(
            &days(&[("2026-11-30", 1, 1), ("2026-12-02", 1, 0)]),
            day("2026-12-02"),
        );
        assert_eq!(
            s,
            Streaks {
                active: 2,
                longest: 2
            }
        );
        // Something due and nothing done on Tue breaks it.
        let s = streaks(
            &days(&[
                ("2026-11-30", 1, 1),
                ("2026-12-01", 0, 2),
                ("2026-12-02", 1, 0),
            ]),
            day("2026-12-02"),
        );
        assert_eq!(
            s,
            Streaks {
                active: 1,
                longest: 1
            }
        );
    }

    #[test]
    fn the_active_streak_lives_through_today_until_the_day_is_over() {
        let history = days(&[
            ("2026-12-03", 1, 0),
            ("2026-12-04", 2, 0),
            ("2026-12-05", 1, 1),
            ("2026-12-06", 0, 3),
        ]);
        // Today has things due and nothing done yet: still alive.
        assert_eq!(
            streaks(&history, day("2026-12-06")),
            Streaks {
                active: 3,
                longest: 3
            }
        );
        // The next day, the undone Sunday broke it.
        assert_eq!(
            streaks(&history, day("2026-12-07")),
            Streaks {
                active: 0,
                longest: 3
            }
        );
        // A longer streak in the past stays the longest.
        let mut long = days(&[
            ("2026-10-01", 1, 0),
            ("2026-10-02", 1, 0),
            ("2026-10-03", 1, 0),
            ("2026-10-04", 1, 0),
            ("2026-10-05", 0, 1),
        ]);
        long.extend(history);
        assert_eq!(
            streaks(&long, day("2026-12-06")),
            Streaks {
                active: 3,
                longest: 4
            }
        );
    }

    #[test]
    fn category_shares_add_up_to_one() {
        let s = shares(vec![
            ("Work".into(), 3),
            ("Personal".into(), 2),
            ("Études".into(), 2),
        ]);
        let total: f64 = s.iter().map(|c| c.share).sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert!((s[0].share - 3.0 / 7.0).abs() < 1e-12);
    }
}
