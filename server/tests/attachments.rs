//! Uploads against a real database and real files on disk: limits before processing, types
//! decided by the bytes, images re-encoded, downloads only for the owner, deletes that remove
//! the stored objects.

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use common::{json, register, sign_in, spawn_app, spawn_app_with, Client, TestApp};
use http_body_util::BodyExt;
use serde_json::json;
use sqlx::PgPool;

const BOUNDARY: &str = "spacedly-test-boundary";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn multipart(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(
    app: &TestApp,
    client: &Client<'_>,
    task: &str,
    files: &[(&str, &[u8])],
) -> (StatusCode, serde_json::Value) {
    let request = Request::post(format!("/api/attachments/{task}"))
        .header("x-forwarded-for", client.ip)
        .header("cookie", client.cookie.clone().unwrap_or_default())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(multipart(files)))
        .unwrap();
    let response = app.send(request).await;
    let status = response.status();
    (status, json(response).await)
}

async fn user_with_task<'a>(app: &'a TestApp, email: &str) -> (Client<'a>, String) {
    let mut client = Client::new(app);
    if email.starts_with("eve") {
        client.ip = "203.0.113.8";
    }
    register(&mut client, email).await;
    sign_in(&mut client, email).await;
    let (_, _, body) = client
        .post("/api/tasks", json!({"title": "With files"}))
        .await;
    let id = body["data"]["task"]["id"].as_str().unwrap().to_string();
    (client, id)
}

async fn stored_objects(app: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let p = e.path();
                        if p.is_dir() {
                            count(&p)
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&app.state.config.data_dir.join("uploads"))
}

async fn rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM attachments")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn photos_are_shrunk_to_webp_and_the_alpha_png_stays_png(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (ada, task) = user_with_task(&app, "ada@example.com").await;
    let photo = fixture("photo-4032x3024.jpg");
    let diagram = fixture("diagram-2400x1800-alpha.png");
    let notes = b"Plain notes\nsecond line\n".to_vec();
    let (status, body) = upload(
        &app,
        &ada,
        &task,
        &[
            ("holiday.jpg", &photo),
            ("diagram.png", &diagram),
            ("notes.txt", &notes),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let items = body["data"]["attachments"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["fileType"], "image/webp");
    assert_eq!(items[0]["width"], 1440);
    assert_eq!(items[0]["height"], 1080);
    assert_eq!(items[0]["originalName"], "holiday.webp");
    assert_eq!(items[0]["optimizationStats"]["originalSize"], photo.len());
    assert!(items[0]["fileSize"].as_i64().unwrap() < photo.len() as i64 / 10);
    assert_eq!(items[1]["fileType"], "image/png");
    assert_eq!(items[2]["fileType"], "text/plain; charset=utf-8");
    assert_eq!(stored_objects(&app).await, 3);

    // The download is the stored file, to its owner, with the right headers.
    let url = items[0]["fileUrl"].as_str().unwrap();
    let request = Request::get(url)
        .header("cookie", ada.cookie.clone().unwrap())
        .header("x-forwarded-for", ada.ip)
        .body(Body::empty())
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/webp");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("holiday.webp"));
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WEBP");

    // The task lists them.
    let mut ada = ada;
    let (_, _, task_body) = ada.get(&format!("/api/tasks/{task}")).await;
    assert_eq!(
        task_body["data"]["task"]["attachments"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[sqlx::test(migrations = false)]
async fn bad_files_are_refused_and_nothing_is_stored(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (ada, task) = user_with_task(&app, "ada@example.com").await;
    let png = fixture("diagram-2400x1800-alpha.png");
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.extend(std::iter::repeat_n(0u8, 200));
    // A PNG header claiming 100000 x 100000 pixels: refused before any decoding.
    let mut bomb = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    let eleven_mb = vec![b'a'; 11 * 1024 * 1024];
    for (name, bytes) in [
        ("report.pdf", &elf[..]),
        ("photo.jpg", &png[..]),
        ("empty.txt", &[][..]),
        ("bomb.png", &bomb[..]),
        ("big.txt", &eleven_mb[..]),
    ] {
        let (status, body) = upload(&app, &ada, &task, &[(name, bytes)]).await;
        assert!(status.is_client_error(), "{name}: {status} {body}");
        assert_eq!(body["success"], false, "{name}");
        assert!(
            body["message"].as_str().unwrap().len() > 5,
            "{name}: {body}"
        );
    }
    // One bad file spoils the whole request: the good one is not kept either.
    let (status, _) = upload(&app, &ada, &task, &[("ok.png", &png), ("report.pdf", &elf)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let many: Vec<(String, Vec<u8>)> = (0..11)
        .map(|i| (format!("n{i}.txt"), b"x".to_vec()))
        .collect();
    let many: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let (status, _) = upload(&app, &ada, &task, &many).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(rows(&pool).await, 0);
    assert_eq!(stored_objects(&app).await, 0);
}

#[sqlx::test(migrations = false)]
async fn the_storage_quota_is_enforced_before_processing(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), |config| config.storage_quota_bytes = 100_000).await;
    let (ada, task) = user_with_task(&app, "ada@example.com").await;
    let (status, _) = upload(&app, &ada, &task, &[("a.txt", &vec![b'a'; 60_000])]).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = upload(&app, &ada, &task, &[("b.txt", &vec![b'b'; 60_000])]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("storage"));
    assert_eq!(rows(&pool).await, 1);
}

#[sqlx::test(migrations = false)]
async fn only_the_owner_reaches_a_file_and_deleting_the_task_removes_it(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com").await;
    let (_, body) = upload(&app, &ada, &task, &[("notes.txt", b"secret notes")]).await;
    let file = body["data"]["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (mut eve, eve_task) = user_with_task(&app, "eve@example.com").await;
    let (status, _, _) = eve.get(&format!("/api/attachments/{file}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = eve
        .request("DELETE", &format!("/api/attachments/{file}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Eve cannot attach to Ada's task either.
    let (status, _) = upload(&app, &eve, &task, &[("x.txt", b"x")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let _ = eve_task;
    assert_eq!(stored_objects(&app).await, 1);

    let (status, _, _) = ada
        .request("DELETE", &format!("/api/tasks/{task}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&pool).await, 0);
    assert_eq!(
        stored_objects(&app).await,
        0,
        "the task's files are gone from storage"
    );
}
