//! Input validation shared by every feature: a collector that turns per-field problems into one
//! 400 answer (field errors in forms and in the API), and the parsed types several features
//! take as input. Once a value has one of these types, it is valid.

use crate::error::{AppError, FieldErrors};

/// A closed set of words a field takes (a task's status, its priority...): parsed in any case
/// and with `_` for `-`, without allocating (stored values are parsed for every row of a list);
/// anything else gets "Choose a <name>: a, b or c".
pub trait Choice: Copy + 'static {
    /// Every value, in the order the message names them.
    const ALL: &'static [Self];
    /// What the message calls the field.
    const NAME: &'static str;

    /// The value as stored and sent: lowercase, words joined by `-` (the type's `as_str`).
    fn word(self) -> &'static str;

    /// Another spelling accepted besides `as_str` (already trimmed).
    fn alias(_raw: &str) -> Option<Self> {
        None
    }

    fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        Self::alias(raw)
            .or_else(|| Self::ALL.iter().copied().find(|v| same_word(raw, v.word())))
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|v| v.word()).collect();
                let (last, first) = names.split_last().unwrap_or((&"", &[]));
                match first {
                    [] => format!("Choose a {}: {last}", Self::NAME),
                    _ => format!("Choose a {}: {} or {last}", Self::NAME, first.join(", ")),
                }
            })
    }
}

/// Whether `raw` is `word` (lowercase, with `-`) in any case and with `_` for `-`.
pub fn same_word(raw: &str, word: &str) -> bool {
    raw.len() == word.len()
        && raw
            .bytes()
            .zip(word.bytes())
            .all(|(r, w)| r.to_ascii_lowercase() == w || (r == b'_' && w == b'-'))
}

/// An instant as ISO 8601: with an offset (`2026-12-01T09:00:00Z`), or a date and time local to
/// `zone` (`2026-12-01T09:00`, seconds optional, `T` or a space). `None` for anything else.
pub fn instant(raw: &str, zone: chrono_tz::Tz) -> Option<chrono::DateTime<chrono::Utc>> {
    let raw = raw.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(at.with_timezone(&chrono::Utc));
    }
    let local = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(raw, f).ok())?;
    local_to_utc(local, zone)
}

/// A local date and time in `zone`; in a DST gap, the first valid instant after it.
pub fn local_to_utc(
    local: chrono::NaiveDateTime,
    zone: chrono_tz::Tz,
) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|at| at.with_timezone(&chrono::Utc))
}

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

// The API document describes what these parsers accept. Text fields are trimmed first, so
// their patterns (ECMA-262) allow what `str::trim` removes around the text: Unicode White_Space,
// `[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]`. Inside
// the text, control characters (`char::is_control`: `[\u0000-\u001F\u007F-\u009F]`) are refused
// where the parser says so. The patterns spell the classes out rather than use `\s`, which
// means other characters in other regex dialects.

/// An IANA time zone name (`Europe/Paris`), in the API document: the names
/// [`TimeZone::parse`] accepts, spelled as the list writes them.
pub struct TimeZoneName;

impl utoipa::PartialSchema for TimeZoneName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("An IANA time zone name, such as Europe/Paris"))
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
            .into()
    }
}

impl utoipa::ToSchema for TimeZoneName {}

/// A paging number in a query (`page`, `limit`), in the API document: a whole number from 1, or
/// empty for the default.
pub fn page_number_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::{
        schema::{OneOfBuilder, Type},
        KnownFormat, ObjectBuilder, SchemaFormat,
    };
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(1)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([""])),
        )
        .into()
}

/// A time zone on sign-up, in the API document: an IANA name, or blank for UTC.
pub struct TimeZoneOrBlank;

impl utoipa::PartialSchema for TimeZoneOrBlank {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{
            schema::{AnyOfBuilder, Type},
            ObjectBuilder, Ref,
        };
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("TimeZoneName"))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("Blank: UTC"))
                    .pattern(Some(
                        r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$",
                    )),
            )
            .into()
    }
}

impl utoipa::ToSchema for TimeZoneOrBlank {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("TimeZoneName".into(), TimeZoneName::schema()));
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

    /// Records a problem found outside `check` (a rule across several fields).
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_string())
            .or_default()
            .push(message.into());
    }

    pub fn is_valid(&self) -> bool {
        self.fields.is_empty()
    }

    /// Fails with every field error; the message is the first of them.
    pub fn finish(self) -> Result<(), AppError> {
        if self.fields.is_empty() {
            return Ok(());
        }
        Err(self.into_error())
    }

    /// The error of a form found invalid: every field error, under the first message.
    pub fn into_error(self) -> AppError {
        let first = self.fields.values().flatten().next().cloned();
        AppError::Validation {
            message: first.unwrap_or_else(|| "Check the highlighted fields".into()),
            fields: self.fields,
        }
    }

    /// Fails with every field error under a message of the caller's.
    pub fn finish_with(self, message: impl Into<String>) -> Result<(), AppError> {
        if self.fields.is_empty() {
            return Ok(());
        }
        Err(AppError::Validation {
            message: message.into(),
            fields: self.fields,
        })
    }

    /// The value of a form's one field, or the error `check` and `finish` would give for it.
    pub fn only<T>(field: &str, result: Result<T, String>) -> Result<T, AppError> {
        result.map_err(|message| AppError::Validation {
            message: message.clone(),
            fields: FieldErrors::from([(field.to_string(), vec![message])]),
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
    fn time_zones_come_from_the_iana_list() {
        assert_eq!(
            TimeZone::parse("Europe/Paris").unwrap().as_str(),
            "Europe/Paris"
        );
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn the_validator_collects_every_field_error() {
        let mut v = Validator::default();
        assert_eq!(v.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(v.check::<()>("b", Err("bad b".into())), None);
        v.error("c", "bad c");
        assert!(!v.is_valid());
        match v.finish_with("Fix these") {
            Err(AppError::Validation { message, fields }) => {
                assert_eq!(message, "Fix these");
                assert_eq!(fields.len(), 2);
                assert_eq!(fields["b"], vec!["bad b".to_string()]);
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
        assert!(Validator::default().finish().is_ok());
    }

    #[test]
    fn a_form_of_one_field_fails_as_the_validator_would() {
        let mut v = Validator::default();
        v.check::<()>("new_password", Err("Too short".into()));
        let checked = v.finish().unwrap_err();
        let only = Validator::only::<()>("new_password", Err("Too short".into())).unwrap_err();
        assert_eq!(format!("{only:?}"), format!("{checked:?}"));
        assert!(matches!(only, AppError::Validation { message, .. } if message == "Too short"));
        assert_eq!(Validator::only("age", Ok::<_, String>(7)).unwrap(), 7);
    }
}
