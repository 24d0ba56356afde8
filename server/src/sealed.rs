//! Authenticated encryption of short secrets that must pass through storage we do not want to
//! hold them in plain text (a new API token on its way to the page that shows it once).
//! It uses the `cookie` crate's private jar (AES-256-GCM) with a key derived from SECRET_KEY.

use tower_sessions::cookie::{Cookie, CookieJar, Key};

const NAME: &str = "sealed";

fn key(secret_key: &[u8]) -> Key {
    use sha2::{Digest, Sha512};
    let mut hasher = Sha512::new();
    hasher.update(b"spacedly sealed values v1\0");
    hasher.update(secret_key);
    Key::from(&hasher.finalize())
}

/// Encrypts and authenticates `value`.
pub fn seal(secret_key: &[u8], value: &str) -> String {
    let mut jar = CookieJar::new();
    jar.private_mut(&key(secret_key))
        .add(Cookie::new(NAME, value.to_string()));
    jar.get(NAME)
        .map(|c| c.value().to_string())
        .unwrap_or_default()
}

/// The value sealed by [`seal`] with the same key, or `None` if it was altered.
pub fn open(secret_key: &[u8], sealed: &str) -> Option<String> {
    let jar = CookieJar::new();
    jar.private(&key(secret_key))
        .decrypt(Cookie::new(NAME, sealed.to_string()))
        .map(|c| c.value().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_unaltered() {
        let sealed = seal(b"key one", "spd_secret");
        assert!(!sealed.contains("spd_secret"));
        assert_eq!(open(b"key one", &sealed).as_deref(), Some("spd_secret"));
        assert_eq!(open(b"key two", &sealed), None);
        let mut altered = sealed.into_bytes();
        altered[5] ^= 1;
        assert_eq!(open(b"key one", &String::from_utf8_lossy(&altered)), None);
    }
}
