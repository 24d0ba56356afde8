//! Input a careless client or an attacker sends: a NUL character anywhere, malformed JSON,
//! numbers at the documented bounds. Each gets a clear 400 (or the documented success) and
//! changes nothing; none is a 500.

use crate::common::{register, sign_in, spawn_app, Client};
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::json;
use sqlx::PgPool;

async fn user<'a>(app: &'a crate::common::TestApp, email: &str) -> Client<'a> {
    let mut client = Client::new(app);
    register(&mut client, email).await;
    sign_in(&mut client, email).await;
    client
}

async fn tasks(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn desired_retention_is_accepted_at_both_documented_bounds(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let mut ada = user(&app, "ada@example.com").await;
    for bound in [0.7, 0.97] {
        let (status, _, body) = ada
            .post(
                "/api/tasks",
                json!({"title": "Bounds", "desiredRetention": bound}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{bound}: {body}");
        assert_eq!(body["data"]["task"]["desiredRetention"], json!(bound));
        let id = body["data"]["task"]["id"].as_str().unwrap().to_string();
        let other = if bound == 0.7 { 0.97 } else { 0.7 };
        let (status, _, body) = ada
            .request(
                "PUT",
                &format!("/api/tasks/{id}"),
                Some(json!({"desiredRetention": other})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{other}: {body}");
        assert_eq!(body["data"]["task"]["desiredRetention"], json!(other));
    }
    for outside in [0.69, 0.971, 1.0, -1.0] {
        let (status, _, body) = ada
            .post(
                "/api/tasks",
                json!({"title": "Out", "desiredRetention": outside}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{outside}: {body}");
        assert!(body["errors"]["desiredRetention"].is_array(), "{body}");
    }
    assert_eq!(tasks(&pool).await, 2);
}

#[sqlx::test(migrations = false)]
async fn a_nul_character_is_refused_with_a_field_error_wherever_it_comes(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let mut ada = user(&app, "ada@example.com").await;

    for (uri, field) in [
        ("/api/tasks?q=%00", "q"),
        ("/api/tasks?category=a%00b", "category"),
        ("/api/notifications?page=1%00", "page"),
    ] {
        let (status, _, body) = ada.get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["code"], "validation_error");
        assert!(body["errors"][field].is_array(), "{uri}: {body}");
    }

    let (status, _, body) = ada
        .post("/api/tasks", json!({"title": "a\u{0}b", "category": "ok"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"]["title"][0].as_str().unwrap().contains("NUL"));
    assert_eq!(tasks(&pool).await, 0);

    let mut stranger = Client::new(&app);
    let (status, _, body) = stranger
        .post(
            "/api/auth/login",
            json!({"email": "a\u{0}@example.com", "password": "whatever it is"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"]["email"].is_array(), "{body}");
    let (status, _, body) = stranger
        .post(
            "/api/auth/register",
            json!({"name": "Eve", "email": "eve@example.com", "password": "pass\u{0}word long"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"]["password"].is_array(), "{body}");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[sqlx::test(migrations = false)]
async fn a_form_with_a_nul_goes_back_to_its_page_and_does_nothing(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let ada = user(&app, "ada@example.com").await;
    let request = Request::post("/_sf/tasks/create")
        .header("x-forwarded-for", ada.ip)
        .header("cookie", ada.cookie.clone().unwrap_or_default())
        .header("origin", app.state.config.public_origin())
        .header(
            "referer",
            format!("{}tasks/new", app.state.config.public_url),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("title=a%00b&nonce=x"))
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/tasks/new");
    assert_eq!(tasks(&pool).await, 0);
}

#[sqlx::test(migrations = false)]
async fn malformed_json_is_explained_without_rust_internals(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let mut ada = user(&app, "ada@example.com").await;
    let cases = [
        (json!([]), None, "The request body must be a JSON object"),
        (json!({"title": 5}), Some("title"), "Expected text"),
        (
            json!({"title": "x", "spacedRevision": "yes"}),
            Some("spacedRevision"),
            "Expected true or false",
        ),
        (
            json!({"title": "x", "desiredRetention": "high"}),
            Some("desiredRetention"),
            "Expected a number",
        ),
    ];
    for (body, field, expected) in cases {
        let (status, _, answer) = ada.post("/api/tasks", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(!message.contains("TaskInput"), "{message}");
        assert!(!message.contains("struct"), "{message}");
        match field {
            Some(field) => assert_eq!(answer["errors"][field][0], expected, "{answer}"),
            None => assert_eq!(message, expected),
        }
    }
    let request = Request::post("/api/tasks")
        .header("x-forwarded-for", ada.ip)
        .header("cookie", ada.cookie.clone().unwrap_or_default())
        .header("content-type", "application/json")
        .body(Body::from("{\"title\": \"x\""))
        .unwrap();
    let answer = crate::common::json(app.send(request).await).await;
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("The request body is not valid JSON"),
        "{answer}"
    );
    assert_eq!(tasks(&pool).await, 0);
}

#[sqlx::test(migrations = false)]
async fn limits_count_what_the_user_sees_and_conflicts_are_409(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let mut ada = user(&app, "ada@example.com").await;
    // A link within the limit as typed but longer once percent-encoded (each é is 6 bytes
    // encoded) is refused by its field, not by the database's CHECK (a 500 before).
    let link = format!("http://a/{}", "é".repeat(1019));
    let (status, _, body) = ada
        .post("/api/tasks", json!({"title": "x", "link": link}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"]["link"].is_array(), "{body}");
    assert_eq!(tasks(&pool).await, 0);

    // Passwords are limited in characters, as the message and the document say: 600 é
    // (1,200 bytes) is a fine passphrase.
    let mut bea = Client::new(&app);
    bea.ip = "203.0.113.9";
    let (status, _, body) = bea
        .post(
            "/api/auth/register",
            json!({"name": "Bea", "email": "bea@example.com", "password": "é".repeat(600)}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, body) = bea
        .post(
            "/api/auth/login",
            json!({"email": "bea@example.com", "password": "é".repeat(600)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Setting a password on an account that has one is a conflict with its state.
    let (status, _, body) = ada
        .post(
            "/api/user/set-password",
            json!({"password": "another long passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}
