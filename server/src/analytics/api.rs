//! /api/analytics (shapes of API.md and of what the original web client reads: `percent` a
//! fraction, display labels `date` and `week` with machine-readable `day` and `weekStart` beside
//! them) and /api/analytics/streaks.

use axum::extract::{FromRef, State};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ok, ApiOk, AppResult},
    identity::CurrentUser,
    state::Services,
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
    sqlx::PgPool: FromRef<S>,
    crate::clock::Clock: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(analytics))
        .routes(routes!(streaks))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DailyCount {
    /// A display label, "Dec 5".
    pub date: String,
    /// The local day, YYYY-MM-DD.
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    /// Reminders (reviews included) and tasks completed that local day.
    pub completed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WeeklyCount {
    /// A display label, "Week 1" (the oldest) to "Week 4" (this week).
    pub week: String,
    /// The week's first local day (the user's week start).
    #[serde(rename = "weekStart")]
    #[schema(value_type = String, format = Date)]
    pub week_start: NaiveDate,
    pub completed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryCount {
    pub category: String,
    pub count: i64,
    /// The category's share of all tasks, 0 to 1.
    pub percent: f64,
}

/// The analytics of the original product, in the user's time zone.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Analytics {
    pub total_tasks: i64,
    pub completed_tasks: i64,
    /// Reminders completed (reviews included).
    pub completed_reminders: i64,
    /// Pending reminders still ahead.
    pub upcoming_reminders: i64,
    /// Pending reminders whose time has passed.
    pub overdue_reminders: i64,
    /// The last 7 local days, oldest first.
    pub daily_data: Vec<DailyCount>,
    /// The last 4 weeks, oldest first.
    pub weekly_data: Vec<WeeklyCount>,
    pub category_data: Vec<CategoryCount>,
    /// The time zone the days are counted in.
    pub timezone: String,
}

impl Analytics {
    pub fn of(o: &super::Overview, user: &crate::users::User) -> Self {
        Self {
            total_tasks: o.totals.tasks,
            completed_tasks: o.totals.completed_tasks,
            completed_reminders: o.totals.completed_reminders,
            upcoming_reminders: o.totals.upcoming_reminders,
            overdue_reminders: o.totals.overdue_reminders,
            daily_data: o
                .daily(7)
                .into_iter()
                .map(|(day, completed)| DailyCount {
                    date: day.format("%b %-d").to_string(),
                    day,
                    completed,
                })
                .collect(),
            weekly_data: o
                .weekly(4, user.week_start)
                .into_iter()
                .enumerate()
                .map(|(i, (week_start, completed))| WeeklyCount {
                    week: format!("Week {}", i + 1),
                    week_start,
                    completed,
                })
                .collect(),
            category_data: o
                .categories
                .iter()
                .map(|c| CategoryCount {
                    category: c.category.clone(),
                    count: c.count,
                    percent: c.share,
                })
                .collect(),
            timezone: user.timezone.clone(),
        }
    }
}

/// Totals, completions per local day (7) and week (4), tasks per category.
#[utoipa::path(get, path = "", tag = "analytics", security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, body = ApiOk<Analytics>), (status = 401, body = crate::error::ErrorBody)))]
async fn analytics(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
) -> AppResult<axum::Json<ApiOk<Analytics>>> {
    let zone = crate::tasks::zone_of(&user.timezone);
    let o = super::overview(
        &state.pool,
        user.id,
        zone,
        state.now(),
        super::History::Recent,
    )
    .await?;
    Ok(ok("Your analytics", Analytics::of(&o, &user)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StreaksData {
    /// Days that counted in the current streak.
    pub active: i64,
    pub longest: i64,
    /// How a day counts, in words.
    pub rule: &'static str,
}

/// The rule the streaks follow, as the page and the API state it.
pub const STREAK_RULE: &str =
    "A day counts when you complete at least one review, reminder or task. \
A day with something due and nothing done ends a streak; a day with nothing due and nothing done \
neither counts nor ends it. Today cannot end it: the day is not over.";

/// Active and longest streaks, in the user's local days.
#[utoipa::path(get, path = "/streaks", tag = "analytics", security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, body = ApiOk<StreaksData>), (status = 401, body = crate::error::ErrorBody)))]
async fn streaks(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
) -> AppResult<axum::Json<ApiOk<StreaksData>>> {
    let zone = crate::tasks::zone_of(&user.timezone);
    let s = super::overview(&state.pool, user.id, zone, state.now(), super::History::All)
        .await?
        .streaks();
    Ok(ok(
        "Your streaks",
        StreaksData {
            active: s.active,
            longest: s.longest,
            rule: STREAK_RULE,
        },
    ))
}
