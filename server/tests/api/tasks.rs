//! Tasks and notifications through the JSON API, against a real database: validation of every
//! field, ownership (another user gets 404), the original web client's shapes, and the number
//! of statements a list takes.

use crate::common::{register, sign_in, spawn_app, Client};
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

async fn user<'a>(app: &'a crate::common::TestApp, email: &str) -> Client<'a> {
    let mut client = Client::new(app);
    if email.starts_with("eve") {
        client.ip = "203.0.113.8";
    }
    register(&mut client, email).await;
    sign_in(&mut client, email).await;
    client
}

#[sqlx::test(migrations = false)]
async fn create_returns_the_task_in_the_original_clients_shape(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut ada = user(&app, "ada@example.com").await;
    let (status, _, body) = ada
        .post(
            "/api/tasks",
            json!({"title": "  Learn FSRS ", "priority": "high", "category": "Study",
                   "description": "", "link": "", "dueDate": "2026-12-01T09:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let task = &body["data"]["task"];
    assert_eq!(task["title"], "Learn FSRS");
    assert_eq!(task["priority"], "High");
    assert_eq!(task["category"], "Study");
    assert_eq!(task["status"], "todo");
    assert_eq!(task["description"], "");
    assert_eq!(task["link"], "");
    assert!(task["id"].is_string());
    assert_eq!(task["attachments"], json!([]));
    assert_eq!(task["reminders"], json!([]));
    // Entered in the user's time zone (Europe/London: UTC in December), stored in UTC.
    assert_eq!(task["dueDate"], "2026-12-01T09:00:00Z");

    let (status, _, body) = ada.post("/api/tasks", json!({"title": "Defaults"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["data"]["task"]["category"], "Personal");
    assert_eq!(body["data"]["task"]["priority"], "Medium");
}

#[sqlx::test(migrations = false)]
async fn every_field_is_validated_with_a_message_per_field(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let mut ada = user(&app, "ada@example.com").await;
    let (status, _, body) = ada
        .post(
            "/api/tasks",
            json!({"title": "", "description": "x".repeat(5001), "link": "javascript:alert(1)",
                   "category": "c".repeat(51), "priority": "urgent", "status": "done",
                   "dueDate": "next week", "desiredRetention": 0.5, "knowBy": "01/02/2027"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let errors = body["errors"].as_object().expect("field errors");
    for field in [
        "title",
        "description",
        "link",
        "category",
        "priority",
        "status",
        "dueDate",
        "desiredRetention",
        "knowBy",
    ] {
        assert!(errors.contains_key(field), "{field} missing in {body}");
    }
    let (status, _, _) = ada.post("/api/tasks", json!({"title": 5})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = ada.post("/api/tasks", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = ada
        .post("/api/tasks", json!({"title": "x".repeat(201)}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "bad input changes nothing");
}

#[sqlx::test(migrations = false)]
async fn another_users_task_is_not_found_on_every_endpoint(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut ada = user(&app, "ada@example.com").await;
    let (_, _, body) = ada.post("/api/tasks", json!({"title": "Mine"})).await;
    let id = body["data"]["task"]["id"].as_str().unwrap().to_string();
    let mut eve = user(&app, "eve@example.com").await;
    eve.ip = "203.0.113.8";
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(json!({"title": "Hijacked"}))),
        ("DELETE", None),
    ] {
        let (status, _, _) = eve.request(method, &format!("/api/tasks/{id}"), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    let (status, _, _) = eve.get(&format!("/api/tasks/{id}/reminders")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, list) = eve.get("/api/tasks").await;
    assert_eq!(list["data"]["tasks"], json!([]));
    let (status, _, _) = eve.get("/api/tasks/not-a-uuid").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, body) = ada.get(&format!("/api/tasks/{id}")).await;
    assert_eq!(body["data"]["task"]["title"], "Mine");
}

#[sqlx::test(migrations = false)]
async fn signed_out_calls_get_401(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut nobody = Client::new(&app);
    let (status, _, body) = nobody.get("/api/tasks").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["success"], false);
    let (status, _, _) = nobody.get("/api/notifications/count").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = false)]
async fn completing_records_when_and_notifies_and_reopening_clears(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut ada = user(&app, "ada@example.com").await;
    let (_, _, body) = ada.post("/api/tasks", json!({"title": "Read"})).await;
    let id = body["data"]["task"]["id"].as_str().unwrap().to_string();
    let (_, _, count) = ada.get("/api/notifications/count").await;
    assert_eq!(count["data"]["count"], 0);

    let (status, _, body) = ada
        .request(
            "PUT",
            &format!("/api/tasks/{id}"),
            Some(json!({"status": "completed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["task"]["completedAt"].is_string());
    // Saving it as completed again does not notify twice.
    ada.request(
        "PUT",
        &format!("/api/tasks/{id}"),
        Some(json!({"status": "completed", "title": "Read it"})),
    )
    .await;
    let (_, _, list) = ada.get("/api/notifications").await;
    let items = list["data"]["notifications"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["title"], "Task completed");
    assert_eq!(items[0]["type"], "general");
    assert_eq!(items[0]["isRead"], false);
    assert_eq!(items[0]["relatedTaskId"], id.as_str());
    let (_, _, count) = ada.get("/api/notifications/count").await;
    assert_eq!(count["data"]["count"], 1);

    let (_, _, body) = ada
        .request(
            "PUT",
            &format!("/api/tasks/{id}"),
            Some(json!({"status": "todo"})),
        )
        .await;
    assert!(body["data"]["task"]["completedAt"].is_null());

    let nid = items[0]["id"].as_str().unwrap();
    let (status, _, _) = ada
        .request("PATCH", &format!("/api/notifications/{nid}/read"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, count) = ada.get("/api/notifications/count").await;
    assert_eq!(count["data"]["count"], 0);

    let mut eve = user(&app, "eve@example.com").await;
    eve.ip = "203.0.113.9";
    let (status, _, _) = eve
        .request("PATCH", &format!("/api/notifications/{nid}/read"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = eve
        .request("DELETE", &format!("/api/notifications/{nid}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = ada
        .request("DELETE", &format!("/api/notifications/{nid}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[sqlx::test(migrations = false)]
async fn the_list_filters_searches_sorts_and_pages(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut ada = user(&app, "ada@example.com").await;
    for (title, priority, category, due) in [
        ("Spaced repetition basics", "low", "Study", "2020-01-01"),
        ("Write report", "high", "Work", "2099-01-01"),
        ("Groceries", "medium", "Personal", ""),
    ] {
        let (status, _, body) = ada
            .post(
                "/api/tasks",
                json!({"title": title, "priority": priority, "category": category, "dueDate": due}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let titles = |body: &serde_json::Value| -> Vec<String> {
        body["data"]["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect()
    };
    // No paging asked for: every task, soonest due first, undated last.
    let (_, _, all) = ada.get("/api/tasks").await;
    assert_eq!(
        titles(&all),
        ["Spaced repetition basics", "Write report", "Groceries"]
    );
    assert_eq!(all["data"]["total"], 3);
    let (_, _, found) = ada.get("/api/tasks?q=REPET").await;
    assert_eq!(titles(&found), ["Spaced repetition basics"]);
    let (_, _, found) = ada.get("/api/tasks?q=100%25").await;
    assert_eq!(titles(&found), Vec::<String>::new());
    let (_, _, by_priority) = ada.get("/api/tasks?sort=priority").await;
    assert_eq!(
        titles(&by_priority),
        ["Write report", "Groceries", "Spaced repetition basics"]
    );
    let (_, _, overdue) = ada.get("/api/tasks?due=overdue").await;
    assert_eq!(titles(&overdue), ["Spaced repetition basics"]);
    let (_, _, work) = ada.get("/api/tasks?category=Work&priority=HIGH").await;
    assert_eq!(titles(&work), ["Write report"]);
    let (_, _, page2) = ada.get("/api/tasks?page=2&limit=2").await;
    assert_eq!(titles(&page2), ["Groceries"]);
    assert_eq!(page2["data"]["total"], 3);
    let (status, _, body) = ada.get("/api/tasks?sort=colour&due=someday&page=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let errors = body["errors"].as_object().unwrap();
    assert!(
        errors.contains_key("sort") && errors.contains_key("due") && errors.contains_key("page")
    );
}

#[sqlx::test(migrations = false)]
async fn deleting_a_task_removes_its_rows(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let mut ada = user(&app, "ada@example.com").await;
    let (_, _, body) = ada.post("/api/tasks", json!({"title": "Gone soon"})).await;
    let id = body["data"]["task"]["id"].as_str().unwrap().to_string();
    let (status, _, _) = ada
        .request("DELETE", &format!("/api/tasks/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = ada.get(&format!("/api/tasks/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = ada
        .request("DELETE", &format!("/api/tasks/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
