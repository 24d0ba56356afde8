//! The notification centre's forms: mark one read, mark all read, delete.

use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{site, Site};

async fn notify(site: &Site, user: Uuid, title: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO notifications (user_id, kind, title, message, created_at)
         VALUES ($1, 'general', $2, 'Something happened', $3) RETURNING id",
    )
    .bind(user)
    .bind(title)
    .bind(site.clock().now())
    .fetch_one(site.pool())
    .await
    .unwrap()
}

async fn read_at(site: &Site, id: Uuid) -> Option<chrono::DateTime<chrono::Utc>> {
    sqlx::query_scalar("SELECT read_at FROM notifications WHERE id = $1")
        .bind(id)
        .fetch_one(site.pool())
        .await
        .unwrap()
}

async fn exists(site: &Site, id: Uuid) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM notifications WHERE id = $1)")
        .bind(id)
        .fetch_one(site.pool())
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn mark_one_read_goes_back_to_the_page_it_was_on(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", "ada@example.com").await;
    let ada = site.user_id("ada@example.com").await;
    let first = notify(&site, ada, "First").await;
    let second = notify(&site, ada, "Second").await;
    let page = browser.get("/notifications").await;
    assert!(page.contains("2 unread"));
    assert!(page.form_value("/_sf/notifications/read", "id").is_some());

    let answer = browser
        .post_form_from(
            Some("/notifications?page=1"),
            "/_sf/notifications/read",
            &[("id", &first.to_string())],
        )
        .await;
    answer.see_other("/notifications?page=1");
    let page = browser.follow(&answer).await;
    page.shows_nothing();
    assert!(page.contains("1 unread"));
    assert_eq!(
        read_at(&site, first).await.map(|t| t.timestamp()),
        Some(site.clock().now().timestamp())
    );
    assert_eq!(read_at(&site, second).await, None);

    // From elsewhere (or without a Referer): the notification centre.
    browser
        .post_form_from(
            Some("/dashboard"),
            "/_sf/notifications/read",
            &[("id", &second.to_string())],
        )
        .await
        .see_other("/notifications");
    assert!(read_at(&site, second).await.is_some());
}

#[sqlx::test(migrations = false)]
async fn mark_all_read(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", "ada@example.com").await;
    let ada = site.user_id("ada@example.com").await;
    for title in ["One", "Two", "Three"] {
        notify(&site, ada, title).await;
    }
    let page = browser
        .submit("/_sf/notifications/read-all", &[], "/notifications")
        .await;
    page.shows_ok("All notifications are marked as read.");
    assert!(page.contains("0 unread"));
    assert_eq!(
        site.count("SELECT count(*) FROM notifications WHERE read_at IS NULL")
            .await,
        0
    );
}

#[sqlx::test(migrations = false)]
async fn delete_a_notification(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", "ada@example.com").await;
    let ada = site.user_id("ada@example.com").await;
    let gone = notify(&site, ada, "Gone").await;
    let kept = notify(&site, ada, "Kept").await;
    let page = browser
        .submit(
            "/_sf/notifications/delete",
            &[("id", &gone.to_string())],
            "/notifications",
        )
        .await;
    page.shows_ok("Notification deleted.");
    assert!(!exists(&site, gone).await);
    assert!(exists(&site, kept).await);
}

#[sqlx::test(migrations = false)]
async fn another_users_notification_is_not_found_and_unchanged(pool: PgPool) {
    let site = site(pool).await;
    let ada = site.browser();
    ada.register("Ada Lovelace", "ada@example.com").await;
    let theirs = notify(&site, site.user_id("ada@example.com").await, "Ada's").await;
    let mallory = site.browser().at("198.51.100.66", "curl/8.0");
    mallory.register("Mallory", "mallory@example.com").await;

    let page = mallory
        .submit(
            "/_sf/notifications/read",
            &[("id", &theirs.to_string())],
            "/notifications",
        )
        .await;
    page.shows_error("not found", &[]);
    let page = mallory
        .submit(
            "/_sf/notifications/delete",
            &[("id", &theirs.to_string())],
            "/notifications",
        )
        .await;
    page.shows_error("not found", &[]);
    // Mark all touches only the caller's.
    mallory
        .submit("/_sf/notifications/read-all", &[], "/notifications")
        .await
        .shows_ok("All notifications are marked as read.");
    assert!(exists(&site, theirs).await);
    assert_eq!(read_at(&site, theirs).await, None);
}
