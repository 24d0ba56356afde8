//! The task forms: create (full form and quick add), edit, complete / re-open, delete; another
//! user's task; and a submission that arrives twice.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, TimeZone, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{new_nonce, site, Browser, Site};

/// A signed-up, signed-in browser.
pub(crate) async fn signed_in<'a>(
    site: &'a Site,
    name: &str,
    email: &str,
    ip: &str,
) -> Browser<'a> {
    let browser = site
        .browser()
        .at(ip, "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0");
    browser.register(name, email).await;
    browser
}

/// Creates a task through the quick-add form; returns its id.
pub(crate) async fn quick_add(site: &Site, browser: &Browser<'_>, title: &str) -> Uuid {
    browser
        .submit(
            "/_sf/tasks/create",
            &[
                ("title", title),
                ("form_id", "task-quick-add"),
                ("return_to", "/tasks"),
            ],
            "/tasks",
        )
        .await
        .shows_ok(&format!("Task “{title}” added."));
    sqlx::query_scalar("SELECT id FROM tasks WHERE title = $1")
        .bind(title)
        .fetch_one(site.pool())
        .await
        .unwrap()
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct TaskRow {
    title: String,
    description: String,
    link: String,
    category: String,
    priority: i16,
    status: String,
    due_at: Option<DateTime<Utc>>,
    spaced_revision: bool,
    completed_at: Option<DateTime<Utc>>,
}

async fn task(site: &Site, id: Uuid) -> Option<TaskRow> {
    sqlx::query_as(
        "SELECT title, description, link, category, priority, status, due_at, spaced_revision,
                completed_at
           FROM tasks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(site.pool())
    .await
    .unwrap()
}

fn close_to(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).num_milliseconds().abs() < 1
}

#[sqlx::test(migrations = false)]
async fn create_task_from_the_full_form_opens_the_new_task(pool: PgPool) {
    let site = site(pool).await;
    let browser = signed_in(&site, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let answer = browser
        .post_form(
            "/_sf/tasks/create",
            &[
                ("title", "Read SICP"),
                ("description", "Chapters 1 and 2"),
                ("link", "https://example.com/sicp"),
                ("category", "Study"),
                ("priority", "high"),
                ("due_date", "2030-01-15"),
                ("due_time", "09:30"),
                ("spaced_revision", "on"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let id: Uuid = sqlx::query_scalar("SELECT id FROM tasks")
        .fetch_one(site.pool())
        .await
        .unwrap();
    answer.see_other(&format!("/tasks/{id}"));
    let page = browser.follow(&answer).await;
    page.shows_ok("Task “Read SICP” added.");
    assert_eq!(
        task(&site, id).await.unwrap(),
        TaskRow {
            title: "Read SICP".into(),
            description: "Chapters 1 and 2".into(),
            link: "https://example.com/sicp".into(),
            category: "Study".into(),
            priority: 3,
            status: "todo".into(),
            // Europe/London in January is UTC.
            due_at: Some(Utc.with_ymd_and_hms(2030, 1, 15, 9, 30, 0).unwrap()),
            spaced_revision: true,
            completed_at: None,
        }
    );
}

#[sqlx::test(migrations = false)]
async fn quick_add_goes_back_to_the_list(pool: PgPool) {
    let site = site(pool).await;
    let browser = signed_in(&site, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let id = quick_add(&site, &browser, "Learn Rust").await;
    let row = task(&site, id).await.unwrap();
    assert_eq!((row.priority, row.status.as_str()), (2, "todo"));
    // An unsafe return_to is not followed.
    let answer = browser
        .post_form(
            "/_sf/tasks/create",
            &[
                ("title", "Elsewhere"),
                ("form_id", "task-quick-add"),
                ("return_to", "https://evil.example/"),
            ],
        )
        .await;
    answer.see_other("/tasks/new");
}

#[sqlx::test(migrations = false)]
async fn create_task_with_invalid_fields_keeps_the_input_and_creates_nothing(pool: PgPool) {
    let site = site(pool).await;
    let browser = signed_in(&site, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let page = browser
        .submit(
            "/_sf/tasks/create",
            &[
                ("title", "   "),
                ("description", "kept <b>as typed</b>"),
                ("priority", "urgent"),
            ],
            "/tasks/new",
        )
        .await;
    assert_eq!(
        page.error_messages(),
        vec!["Please correct the highlighted fields".to_string()]
    );
    let errors = page.field_errors();
    assert!(
        errors.contains(&"Give the task a title".to_string()),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 2, "title and priority: {errors:?}");
    assert!(page.contains("kept <b>as typed</b>"));
    assert_eq!(site.count("SELECT count(*) FROM tasks").await, 0);

    // Quick add: back to its list, under its own form.
    let page = browser
        .submit(
            "/_sf/tasks/create",
            &[
                ("title", ""),
                ("form_id", "task-quick-add"),
                ("return_to", "/tasks?status=todo"),
            ],
            "/tasks?status=todo",
        )
        .await;
    assert_eq!(
        page.error_messages(),
        vec!["Please correct the highlighted fields".to_string()]
    );
    assert_eq!(
        page.field_errors(),
        vec!["Give the task a title".to_string()]
    );
    assert_eq!(site.count("SELECT count(*) FROM tasks").await, 0);
}

#[sqlx::test(migrations = false)]
async fn update_task_saves_every_field(pool: PgPool) {
    let site = site(pool).await;
    let browser = signed_in(&site, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let id = quick_add(&site, &browser, "Read SICP").await;
    let page = browser
        .submit(
            "/_sf/tasks/update",
            &[
                ("id", &id.to_string()),
                ("title", "Read SICP again"),
                ("description", "All of it"),
                ("link", ""),
                ("category", "Books"),
                ("priority", "low"),
                ("status", "in-progress"),
                ("due_date", "2030-07-01"),
                ("due_time", ""),
            ],
            &format!("/tasks/{id}"),
        )
        .await;
    page.shows_ok("Saved.");
    let row = task(&site, id).await.unwrap();
    assert_eq!(
        (
            row.title.as_str(),
            row.description.as_str(),
            row.category.as_str(),
            row.priority,
            row.status.as_str(),
            row.spaced_revision
        ),
        (
            "Read SICP again",
            "All of it",
            "Books",
            1,
            "in-progress",
            false
        )
    );
    assert!(row.due_at.is_some());

    // An invalid edit: the field says so, and the task is as it was.
    let page = browser
        .submit(
            "/_sf/tasks/update",
            &[("id", &id.to_string()), ("title", "")],
            &format!("/tasks/{id}"),
        )
        .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["Give the task a title"],
    );
    assert_eq!(task(&site, id).await.unwrap(), row);
}

#[sqlx::test(migrations = false)]
async fn set_task_status_completes_and_reopens(pool: PgPool) {
    let site = site(pool).await;
    let browser = signed_in(&site, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let id = quick_add(&site, &browser, "Read SICP").await;
    site.clock().advance(Duration::hours(2));

    let page = browser
        .submit(
            "/_sf/tasks/status",
            &[
                ("id", &id.to_string()),
                ("status", "completed"),
                ("return_to", "/tasks?status=todo"),
            ],
            "/tasks?status=todo",
        )
        .await;
    page.shows_ok("“Read SICP” is completed.");
    let row = task(&site, id).await.unwrap();
    assert_eq!(row.status, "completed");
    assert!(close_to(row.completed_at.unwrap(), site.clock().now()));

    let page = browser
        .submit(
            "/_sf/tasks/status",
            &[("id", &id.to_string()), ("status", "todo")],
            "/tasks",
        )
        .await;
    page.shows_ok("“Read SICP” is open again.");
    let row = task(&site, id).await.unwrap();
    assert_eq!((row.status.as_str(), row.completed_at), ("todo", None));
}

#[sqlx::test(migrations = false)]
async fn delete_task_removes_it(pool: PgPool) {
    let site = site(pool).await;
    let browser = signed_in(&site, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let id = quick_add(&site, &browser, "Read SICP").await;
    let keep = quick_add(&site, &browser, "Keep me").await;
    let page = browser
        .submit("/_sf/tasks/delete", &[("id", &id.to_string())], "/tasks")
        .await;
    page.shows_ok("Task deleted, with its files.");
    assert!(task(&site, id).await.is_none());
    assert!(task(&site, keep).await.is_some());
    assert_eq!(
        browser.get(&format!("/tasks/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = false)]
async fn another_users_task_is_not_found_and_unchanged(pool: PgPool) {
    let site = site(pool).await;
    let ada = signed_in(&site, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let id = quick_add(&site, &ada, "Ada's task").await;
    let before = task(&site, id).await.unwrap();
    let mallory = signed_in(&site, "Mallory", "mallory@example.com", "198.51.100.66").await;
    let task_id = id.to_string();

    let page = mallory
        .submit(
            "/_sf/tasks/status",
            &[("id", &task_id), ("status", "completed")],
            "/tasks",
        )
        .await;
    page.shows_error("not found", &[]);

    let page = mallory
        .submit("/_sf/tasks/delete", &[("id", &task_id)], "/tasks")
        .await;
    page.shows_error("not found", &[]);

    // Not back to the task's page, which is a 404 for this user.
    let page = mallory
        .submit(
            "/_sf/tasks/update",
            &[("id", &task_id), ("title", "Mallory's now")],
            "/tasks",
        )
        .await;
    page.shows_error("not found", &[]);

    // Not an id at all.
    let page = mallory
        .submit("/_sf/tasks/delete", &[("id", "42")], "/tasks")
        .await;
    page.shows_error("That task does not exist.", &[]);

    assert_eq!(task(&site, id).await.unwrap(), before);
    assert_eq!(site.count("SELECT count(*) FROM tasks").await, 1);
}

#[sqlx::test(migrations = false)]
async fn the_same_submission_twice_at_once_creates_one_task(pool: PgPool) {
    let site = site(pool).await;
    let browser = signed_in(&site, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let nonce = new_nonce();
    let fields = [("title", "Read SICP"), ("nonce", nonce.as_str())];

    let (first, second) = tokio::join!(
        browser.post_form("/_sf/tasks/create", &fields),
        browser.post_form("/_sf/tasks/create", &fields),
    );
    assert_eq!(site.count("SELECT count(*) FROM tasks").await, 1);
    let id: Uuid = site.scalar("SELECT id FROM tasks").await;
    let to = format!("/tasks/{id}");
    first.see_other(&to);
    second.see_other(&to);
    browser.get(&to).await.shows_ok("Task “Read SICP” added.");

    // Re-sent later (the back button, a reload): the same outcome again, no second task.
    site.clock().advance(Duration::minutes(1));
    let page = browser.submit("/_sf/tasks/create", &fields, &to).await;
    page.shows_ok("Task “Read SICP” added.");
    assert_eq!(site.count("SELECT count(*) FROM tasks").await, 1);

    // A new rendering of the form (a new nonce) is a new task.
    browser
        .post_form("/_sf/tasks/create", &[("title", "Read SICP")])
        .await;
    assert_eq!(site.count("SELECT count(*) FROM tasks").await, 2);
}
