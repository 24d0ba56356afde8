//! The JSON API under /api. Each feature adds its own `router()` here; every answer uses the
//! envelope of API.md, unknown paths included.

mod input;
pub mod json;

pub use input::ApiJson;

use std::sync::OnceLock;

use axum::{http::header, response::IntoResponse, Router};
use utoipa::{
    openapi::{
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
        OpenApi as Document, RefOr, Response as ApiResponse,
    },
    OpenApi,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{AppError, ErrorBody},
    http::{body_limit, SESSION_COOKIE},
    state::AppState,
};

/// Where the API is nested in the site.
pub const PREFIX: &str = "/api";

/// The /api routes, to be nested at [`PREFIX`].
pub fn router() -> Router<AppState> {
    openapi_router().split_for_parts().0
}

/// The OpenAPI document of everything [`router`] mounts, with paths under [`PREFIX`].
pub fn openapi() -> Document {
    let mut doc = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(PREFIX, openapi_router())
        .into_openapi();
    add_error_responses(&mut doc);
    doc
}

/// The router and its document come from the same `routes!` calls, so they cannot drift:
/// a handler mounted here is in the document, with the path and method it is mounted at.
pub fn openapi_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .nest("/auth", crate::auth::api::auth_router())
        .nest("/user", crate::auth::api::user_router())
        .nest("/tokens", crate::auth::api::tokens_router())
        .nest("/tasks", crate::tasks::api::router())
        .nest("/notifications", crate::notifications::api::router())
        .routes(routes!(openapi_json))
        .fallback(not_found)
        // JSON bodies: 1 MiB, for these routes and the fallback. Routes that take more (uploads)
        // are added after this line with their own `body_limit::layer`.
        .layer(body_limit::layer(body_limit::JSON))
        // Uploads: ten files of 10 MB.
        .nest(
            "/attachments",
            crate::attachments::api::router().layer(body_limit::layer(
                crate::attachments::api::UPLOAD_BODY_LIMIT,
            )),
        )
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Spacedly API",
        description = "Every answer is JSON: `{success, message, data}`, or the error envelope \
            `{success: false, message, code, errors?}` with a fitting status."
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes)
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie set at sign-in (browser clients)",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal access token (POST /api/tokens)"))
                    .build(),
            ),
        );
    }
}

/// Every operation may answer with the error envelope (validation, sign-in, limits…).
fn add_error_responses(doc: &mut Document) {
    let envelope = || -> RefOr<ApiResponse> {
        utoipa::openapi::ResponseBuilder::new()
            .description("The error envelope, with a fitting status")
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
            .into()
    };
    for item in doc.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            operation
                .responses
                .responses
                .entry("default".to_string())
                .or_insert_with(envelope);
        }
    }
}

/// The OpenAPI 3.1 description of this API (public).
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json")))]
async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| openapi().to_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}

async fn not_found() -> AppError {
    AppError::NotFound
}
