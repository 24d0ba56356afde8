//! The dashboard and the analytics page as a browser without JavaScript gets them: the numbers,
//! the charts drawn on the server with their tables of the same numbers, today's work first,
//! and a category name that is markup shown as text.

use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    common::site,
    tasks::{quick_add, signed_in},
};

#[sqlx::test(migrations = false)]
async fn the_pages_show_the_numbers_charts_and_tables(pool: PgPool) {
    let site = site(pool).await;
    let ada = signed_in(&site, "Ada", "ada@example.com", "203.0.113.40").await;
    let topic = quick_add(&site, &ada, "Organic chemistry").await;
    let hostile = quick_add(&site, &ada, "Essay").await;
    sqlx::query("UPDATE tasks SET category = '<img src=x onerror=alert(1)>' WHERE id = $1")
        .bind(hostile)
        .execute(site.pool())
        .await
        .unwrap();
    let now = site.clock().now();
    // Completed two hours ago (today, or yesterday just after midnight: it counts either way
    // in the last 7 days), and a reminder due later today… or overdue: both show on the dashboard.
    sqlx::query(
        "UPDATE tasks SET status = 'completed', completed_at = $2 - interval '2 hours' WHERE id = $1",
    )
    .bind(topic)
    .bind(now)
    .execute(site.pool())
    .await
    .unwrap();
    let overdue: Uuid = quick_add(&site, &ada, "Overdue reading").await;
    sqlx::query("UPDATE tasks SET due_at = $2 - interval '1 hour' WHERE id = $1")
        .bind(overdue)
        .bind(now)
        .execute(site.pool())
        .await
        .unwrap();

    let page = ada.get("/analytics").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for chart in ["daily", "weekly", "load", "categories", "heatmap"] {
        let at = page
            .body
            .find(&format!(r#"id="chart-{chart}""#))
            .unwrap_or_else(|| panic!("no {chart} chart"));
        let figure = &page.body[at..at + page.body[at..].find("</figure>").unwrap()];
        assert!(figure.contains("<svg"), "{chart} is drawn");
        assert!(
            figure.contains(r#"role="img""#) && figure.contains("aria-label="),
            "{chart} has a text alternative"
        );
        assert!(figure.contains("<table"), "{chart} has a table");
    }
    assert!(page.contains("Tasks completed"));
    assert!(page.contains("Reminders include reviews"));
    assert!(page.contains("A day counts when you complete at least one review, reminder or task"));
    // Three tasks: the table of categories gives each share.
    assert!(page.contains("Personal"), "{}", page.body);
    assert!(
        page.contains("2 (67 %)") && page.contains("1 (33 %)"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("<img src=x"),
        "the category is text, never markup"
    );
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"));

    let dashboard = ada.get("/dashboard").await;
    assert_eq!(dashboard.status, 200);
    assert!(
        dashboard.contains("Overdue: Overdue reading"),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains(r#"id="chart-daily""#));
    assert!(
        !dashboard.body.contains(r#"id="chart-heatmap""#),
        "the dashboard keeps the small set"
    );
    assert!(dashboard.body.contains(r#"href="/analytics""#));
    assert!(!dashboard.body.contains("<img src=x"));
}
