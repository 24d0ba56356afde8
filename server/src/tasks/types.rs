//! Task fields as the domain accepts them: each parsed once at the edge (API or form), with a
//! message per field for what is wrong.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

pub use crate::validate::local_to_utc;
use crate::{
    error::AppError,
    validate::{instant, same_word, Choice, Validator},
};

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;
pub const CATEGORY_MAX: usize = 50;
pub const LINK_MAX: usize = 2048;
pub const DEFAULT_CATEGORY: &str = "Personal";
/// Offered in the category field, beside the user's own.
pub const SUGGESTED_CATEGORIES: [&str; 3] = ["Study", "Work", "Personal"];

/// Stored as its rank in `tasks.priority` (SMALLINT, 1 to 3), so it sorts by importance; a
/// stored rank outside the list is an error when read, never a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, sqlx::Type)]
#[repr(i16)]
pub enum Priority {
    Low = 1,
    Medium = 2,
    High = 3,
}

impl Choice for Priority {
    const ALL: &'static [Self] = &[Self::Low, Self::Medium, Self::High];
    const NAME: &'static str = "priority";

    fn word(self) -> &'static str {
        self.as_str()
    }
}

impl Priority {
    /// As the original web client shows it: capitalised.
    pub fn label(self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// Stored as its name in `tasks.status` (TEXT with a CHECK); an unknown stored value is an
/// error when read, never a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Encode, sqlx::Decode)]
#[sqlx(rename_all = "kebab-case")]
pub enum Status {
    Todo,
    InProgress,
    Completed,
}

impl Choice for Status {
    const ALL: &'static [Self] = &[Self::Todo, Self::InProgress, Self::Completed];
    const NAME: &'static str = "status";

    fn word(self) -> &'static str {
        self.as_str()
    }

    fn alias(raw: &str) -> Option<Self> {
        same_word(raw, "to-do").then_some(Self::Todo)
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Todo => "todo",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Todo => "To do",
            Self::InProgress => "In progress",
            Self::Completed => "Completed",
        }
    }
}

pub fn parse_title(raw: &str) -> Result<String, String> {
    let title = raw.trim();
    match title.chars().count() {
        0 => Err("Give the task a title".into()),
        n if n > TITLE_MAX => Err(format!("The title can have at most {TITLE_MAX} characters")),
        _ if title.chars().any(char::is_control) => {
            Err("The title cannot contain line breaks or control characters".into())
        }
        _ => Ok(title.to_string()),
    }
}

/// Line breaks are kept (as `\n`); other control characters are refused.
pub fn parse_description(raw: &str) -> Result<String, String> {
    let text = raw.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim_end();
    if text.chars().count() > DESCRIPTION_MAX {
        return Err(format!(
            "The description can have at most {DESCRIPTION_MAX} characters"
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("The description cannot contain control characters".into());
    }
    Ok(text.to_string())
}

/// An http or https URL, or nothing.
pub fn parse_link(raw: &str) -> Result<String, String> {
    let link = raw.trim();
    if link.is_empty() {
        return Ok(String::new());
    }
    if link.len() > LINK_MAX {
        return Err(format!("The link can have at most {LINK_MAX} characters"));
    }
    match url::Url::parse(link) {
        // The stored form is percent-encoded, so it can be longer than what was typed: the
        // limit holds for what is stored (the database checks it too).
        Ok(url) if url.as_str().len() > LINK_MAX => Err(format!(
            "The link can have at most {LINK_MAX} characters once encoded"
        )),
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(url.to_string())
        }
        Ok(_) => Err("Only http:// and https:// links are allowed".into()),
        Err(_) => Err("Enter a full link, starting with https://".into()),
    }
}

pub fn parse_category(raw: &str) -> Result<String, String> {
    let category = raw.trim();
    if category.is_empty() {
        return Ok(DEFAULT_CATEGORY.to_string());
    }
    if category.chars().count() > CATEGORY_MAX {
        return Err(format!(
            "The category can have at most {CATEGORY_MAX} characters"
        ));
    }
    if category.chars().any(char::is_control) {
        return Err("The category cannot contain control characters".into());
    }
    Ok(category.to_string())
}

/// A due date as ISO 8601: with an offset (`2026-12-01T09:00:00Z`), or local to the user's
/// time zone (`2026-12-01T09:00`, or a day alone, `2026-12-01`, meaning the end of that day).
/// Empty means none.
pub fn parse_due(raw: &str, zone: Tz) -> Result<Option<DateTime<Utc>>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    const BAD: &str = "Enter the due date as YYYY-MM-DD, with a time if you like";
    instant(raw, zone)
        .or_else(|| {
            let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
            local_to_utc(day.and_time(end_of_day()), zone)
        })
        .filter(|at| (1970..=9999).contains(&chrono::Datelike::year(at)))
        .map(Some)
        .ok_or_else(|| BAD.into())
}

pub fn end_of_day() -> NaiveTime {
    NaiveTime::from_hms_opt(23, 59, 0).unwrap_or_default()
}

pub fn parse_retention(value: f64) -> Result<f64, String> {
    if (0.7..=0.97).contains(&value) {
        Ok(value)
    } else {
        Err("Desired retention is a fraction from 0.7 to 0.97 (0.9 is a good start)".into())
    }
}

pub fn parse_know_by(raw: &str) -> Result<Option<NaiveDate>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| "Enter the date as YYYY-MM-DD".into())
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Task fields as sent (JSON API or a form): every one optional, for creation and for partial
/// updates alike.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskInput {
    /// 1-200 characters once trimmed, without line breaks or control characters; required on
    /// creation (null leaves the title as it is on update).
    #[schema(
        min_length = 1,
        pattern = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u001F\u007F-\u009F \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]([^\u0000-\u001F\u007F-\u009F]{0,198}[^\u0000-\u001F\u007F-\u009F \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub title: Option<String>,
    /// Up to 5000 characters; line breaks and tabs are kept, other control characters are
    /// refused. Empty or null: none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 5000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$")]
    pub description: Option<Option<String>>,
    /// An http or https URL of up to 2048 bytes. Empty or null: none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2048, pattern = r"^([Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9]+\.)*[A-Za-z][A-Za-z0-9]*(/[^\u0000-\u0020\u007F-\u009F]*)?)?$", example = "https://example.com/notes")]
    pub link: Option<Option<String>>,
    /// Up to 50 characters once trimmed, without control characters. Empty or null: Personal.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*([^\u0000-\u001F\u007F-\u009F \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]([^\u0000-\u001F\u007F-\u009F]{0,48}[^\u0000-\u001F\u007F-\u009F \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?)?[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$")]
    pub category: Option<Option<String>>,
    /// low, medium or high, in any case.
    #[schema(value_type = Option<TaskPriority>, example = "high")]
    pub priority: Option<String>,
    /// todo, in-progress or completed, in any case.
    #[schema(value_type = Option<TaskStatus>)]
    pub status: Option<String>,
    /// ISO 8601, with an offset or local to the user's time zone (a day alone means its end);
    /// empty or null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^((19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])([T ]([01][0-9]|2[0-3]):[0-5][0-9])?|(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$", example = "2026-12-01T09:00:00Z")]
    pub due_date: Option<Option<String>>,
    pub spaced_revision: Option<bool>,
    /// The recall probability to schedule reviews for, 0.7 to 0.97.
    #[schema(minimum = 0.7, maximum = 0.97)]
    pub desired_retention: Option<f64>,
    /// YYYY-MM-DD; empty or null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?$", example = "2027-01-15")]
    pub know_by: Option<Option<String>>,
}

/// `priority` as the API takes it (any case is accepted).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum TaskPriority {
    Low,
    Medium,
    High,
}

/// `status` as the API takes it (any case, and `_` for `-`, is accepted).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum TaskStatus {
    Todo,
    InProgress,
    Completed,
}

/// The body of POST /api/tasks, for the document only: a [`TaskInput`] with a title.
pub struct NewTaskInput;

impl utoipa::PartialSchema for NewTaskInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{schema::Type, AllOfBuilder, ObjectBuilder, Ref};
        AllOfBuilder::new()
            .item(Ref::from_schema_name("TaskInput"))
            .item(
                ObjectBuilder::new()
                    .property("title", ObjectBuilder::new().schema_type(Type::String))
                    .required("title"),
            )
            .into()
    }
}

impl utoipa::ToSchema for NewTaskInput {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((TaskInput::name().into(), TaskInput::schema()));
        TaskInput::schemas(schemas);
    }
}

/// The parsed changes of a [`TaskInput`]: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub link: Option<String>,
    pub category: Option<String>,
    pub priority: Option<Priority>,
    pub status: Option<Status>,
    pub due_at: Option<Option<DateTime<Utc>>>,
    pub spaced_revision: Option<bool>,
    pub desired_retention: Option<f64>,
    pub know_by: Option<Option<NaiveDate>>,
}

impl TaskInput {
    /// Parses every field present; all problems at once, by field name as the API spells it.
    /// On creation the title is required.
    pub fn parse(&self, zone: Tz, creating: bool) -> Result<TaskChanges, AppError> {
        let mut v = Validator::default();
        let mut changes = TaskChanges::default();
        match &self.title {
            Some(t) => {
                v.check("title", parse_title(t).map(|t| changes.title = Some(t)));
            }
            None if creating => {
                v.error("title", "Give the task a title");
            }
            None => {}
        }
        if let Some(d) = &self.description {
            v.check(
                "description",
                parse_description(d.as_deref().unwrap_or_default())
                    .map(|d| changes.description = Some(d)),
            );
        }
        if let Some(l) = &self.link {
            v.check(
                "link",
                parse_link(l.as_deref().unwrap_or_default()).map(|l| changes.link = Some(l)),
            );
        }
        if let Some(c) = &self.category {
            v.check(
                "category",
                parse_category(c.as_deref().unwrap_or_default())
                    .map(|c| changes.category = Some(c)),
            );
        }
        if let Some(p) = &self.priority {
            v.check(
                "priority",
                Priority::parse(p).map(|p| changes.priority = Some(p)),
            );
        }
        if let Some(s) = &self.status {
            v.check("status", Status::parse(s).map(|s| changes.status = Some(s)));
        }
        if let Some(d) = &self.due_date {
            v.check(
                "dueDate",
                parse_due(d.as_deref().unwrap_or_default(), zone).map(|d| changes.due_at = Some(d)),
            );
        }
        changes.spaced_revision = self.spaced_revision;
        if let Some(r) = self.desired_retention {
            v.check(
                "desiredRetention",
                parse_retention(r).map(|r| changes.desired_retention = Some(r)),
            );
        }
        if let Some(k) = &self.know_by {
            v.check(
                "knowBy",
                parse_know_by(k.as_deref().unwrap_or_default()).map(|k| changes.know_by = Some(k)),
            );
        }
        v.finish_with("Please correct the highlighted fields")?;
        Ok(changes)
    }
}

crate::db::text_column_type!(Status);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_parse_in_any_case_and_show_capitalised() {
        assert_eq!(Priority::parse("HIGH"), Ok(Priority::High));
        assert_eq!(Priority::parse(" low "), Ok(Priority::Low));
        assert_eq!(Priority::parse("Medium").unwrap().label(), "Medium");
        assert!(Priority::parse("urgent").is_err());
        assert!(Priority::High > Priority::Low);
    }

    #[test]
    fn statuses_parse() {
        assert_eq!(Status::parse("in-progress"), Ok(Status::InProgress));
        assert_eq!(Status::parse("In_Progress"), Ok(Status::InProgress));
        assert_eq!(Status::parse(" To_Do "), Ok(Status::Todo));
        assert_eq!(Status::parse("TODO"), Ok(Status::Todo));
        assert_eq!(Status::parse("completed"), Ok(Status::Completed));
        assert!(Status::parse("done").is_err());
        assert!(Status::parse("in progress").is_err());
        assert!(Status::parse("complete").is_err());
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(parse_title("  Learn Rust "), Ok("Learn Rust".into()));
        assert!(parse_title("   ").is_err());
        assert!(parse_title(&"é".repeat(200)).is_ok());
        assert!(parse_title(&"é".repeat(201)).is_err());
        assert!(parse_title("two\nlines").is_err());
    }

    #[test]
    fn descriptions_keep_line_breaks() {
        assert_eq!(parse_description("a\r\nb\n\nc  \n"), Ok("a\nb\n\nc".into()));
        assert!(parse_description(&"x".repeat(5000)).is_ok());
        assert!(parse_description(&"x".repeat(5001)).is_err());
        assert!(parse_description("bell\u{7}").is_err());
    }

    #[test]
    fn links_must_be_http_or_https() {
        assert_eq!(parse_link(""), Ok(String::new()));
        assert_eq!(
            parse_link("https://example.com/a?b=1"),
            Ok("https://example.com/a?b=1".into())
        );
        assert!(parse_link("javascript:alert(1)").is_err());
        assert!(parse_link("ftp://example.com").is_err());
        assert!(parse_link("example.com").is_err());
        assert!(parse_link("data:text/html,hi").is_err());
    }

    #[test]
    fn categories_default_and_are_bounded() {
        assert_eq!(parse_category(""), Ok("Personal".into()));
        assert_eq!(parse_category(" Study "), Ok("Study".into()));
        assert!(parse_category(&"c".repeat(51)).is_err());
    }

    #[test]
    fn due_dates_are_read_in_the_users_time_zone() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let at = parse_due("2026-12-01T09:00", berlin).unwrap().unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-01T08:00:00+00:00");
        let with_offset = parse_due("2026-12-01T09:00:00Z", berlin).unwrap().unwrap();
        assert_eq!(with_offset.to_rfc3339(), "2026-12-01T09:00:00+00:00");
        let day = parse_due("2026-07-01", berlin).unwrap().unwrap();
        assert_eq!(day.to_rfc3339(), "2026-07-01T21:59:00+00:00");
        assert_eq!(parse_due("", berlin), Ok(None));
        assert!(parse_due("tomorrow", berlin).is_err());
        assert!(parse_due("2026-13-01", berlin).is_err());
    }

    #[test]
    fn a_local_time_in_a_dst_gap_moves_forward() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 02:30 does not exist on 2026-03-29 in Berlin.
        let at = parse_due("2026-03-29T02:30", berlin).unwrap().unwrap();
        assert_eq!(at.to_rfc3339(), "2026-03-29T01:30:00+00:00");
    }

    #[test]
    fn input_reports_every_bad_field_by_its_api_name() {
        let input = TaskInput {
            title: Some(" ".into()),
            link: Some(Some("javascript:x".into())),
            priority: Some("urgent".into()),
            due_date: Some(Some("soon".into())),
            desired_retention: Some(0.5),
            ..Default::default()
        };
        let Err(AppError::Validation { fields, .. }) = input.parse(Tz::UTC, true) else {
            panic!("expected field errors");
        };
        let names: Vec<_> = fields.keys().cloned().collect();
        assert_eq!(
            names,
            ["desiredRetention", "dueDate", "link", "priority", "title"]
        );
    }

    #[test]
    fn explicit_null_clears_and_absence_keeps() {
        let input: TaskInput =
            serde_json::from_str(r#"{"dueDate": null, "description": ""}"#).unwrap();
        let changes = input.parse(Tz::UTC, false).unwrap();
        assert_eq!(changes.due_at, Some(None));
        assert_eq!(changes.description, Some(String::new()));
        assert_eq!(changes.link, None);
        assert_eq!(changes.title, None);
    }
}
