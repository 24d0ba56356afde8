//! The NUL character (U+0000) is refused here, for every request, before any handler runs.
//!
//! PostgreSQL cannot store it in text, so a NUL that reached a query used to fail it (a 500).
//! No person types one; a script or a fuzzer does. Text arrives in three shapes, and this one
//! middleware looks at all of them: the query string, a form body (`x-www-form-urlencoded`, the
//! server functions behind every HTML form) and a JSON body (the API). The answer names the
//! field: the API's 400 envelope with a field error, a form's page again with the message, or a
//! plain 400 for a page address.

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::Value;
use tower_sessions::Session;

use super::{body_limit, flash, redirect};
use crate::error::AppError;

/// What the user reads under the field.
pub const MESSAGE: &str = "This text contains a NUL character (U+0000), which is not allowed";

/// The name of the first form or query field whose name or value holds a NUL.
pub fn in_pairs(encoded: &[u8]) -> Option<String> {
    form_urlencoded::parse(encoded)
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k.replace('\0', ""))
}

/// Whether a JSON text may hold a NUL: in valid JSON it can only be written as the escape
/// `\u0000` (a raw control character is a syntax error). A cheap scan that every body passes;
/// only a body that may hold one is parsed by [`in_json`].
fn json_may_hold_nul(body: &[u8]) -> bool {
    body.windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].iter().all(|&b| b == b'0'))
}

/// The path (`title`, `items[2].name`) of the first string or key holding a NUL.
pub fn in_json(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &str) -> Option<String> {
        let at = |key: &str| {
            if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            }
        };
        match value {
            Value::String(s) if s.contains('\0') => Some(path.to_string()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| walk(v, &format!("{path}[{i}]"))),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                if k.contains('\0') {
                    Some(at(&k.replace('\0', "")))
                } else {
                    walk(v, &at(k))
                }
            }),
            _ => None,
        }
    }
    walk(value, "")
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
}

fn is_form(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// The field holding a NUL in this body, if any.
fn in_body(content_type: &str, body: &[u8]) -> Option<String> {
    if is_form(content_type) {
        in_pairs(body)
    } else if is_json(content_type) && json_may_hold_nul(body) {
        // Unparseable JSON is left to the handler, which says what is wrong with it.
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| in_json(&v))
    } else {
        None
    }
}

/// The middleware. It must run inside the session layer (a form's answer is a flash).
pub async fn refuse(request: Request, next: Next) -> Response {
    if let Some(field) = request.uri().query().and_then(|q| in_pairs(q.as_bytes())) {
        return refusal(request, field).await;
    }
    let ct = content_type(request.headers()).to_string();
    if !(is_form(&ct) || is_json(&ct)) || request.method() == Method::GET {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // Text bodies are small (the API and the forms take 1 MiB, and admission has read them
    // already); a longer one goes on unread, for its route's limit to refuse.
    let bytes = match body_limit::read_ahead(body).await {
        Ok(body_limit::Ahead::Whole(bytes)) => bytes,
        Ok(longer) => {
            return next
                .run(Request::from_parts(parts, longer.into_body()))
                .await
        }
        Err(refused) => return refused,
    };
    let request = Request::from_parts(parts, Body::from(bytes.clone()));
    match in_body(&ct, &bytes) {
        Some(field) => refusal(request, field).await,
        None => next.run(request).await,
    }
}

/// The answer to a request carrying a NUL in `field` (the request is taken whole: a borrowed
/// one cannot be held across an await, its body not being `Sync`).
async fn refusal(request: Request, field: String) -> Response {
    let error = AppError::validation(&field, MESSAGE);
    if request.uri().path().starts_with(super::API_PREFIX) {
        return error.into_response();
    }
    if request.method() == Method::GET || request.method() == Method::HEAD {
        return (
            StatusCode::BAD_REQUEST,
            "This address contains a NUL character (%00), which no page accepts.",
        )
            .into_response();
    }
    // A form: back to its page, which shows the problem; nothing was done.
    let back = referer_path(request.headers()).unwrap_or_else(|| "/".into());
    let session = request.extensions().get::<Session>().cloned();
    let mut flash = flash::Flash::error("", &error);
    flash.message = format!("{MESSAGE} (in “{field}”); nothing was changed.");
    if let Some(session) = session {
        if let Err(e) = session.insert(flash::FLASH, flash).await {
            tracing::error!(error = %e, "storing the flash");
        }
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response()
}

/// The local path of the page a form was on.
fn referer_path(headers: &HeaderMap) -> Option<String> {
    let referer = url::Url::parse(headers.get(header::REFERER)?.to_str().ok()?).ok()?;
    let path = match referer.query() {
        Some(q) => format!("{}?{q}", referer.path()),
        None => referer.path().to_string(),
    };
    redirect::safe_local_path(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_name_the_field_holding_a_nul() {
        assert_eq!(in_pairs(b"q=ok&category=a%00b"), Some("category".into()));
        assert_eq!(in_pairs(b"a%00=1"), Some("a".into()));
        assert_eq!(in_pairs(b"q=%2500&x=%5Cu0000"), None);
    }

    #[test]
    fn json_paths_name_the_field_holding_a_nul() {
        let body = br#"{"title":"ok","tags":["a","b\u0000"],"n":{"x":"\u0000"}}"#;
        assert_eq!(in_body("application/json", body), Some("n.x".into()));
        let body = br#"{"title":"ok","tags":["a","b\u0000"]}"#;
        assert_eq!(
            in_body("application/json; charset=utf-8", body),
            Some("tags[1]".into())
        );
        let body = br#"{"email":"a\u0000@example.com"}"#;
        assert_eq!(in_body("application/json", body), Some("email".into()));
    }

    #[test]
    fn escaped_backslashes_and_other_escapes_are_not_nul() {
        assert_eq!(in_body("application/json", br#"{"a":"\\u0000"}"#), None);
        assert_eq!(in_body("application/json", br#"{"a":"\u0001"}"#), None);
        assert_eq!(in_body("text/plain", b"a\0b"), None);
    }
}
