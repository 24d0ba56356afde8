//! /api/openapi.json: served to anyone, describing every mounted /api route with real schemas.

use crate::common::{json, spawn_app};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use serde_json::Value;
use sqlx::PgPool;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &crate::common::TestApp) -> Value {
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    json(response).await
}

/// A concrete path for a template: any id will do, the route is what matters.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|part| {
            if part.starts_with('{') {
                "00000000-0000-4000-8000-000000000000"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a request reached a route rather than the API's fallback (404) or a method filter
/// (405). Without a session, every protected route answers 401 before looking at the id.
async fn reaches_a_route(app: &crate::common::TestApp, method: &str, path: &str) -> StatusCode {
    let request = Request::builder()
        .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
        .uri(path)
        .header("x-forwarded-for", "198.51.100.20")
        .body(Body::empty())
        .unwrap();
    app.send(request).await.status()
}

#[sqlx::test(migrations = false)]
async fn the_document_is_public_and_lists_every_mounted_api_route(pool: PgPool) {
    let app = spawn_app(pool).await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    // The router and the document are split from one `OpenApiRouter`: what it documents is
    // what it mounts.
    let built = spacedly_server::app::openapi();
    let built = serde_json::to_value(&built).unwrap();
    assert_eq!(doc["paths"], built["paths"]);

    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/verify-otp",
        "/api/auth/logout",
        "/api/auth/logout-all",
        "/api/auth/forgot-password",
        "/api/auth/reset-password",
        "/api/auth/google",
        "/api/auth/google/callback",
        "/api/user/me",
        "/api/user/enabled-2fa",
        "/api/user/set-password",
        "/api/user/change-password",
        "/api/user/export",
        "/api/user/calendar-feed",
        "/api/analytics",
        "/api/analytics/streaks",
        "/api/analytics/retention",
        "/api/reviews/due",
        "/api/tasks/{id}/review",
        "/api/tasks/{id}/review/undo",
        "/api/reminders",
        "/api/reminders/{id}",
        "/api/digest/unsubscribe",
        "/api/tokens",
        "/api/tokens/{id}",
        "/api/tasks",
        "/api/tasks/{id}",
        "/api/tasks/{id}/reminders",
        "/api/notifications",
        "/api/notifications/count",
        "/api/notifications/read-all",
        "/api/notifications/stream",
        "/api/notifications/{id}/read",
        "/api/notifications/{id}",
        "/api/openapi.json",
        "/api/attachments/{id}",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }

    // Every documented operation is mounted at its path and method, and no other method is
    // mounted on a documented path.
    for (path, item) in paths {
        assert!(path.starts_with("/api/"), "{path}");
        let uri = concrete(path);
        for method in METHODS {
            let status = reaches_a_route(&app, method, &uri).await;
            if item.get(method).is_some() {
                assert!(
                    status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is documented but answers {status}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is mounted but not documented"
                );
            }
        }
    }
}

/// Routes reach the document only through `routes!`: an /api module that mounted a handler
/// with plain `.route(...)` would serve it undocumented.
#[test]
fn api_modules_mount_handlers_only_through_routes_macro() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut api_files = vec![root.join("api/mod.rs")];
    for feature in std::fs::read_dir(&root).unwrap() {
        let api = feature.unwrap().path().join("api.rs");
        if api.exists() {
            api_files.push(api);
        }
    }
    assert!(api_files.len() >= 4, "{api_files:?}");
    for file in api_files {
        let source = std::fs::read_to_string(&file)
            .unwrap()
            .replace("OpenApiRouter::new()", "OpenApiRouter");
        for forbidden in [
            ".route(",
            ".route_service(",
            ".nest_service(",
            "Router::new()",
        ] {
            assert!(
                !source.contains(forbidden),
                "{} uses {forbidden}: mount /api handlers with `.routes(routes!(...))`",
                file.display()
            );
        }
    }
}

#[sqlx::test(migrations = false)]
async fn the_document_has_the_schemas_clients_rely_on(pool: PgPool) {
    let app = spawn_app(pool).await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let properties = |name: &str| -> Vec<String> {
        schemas[name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("schema {name} is missing: {schemas}"))
            .keys()
            .cloned()
            .collect()
    };

    let task = properties("TaskJson");
    for field in [
        "id",
        "title",
        "description",
        "link",
        "category",
        "priority",
        "status",
        "dueDate",
        "attachments",
        "reminders",
    ] {
        assert!(task.contains(&field.to_string()), "TaskJson.{field}");
    }
    let input = properties("TaskInput");
    for field in ["title", "priority", "dueDate", "spacedRevision", "knowBy"] {
        assert!(input.contains(&field.to_string()), "TaskInput.{field}");
    }
    let notification = properties("NotificationJson");
    for field in [
        "id",
        "type",
        "title",
        "message",
        "isRead",
        "createdAt",
        "relatedTaskId",
    ] {
        assert!(
            notification.contains(&field.to_string()),
            "NotificationJson.{field}"
        );
    }
    let error = properties("ErrorBody");
    for field in ["success", "message", "code", "errors"] {
        assert!(error.contains(&field.to_string()), "ErrorBody.{field}");
    }
    let profile = properties("UserProfile");
    for field in [
        "is_two_factor_enabled",
        "auth_provider",
        "has_password",
        "createdAt",
    ] {
        assert!(profile.contains(&field.to_string()), "UserProfile.{field}");
    }

    // The list answer is the envelope around `data.tasks`.
    let list = &doc["paths"]["/api/tasks"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    let list = serde_json::to_string(list).unwrap();
    assert!(list.contains("TaskListData"), "{list}");
    assert!(properties("TaskListData").contains(&"tasks".to_string()));

    // Both ways to authenticate, and protected routes name them.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["cookie"]["type"], "apiKey");
    assert_eq!(schemes["cookie"]["in"], "cookie");
    assert_eq!(schemes["cookie"]["name"], "spacedly_session");
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let security = serde_json::to_string(&doc["paths"]["/api/tasks"]["post"]["security"]).unwrap();
    assert!(
        security.contains("cookie") && security.contains("bearer"),
        "{security}"
    );
    assert!(doc["paths"]["/api/auth/login"]["post"]["security"].is_null());

    // Errors are described by the envelope; the live stream is an event stream.
    let default = &doc["paths"]["/api/tasks/{id}"]["delete"]["responses"]["default"];
    assert_eq!(
        default["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    let stream = &doc["paths"]["/api/notifications/stream"]["get"]["responses"]["200"]["content"];
    assert!(stream.get("text/event-stream").is_some(), "{stream}");
}

/// The paths the admission gate is told about are the ones mounted: the event stream it lets
/// through, and the upload route that admits itself.
#[sqlx::test(migrations = false)]
async fn the_paths_named_to_the_admission_gate_are_mounted(pool: PgPool) {
    let app = spawn_app(pool).await;
    let doc = document(&app).await;
    let paths = doc["paths"].as_object().unwrap();
    let stream = spacedly_server::notifications::api::STREAM_PATH;
    assert!(paths[stream].get("get").is_some(), "{stream} is mounted");
    let upload = spacedly_server::attachments::api::URL_PREFIX;
    assert!(
        paths
            .iter()
            .any(|(path, item)| path.starts_with(upload) && item.get("post").is_some()),
        "uploads are posted under {upload}"
    );
}

/// The document states the rules the server enforces: required fields, lengths, ranges and
/// types, so that a client (or a fuzzer) reading it sends what is accepted.
#[test]
fn the_document_states_what_the_server_enforces() {
    let doc = serde_json::to_value(spacedly_server::app::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let required = |schema: &str| -> Vec<String> {
        serde_json::from_value(schemas[schema]["required"].clone())
            .unwrap_or_else(|_| panic!("{schema} has no required list: {}", schemas[schema]))
    };
    let field = |schema: &str, name: &str| -> &Value {
        let field = &schemas[schema]["properties"][name];
        assert!(
            field.is_object(),
            "{schema}.{name} is missing: {}",
            schemas[schema]
        );
        field
    };
    let lengths = |schema: &str, name: &str| -> (Option<u64>, Option<u64>) {
        let f = field(schema, name);
        (f["minLength"].as_u64(), f["maxLength"].as_u64())
    };
    // Trimmed texts: the limit applies once the surrounding white space is gone, so the pattern
    // bounds the text between its first and last visible characters (`{0,48}` for 2 to 50).
    let trimmed_limit = |schema: &str, name: &str, inner: &str| {
        let pattern = field(schema, name)["pattern"].as_str().unwrap_or_default();
        assert!(
            pattern.contains(inner),
            "{schema}.{name}: {inner} not in {pattern:?}"
        );
    };

    for (schema, fields) in [
        ("RegisterBody", &["name", "email", "password"][..]),
        ("LoginBody", &["email", "password"]),
        ("VerifyOtpBody", &["otp"]),
        ("EmailBody", &["email"]),
        ("ResetBody", &["token", "password"]),
        ("TokenBody", &["token"]),
        ("ChangePasswordBody", &["current_password", "new_password"]),
        ("SetPasswordBody", &["password"]),
        ("DeleteBody", &["password"]),
        ("CreateTokenBody", &["name"]),
    ] {
        let listed = required(schema);
        for f in fields {
            assert!(
                listed.iter().any(|r| r == f),
                "{schema}.{f} is not required"
            );
        }
    }

    assert_eq!(lengths("RegisterBody", "name"), (Some(2), None));
    trimmed_limit("RegisterBody", "name", "{0,48}");
    assert_eq!(lengths("RegisterBody", "password"), (Some(8), Some(1024)));
    assert_eq!(field("RegisterBody", "email")["format"], "email");
    assert_eq!(lengths("ResetBody", "password"), (Some(8), Some(1024)));
    assert_eq!(
        lengths("SetPasswordBody", "password"),
        (Some(8), Some(1024))
    );
    assert_eq!(
        lengths("ChangePasswordBody", "new_password"),
        (Some(8), Some(1024))
    );
    assert_eq!(lengths("VerifyOtpBody", "otp"), (Some(6), Some(6)));
    trimmed_limit("CreateTokenBody", "name", "{0,98}");
    trimmed_limit("ProfileChanges", "name", "{0,48}");
    assert_eq!(field("ProfileChanges", "digest_hour")["maximum"], 23);
    trimmed_limit("TaskInput", "title", "{0,198}");
    assert_eq!(lengths("TaskInput", "description").1, Some(5000));
    trimmed_limit("TaskInput", "category", "{0,48}");
    assert_eq!(field("TaskInput", "desiredRetention")["minimum"], 0.7);
    assert_eq!(field("TaskInput", "desiredRetention")["maximum"], 0.97);

    // A task needs a title on creation, not on update.
    let body = |path: &str, method: &str| {
        doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        body("/api/tasks", "post"),
        "#/components/schemas/NewTaskInput"
    );
    assert!(serde_json::to_string(&schemas["NewTaskInput"])
        .unwrap()
        .contains(r#""required":["title"]"#));
    assert_eq!(
        body("/api/tasks/{id}", "put"),
        "#/components/schemas/TaskInput"
    );

    // A download is served with the type of what was stored.
    let served = &doc["paths"]["/api/attachments/{id}"]["get"]["responses"]["200"]["content"];
    for stored in spacedly_server::attachments::kind::FileKind::CONTENT_TYPES {
        let essence = stored.split(';').next().unwrap();
        assert!(
            served.get(essence).is_some(),
            "{essence} is not in {served}"
        );
    }

    // Paging is validated as whole numbers from 1 (empty: the default).
    for path in ["/api/notifications", "/api/tasks"] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        for name in ["page", "limit"] {
            let param = params.iter().find(|p| p["name"] == name).unwrap();
            let schema = serde_json::to_string(&param["schema"]).unwrap();
            assert!(
                schema.contains(r#""type":"integer""#) && schema.contains(r#""minimum":1"#),
                "{path} {name}: {schema}"
            );
        }
    }
}
