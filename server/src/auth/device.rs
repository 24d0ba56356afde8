//! Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies").
//!
//! A browser that signs in to an account gets a signed cookie naming that account and a random
//! device id. Sign-ins presenting a valid device cookie for the account they try are counted
//! per device only, so an attacker spraying guesses from many addresses, which locks the
//! account against unknown clients, never locks out the owner's known browsers.

use axum::http::{header, HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use tower_sessions::cookie::{Cookie, CookieJar, Key, SameSite};
use uuid::Uuid;

use super::User;
use crate::secrets as tokens;
use crate::state::Services;

pub const COOKIE: &str = "spacedly_device";
/// A device stays known this long after its last sign-in.
const VALID_FOR_DAYS: i64 = 365;

/// A browser that signed in to `user_id` before (from a cookie whose signature checked out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    pub user_id: Uuid,
    /// Random, names the device for its own rate limit.
    pub device_id: String,
}

/// The signing key: derived from SECRET_KEY, apart from the session cookie's key.
fn key(state: &Services) -> Key {
    use sha2::{Digest, Sha512};
    let mut hasher = Sha512::new();
    hasher.update(b"spacedly device cookie v1\0");
    hasher.update(state.config.secret_key.expose_secret());
    Key::from(&hasher.finalize())
}

/// The device cookie of this request, when its signature and age are valid.
pub fn read(state: &Services, headers: &HeaderMap) -> Option<KnownDevice> {
    let mut jar = CookieJar::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for cookie in Cookie::split_parse(value).flatten() {
            if cookie.name() == COOKIE {
                jar.add_original(cookie.into_owned());
            }
        }
    }
    let verified = jar.signed(&key(state)).get(COOKIE)?;
    let mut parts = verified.value().split('.');
    let (Some("v1"), Some(user), Some(device), Some(issued), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let issued: i64 = issued.parse().ok()?;
    if state.now().timestamp() - issued > VALID_FOR_DAYS * 86_400 {
        return None;
    }
    Some(KnownDevice {
        user_id: user.parse().ok()?,
        device_id: device.to_string(),
    })
}

/// The `Set-Cookie` value that makes this browser a known device of `user` (after a successful
/// sign-in).
pub fn issue(state: &Services, user: &User) -> HeaderValue {
    let value = format!(
        "v1.{}.{}.{}",
        user.id,
        tokens::new_token(),
        state.now().timestamp()
    );
    let cookie = Cookie::build((COOKIE, value))
        .http_only(true)
        .secure(state.config.cookie_secure)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time::Duration::days(VALID_FOR_DAYS))
        .build();
    let mut jar = CookieJar::new();
    jar.signed_mut(&key(state)).add(cookie);
    let signed = jar.get(COOKIE).map(ToString::to_string).unwrap_or_default();
    // A signed cookie is base64 and our attributes: always a valid header value.
    HeaderValue::from_str(&signed).unwrap_or_else(|_| HeaderValue::from_static(""))
}
