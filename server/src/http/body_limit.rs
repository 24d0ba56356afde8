//! Request body limits, per route.
//!
//! Two mechanisms meet here. tower-http's `RequestBodyLimitLayer` answers 413 at once when the
//! Content-Length is too large and caps the bytes any reader can take (Leptos server functions
//! read the raw body). axum's `DefaultBodyLimit` is the limit axum's own extractors (`Json`,
//! `Bytes`, `Multipart`) apply; an inner one replaces an outer one. Limits only ever shrink
//! inwards with the first kind, so the stack-wide layer in `http::layers` caps at [`MAX`]
//! (what the largest route needs) and sets the extractors' default to [`JSON`], while every
//! router applies [`layer`] with its own limit: 1 MiB for JSON, more for uploads.

use axum::{
    body::{Body, Bytes},
    extract::DefaultBodyLimit,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use futures::StreamExt;
use http_body_util::{BodyExt, LengthLimitError};
use tower::{
    layer::util::{Identity, Stack},
    ServiceBuilder,
};
use tower_http::limit::RequestBodyLimitLayer;

const MIB: usize = 1024 * 1024;

/// JSON bodies, and the default for anything that does not say otherwise.
pub const JSON: usize = MIB;
/// An upload: 10 files of 10 MB each, plus the multipart framing and the other fields.
pub const UPLOAD: usize = 10 * 10 * 1000 * 1000 + MIB;
/// No request may be larger than the largest route limit.
pub const MAX: usize = 101 * MIB;

const _: () = assert!(UPLOAD <= MAX && JSON <= MAX);

/// The layer for a router whose bodies may be up to `bytes` long: a 413 (in the API's envelope)
/// beyond it, whoever reads the body. It must wrap the routes it is meant for and no others.
pub type Limit = ServiceBuilder<Stack<RequestBodyLimitLayer, Stack<DefaultBodyLimit, Identity>>>;

pub fn layer(bytes: usize) -> Limit {
    ServiceBuilder::new()
        .layer(DefaultBodyLimit::max(bytes))
        .layer(RequestBodyLimitLayer::new(bytes))
}

/// A body after [`read_ahead`].
pub enum Ahead {
    /// All of it, at most [`JSON`] bytes.
    Whole(Bytes),
    /// A longer one (sent without a length): what was read, then the rest as it comes, for its
    /// route's limit to judge.
    Longer(Body),
}

impl Ahead {
    pub fn into_body(self) -> Body {
        match self {
            Self::Whole(bytes) => Body::from(bytes),
            Self::Longer(body) => body,
        }
    }
}

/// Reads a body into memory up to a small body's size ([`JSON`]), never more.
pub async fn read_ahead(mut body: Body) -> Result<Ahead, Response> {
    let mut read = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(refusal)?.into_data() else {
            continue; // trailers
        };
        read.extend_from_slice(&data);
        if read.len() > JSON {
            let first =
                futures::stream::once(std::future::ready(Ok::<_, axum::Error>(Bytes::from(read))));
            let rest = body.into_data_stream();
            return Ok(Ahead::Longer(Body::from_stream(first.chain(rest))));
        }
    }
    Ok(Ahead::Whole(read.into()))
}

/// 413 when a limit stopped the body, 400 when it could not be read.
fn refusal(error: axum::Error) -> Response {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if e.is::<LengthLimitError>() {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        source = e.source();
    }
    StatusCode::BAD_REQUEST.into_response()
}
