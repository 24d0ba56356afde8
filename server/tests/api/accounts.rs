//! Accounts through the JSON API, against a real database.

use crate::common::{
    last_link_token, last_sign_in_code, register, sent_emails, sign_in, spawn_app, Client, PASSWORD,
};
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn sign_up_creates_the_account_and_emails_a_confirmation_link(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    let body = register(&mut client, "  Ada@Example.com ").await;
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["user"]["email"], "ada@example.com");
    assert_eq!(body["data"]["user"]["name"], "Ada Lovelace");
    assert!(body["data"]["user"].get("password_hash").is_none());

    let emails = sent_emails(&app).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, "ada@example.com");
    assert!(emails[0].text.contains("/verify-email?token="));
}

#[sqlx::test(migrations = false)]
async fn a_taken_email_is_409_whatever_its_case(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    let (status, _, body) = client
        .post(
            "/api/auth/register",
            json!({"name": "Other", "email": "ADA@example.com", "password": "another long secret"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "conflict");
    assert_eq!(body["message"], "An account with this email already exists");
}

#[sqlx::test(migrations = false)]
async fn invalid_sign_up_names_each_field_and_creates_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    let (status, _, body) = client
        .post("/api/auth/register", json!({"name": "A", "email": "not-an-email", "password": "password", "timezone": "Mars/Base"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["name", "email", "password", "timezone"] {
        assert!(body["errors"][field].is_array(), "{field}: {body}");
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
    assert!(sent_emails(&app).await.is_empty());
}

#[sqlx::test(migrations = false)]
async fn sign_in_and_out_with_the_password_exactly_as_typed(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    assert!(client.cookie.is_none(), "sign-up does not sign in");

    let (status, _, body) = client
        .post(
            "/api/auth/login",
            json!({"email": "ADA@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["user"]["is_two_factor_enabled"], false);

    let (status, _, me) = client.get("/api/user/me").await;
    assert_eq!(status, StatusCode::OK);
    let user = &me["data"]["user"];
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["auth_provider"], "local");
    assert_eq!(user["has_password"], true);
    assert_eq!(user["timezone"], "Europe/London");
    assert!(user["createdAt"].is_string());

    let (status, _, _) = client.post("/api/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = client.get("/api/user/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
}

#[sqlx::test(migrations = false)]
async fn failed_sign_ins_all_look_the_same(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    let (s1, _, wrong_password) = client
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": "not the password"}),
        )
        .await;
    let (s2, _, unknown) = client
        .post(
            "/api/auth/login",
            json!({"email": "nobody@example.com", "password": "not the password"}),
        )
        .await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password, unknown);
    assert_eq!(unknown["message"], "Invalid email or password");
}

#[sqlx::test(migrations = false)]
async fn the_sixth_failed_sign_in_in_15_minutes_is_429(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    for _ in 0..5 {
        let (status, _, _) = client
            .post(
                "/api/auth/login",
                json!({"email": "ada@example.com", "password": "wrong wrong"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused now, from this IP.
    let (status, headers, body) = client
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "rate_limited");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60);

    // Another IP is not blocked by this one.
    let mut other = Client::new(&app);
    other.ip = "198.51.100.9";
    sign_in(&mut other, "ada@example.com").await;
}

#[sqlx::test(migrations = false)]
async fn remember_me_decides_the_cookie_lifetime_and_sign_in_rotates_the_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;

    let (_, headers, _) = client
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    let session_cookie = |headers: &axum::http::HeaderMap| {
        headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("spacedly_session="))
            .expect("a session cookie")
    };
    let cookie = session_cookie(&headers);
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires"),
        "browser-session cookie: {cookie}"
    );
    let first = client.cookie.clone();

    let (_, headers, _) = client
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD, "rememberMe": true}),
        )
        .await;
    let cookie = session_cookie(&headers);
    assert!(
        cookie.contains("Max-Age=2592000") || cookie.contains("Expires"),
        "{cookie}"
    );
    assert_ne!(first, client.cookie, "a new session id at each sign-in");
}

#[sqlx::test(migrations = false)]
async fn two_factor_sign_in_needs_the_emailed_code_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    sign_in(&mut client, "ada@example.com").await;

    let (status, _, body) = client
        .post("/api/user/enabled-2fa", json!({"is_Enabled": "true"}))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a string is not a boolean: {body}"
    );
    let (status, _, _) = client
        .post("/api/user/enabled-2fa", json!({"is_Enabled": true}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let mut browser = Client::new(&app);
    let (status, _, body) = browser
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["two_factor_required"], true);
    assert_eq!(body["message"], "OTP sent to your registered email");
    let (status, _, _) = browser.get("/api/user/me").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "not signed in before the code"
    );

    let code = last_sign_in_code(&app, "ada@example.com").await;
    let stored: String =
        sqlx::query_scalar("SELECT code_hash FROM one_time_codes WHERE purpose = 'login_otp'")
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    assert_ne!(stored, code, "only a hash is stored");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _, body) = browser
        .post(
            "/api/auth/verify-otp",
            json!({"email": "ada@example.com", "otp": wrong}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, _, unknown) = browser
        .post(
            "/api/auth/verify-otp",
            json!({"email": "nobody@example.com", "otp": wrong}),
        )
        .await;
    assert_eq!(
        body["message"], unknown["message"],
        "same answer whether the account exists"
    );

    let (status, _, body) = browser
        .post(
            "/api/auth/verify-otp",
            json!({"email": "ada@example.com", "otp": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(browser.get("/api/user/me").await.0, StatusCode::OK);

    let mut replay = Client::new(&app);
    let (status, _, _) = replay
        .post(
            "/api/auth/verify-otp",
            json!({"email": "ada@example.com", "otp": code}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a code works once");
}

#[sqlx::test(migrations = false)]
async fn a_sign_in_code_dies_after_five_wrong_guesses(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    sign_in(&mut client, "ada@example.com").await;
    client
        .post("/api/user/enabled-2fa", json!({"is_Enabled": true}))
        .await;

    let mut browser = Client::new(&app);
    browser.ip = "198.51.100.1";
    browser
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    let code = last_sign_in_code(&app, "ada@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for i in 0..5 {
        // Different IPs, so this is the code's own limit and not the per-IP one.
        browser.ip = [
            "198.51.100.2",
            "198.51.100.3",
            "198.51.100.4",
            "198.51.100.5",
            "198.51.100.6",
        ][i];
        browser
            .post(
                "/api/auth/verify-otp",
                json!({"email": "ada@example.com", "otp": wrong}),
            )
            .await;
    }
    browser.ip = "198.51.100.7";
    let (status, _, _) = browser
        .post(
            "/api/auth/verify-otp",
            json!({"email": "ada@example.com", "otp": code}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrations = false)]
async fn forgot_password_answers_the_same_and_the_link_works_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    let mut other_session = Client::new(&app);
    sign_in(&mut other_session, "ada@example.com").await;

    let mut anon = Client::new(&app);
    let (s1, _, known) = anon
        .post(
            "/api/auth/forgot-password",
            json!({"email": "ada@example.com"}),
        )
        .await;
    anon.ip = "198.51.100.20";
    let (s2, _, unknown) = anon
        .post(
            "/api/auth/forgot-password",
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(known, unknown);
    assert_eq!(
        known["message"],
        "If the email exists, a reset link has been sent"
    );

    let token = last_link_token(&app, "ada@example.com", "Reset").await;
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM one_time_codes WHERE code_hash = $1")
            .bind(&token)
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    assert_eq!(stored, 0, "the token itself is never stored");

    let (status, _, body) = anon
        .post(
            "/api/auth/reset-password",
            json!({"token": token, "password": "password"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "weak password refused: {body}"
    );
    let (status, _, body) = anon
        .post(
            "/api/auth/reset-password",
            json!({"token": token, "password": "brand new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = anon
        .post(
            "/api/auth/reset-password",
            json!({"token": token, "password": "another passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "single use");

    assert_eq!(
        other_session.get("/api/user/me").await.0,
        StatusCode::UNAUTHORIZED,
        "sessions end"
    );
    let emails = sent_emails(&app).await;
    assert!(emails
        .iter()
        .any(|e| e.subject.contains("password was changed")));

    let mut fresh = Client::new(&app);
    let (status, _, _) = fresh
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": "brand new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[sqlx::test(migrations = false)]
async fn reset_requests_are_limited_to_three_an_hour_per_email(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut anon = Client::new(&app);
    for (i, ip) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .iter()
        .enumerate()
    {
        anon.ip = ip;
        let (status, _, _) = anon
            .post(
                "/api/auth/forgot-password",
                json!({"email": "ada@example.com"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "request {i}");
    }
    anon.ip = "198.51.100.4";
    let (status, headers, _) = anon
        .post(
            "/api/auth/forgot-password",
            json!({"email": "ada@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
}

#[sqlx::test(migrations = false)]
async fn asking_for_links_does_not_use_up_the_tries_to_reset(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    let mut anon = Client::new(&app);
    for _ in 0..3 {
        let (status, _, _) = anon
            .post(
                "/api/auth/forgot-password",
                json!({"email": "ada@example.com"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let token = last_link_token(&app, "ada@example.com", "Reset").await;
    let (status, _, body) = anon
        .post(
            "/api/auth/reset-password",
            json!({"token": token, "password": "brand new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test(migrations = false)]
async fn sign_out_everywhere_ends_the_other_sessions(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut phone = Client::new(&app);
    let mut laptop = Client::new(&app);
    register(&mut phone, "ada@example.com").await;
    sign_in(&mut phone, "ada@example.com").await;
    sign_in(&mut laptop, "ada@example.com").await;
    let (status, _, _) = laptop.post("/api/auth/logout-all", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(phone.get("/api/user/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.get("/api/user/me").await.0, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = false)]
async fn changing_the_password_keeps_this_session_and_ends_the_others(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut here = Client::new(&app);
    let mut elsewhere = Client::new(&app);
    register(&mut here, "ada@example.com").await;
    sign_in(&mut here, "ada@example.com").await;
    sign_in(&mut elsewhere, "ada@example.com").await;

    let (status, _, body) = here
        .post(
            "/api/user/change-password",
            json!({"current_password": "wrong one", "new_password": "brand new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["current_password"].is_array());

    let (status, _, body) = here
        .post(
            "/api/user/change-password",
            json!({"current_password": PASSWORD, "new_password": "brand new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(here.get("/api/user/me").await.0, StatusCode::OK);
    assert_eq!(
        elsewhere.get("/api/user/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrations = false)]
async fn the_confirmation_link_verifies_the_email_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    sign_in(&mut client, "ada@example.com").await;
    assert_eq!(
        client.get("/api/user/me").await.2["data"]["user"]["email_verified"],
        false
    );

    let token = last_link_token(&app, "ada@example.com", "Confirm").await;
    let (status, _, _) = client
        .post("/api/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        client.get("/api/user/me").await.2["data"]["user"]["email_verified"],
        true
    );
    let (status, _, _) = client
        .post("/api/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrations = false)]
async fn profile_changes_are_validated_and_saved(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    sign_in(&mut client, "ada@example.com").await;

    let (status, _, body) = client
        .request(
            "PATCH",
            "/api/user/me",
            Some(json!({"timezone": "Nowhere/City", "digest_hour": 24})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["timezone"].is_array() && body["errors"]["digest_hour"].is_array());

    let (status, _, body) = client
        .request(
            "PATCH",
            "/api/user/me",
            Some(json!({"name": "Countess Ada", "timezone": "Asia/Kolkata", "digest_hour": 7})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = &body["data"]["user"];
    assert_eq!(user["name"], "Countess Ada");
    assert_eq!(user["timezone"], "Asia/Kolkata");
    assert_eq!(user["digest_hour"], 7);
}

#[sqlx::test(migrations = false)]
async fn malformed_json_gets_the_envelope(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app
        .send(
            axum::http::Request::post("/api/auth/login")
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(crate::common::json(response).await["success"], false);
}

#[sqlx::test(migrations = false)]
async fn personal_access_tokens_authenticate_the_api_until_revoked(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut web = Client::new(&app);
    register(&mut web, "ada@example.com").await;
    sign_in(&mut web, "ada@example.com").await;

    let (status, _, body) = web.post("/api/tokens", json!({"name": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["name"].is_array());

    let (status, _, body) = web
        .post(
            "/api/tokens",
            json!({"name": "backup script", "expiresInDays": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secret = body["data"]["secret"].as_str().unwrap().to_string();
    let id = body["data"]["token"]["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("spd_"));
    assert!(body["data"]["token"]["expiresAt"].is_string());

    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE token_hash = $1")
        .bind(&secret)
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "only the hash is stored");

    let mut script = Client::new(&app);
    script.bearer = Some(secret.clone());
    let (status, _, me) = script.get("/api/user/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["data"]["user"]["email"], "ada@example.com");

    let (_, _, list) = web.get("/api/tokens").await;
    let listed = list["data"]["tokens"].to_string();
    assert!(listed.contains("backup script") && !listed.contains(&secret));
    assert!(list["data"]["tokens"][0]["lastUsedAt"].is_string());

    // Another user cannot see or revoke it.
    let mut eve = Client::new(&app);
    eve.ip = "198.51.100.66";
    register(&mut eve, "eve@example.com").await;
    sign_in(&mut eve, "eve@example.com").await;
    let (status, _, _) = eve
        .request("DELETE", &format!("/api/tokens/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(script.get("/api/user/me").await.0, StatusCode::OK);

    let (status, _, _) = web
        .request("DELETE", &format!("/api/tokens/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(script.get("/api/user/me").await.0, StatusCode::UNAUTHORIZED);
}

// "Last used" moves at most once a minute, so a script's parallel calls are reads, not writes
// queued behind one row lock.
#[sqlx::test(migrations = false)]
async fn a_token_is_marked_used_at_most_once_a_minute(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut web = Client::new(&app);
    register(&mut web, "ada@example.com").await;
    sign_in(&mut web, "ada@example.com").await;
    let (_, _, body) = web.post("/api/tokens", json!({"name": "sync"})).await;
    let mut script = Client::new(&app);
    script.bearer = Some(body["data"]["secret"].as_str().unwrap().to_string());
    let mark = || async {
        sqlx::query_as::<_, (Option<chrono::DateTime<chrono::Utc>>, String)>(
            "SELECT last_used_at, xmin::text FROM api_tokens",
        )
        .fetch_one(&app.state.pool)
        .await
        .unwrap()
    };
    assert_eq!(mark().await.0, None, "never used yet");

    assert_eq!(script.get("/api/user/me").await.0, StatusCode::OK);
    let first = mark().await;
    let micros = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp_micros());
    assert_eq!(micros(first.0), micros(Some(app.state.now())));
    app.state.clock.advance(chrono::Duration::seconds(59));
    assert_eq!(script.get("/api/user/me").await.0, StatusCode::OK);
    assert_eq!(mark().await, first, "the row was not written again");

    app.state.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(script.get("/api/user/me").await.0, StatusCode::OK);
    assert_eq!(micros(mark().await.0), micros(Some(app.state.now())));
}

#[sqlx::test(migrations = false)]
async fn a_bearer_header_never_falls_back_to_the_cookie(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    sign_in(&mut client, "ada@example.com").await;
    client.bearer = Some("spd_not-a-real-token".into());
    assert_eq!(client.get("/api/user/me").await.0, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = false)]
async fn export_downloads_the_users_data(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    sign_in(&mut client, "ada@example.com").await;
    client.post("/api/tokens", json!({"name": "cli"})).await;
    let (status, headers, body) = client.get("/api/user/export").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    assert_eq!(body["data"]["user"]["email"], "ada@example.com");
    assert_eq!(body["data"]["apiTokens"][0]["name"], "cli");
    assert!(
        !body.to_string().contains("argon2"),
        "no password hash in the export"
    );
}

#[sqlx::test(migrations = false)]
async fn deleting_the_account_needs_the_password_and_removes_everything(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    sign_in(&mut client, "ada@example.com").await;
    client.post("/api/tokens", json!({"name": "cli"})).await;

    let (status, _, body) = client
        .request(
            "DELETE",
            "/api/user/me",
            Some(json!({"password": "not it"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["password"].is_array());
    let (status, _, _) = client.request("DELETE", "/api/user/me", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _, _) = client
        .request(
            "DELETE",
            "/api/user/me",
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(client.get("/api/user/me").await.0, StatusCode::UNAUTHORIZED);
    for table in ["users", "api_tokens", "one_time_codes", "sessions"] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&app.state.pool)
                .await
                .unwrap();
        assert_eq!(n, 0, "{table} emptied");
    }
    let mut again = Client::new(&app);
    let (status, _, _) = again
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = false)]
async fn a_sixty_character_email_signs_in(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    let email = format!("{}@example.com", "a".repeat(48));
    assert_eq!(email.len(), 60);
    register(&mut client, &email).await;
    sign_in(&mut client, &email).await;
    assert_eq!(
        client.get("/api/user/me").await.2["data"]["user"]["email"],
        email.as_str()
    );
}

#[sqlx::test(migrations = false)]
async fn an_expired_reset_link_is_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    client
        .post(
            "/api/auth/forgot-password",
            json!({"email": "ada@example.com"}),
        )
        .await;
    let token = last_link_token(&app, "ada@example.com", "Reset").await;
    // The link lives one hour.
    app.state.clock.advance(chrono::Duration::minutes(61));
    let (status, _, body) = client
        .post(
            "/api/auth/reset-password",
            json!({"token": token, "password": "brand new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("expired"));
    sign_in(&mut client, "ada@example.com").await;
}

#[sqlx::test(migrations = false)]
async fn an_expired_sign_in_code_is_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    sign_in(&mut client, "ada@example.com").await;
    client
        .post("/api/user/enabled-2fa", json!({"is_Enabled": true}))
        .await;
    let mut browser = Client::new(&app);
    browser.ip = "198.51.100.31";
    browser
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    let code = last_sign_in_code(&app, "ada@example.com").await;
    // The code lives five minutes.
    app.state
        .clock
        .advance(chrono::Duration::minutes(5) + chrono::Duration::seconds(1));
    let (status, _, _) = browser
        .post(
            "/api/auth/verify-otp",
            json!({"email": "ada@example.com", "otp": code}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn claims(sub: &str, email: &str, verified: bool) -> spacedly_server::auth::google::Claims {
    serde_json::from_value(json!({
        "iss": "https://accounts.google.com", "aud": "client", "exp": 0, "sub": sub,
        "email": email, "email_verified": verified, "name": "Google Name"
    }))
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn google_identities_create_link_and_never_take_over_unverified(pool: PgPool) {
    use spacedly_server::auth::google::link_or_create;
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;

    // An unverified provider email cannot claim the existing account.
    let refused = link_or_create(&app.state, &claims("evil-1", "ADA@example.com", false)).await;
    assert!(matches!(
        refused,
        Err(spacedly_server::AppError::Conflict(_))
    ));
    let identities: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_identities")
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(identities, 0);

    // A verified one links to an account whose owner confirmed the email, keeping its
    // password (an unconfirmed one is secured first: see tests/hardening.rs).
    let token = last_link_token(&app, "ada@example.com", "Confirm").await;
    let (status, _, _) = client
        .post("/api/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let linked = link_or_create(&app.state, &claims("google-1", "ada@example.com", true))
        .await
        .unwrap();
    assert_eq!(linked.name, "Ada Lovelace");
    assert!(linked.email_verified && linked.has_password());
    let again = link_or_create(&app.state, &claims("google-1", "changed@example.com", true))
        .await
        .unwrap();
    assert_eq!(again.id, linked.id, "the subject decides, not the email");

    // A new person gets a new account without a password.
    let created = link_or_create(&app.state, &claims("google-2", "grace@example.com", true))
        .await
        .unwrap();
    assert_ne!(created.id, linked.id);
    assert_eq!(created.name, "Google Name");
    assert_eq!(created.auth_provider(), "google");
}

#[sqlx::test(migrations = false)]
async fn sessions_are_listed_and_one_can_be_signed_out(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut laptop = Client::new(&app);
    let mut phone = Client::new(&app);
    phone.ip = "198.51.100.50";
    register(&mut laptop, "ada@example.com").await;
    sign_in(&mut laptop, "ada@example.com").await;
    sign_in(&mut phone, "ada@example.com").await;

    let (status, _, body) = laptop.get("/api/user/sessions").await;
    assert_eq!(status, StatusCode::OK);
    let sessions = body["data"]["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{body}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["ip"], "198.51.100.50");
    let other_id = other["id"].as_str().unwrap().to_string();
    assert!(
        !laptop.cookie.as_ref().unwrap().contains(&other_id),
        "the id is a digest, not the cookie"
    );

    // Someone else cannot end it.
    let mut eve = Client::new(&app);
    eve.ip = "198.51.100.66";
    register(&mut eve, "eve@example.com").await;
    sign_in(&mut eve, "eve@example.com").await;
    let (status, _, _) = eve
        .request("DELETE", &format!("/api/user/sessions/{other_id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(phone.get("/api/user/me").await.0, StatusCode::OK);

    let (status, _, _) = laptop
        .request("DELETE", &format!("/api/user/sessions/{other_id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(phone.get("/api/user/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.get("/api/user/me").await.0, StatusCode::OK);
}
