//! Test helpers: the real router over a fresh, migrated database (one per test, by sqlx::test).
#![allow(dead_code)]

use axum::{
    body::Body,
    http::{Request, Response},
    Router,
};
use http_body_util::BodyExt;
use spacedly_server::{db, http, AppState, Config};
use sqlx::PgPool;
use tower::ServiceExt;

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    _data_dir: tempfile::TempDir,
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, |_| {}).await
}

pub async fn spawn_app_with(pool: PgPool, adjust: impl FnOnce(&mut Config)) -> TestApp {
    db::migrate(&pool).await.expect("migrations apply");
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests("postgres://from-sqlx-test", data_dir.path().to_path_buf());
    adjust(&mut config);
    let state = AppState::new(pool, config).expect("state");
    let router = http::layers(http::routes(state.clone()), state.clone());
    TestApp {
        state,
        router,
        _data_dir: data_dir,
    }
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(request).await.expect("infallible")
    }

    pub async fn get(&self, uri: &str) -> Response<Body> {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }
}

pub async fn json(response: Response<Body>) -> serde_json::Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
}

pub async fn text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}
