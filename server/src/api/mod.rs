//! The JSON API's shared parts: the envelope of API.md (`json`), JSON input with field-named
//! errors (`ApiJson`) and the OpenAPI document's frame. Each feature has its own `api` module;
//! `crate::app` mounts them under [`PREFIX`].

mod input;
pub mod json;

pub use input::ApiJson;

use utoipa::{
    openapi::{
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
        OpenApi as Document, RefOr, Response as ApiResponse,
    },
    OpenApi,
};
use utoipa_axum::router::OpenApiRouter;

use crate::{
    error::{AppError, ErrorBody},
    http::SESSION_COOKIE,
};

pub use crate::http::API_PREFIX as PREFIX;

/// The OpenAPI document of `routes` (the whole API, nested at [`PREFIX`] here): its title, the
/// two ways to sign in, and the error envelope as every operation's default answer.
pub fn document<S: Clone + Send + Sync + 'static>(routes: OpenApiRouter<S>) -> Document {
    let mut doc = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(PREFIX, routes)
        .into_openapi();
    add_error_responses(&mut doc);
    doc
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

/// Fallback of the API: the error envelope, also for paths that do not exist.
pub async fn not_found() -> AppError {
    AppError::NotFound
}
