//! The built front-end assets under /pkg (JS, WASM, CSS), served precompressed when available.

use std::path::PathBuf;

use axum::http::{header, HeaderValue};
use tower::Layer;
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

/// Files named by their content hash never change, so browsers may keep them for a year.
/// Without hashed names they must be revalidated on every use.
pub fn assets(
    dir: PathBuf,
    hashed_names: bool,
) -> tower_http::set_header::SetResponseHeader<ServeDir, HeaderValue> {
    let cache = if hashed_names {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(cache))
        .layer(ServeDir::new(dir).precompressed_br().precompressed_gzip())
}
