//! The users table: every feature's rows belong to one of these accounts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub email_verified: bool,
    pub two_factor_enabled: bool,
    pub timezone: String,
    pub digest_hour: i16,
    pub week_start: WeekStart,
    pub session_version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }

    /// How the account was created, as the original API reported it.
    pub fn auth_provider(&self) -> &'static str {
        if self.has_password() {
            "local"
        } else {
            "google"
        }
    }

    /// The short form returned at sign-up and sign-in.
    pub fn summary(&self) -> UserSummary {
        UserSummary {
            id: self.id,
            name: self.name.clone(),
            email: self.email.clone(),
            is_two_factor_enabled: self.two_factor_enabled,
        }
    }

    /// The full form of GET /api/user/me, given what features keep about the user: whether the
    /// morning digest is on and the calendar feed's URL.
    pub fn profile(&self, digest_enabled: bool, calendar_feed_url: Option<String>) -> UserProfile {
        UserProfile {
            id: self.id,
            name: self.name.clone(),
            email: self.email.clone(),
            is_two_factor_enabled: self.two_factor_enabled,
            auth_provider: self.auth_provider(),
            has_password: self.has_password(),
            email_verified: self.email_verified,
            timezone: self.timezone.clone(),
            digest_hour: self.digest_hour,
            digest_enabled,
            week_start: self.week_start,
            calendar_feed_url,
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserSummary {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub is_two_factor_enabled: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserProfile {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub is_two_factor_enabled: bool,
    /// `local` for accounts created with a password, `google` otherwise.
    #[schema(example = "local")]
    pub auth_provider: &'static str,
    pub has_password: bool,
    pub email_verified: bool,
    pub timezone: String,
    pub digest_hour: i16,
    pub digest_enabled: bool,
    pub week_start: WeekStart,
    /// The secret iCalendar feed of the user's reminders and due dates, once they made one.
    pub calendar_feed_url: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime<Utc>,
}

/// The day a user's weeks start on (`users.week_start`, TEXT with a CHECK): the calendar's week
/// view and weekly counts begin on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WeekStart {
    #[default]
    Monday,
    Sunday,
    Saturday,
}

impl WeekStart {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monday => "monday",
            Self::Sunday => "sunday",
            Self::Saturday => "saturday",
        }
    }

    pub fn weekday(self) -> chrono::Weekday {
        match self {
            Self::Monday => chrono::Weekday::Mon,
            Self::Sunday => chrono::Weekday::Sun,
            Self::Saturday => chrono::Weekday::Sat,
        }
    }

    /// The first day of the week holding `day`.
    pub fn week_of(self, day: chrono::NaiveDate) -> chrono::NaiveDate {
        day.week(self.weekday()).first_day()
    }
}

impl crate::validate::Choice for WeekStart {
    const ALL: &'static [Self] = &[Self::Monday, Self::Sunday, Self::Saturday];
    const NAME: &'static str = "week start";

    fn word(self) -> &'static str {
        self.as_str()
    }
}

/// How `SELECT * FROM users` reads the column (sqlx turns the TEXT into the field's type with
/// `From`). The CHECK admits only the three words.
impl From<String> for WeekStart {
    fn from(word: String) -> Self {
        <Self as crate::validate::Choice>::parse(&word).unwrap_or_default()
    }
}

pub async fn find_by_id(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(User, "SELECT * FROM users WHERE id = $1", id)
        .fetch_optional(pool)
        .await
}

pub async fn find_by_email(pool: &PgPool, email: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(User, "SELECT * FROM users WHERE email = $1", email)
        .fetch_optional(pool)
        .await
}

pub async fn insert(
    conn: &mut PgConnection,
    name: &str,
    email: &str,
    password_hash: Option<&str>,
    timezone: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<User> {
    sqlx::query_as!(
        User,
        "INSERT INTO users (name, email, password_hash, timezone, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         RETURNING *",
        name,
        email,
        password_hash,
        timezone,
        now,
    )
    .fetch_one(conn)
    .await
}
