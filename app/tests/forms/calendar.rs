//! The calendar page as a browser without JavaScript sees it: a month and a week with the
//! user's reminders and due dates on their local days, today marked, pages linked; a reminder
//! completed from it comes back to it; the feed's URL made from settings.

use chrono::{Duration, NaiveDate};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    common::{new_nonce, site, Answer, Browser, Site},
    tasks::{quick_add, signed_in},
};

/// Posts a form as the page would, with a fresh nonce.
async fn post(browser: &Browser<'_>, path: &str, fields: &[(&str, &str)]) -> Answer {
    let nonce = new_nonce();
    let mut all = fields.to_vec();
    all.push(("nonce", &nonce));
    browser.post_form(path, &all).await
}

/// `days` from today in London (the users' zone here).
fn local_day(site: &Site, days: i64) -> NaiveDate {
    let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
    (site.clock().now() + Duration::days(days))
        .with_timezone(&london)
        .date_naive()
}

#[sqlx::test(migrations = false)]
async fn the_calendar_shows_reminders_and_due_dates_and_completes_in_place(pool: PgPool) {
    let site = site(pool).await;
    let ada = signed_in(&site, "Ada", "ada@example.com", "203.0.113.40").await;
    let task = quick_add(&site, &ada, "Krebs cycle").await;
    let tomorrow = local_day(&site, 1);
    let answer = post(
        &ada,
        "/_sf/reminders/add",
        &[
            ("task_id", &task.to_string()),
            ("date", &tomorrow.to_string()),
            ("time", "09:30"),
            ("channel", "push"),
        ],
    )
    .await;
    assert_eq!(answer.location(), format!("/tasks/{task}#reminders"));
    // Due in three days at noon, London time (set directly: the task form is tested elsewhere).
    let due_day = local_day(&site, 3);
    sqlx::query(
        "UPDATE tasks SET due_at = ($2::date + time '12:00') AT TIME ZONE 'Europe/London'
          WHERE id = $1",
    )
    .bind(task)
    .bind(due_day)
    .execute(site.pool())
    .await
    .unwrap();

    // This month (both entries fall in it or in the next, so look at the week too).
    let page = ada.get("/calendar").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let today = local_day(&site, 0);
    assert!(page.body.contains(&format!(r#"id="day-{today}""#)));
    assert!(
        page.body.contains(r#"aria-current="date""#),
        "today is marked"
    );
    assert!(page.body.contains(r#"rel="prev""#) && page.body.contains(r#"rel="next""#));

    let month = format!("/calendar?view=month&day={}", tomorrow.format("%Y-%m-01"));
    let page = ada.get(&month).await;
    assert!(
        page.contains("09:30 Reminder: Krebs cycle"),
        "{}",
        page.body
    );
    let week = ada.get(&format!("/calendar?view=week&day={due_day}")).await;
    assert!(week.contains("12:00 Due: Krebs cycle"), "{}", week.body);
    assert!(week.body.contains(&format!(r#"href="/tasks/{task}""#)));

    // Done from the calendar: back to the same page, the reminder completed.
    let reminder: Uuid = sqlx::query_scalar("SELECT id FROM reminders")
        .fetch_one(site.pool())
        .await
        .unwrap();
    let answer = post(
        &ada,
        "/_sf/reminders/set",
        &[
            ("id", &reminder.to_string()),
            ("task_id", &task.to_string()),
            ("action", "complete"),
            ("back", &month),
        ],
    )
    .await;
    assert_eq!(answer.location(), month);
    let page = ada.get(&month).await;
    page.shows_ok("Reminder done.");
    assert!(
        page.contains("Reminder (done): Krebs cycle"),
        "{}",
        page.body
    );
    let status: String = sqlx::query_scalar("SELECT status FROM reminders")
        .fetch_one(site.pool())
        .await
        .unwrap();
    assert_eq!(status, "completed");

    // Another site as the way back is ignored.
    let answer = post(
        &ada,
        "/_sf/reminders/set",
        &[
            ("id", &reminder.to_string()),
            ("task_id", &task.to_string()),
            ("action", "reopen"),
            ("back", "https://evil.example/calendar"),
        ],
    )
    .await;
    assert_eq!(answer.location(), format!("/tasks/{task}#reminders"));

    // Bob sees none of it; a date that is not one shows this month.
    let bob = signed_in(&site, "Bob", "bob@example.com", "203.0.113.41").await;
    let page = bob.get(&month).await;
    assert!(!page.contains("Krebs"));
    let page = bob.get("/calendar?view=week&day=2026-02-31").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!(r#"id="day-{today}""#)));
}

#[sqlx::test(migrations = false)]
async fn the_feed_url_is_made_and_replaced_from_settings(pool: PgPool) {
    let site = site(pool).await;
    let ada = signed_in(&site, "Ada", "ada@example.com", "203.0.113.40").await;
    assert!(ada.get("/settings").await.contains("Make a feed address"));
    let page = ada
        .submit("/_sf/calendar/new-feed", &[], "/settings#calendar-feed")
        .await;
    page.shows_ok("Your calendar feed has a new address; the previous one no longer works.");
    let url = |body: &str| {
        let at = body
            .find(r#"id="calendar-feed-url""#)
            .expect("the feed URL");
        let value = at + body[at..].find("value=\"").unwrap() + 7;
        body[value..value + body[value..].find('"').unwrap()].to_string()
    };
    let first = url(&page.body);
    assert!(
        first.contains("/calendar/") && first.ends_with(".ics"),
        "{first}"
    );
    let page = ada
        .submit("/_sf/calendar/new-feed", &[], "/settings#calendar-feed")
        .await;
    assert_ne!(url(&page.body), first);
}
