//! One error type for the whole backend, with stable machine-readable codes.
//!
//! The JSON API renders it as `{"success": false, "message", "code"}` (plus field errors for
//! validation); pages map the same codes to an error page. Internal causes are logged with the
//! request's span and never sent to the client.

use std::{collections::BTreeMap, time::Duration};

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

/// Field name -> messages, in a stable order.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Validation {
        message: String,
        fields: FieldErrors,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("Please sign in to continue")]
    Unauthorized,
    /// A failed sign-in: 401 with a message that does not say what was wrong.
    #[error("{0}")]
    InvalidCredentials(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many requests")]
    RateLimited { retry_after: Duration },
    #[error("service unavailable")]
    Unavailable,
    /// The request ran past its deadline (408).
    #[error("{0}")]
    TimedOut(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = FieldErrors::new();
        fields.insert(field.to_string(), vec![message.clone()]);
        Self::Validation { message, fields }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation { .. } | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::InvalidCredentials(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable code clients can branch on.
    pub fn code(&self) -> &'static str {
        code_for_status(self.status())
    }

    /// The message a client may see: never the internal cause.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => message_for_status(StatusCode::INTERNAL_SERVER_ERROR).into(),
            other => other.to_string(),
        }
    }
}

/// The code for a status, shared with responses made by middleware (timeouts, body limits…).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "validation_error",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        503 => "service_unavailable",
        _ if status.is_client_error() => "bad_request",
        _ => "internal_error",
    }
}

pub fn message_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "The request is not valid",
        401 => "Please sign in to continue",
        403 => "You are not allowed to do that",
        404 => "Not found",
        405 => "Method not allowed",
        408 => "The request took too long",
        409 => "Conflict",
        413 => "The request body is too large",
        415 => "Unsupported media type",
        429 => "Too many requests, please try again later",
        503 => "The service is temporarily unavailable",
        _ if status.is_client_error() => "Bad request",
        _ => "Something went wrong on our side",
    }
}

/// The error envelope of the JSON API.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Always false.
    pub success: bool,
    pub message: String,
    /// Stable, machine-readable: validation_error, unauthorized, not_found, payload_too_large…
    #[schema(example = "validation_error")]
    pub code: &'static str,
    /// Messages by field name (validation errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub errors: Option<FieldErrors>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(cause) = &self {
            tracing::error!(error = ?cause, "internal error");
        }
        let retry_after = match &self {
            Self::RateLimited { retry_after } => Some(retry_after.as_secs().max(1)),
            _ => None,
        };
        let body = ErrorBody {
            success: false,
            message: self.public_message(),
            code: self.code(),
            errors: match self {
                Self::Validation { fields, .. } => Some(fields),
                _ => None,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::PoolTimedOut => {
                tracing::error!("database pool timed out");
                Self::Unavailable
            }
            other => Self::Internal(anyhow::Error::new(other).context("database query failed")),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// The success envelope of the JSON API.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiOk<T: Serialize> {
    pub success: bool,
    pub message: String,
    pub data: T,
}

pub fn ok<T: Serialize>(message: impl Into<String>, data: T) -> Json<ApiOk<T>> {
    Json(ApiOk {
        success: true,
        message: message.into(),
        data,
    })
}

/// `data` of answers that carry nothing but their message: serialises as `{}`.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Empty {}

pub fn created<T: Serialize>(message: impl Into<String>, data: T) -> (StatusCode, Json<ApiOk<T>>) {
    (StatusCode::CREATED, ok(message, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn internal_errors_never_show_their_cause() {
        let err = AppError::Internal(anyhow::anyhow!("relation \"users\" does not exist"));
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_json(response).await;
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], "internal_error");
        assert!(!body.to_string().contains("relation"));
    }

    #[tokio::test]
    async fn validation_errors_name_the_field() {
        let response = AppError::validation("email", "Enter a valid email address").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = body_json(response).await;
        assert_eq!(body["code"], "validation_error");
        assert_eq!(body["errors"]["email"][0], "Enter a valid email address");
    }

    #[tokio::test]
    async fn rate_limited_sets_retry_after() {
        let response = AppError::RateLimited {
            retry_after: Duration::from_secs(90),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "90");
    }
}
