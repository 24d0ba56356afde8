//! Spaced revision as a browser without JavaScript sees it: the new-task form makes a memory
//! item by default, its first review is due the next morning, the Review page shows the card
//! with the answer behind "Show" and four rating buttons labelled with their intervals, a
//! rating is a form post that comes back with the next date, undo puts the card back, and
//! foreign or malformed ratings change nothing.

use chrono::{Duration, NaiveDate, TimeZone};
use sqlx::PgPool;

use crate::{
    common::{site, Site},
    tasks::signed_in,
};

/// The users' zone here.
fn london() -> chrono_tz::Tz {
    "Europe/London".parse().unwrap()
}

fn local_day(site: &Site, days: i64) -> NaiveDate {
    (site.clock().now() + Duration::days(days))
        .with_timezone(&london())
        .date_naive()
}

#[sqlx::test(migrations = false)]
async fn a_topic_is_reviewed_from_the_review_page(pool: PgPool) {
    let site = site(pool).await;
    let ada = signed_in(&site, "Ada", "ada@example.com", "203.0.113.40").await;
    // The new-task form has spaced repetition on, 90 % and no date by default.
    let form = ada.get("/tasks/new").await;
    assert!(
        form.body
            .contains(r#"name="spaced_revision" value="on" checked"#),
        "{}",
        form.body
    );
    assert!(form.body.contains(r#"<option value="0.9" selected"#));
    let created = ada
        .post_form(
            "/_sf/tasks/create",
            &[
                ("title", "Krebs cycle"),
                ("description", "Citrate, isocitrate, α-ketoglutarate…"),
                ("spaced_revision", "on"),
                ("desired_retention", "0.85"),
                ("know_by", ""),
            ],
        )
        .await;
    let (task, retention): (uuid::Uuid, f64) =
        sqlx::query_as("SELECT id, desired_retention FROM tasks WHERE title = 'Krebs cycle'")
            .fetch_one(site.pool())
            .await
            .unwrap();
    created.see_other(&format!("/tasks/{task}"));
    assert_eq!(retention, 0.85);
    // Its first review: tomorrow at the morning hour (5:00 by default), London time.
    let first: chrono::DateTime<chrono::Utc> = site
        .scalar("SELECT scheduled_at FROM reminders WHERE kind = 'review' AND status = 'pending'")
        .await;
    let tomorrow = local_day(&site, 1);
    assert_eq!(first.with_timezone(&london()).date_naive(), tomorrow);
    assert_eq!(
        first.with_timezone(&london()).format("%H:%M").to_string(),
        "05:00"
    );

    let page = ada.get("/review").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.contains("Nothing is due now."), "{}", page.body);
    assert!(page.contains(&format!("{}: 1 review", tomorrow.format("%a %-d %b"))));

    // Tomorrow morning: the card, the answer behind Show, four buttons with their intervals.
    site.clock().set(first + Duration::minutes(1));
    let page = ada.get("/review").await;
    assert!(page.contains("Krebs cycle"), "{}", page.body);
    assert!(
        page.body.contains("<details"),
        "the answer waits behind Show"
    );
    assert!(page.contains("Citrate, isocitrate"));
    // At 85 % retention: FSRS's first intervals, longer than at 90 %.
    for label in ["Again · 1 d", "Hard · 2 d", "Good · 4 d", "Easy · 16 d"] {
        assert!(page.contains(label), "{label}: {}", page.body);
    }
    assert!(
        page.body.contains(r#"class="nav-badge""#),
        "the navigation counts it"
    );

    // Good: back to the Review page, which names the next date; the card is gone.
    let done = ada
        .submit(
            "/_sf/revision/rate",
            &[("task_id", &task.to_string()), ("rating", "good")],
            "/review",
        )
        .await;
    let next_at: chrono::DateTime<chrono::Utc> = site
        .scalar("SELECT scheduled_at FROM reminders WHERE kind = 'review' AND status = 'pending'")
        .await;
    let next = next_at.with_timezone(&london()).date_naive();
    // Four days, moved by the fuzz by one day at most, in the morning.
    let today = site.clock().now().with_timezone(&london()).date_naive();
    assert!((3..=5).contains(&(next - today).num_days()), "{next}");
    assert_eq!(
        next_at,
        london()
            .from_local_datetime(&next.and_hms_opt(5, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
    );
    done.shows_ok(&format!(
        "Good: “Krebs cycle” comes back on {}.",
        next.format("%a %-d %b")
    ));
    assert!(done.contains("All done: you reviewed 1 topic today."));
    assert!(!done.body.contains("class=\"nav-badge\""));
    // The task page shows its recall.
    let page = ada.get(&format!("/tasks/{task}")).await;
    assert!(page.contains("Recall now"), "{}", page.body);
    assert!(page.contains("100 %"));

    // Undo puts the card back.
    let undone = ada
        .submit(
            "/_sf/revision/undo",
            &[("task_id", &task.to_string())],
            "/review",
        )
        .await;
    undone.shows_ok("Rating undone: “Krebs cycle” is due again.");
    assert!(undone.contains("Good · 4 d"));
    assert_eq!(site.count("SELECT count(*) FROM review_log").await, 0);

    // A rating that is none, and Bob rating Ada's topic: refused, nothing changes.
    let bad = ada
        .submit(
            "/_sf/revision/rate",
            &[("task_id", &task.to_string()), ("rating", "perfect")],
            "/review",
        )
        .await;
    assert!(!bad.error_messages().is_empty(), "{}", bad.body);
    let bob = signed_in(&site, "Bob", "bob@example.com", "203.0.113.41").await;
    let foreign = bob
        .submit(
            "/_sf/revision/rate",
            &[("task_id", &task.to_string()), ("rating", "good")],
            "/review",
        )
        .await;
    assert!(!foreign.error_messages().is_empty(), "{}", foreign.body);
    assert!(!foreign.contains("Krebs cycle"));
    assert_eq!(site.count("SELECT count(*) FROM review_log").await, 0);

    // Settings says which parameters are in use.
    let settings = ada.get("/settings").await;
    assert!(
        settings.contains("defaults, fitted to many learners"),
        "{}",
        settings.body
    );
}
