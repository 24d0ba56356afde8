//! Parsed account inputs: once a value has one of these types, it is valid.

use std::sync::LazyLock;

use crate::error::{AppError, FieldErrors};

/// An email address, trimmed and lower-cased so that comparisons ignore case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("Enter your email address".into());
        }
        if email.len() > 254 {
            return Err("That email address is too long".into());
        }
        let valid = email.parse::<lettre::Address>().is_ok()
            && email
                .rsplit_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if !valid {
            return Err("Enter a valid email address, like name@example.com".into());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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
/// Long enough for any passphrase; bounded so hashing cost stays bounded.
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
        if raw.len() > PASSWORD_MAX {
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

/// An IANA time zone name, such as Europe/Paris.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone(String);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        raw.parse::<chrono_tz::Tz>()
            .map(|tz| Self(tz.name().to_string()))
            .map_err(|_| "Choose a time zone from the list".to_string())
    }

    pub fn utc() -> Self {
        Self("UTC".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Collects field errors while parsing a form, then fails with all of them at once.
#[derive(Default)]
pub struct Validator {
    fields: FieldErrors,
}

impl Validator {
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.fields
                    .entry(field.to_string())
                    .or_default()
                    .push(message);
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.fields.is_empty() {
            return Ok(());
        }
        let message = self
            .fields
            .values()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_else(|| "Check the highlighted fields".into());
        Err(AppError::Validation {
            message,
            fields: self.fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn long_emails_are_fine() {
        let long = format!("{}@example.com", "a".repeat(60));
        assert!(Email::parse(&long).is_ok());
    }

    #[test]
    fn invalid_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

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

    #[test]
    fn time_zones_come_from_the_iana_list() {
        assert_eq!(
            TimeZone::parse("Europe/Paris").unwrap().as_str(),
            "Europe/Paris"
        );
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }
}
