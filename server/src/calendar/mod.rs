//! The calendar: the user's reminders, reviews and due dates by time, for the month and week
//! pages, and the same as an iCalendar feed at a secret per-user URL that calendar apps poll.
//!
//! A feed token is 256 random bits. Only its SHA-256 finds the user, so a copy of the table
//! reads nobody's calendar; the token itself is kept sealed with SECRET_KEY so that settings can
//! show the URL again. Making a new one replaces the row, and the old URL answers 404.

pub mod api;
pub mod feed;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use icalendar::{Component, EventLike, EventStatus};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    error::AppResult,
    reminders::{self, Kind, Status},
    state::Services,
    tasks,
    users::WeekStart,
};

/// What a calendar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Reminder,
    Review,
    /// A task's due date.
    Due,
}

/// One thing on the calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub kind: EntryKind,
    pub at: DateTime<Utc>,
    pub task_id: Uuid,
    pub title: String,
    /// The reminder's id and status (reminders and reviews).
    pub reminder: Option<(Uuid, Status)>,
    /// The reminder's message.
    pub message: String,
    /// Whether it needs nothing more: a reminder completed or skipped, a task completed.
    pub done: bool,
}

/// The user's entries in `[from, to)`, by time.
pub async fn entries(
    pool: &PgPool,
    user_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Entry>> {
    let last = to - Duration::microseconds(1);
    let (listed, due) = tokio::try_join!(
        reminders::list(pool, user_id, Some(from), Some(last)),
        async { Ok(tasks::due_between(pool, user_id, from, to).await?) },
    )?;
    let mut entries: Vec<Entry> = listed
        .into_iter()
        .map(|r| Entry {
            kind: match r.reminder.kind {
                Kind::Review => EntryKind::Review,
                Kind::Manual => EntryKind::Reminder,
            },
            at: r.reminder.scheduled_at,
            task_id: r.reminder.task_id,
            title: r.task_title,
            reminder: Some((r.reminder.id, r.reminder.status)),
            message: r.reminder.message,
            done: matches!(r.reminder.status, Status::Completed | Status::Skipped),
        })
        .chain(due.into_iter().map(|t| Entry {
            kind: EntryKind::Due,
            at: t.due_at,
            task_id: t.id,
            title: t.title,
            reminder: None,
            message: String::new(),
            done: t.completed,
        }))
        .collect();
    entries.sort_by_key(|e| (e.at, e.task_id));
    Ok(entries)
}

/// What the calendar page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Month,
    Week,
}

impl Span {
    /// From the page's `view` parameter: `week`, or a month for anything else.
    pub fn from_param(raw: &str) -> Self {
        if raw == "week" {
            Self::Week
        } else {
            Self::Month
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Week => "week",
        }
    }
}

/// The days a calendar page shows: a month as whole weeks, or one week; weeks begin on the
/// user's first day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub span: Span,
    /// The first day of the month, or of the week.
    pub anchor: NaiveDate,
    /// The first and the day after the last day on the grid.
    pub first: NaiveDate,
    pub end: NaiveDate,
    /// The anchors of the previous and the next page.
    pub prev: NaiveDate,
    pub next: NaiveDate,
}

impl Period {
    /// The period of `span` holding `day`.
    pub fn new(span: Span, day: NaiveDate, week_start: WeekStart) -> Self {
        match span {
            Span::Month => {
                let anchor = day.with_day(1).unwrap_or(day);
                let next = anchor + Months::new(1);
                let first = week_start.week_of(anchor);
                let last = next - Duration::days(1);
                Self {
                    span,
                    anchor,
                    first,
                    end: week_start.week_of(last) + Duration::days(7),
                    prev: anchor - Months::new(1),
                    next,
                }
            }
            Span::Week => {
                let anchor = week_start.week_of(day);
                Self {
                    span,
                    anchor,
                    first: anchor,
                    end: anchor + Duration::days(7),
                    prev: anchor - Duration::days(7),
                    next: anchor + Duration::days(7),
                }
            }
        }
    }

    /// The days on the grid, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        self.first.iter_days().take_while({
            let end = self.end;
            move |d| *d < end
        })
    }

    /// The instants the grid covers in `zone`: from the first day's start to the end's start.
    pub fn bounds(&self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (start_of(self.first, zone), start_of(self.end, zone))
    }
}

/// The first instant of `day` in `zone` (midnight, or the first hour after a gap).
pub fn start_of(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    crate::validate::local_to_utc(day.and_time(NaiveTime::MIN), zone)
        .unwrap_or_else(|| day.and_time(NaiveTime::MIN).and_utc())
}

/// How far back and ahead the feed reaches.
pub const FEED_PAST: Duration = Duration::days(90);
pub const FEED_AHEAD: Duration = Duration::days(366);

/// The feed's URL for `token`.
fn feed_url(state: &Services, token: &str) -> String {
    state
        .config
        .page_url(&format!("/calendar/{token}.ics"))
        .to_string()
}

fn secret_key(state: &Services) -> &[u8] {
    secrecy::ExposeSecret::expose_secret(&state.config.secret_key)
}

/// The user's feed URL, if they made one.
pub async fn feed_url_of(state: &Services, user_id: Uuid) -> AppResult<Option<String>> {
    let sealed = sqlx::query_scalar!(
        "SELECT token_sealed FROM calendar_feeds WHERE user_id = $1",
        user_id
    )
    .fetch_optional(&state.pool)
    .await?;
    Ok(sealed
        .and_then(|s| crate::sealed::open(secret_key(state), &s))
        .map(|token| feed_url(state, &token)))
}

/// Makes a new feed URL for the user; the previous one stops answering.
pub async fn new_feed(state: &Services, user_id: Uuid) -> AppResult<String> {
    let token = crate::secrets::new_token();
    sqlx::query!(
        "INSERT INTO calendar_feeds (user_id, token_hash, token_sealed, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE
            SET token_hash = EXCLUDED.token_hash, token_sealed = EXCLUDED.token_sealed,
                created_at = EXCLUDED.created_at",
        user_id,
        crate::secrets::sha256_hex(&token),
        crate::sealed::seal(secret_key(state), &token),
        state.now(),
    )
    .execute(&state.pool)
    .await?;
    Ok(feed_url(state, &token))
}

/// The owner of a feed token and their time zone, if the token is a current one.
pub async fn feed_owner(pool: &PgPool, token: &str) -> AppResult<Option<(Uuid, String)>> {
    let row = sqlx::query!(
        "SELECT u.id, u.timezone FROM calendar_feeds f JOIN users u ON u.id = f.user_id
          WHERE f.token_hash = $1",
        crate::secrets::sha256_hex(token),
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.id, r.timezone)))
}

/// How long an event lasts in a calendar app (a reminder is a moment; this makes it visible).
const EVENT_LENGTH: Duration = Duration::minutes(15);

/// The entries as an iCalendar document (RFC 5545), each event linking to its task.
pub fn ics(state: &Services, timezone: &str, entries: &[Entry]) -> String {
    let now = state.now();
    let mut calendar = icalendar::Calendar::new();
    calendar
        .name("Spacedly")
        .description("Reminders, reviews and due dates from Spacedly")
        .timezone(timezone)
        .ttl(&chrono::Duration::hours(1));
    for e in entries {
        let task_url = state
            .config
            .page_url(&format!("/tasks/{}", e.task_id))
            .to_string();
        let (uid, summary, category) = match (e.kind, e.reminder) {
            (EntryKind::Due, _) | (_, None) => (
                format!("task-{}-due", e.task_id),
                format!("Due: {}", e.title),
                "due",
            ),
            (EntryKind::Review, Some((id, _))) => (
                format!("reminder-{id}"),
                format!("Review: {}", e.title),
                "review",
            ),
            (EntryKind::Reminder, Some((id, _))) => (
                format!("reminder-{id}"),
                format!("Reminder: {}", e.title),
                "reminder",
            ),
        };
        let description = if e.message.is_empty() {
            task_url.clone()
        } else {
            format!("{}\n\n{task_url}", e.message)
        };
        let status = match e.reminder {
            Some((_, Status::Skipped)) => EventStatus::Cancelled,
            _ => EventStatus::Confirmed,
        };
        calendar.push(
            icalendar::Event::new()
                .uid(&state.config.message_id(&uid))
                .timestamp(now)
                .summary(&summary)
                .description(&description)
                .url(&task_url)
                .categories([category])
                .starts(e.at)
                .ends(e.at + EVENT_LENGTH)
                .status(status)
                .done(),
        );
    }
    calendar.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_month_is_whole_weeks_from_the_users_first_day() {
        // December 2026 begins on a Tuesday and ends on a Thursday.
        let p = Period::new(Span::Month, day("2026-12-17"), WeekStart::Monday);
        assert_eq!(
            (p.anchor, p.first, p.end),
            (day("2026-12-01"), day("2026-11-30"), day("2027-01-04"))
        );
        assert_eq!((p.prev, p.next), (day("2026-11-01"), day("2027-01-01")));
        assert_eq!(p.days().count(), 35);
        let p = Period::new(Span::Month, day("2026-12-01"), WeekStart::Sunday);
        assert_eq!((p.first, p.end), (day("2026-11-29"), day("2027-01-03")));
        let p = Period::new(Span::Month, day("2026-12-31"), WeekStart::Saturday);
        assert_eq!((p.first, p.end), (day("2026-11-28"), day("2027-01-02")));
        // February 2027 starts on a Monday and has exactly four weeks.
        let p = Period::new(Span::Month, day("2027-02-10"), WeekStart::Monday);
        assert_eq!(p.days().count(), 28);
        assert_eq!(p.prev, day("2027-01-01"));
    }

    #[test]
    fn a_week_starts_on_the_users_day() {
        let p = Period::new(Span::Week, day("2026-12-06"), WeekStart::Monday); // a Sunday
        assert_eq!((p.first, p.end), (day("2026-11-30"), day("2026-12-07")));
        assert_eq!((p.prev, p.next), (day("2026-11-23"), day("2026-12-07")));
        let p = Period::new(Span::Week, day("2026-12-06"), WeekStart::Sunday);
        assert_eq!(p.first, day("2026-12-06"));
        let p = Period::new(Span::Week, day("2026-12-06"), WeekStart::Saturday);
        assert_eq!(p.first, day("2026-12-05"));
    }

    #[test]
    fn bounds_are_local_midnights() {
        let p = Period::new(Span::Week, day("2026-12-06"), WeekStart::Monday);
        let (from, to) = p.bounds(chrono_tz::Asia::Kolkata);
        assert_eq!(from.to_rfc3339(), "2026-11-29T18:30:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-12-06T18:30:00+00:00");
        // The week of the 2027 spring change in New York is an hour shorter.
        let p = Period::new(Span::Week, day("2027-03-14"), WeekStart::Monday);
        let (from, to) = p.bounds(chrono_tz::America::New_York);
        assert_eq!(to - from, Duration::days(7) - Duration::hours(1));
    }
}
