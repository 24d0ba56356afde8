//! Uploads against a real database and real files on disk: limits before processing, types
//! decided by the bytes, images re-encoded, downloads only for the owner, deletes that remove
//! the stored objects.

use std::time::Duration;

use crate::common::{json, register, sign_in, spawn_app, spawn_app_with, Client, TestApp};
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::json;
use sqlx::PgPool;
use tower::ServiceExt;

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

/// What `kill -9` during uploads leaves in a local store: a file stored whose row was never
/// written, and a file object_store was still writing (`<key>#<n>`, renamed when complete).
#[sqlx::test(migrations = false)]
async fn the_sweep_removes_files_a_crash_left_and_the_quota_never_counts_them(pool: PgPool) {
    use spacedly_server::{attachments::service, storage::StorageKey};
    let app = spawn_app_with(pool.clone(), |config| config.storage_quota_bytes = 100_000).await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com").await;
    let (status, body) = upload(&app, &ada, &task, &[("kept.txt", &vec![b'k'; 40_000])]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let kept = body["data"]["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let user: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'ada@example.com'")
            .fetch_one(&pool)
            .await
            .unwrap();

    let complete = StorageKey::new_for_user(user);
    app.state
        .storage
        .put(&complete, vec![b'c'; 50_000].into())
        .await
        .unwrap();
    let uploads = app.state.config.data_dir.join("uploads");
    let partial = uploads.join(format!("{}#4", StorageKey::new_for_user(user).as_str()));
    std::fs::write(&partial, vec![b'p'; 30_000]).unwrap();
    assert_eq!(stored_objects(&app).await, 3);

    // Neither counts: 40 KB used, so 50 KB more still fits the 100 KB quota.
    assert_eq!(service::used_bytes(&pool, user).await.unwrap(), 40_000);
    let (status, body) = upload(&app, &ada, &task, &[("more.txt", &vec![b'm'; 50_000])]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(stored_objects(&app).await, 4);

    // Young files may belong to an upload between its two steps: left alone.
    assert_eq!(service::sweep_orphans(&app.state).await.unwrap(), 0);
    assert_eq!(stored_objects(&app).await, 4);

    // An hour later both leftovers go, and only they do.
    app.state.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(service::sweep_orphans(&app.state).await.unwrap(), 2);
    assert!(!partial.exists());
    assert!(app.state.storage.get(&complete).await.unwrap().is_none());
    assert_eq!(stored_objects(&app).await, 2);
    assert_eq!(rows(&pool).await, 2);
    let (status, _, _) = ada.get(&format!("/api/attachments/{kept}")).await;
    assert_eq!(status, StatusCode::OK);
    // Running it again finds nothing.
    assert_eq!(service::sweep_orphans(&app.state).await.unwrap(), 0);
}

/// A body that is not multipart gets the envelope, readable: no Content-Encoding on a body
/// that was not encoded (browsers and HTTP libraries fail to decode it otherwise).
#[sqlx::test(migrations = false)]
async fn a_body_that_is_not_multipart_gets_a_readable_error(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (ada, task) = user_with_task(&app, "ada@example.com").await;
    for content_type in ["application/json", "multipart/form-data", "text/plain"] {
        let request = Request::post(format!("/api/attachments/{task}"))
            .header("x-forwarded-for", ada.ip)
            .header("cookie", ada.cookie.clone().unwrap_or_default())
            .header("content-type", content_type)
            .header("accept-encoding", "gzip")
            .body(Body::from(vec![b'x'; 4096]))
            .unwrap();
        let response = app.send(request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{content_type}");
        let encoding = response.headers().get("content-encoding").cloned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = match encoding.as_ref().map(|v| v.to_str().unwrap()) {
            Some("gzip") => {
                use std::io::Read;
                let mut out = String::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_string(&mut out)
                    .expect("a gzip body that really is gzip");
                out
            }
            None => String::from_utf8(bytes.to_vec()).unwrap(),
            Some(other) => panic!("unexpected encoding {other}"),
        };
        let body: serde_json::Value = serde_json::from_str(&text).expect("the JSON envelope");
        assert_eq!(body["success"], false);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("multipart/form-data"),
            "{content_type}: {body}"
        );
    }
    assert_eq!(rows(&pool).await, 0);
}

#[sqlx::test(migrations = false)]
async fn upload_bodies_wait_for_room_in_memory_and_give_it_back(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (ada, task) = user_with_task(&app, "ada@example.com").await;
    let budget = &app.state.uploads;
    let room = budget.available_megabytes();
    // Someone else's bodies fill the room (one body reserves at most the largest upload).
    let mut others = Vec::new();
    while budget.available_megabytes() > 0 {
        let megabytes = budget.available_megabytes().min(100) as u64;
        others.push(
            budget
                .reserve(
                    uuid::Uuid::new_v4(),
                    Some(megabytes * 1024 * 1024),
                    Duration::from_secs(1),
                )
                .await
                .unwrap(),
        );
    }
    assert_eq!(budget.available_megabytes(), 0);
    let files: [(&str, &[u8]); 1] = [("notes.txt", b"notes")];
    let mut waiting = Box::pin(upload(&app, &ada, &task, &files));
    // It cannot go on while the room is taken (nothing is read, nothing stored).
    assert!(
        tokio::time::timeout(Duration::from_millis(300), waiting.as_mut())
            .await
            .is_err()
    );
    assert_eq!(rows(&pool).await, 0);
    drop(others);
    let (status, body) = waiting.await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(budget.available_megabytes(), room);
    // A refused body gives its room back too.
    let (status, _) = upload(&app, &ada, &task, &[("empty.txt", &[][..])]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(budget.available_megabytes(), room);
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

/// An S3-compatible server (PyPI moto, installed by `scripts/setup.sh test`) on a free port,
/// stopped when dropped.
struct S3Server {
    child: std::process::Child,
    endpoint: String,
}

impl S3Server {
    fn start() -> Self {
        let binary = std::env::var("SPACEDLY_S3_SERVER").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/s3/bin/moto_server").to_string()
        });
        assert!(
            std::path::Path::new(&binary).exists(),
            "no S3 test server at {binary}: run `bash scripts/setup.sh test`"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the S3 test server starts");
        Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits until it answers, then creates `bucket` (object_store does not create buckets).
    fn create_bucket(&self, bucket: &str) {
        use std::io::{Read, Write};
        let address = self.endpoint.trim_start_matches("http://").to_string();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut stream = loop {
            match std::net::TcpStream::connect(&address) {
                Ok(stream) => break stream,
                Err(e) if std::time::Instant::now() > deadline => panic!("S3 server: {e}"),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
            }
        };
        let request = format!(
            "PUT /{bucket} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn objects_in_bucket(app: &TestApp) -> Vec<String> {
    use futures::TryStreamExt;
    let mut keys: Vec<String> = app
        .state
        .storage
        .list(None)
        .map_ok(|o| o.raw_key)
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    keys
}

#[sqlx::test(migrations = false)]
async fn with_an_s3_bucket_files_are_stored_served_and_deleted_there(pool: PgPool) {
    let s3 = S3Server::start();
    s3.create_bucket("spacedly-files");
    let endpoint = s3.endpoint.clone();
    let app = spawn_app_with(pool.clone(), move |config| {
        config.storage =
            spacedly_server::storage::StorageConfig::S3(spacedly_server::storage::S3Config {
                bucket: "spacedly-files".into(),
                region: "us-east-1".into(),
                endpoint: Some(endpoint),
                access_key_id: Some("test-key".into()),
                secret_access_key: Some("test-secret".into()),
            });
    })
    .await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com").await;
    let photo = fixture("photo-800x600-exif-orientation6-gps.jpg");
    let notes = b"Notes kept in a bucket\n".to_vec();
    let (status, body) = upload(
        &app,
        &ada,
        &task,
        &[("photo.jpg", &photo), ("notes.txt", &notes)],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let items = body["data"]["attachments"].as_array().unwrap().clone();
    let keys = objects_in_bucket(&app).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    let user_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    for key in &keys {
        // Under the owner's prefix, never named after the user's file.
        assert!(key.starts_with(&format!("u/{user_id}/")), "{key}");
        assert!(!key.contains("photo") && !key.contains("notes"), "{key}");
    }
    // Nothing went to the local folder.
    assert_eq!(stored_objects(&app).await, 0);

    // The download streams from the bucket.
    let request = Request::get(items[1]["fileUrl"].as_str().unwrap())
        .header("cookie", ada.cookie.clone().unwrap())
        .header("x-forwarded-for", ada.ip)
        .body(Body::empty())
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(bytes.as_ref(), notes.as_slice());

    // Deleting one file, then the task, empties the bucket.
    let file = items[1]["id"].as_str().unwrap();
    let (status, _, _) = ada
        .request("DELETE", &format!("/api/attachments/{file}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(objects_in_bucket(&app).await.len(), 1);
    let (status, _, _) = ada
        .request("DELETE", &format!("/api/tasks/{task}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(objects_in_bucket(&app).await.is_empty());
    assert_eq!(rows(&pool).await, 0);
}

/// A body still arriving holds no place among the requests being worked on: with more slow
/// bodies (JSON and uploads) than there are places, another request is answered at once, and
/// the slow ones are served once their bodies are in.
#[sqlx::test(migrations = false)]
async fn slow_bodies_do_not_keep_other_requests_out(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (mut ada, task) = user_with_task(&app, "ada@example.com").await;
    let places = (app.state.config.database_max_connections / 2).max(2) as usize;
    let mut slow = Vec::new();
    let mut reading = Vec::new();
    for n in 0..=places {
        let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
        // Says when the server first asks for the body, which then comes only when sent.
        let (asked_tx, asked) = tokio::sync::oneshot::channel::<()>();
        reading.push(asked);
        let body = Body::from_stream(futures::stream::unfold(
            (rx, Some(asked_tx)),
            |(mut rx, mut asked)| async move {
                if let Some(asked) = asked.take() {
                    let _ = asked.send(());
                }
                let chunk = rx.recv().await?;
                Some((Ok::<_, std::io::Error>(chunk), (rx, asked)))
            },
        ));
        let upload = n % 2 == 1;
        let (uri, content_type) = if upload {
            (
                format!("/api/attachments/{task}"),
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
        } else {
            ("/api/tasks".to_string(), "application/json".to_string())
        };
        let request = Request::post(uri)
            .header("x-forwarded-for", ada.ip)
            .header("cookie", ada.cookie.clone().unwrap_or_default())
            .header("content-type", content_type)
            .header("transfer-encoding", "chunked")
            .body(body)
            .unwrap();
        let response = tokio::spawn(app.router.clone().oneshot(request));
        slow.push((upload, tx, response));
    }

    // Every slow request gets as far as reading its body (one holding a place while it reads
    // would leave the last of them waiting for a place, never asking).
    tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(reading))
        .await
        .expect("every slow request is reading its body");
    let (status, _, body) = tokio::time::timeout(Duration::from_secs(10), ada.get("/api/tasks"))
        .await
        .expect("answered while the slow bodies are on their way");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["tasks"].as_array().unwrap().len(), 1);

    for (upload, tx, response) in slow {
        assert!(!response.is_finished());
        let bytes = if upload {
            multipart(&[("notes.txt", b"slow notes")])
        } else {
            br#"{"title": "Sent slowly"}"#.to_vec()
        };
        tx.send(bytes).await.unwrap();
        drop(tx);
        let response = response.await.unwrap().unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "upload: {upload}");
    }
    let (_, _, body) = ada.get("/api/tasks").await;
    assert_eq!(body["data"]["tasks"].as_array().unwrap().len(), 3);
}

/// The same app (database, session key) with a request timeout of `seconds`. The user is set up
/// through another one with the usual timeout: signing up hashes passwords, which may queue
/// behind other tests' hashing for longer than a second.
async fn short_timeout_app(pool: &PgPool, seconds: u64) -> TestApp {
    spawn_app_with(pool.clone(), |c| {
        c.request_timeout = Duration::from_secs(seconds)
    })
    .await
}

/// A request whose body arrives only when the test sends it, one piece at a time: the channel
/// holds one piece, so [`taken`] tells when the server has read the last one sent.
fn paced_body() -> (tokio::sync::mpsc::Sender<Vec<u8>>, Body) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        Some((Ok::<_, std::io::Error>(chunk), rx))
    }));
    (tx, body)
}

/// Waits until the server has read what was sent; `false` once it stopped reading (answered).
async fn taken(tx: &tokio::sync::mpsc::Sender<Vec<u8>>) -> bool {
    tx.reserve().await.is_ok()
}

/// Lets the server work on what it has, then tells whether `response` is there yet.
async fn answered<T>(response: &tokio::task::JoinHandle<T>) -> bool {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    response.is_finished()
}

fn paced_upload(client: &Client<'_>, task: &str, length: usize, body: Body) -> Request<Body> {
    Request::post(format!("/api/attachments/{task}"))
        .header("x-forwarded-for", client.ip)
        .header("cookie", client.cookie.clone().unwrap_or_default())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("content-length", length)
        .body(body)
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn an_upload_on_a_slow_line_outlives_the_request_timeout(pool: PgPool) {
    let setup = spawn_app(pool.clone()).await;
    let (ada, task) = user_with_task(&setup, "ada@example.com").await;
    let app = short_timeout_app(&pool, 2).await;
    // 1 MB of notes, half sent at once and half 4 s later on the app's clock, past the request
    // timeout (2 s) that every other request keeps: the first half bought 8 s more (at 64 KiB/s).
    let bytes = multipart(&[(
        "notes.txt",
        "revise chapter four\n".repeat(50_000).as_bytes(),
    )]);
    let (tx, body) = paced_body();
    let response = tokio::spawn(app.router.clone().oneshot(paced_upload(
        &ada,
        &task,
        bytes.len(),
        body,
    )));
    let (first, rest) = bytes.split_at(bytes.len() / 2);
    tx.send(first.to_vec()).await.unwrap();
    assert!(taken(&tx).await);
    app.state.clock.advance(chrono::Duration::seconds(4));
    assert!(!answered(&response).await, "still waiting for the rest");
    tx.send(rest.to_vec()).await.unwrap();
    drop(tx);
    let response = response.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(rows(&pool).await, 1);
    assert_eq!(stored_objects(&app).await, 1);
}

#[sqlx::test(migrations = false)]
async fn an_upload_that_stops_gets_408_and_stores_nothing(pool: PgPool) {
    let setup = spawn_app(pool.clone()).await;
    let (ada, task) = user_with_task(&setup, "ada@example.com").await;
    let app = short_timeout_app(&pool, 1).await;
    let room = app.state.uploads.available_megabytes();
    // Half of a few hundred bytes comes, then nothing: given up when the request timeout (1 s)
    // has passed on the app's clock, not before.
    let bytes = multipart(&[("notes.txt", b"half of these notes")]);
    let (tx, body) = paced_body();
    let response = tokio::spawn(app.router.clone().oneshot(paced_upload(
        &ada,
        &task,
        bytes.len(),
        body,
    )));
    tx.send(bytes[..bytes.len() / 2].to_vec()).await.unwrap();
    assert!(taken(&tx).await);
    app.state.clock.advance(chrono::Duration::milliseconds(900));
    assert!(!answered(&response).await, "not before the request timeout");
    app.state.clock.advance(chrono::Duration::milliseconds(200));
    let body = given_up(&app, &pool, response, room).await;
    assert!(body["message"].as_str().unwrap().contains("too slowly"));
    drop(tx);
}

/// Waits for an upload's answer: 408 in the envelope, nothing stored and the memory it
/// reserved (`room` before it) free again.
async fn given_up(
    app: &TestApp,
    pool: &PgPool,
    response: tokio::task::JoinHandle<Result<axum::response::Response, std::convert::Infallible>>,
    room: usize,
) -> serde_json::Value {
    let response = tokio::time::timeout(Duration::from_secs(8), response)
        .await
        .expect("the upload is given up")
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let body = json(response).await;
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "request_timeout");
    assert_eq!(rows(pool).await, 0);
    assert_eq!(stored_objects(app).await, 0);
    assert_eq!(app.state.uploads.available_megabytes(), room);
    body
}

#[sqlx::test(migrations = false)]
async fn an_upload_trickled_in_is_cut_off_soon_after_the_request_timeout(pool: PgPool) {
    let setup = spawn_app(pool.clone()).await;
    let (ada, task) = user_with_task(&setup, "ada@example.com").await;
    let app = short_timeout_app(&pool, 1).await;
    let room = app.state.uploads.available_megabytes();
    // It says 1 MB (1 s + 16 s at the slowest rate for the whole body) and sends 1 KB every
    // 200 ms of the app's clock: far below the pace, so it ends about 2 s in, not when 1 MB
    // would have been due.
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n"
    );
    let (tx, body) = paced_body();
    let response = tokio::spawn(app.router.clone().oneshot(paced_upload(
        &ada,
        &task,
        1024 * 1024,
        body,
    )));
    tx.send(head.into_bytes()).await.unwrap();
    let mut trickled = chrono::Duration::zero();
    while taken(&tx).await && tx.send(vec![b'n'; 1024]).await.is_ok() {
        app.state.clock.advance(chrono::Duration::milliseconds(200));
        trickled += chrono::Duration::milliseconds(200);
        assert!(trickled < chrono::Duration::seconds(16), "never cut off");
    }
    given_up(&app, &pool, response, room).await;
    assert!(
        (chrono::Duration::seconds(1)..=chrono::Duration::seconds(3)).contains(&trickled),
        "cut off {trickled} in"
    );
}

#[sqlx::test(migrations = false)]
async fn other_requests_still_end_at_the_request_timeout(pool: PgPool) {
    let setup = spawn_app(pool.clone()).await;
    let (mut ada, _) = user_with_task(&setup, "ada@example.com").await;
    let app = short_timeout_app(&pool, 1).await;
    // A JSON body that never ends: the request timeout (1 s) answers it, well before the 15 s
    // the gate gives a body.
    let (tx, body) = paced_body();
    let request = Request::post("/api/tasks")
        .header("x-forwarded-for", ada.ip)
        .header("cookie", ada.cookie.clone().unwrap_or_default())
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    let response = tokio::spawn(app.router.clone().oneshot(request));
    tx.send(br#"{"title": "#.to_vec()).await.unwrap();
    assert!(taken(&tx).await);
    app.state.clock.advance(chrono::Duration::milliseconds(900));
    assert!(!answered(&response).await, "not before the request timeout");
    app.state.clock.advance(chrono::Duration::milliseconds(100));
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("answered by the request timeout")
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(json(response).await["code"], "request_timeout");
    drop(tx);
    let (_, _, body) = ada.get("/api/tasks").await;
    assert_eq!(body["data"]["tasks"].as_array().unwrap().len(), 1);
}
