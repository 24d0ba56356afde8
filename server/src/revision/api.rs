//! The revision API of API.md: POST /api/tasks/:id/review and /review/undo, GET
//! /api/reviews/due and GET /api/analytics/retention.

use axum::extract::{FromRef, Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Intervals, Rating};
use crate::{
    api::ApiJson,
    error::{ok, ApiOk, AppError, AppResult},
    identity::CurrentUser,
    state::Services,
    tasks::{self, api::TaskJson},
    validate::Choice,
};

/// The revision routes, mounted at the API's root: they sit under /tasks, /reviews and
/// /analytics beside those features' own routes.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
    sqlx::PgPool: FromRef<S>,
    crate::clock::Clock: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(review))
        .routes(routes!(undo))
        .routes(routes!(due))
        .routes(routes!(retention))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewInput {
    /// again, hard, good or easy (read as text, so that another word gets a field error).
    #[schema(value_type = Rating, example = "good")]
    pub rating: String,
}

impl ReviewInput {
    pub fn rating(&self) -> AppResult<Rating> {
        Rating::parse(&self.rating).map_err(|message| AppError::validation("rating", message))
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewedData {
    pub task: TaskJson,
    #[serde(serialize_with = "crate::api::json::utc")]
    pub next_review_at: DateTime<Utc>,
    /// The interval each rating would have given this review, in days.
    pub intervals: Intervals,
}

#[utoipa::path(post, path = "/tasks/{id}/review", tag = "revision", security(("cookie" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The task id")), request_body = ReviewInput,
    responses((status = 200, body = ApiOk<ReviewedData>), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
async fn review(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> AppResult<axum::Json<ApiOk<ReviewedData>>> {
    let id = tasks::parse_id(&id)?;
    let rating = input.rating()?;
    let rated = super::rate(&state, user.id, id, rating).await?;
    Ok(ok(
        "Review recorded",
        ReviewedData {
            task: TaskJson::from(rated.task),
            next_review_at: rated.next_review_at,
            intervals: rated.intervals,
        },
    ))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UndoneData {
    pub task: TaskJson,
    #[serde(serialize_with = "crate::api::json::utc_opt")]
    pub next_review_at: Option<DateTime<Utc>>,
}

#[utoipa::path(post, path = "/tasks/{id}/review/undo", tag = "revision", security(("cookie" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The task id")),
    responses((status = 200, body = ApiOk<UndoneData>), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
async fn undo(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<ApiOk<UndoneData>>> {
    let undone = super::undo(&state, user.id, tasks::parse_id(&id)?).await?;
    Ok(ok(
        "Rating undone",
        UndoneData {
            task: TaskJson::from(undone.task),
            next_review_at: undone.next_review_at,
        },
    ))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DueReviewJson {
    pub task: TaskJson,
    #[serde(serialize_with = "crate::api::json::utc")]
    pub due_at: DateTime<Utc>,
    /// The probability of recalling it now, 0 to 1 (null before its first review).
    pub recall: Option<f64>,
    /// The interval each rating would give now, in days.
    pub intervals: Intervals,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DueReviewsData {
    pub reviews: Vec<DueReviewJson>,
}

#[utoipa::path(get, path = "/reviews/due", tag = "revision", security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, body = ApiOk<DueReviewsData>), (status = 401, body = crate::error::ErrorBody)))]
async fn due(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
) -> AppResult<axum::Json<ApiOk<DueReviewsData>>> {
    let due = super::due(&state.pool, user.id, state.now()).await?;
    Ok(ok(
        "Reviews due today",
        DueReviewsData {
            reviews: due
                .into_iter()
                .map(|d| DueReviewJson {
                    task: TaskJson::from(d.task),
                    due_at: d.due_at,
                    recall: d.recall,
                    intervals: d.intervals,
                })
                .collect(),
        },
    ))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecallJson {
    pub task_id: Uuid,
    pub title: String,
    /// The probability of recalling it now, 0 to 1.
    pub recall: f64,
    /// Days for recall to fall to 90 %.
    pub stability: f64,
    #[serde(serialize_with = "crate::api::json::utc_opt")]
    pub next_review_at: Option<DateTime<Utc>>,
}

impl From<super::Recall> for RecallJson {
    fn from(r: super::Recall) -> Self {
        Self {
            task_id: r.task_id,
            title: r.title,
            recall: r.recall,
            stability: r.stability,
            next_review_at: r.next_review_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForecastDay {
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub average_recall: f64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionData {
    /// The average recall of the reviewed memory items now (0 when there are none).
    pub average_recall: f64,
    /// Every reviewed memory item, weakest first.
    pub items: Vec<RecallJson>,
    /// Those whose recall falls under 0.8 within 7 days without a review.
    pub at_risk: Vec<RecallJson>,
    /// The average recall on each of the next 30 local days if nothing is reviewed.
    pub forecast: Vec<ForecastDay>,
}

#[utoipa::path(get, path = "/analytics/retention", tag = "analytics", security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, body = ApiOk<RetentionData>), (status = 401, body = crate::error::ErrorBody)))]
async fn retention(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
) -> AppResult<axum::Json<ApiOk<RetentionData>>> {
    let r = super::retention(&state.pool, user.id, state.now(), None, true).await?;
    Ok(ok(
        "Retention",
        RetentionData {
            average_recall: r.average_recall,
            items: r.items.into_iter().map(RecallJson::from).collect(),
            at_risk: r.at_risk.into_iter().map(RecallJson::from).collect(),
            forecast: r
                .forecast
                .into_iter()
                .map(|(day, average_recall)| ForecastDay {
                    day,
                    average_recall,
                })
                .collect(),
        },
    ))
}
