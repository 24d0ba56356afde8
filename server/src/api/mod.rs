//! The JSON API under /api. Each feature adds its own `router()` here; every answer uses the
//! envelope of API.md, unknown paths included.

use axum::{
    extract::{rejection::JsonRejection, FromRequest, Request},
    Router,
};
use serde::de::DeserializeOwned;

use crate::{error::AppError, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .nest("/auth", crate::auth::api::auth_router())
        .nest("/user", crate::auth::api::user_router())
        .nest("/tokens", crate::auth::api::tokens_router())
        .nest("/tasks", crate::tasks::api::router())
        .nest("/notifications", crate::notifications::api::router())
        .nest("/attachments", crate::attachments::api::router())
        .fallback(not_found)
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// `Json<T>` whose rejections (malformed JSON, wrong types, missing content type) are answered
/// with the API's error envelope instead of axum's plain text.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::UnsupportedMediaType),
            Err(JsonRejection::JsonDataError(e)) => Err(AppError::BadRequest(e.body_text())),
            Err(JsonRejection::JsonSyntaxError(_)) => Err(AppError::BadRequest(
                "The request body is not valid JSON".into(),
            )),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::PayloadTooLarge)
            }
            Err(_) => Err(AppError::BadRequest(
                "The request body could not be read".into(),
            )),
        }
    }
}
