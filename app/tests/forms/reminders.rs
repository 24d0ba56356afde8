//! The reminder forms of the task page, as a browser without JavaScript posts them: add (and
//! its field errors), done, skip, back to pending, move, delete; another user's reminder.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    common::{new_nonce, site, Browser, Site},
    tasks::{quick_add, signed_in},
};

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct ReminderRow {
    id: Uuid,
    channel: String,
    status: String,
    message: String,
    scheduled_at: DateTime<Utc>,
}

async fn reminders(site: &Site) -> Vec<ReminderRow> {
    sqlx::query_as(
        "SELECT id, channel, status, message, scheduled_at FROM reminders ORDER BY created_at",
    )
    .fetch_all(site.pool())
    .await
    .unwrap()
}

/// Tomorrow (or `days` from now) in London, the users' time zone here, as the date input sends it.
fn day(site: &Site, days: i64) -> String {
    let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
    (site.clock().now() + Duration::days(days))
        .with_timezone(&london)
        .format("%Y-%m-%d")
        .to_string()
}

/// Posts a reminder form and loads the task page it comes back to.
async fn post(
    browser: &Browser<'_>,
    path: &str,
    task: Uuid,
    fields: &[(&str, &str)],
) -> crate::common::Answer {
    let nonce = new_nonce();
    let task_id = task.to_string();
    let mut all = vec![("task_id", task_id.as_str()), ("nonce", nonce.as_str())];
    all.extend_from_slice(fields);
    let answer = browser.post_form(path, &all).await;
    assert_eq!(
        answer.location(),
        format!("/tasks/{task}#reminders"),
        "{}",
        answer.body
    );
    browser.get(&format!("/tasks/{task}")).await
}

#[sqlx::test(migrations = false)]
async fn reminders_are_added_done_moved_and_deleted_from_the_task_page(pool: PgPool) {
    let site = site(pool).await;
    let ada = signed_in(&site, "Ada", "ada@example.com", "203.0.113.40").await;
    let task = quick_add(&site, &ada, "Enzymes").await;
    let tomorrow = day(&site, 1);

    let page = post(
        &ada,
        "/_sf/reminders/add",
        task,
        &[
            ("date", &tomorrow),
            ("time", "09:30"),
            ("channel", "both"),
            ("message", "Bring <notes>"),
        ],
    )
    .await;
    page.shows_ok("Reminder added.");
    assert!(page.contains("Bring <notes>"));
    assert!(page.contains("Email and in the app"));
    let added = reminders(&site).await;
    assert_eq!(added.len(), 1);
    assert_eq!(
        (added[0].channel.as_str(), added[0].status.as_str()),
        ("both", "pending")
    );
    assert_eq!(added[0].message, "Bring <notes>");
    let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
    let local = added[0].scheduled_at.with_timezone(&london);
    assert_eq!(
        local.format("%Y-%m-%d %H:%M").to_string(),
        format!("{tomorrow} 09:30")
    );
    let id = added[0].id.to_string();

    // A time in the past and a message too long: the problems under their fields, what was
    // typed kept, nothing added.
    let yesterday = day(&site, -1);
    let page = post(
        &ada,
        "/_sf/reminders/add",
        task,
        &[("date", &yesterday), ("time", "09:00")],
    )
    .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["Choose a time in the future"],
    );
    assert!(page.body.contains(&format!("value=\"{yesterday}\"")));
    let long = "x".repeat(501);
    let page = post(
        &ada,
        "/_sf/reminders/add",
        task,
        &[("date", &tomorrow), ("time", "10:00"), ("message", &long)],
    )
    .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["Keep the message to 500 characters"],
    );
    assert_eq!(reminders(&site).await.len(), 1);

    post(
        &ada,
        "/_sf/reminders/set",
        task,
        &[("id", &id), ("action", "complete")],
    )
    .await
    .shows_ok("Reminder done.");
    assert_eq!(reminders(&site).await[0].status, "completed");
    post(
        &ada,
        "/_sf/reminders/set",
        task,
        &[("id", &id), ("action", "reopen")],
    )
    .await
    .shows_ok("Reminder pending again.");
    post(
        &ada,
        "/_sf/reminders/set",
        task,
        &[("id", &id), ("action", "skip")],
    )
    .await
    .shows_ok("Reminder skipped.");
    assert_eq!(reminders(&site).await[0].status, "skipped");

    let later = day(&site, 3);
    post(
        &ada,
        "/_sf/reminders/reschedule",
        task,
        &[("id", &id), ("date", &later), ("time", "07:15")],
    )
    .await
    .shows_ok("Reminder moved.");
    let moved = &reminders(&site).await[0];
    assert_eq!(
        moved
            .scheduled_at
            .with_timezone(&london)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        format!("{later} 07:15")
    );

    // Another user can neither change nor delete it.
    let eve = signed_in(&site, "Eve", "eve@example.com", "203.0.113.41").await;
    let eves = quick_add(&site, &eve, "Eve's own").await;
    for action in ["delete", "complete"] {
        let page = post(
            &eve,
            "/_sf/reminders/set",
            eves,
            &[("id", &id), ("action", action)],
        )
        .await;
        assert!(
            page.ok_messages().is_empty(),
            "{action}: {:?}",
            page.notices()
        );
    }
    assert_eq!(reminders(&site).await.len(), 1);
    let page = post(
        &eve,
        "/_sf/reminders/add",
        task,
        &[("date", &tomorrow), ("time", "09:00")],
    )
    .await;
    assert!(page.ok_messages().is_empty());
    assert_eq!(
        reminders(&site).await.len(),
        1,
        "not on another user's task"
    );

    post(
        &ada,
        "/_sf/reminders/set",
        task,
        &[("id", &id), ("action", "delete")],
    )
    .await
    .shows_ok("Reminder deleted.");
    assert!(reminders(&site).await.is_empty());
}
