//! Security middleware: headers with a per-response CSP nonce, and the same-origin rule for
//! unsafe methods.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::Engine;
use rand::RngCore;

use std::sync::Arc;

use crate::{config::Config, error::AppError};

/// The nonce of this response's CSP; Leptos puts it on every script it renders.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

fn new_nonce() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn content_security_policy(nonce: &str) -> String {
    // 'wasm-unsafe-eval' lets the page compile its own WASM; it does not allow eval() of scripts.
    // Inline styles stay allowed: they cannot run code, and emails shown in the dev mailbox use them.
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; \
         connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'self'; object-src 'none'"
    )
}

pub async fn security_headers(
    State(config): State<Arc<Config>>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = new_nonce();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    let fixed: [(header::HeaderName, &str); 5] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !config.is_development() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn uses_bearer_token(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
}

/// `scheme://host[:port]` of the request as the browser addressed it (from the Host header).
fn host_matches(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
}

/// Decides whether an unsafe request may proceed. Browsers always send `Origin` on cross-origin
/// POSTs (and `Sec-Fetch-Site`), so a request carrying neither comes from a non-browser client,
/// which cannot ride on a victim's cookies.
pub fn origin_allowed(
    method: &Method,
    headers: &HeaderMap,
    public_origin: &str,
    allowed: &[String],
) -> bool {
    if is_safe(method) || uses_bearer_token(headers) {
        return true;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = origin.trim_end_matches('/');
        return origin.eq_ignore_ascii_case(public_origin)
            || host_matches(origin, headers)
            || allowed.iter().any(|a| a.eq_ignore_ascii_case(origin));
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

pub async fn require_same_origin(
    State(config): State<Arc<Config>>,
    request: Request,
    next: Next,
) -> Response {
    if origin_allowed(
        request.method(),
        request.headers(),
        &config.public_origin(),
        &config.allowed_origins,
    ) {
        next.run(request).await
    } else {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), "cross-origin request refused");
        AppError::Forbidden("Cross-origin requests are not allowed".into()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        headers
    }

    const ME: &str = "http://127.0.0.1:3000";

    #[test]
    fn foreign_origin_post_is_refused() {
        let headers = h(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(!origin_allowed(&Method::POST, &headers, ME, &[]));
    }

    #[test]
    fn own_origin_and_allow_listed_origins_pass() {
        let own = h(&[("origin", ME), ("host", "127.0.0.1:3000")]);
        assert!(origin_allowed(&Method::POST, &own, ME, &[]));
        let listed = h(&[
            ("origin", "https://app.example"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(origin_allowed(
            &Method::DELETE,
            &listed,
            ME,
            &["https://app.example".into()]
        ));
    }

    #[test]
    fn cross_site_fetch_metadata_is_refused_without_origin() {
        let headers = h(&[("sec-fetch-site", "cross-site")]);
        assert!(!origin_allowed(&Method::PUT, &headers, ME, &[]));
        assert!(origin_allowed(
            &Method::PUT,
            &h(&[("sec-fetch-site", "same-origin")]),
            ME,
            &[]
        ));
    }

    #[test]
    fn safe_methods_and_bearer_tokens_are_not_checked() {
        let foreign = h(&[("origin", "https://evil.example")]);
        assert!(origin_allowed(&Method::GET, &foreign, ME, &[]));
        let bearer = h(&[
            ("origin", "https://evil.example"),
            ("authorization", "Bearer abc"),
        ]);
        assert!(origin_allowed(&Method::POST, &bearer, ME, &[]));
    }

    #[test]
    fn nonces_differ_and_appear_in_the_policy() {
        let (a, b) = (new_nonce(), new_nonce());
        assert_ne!(a, b);
        let csp = content_security_policy(&a);
        assert!(csp.contains(&format!("'nonce-{a}'")));
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
