//! Parsed account inputs: once a value has one of these types, it is valid.

use std::sync::LazyLock;

pub use crate::validate::{Email, TimeZone, Validator};

/// A display name of 2 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        let count = name.chars().count();
        if count < 2 {
            return Err("Your name needs at least 2 characters".into());
        }
        if count > 50 {
            return Err("Your name can have at most 50 characters".into());
        }
        if name.chars().any(char::is_control) {
            return Err("Your name cannot contain control characters".into());
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The 10,000 most common passwords (SecLists, MIT; see data/common-passwords-LICENSE.txt).
static COMMON_PASSWORDS: LazyLock<std::collections::HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords-10k.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .collect()
});

pub const PASSWORD_MIN: usize = 8;
/// Long enough for any passphrase; bounded (in characters, so at most 4 KiB of UTF-8) so that
/// hashing cost stays bounded.
pub const PASSWORD_MAX: usize = 1024;

/// A new password: kept exactly as typed (never trimmed or "sanitised"), at least 8 characters
/// and not one of the most common passwords (NIST SP 800-63B).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let count = raw.chars().count();
        if count < PASSWORD_MIN {
            return Err(format!("Use at least {PASSWORD_MIN} characters"));
        }
        if count > PASSWORD_MAX {
            return Err(format!("Use at most {PASSWORD_MAX} characters"));
        }
        if COMMON_PASSWORDS.contains(raw) || COMMON_PASSWORDS.contains(raw.to_lowercase().as_str())
        {
            return Err("This password is too common; choose one that is harder to guess".into());
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_need_2_to_50_characters() {
        assert!(UserName::parse("A").is_err());
        assert!(UserName::parse("Al").is_ok());
        assert!(UserName::parse(&"é".repeat(50)).is_ok());
        assert!(UserName::parse(&"é".repeat(51)).is_err());
    }

    #[test]
    fn passwords_are_kept_exactly_as_typed() {
        let p = NewPassword::parse("  $ecret <script>  ").unwrap();
        assert_eq!(p.expose(), "  $ecret <script>  ");
    }

    #[test]
    fn short_and_common_passwords_are_refused() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("password").is_err());
        assert!(NewPassword::parse("PASSWORD1").is_err());
        assert!(NewPassword::parse("iloveyou").is_err());
        assert!(NewPassword::parse("correct horse battery staple").is_ok());
    }
}
