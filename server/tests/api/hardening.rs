//! The holes of issue 7, each closed with a test that failed on the code before.

use std::net::SocketAddr;

use crate::common::{
    last_link_token, register, sign_in, spawn_app, spawn_app_with, Client, PASSWORD,
};
use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
    routing::get,
    Router,
};
use serde_json::json;
use sqlx::PgPool;

async fn create_token(client: &mut Client<'_>, body: serde_json::Value) -> (StatusCode, String) {
    let (status, _, body) = client.post("/api/tokens", body).await;
    let secret = body["data"]["secret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (status, secret)
}

async fn bearer_status(app: &crate::common::TestApp, secret: &str) -> StatusCode {
    let mut script = Client::new(app);
    script.bearer = Some(secret.to_string());
    script.get("/api/user/me").await.0
}

// Item 2: tokens outlive a password reset.
#[sqlx::test(migrations = false)]
async fn a_password_reset_ends_personal_access_tokens(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut web = Client::new(&app);
    register(&mut web, "ada@example.com").await;
    sign_in(&mut web, "ada@example.com").await;
    let (status, secret) = create_token(&mut web, json!({"name": "script"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(bearer_status(&app, &secret).await, StatusCode::OK);

    let mut anon = Client::new(&app);
    anon.post(
        "/api/auth/forgot-password",
        json!({"email": "ada@example.com"}),
    )
    .await;
    let token = last_link_token(&app, "ada@example.com", "Reset").await;
    let (status, _, body) = anon
        .post(
            "/api/auth/reset-password",
            json!({"token": token, "password": "another long passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(bearer_status(&app, &secret).await, StatusCode::UNAUTHORIZED);
}

// Item 2: creating a token needs a recent authentication.
#[sqlx::test(migrations = false)]
async fn creating_a_token_needs_a_recent_sign_in_or_the_password(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut web = Client::new(&app);
    register(&mut web, "ada@example.com").await;
    sign_in(&mut web, "ada@example.com").await;
    let (status, _) = create_token(&mut web, json!({"name": "fresh"})).await;
    assert_eq!(status, StatusCode::CREATED, "a fresh sign-in is enough");

    app.state.clock.advance(chrono::Duration::minutes(11));
    let (status, _) = create_token(&mut web, json!({"name": "stale"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an old session alone is not");
    let (status, _) = create_token(
        &mut web,
        json!({"name": "wrong", "password": "not my password"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, secret) =
        create_token(&mut web, json!({"name": "proved", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::CREATED);

    // A token cannot mint another token without the password.
    let mut script = Client::new(&app);
    script.bearer = Some(secret);
    let (status, _) = create_token(&mut script, json!({"name": "child"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

// Tokens: parallel creations cannot pass the per-user limit together.
#[sqlx::test(migrations = false)]
async fn parallel_token_creations_stop_at_the_limit(pool: PgPool) {
    let app = crate::common::spawn_app(pool).await;
    let mut ada = Client::new(&app);
    register(&mut ada, "ada@example.com").await;
    sign_in(&mut ada, "ada@example.com").await;
    let cookie = ada.cookie.clone();
    let limit = spacedly_server::auth::api_tokens::MAX_TOKENS as usize;
    let statuses = futures::future::join_all((0..limit + 10).map(|i| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let mut client = Client::new(app);
            client.cookie = cookie;
            client
                .post(
                    "/api/tokens",
                    serde_json::json!({ "name": format!("token {i}") }),
                )
                .await
                .0
        }
    }))
    .await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, refused), (limit, 10), "{statuses:?}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(stored as usize, limit);
}

// Item 2: tokens end with the account.
#[sqlx::test(migrations = false)]
async fn deleting_the_account_ends_its_tokens(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut web = Client::new(&app);
    register(&mut web, "ada@example.com").await;
    sign_in(&mut web, "ada@example.com").await;
    let (_, secret) = create_token(&mut web, json!({"name": "script"})).await;
    let (status, _, _) = web
        .request(
            "DELETE",
            "/api/user/me",
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bearer_status(&app, &secret).await, StatusCode::UNAUTHORIZED);
}

async fn login_from_peer(
    app: &crate::common::TestApp,
    peer: &str,
    forwarded_for: &str,
    password: &str,
) -> StatusCode {
    let mut request = Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .body(Body::from(
            json!({"email": "ada@example.com", "password": password}).to_string(),
        ))
        .unwrap();
    let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    app.send(request).await.status()
}

// Item 5: X-Forwarded-For only from configured proxies.
#[sqlx::test(migrations = false)]
async fn forwarded_for_from_an_untrusted_peer_cannot_dodge_the_limit(pool: PgPool) {
    let app = spawn_app_with(pool, |c| {
        c.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    for i in 0..5 {
        let status =
            login_from_peer(&app, "198.51.100.1", &format!("192.0.2.{i}"), "wrong wrong").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // A new forged address changes nothing: the peer is not a proxy of ours.
    let status = login_from_peer(&app, "198.51.100.1", "192.0.2.99", "wrong wrong").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Through our proxy, the forwarded client is a different client.
    let status = login_from_peer(&app, "10.1.2.3", "192.0.2.99", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

// Item 5: IPv6 clients are keyed by their /64.
#[sqlx::test(migrations = false)]
async fn ipv6_clients_are_limited_by_their_64(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    let addresses = [
        "2001:db8:0:1::1",
        "2001:db8:0:1::2",
        "2001:db8:0:1:aaaa::3",
        "2001:db8:0:1::4",
        "2001:db8:0:1::5",
    ];
    for ip in addresses {
        let mut c = Client::new(&app);
        c.ip = ip;
        let (status, _, _) = c
            .post(
                "/api/auth/login",
                json!({"email": "ada@example.com", "password": "wrong wrong"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let mut same_net = Client::new(&app);
    same_net.ip = "2001:db8:0:1:ffff::6";
    let (status, _, _) = same_net
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": "wrong wrong"}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

// Item 6: development-only routes answer only to loopback clients.
#[sqlx::test(migrations = false)]
async fn dev_routes_answer_only_to_loopback_clients(pool: PgPool) {
    let app = spawn_app(pool).await;
    // The dev mailbox lives in the app crate; stand in for it with routes at its paths.
    let pages = Router::new()
        .route("/dev/mailbox", get(|| async { "mailbox" }))
        .route(
            "/_sf/dev/mailbox",
            axum::routing::post(|| async { "mailbox" }),
        );
    let router = spacedly_server::app::layers(
        spacedly_server::app::routes(app.state.clone()).merge(pages),
        &app.state,
    );
    let send = |method: &str, path: &str, ip: &str| {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("x-forwarded-for", ip)
            .body(Body::empty())
            .unwrap();
        let router = router.clone();
        async move {
            use tower::ServiceExt;
            router.oneshot(request).await.unwrap().status()
        }
    };
    assert_eq!(
        send("GET", "/dev/mailbox", "127.0.0.1").await,
        StatusCode::OK
    );
    assert_eq!(send("GET", "/dev/mailbox", "::1").await, StatusCode::OK);
    assert_eq!(
        send("GET", "/dev/mailbox", "203.0.113.7").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send("POST", "/_sf/dev/mailbox", "203.0.113.7").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send("POST", "/_sf/dev/mailbox", "127.0.0.1").await,
        StatusCode::OK
    );
}

// Item 4: the Google flow keeps only a local `next`.
#[sqlx::test(migrations = false)]
async fn google_sign_in_keeps_only_a_local_next(pool: PgPool) {
    let app = spawn_app_with(pool, |c| {
        c.google = Some(spacedly_server::config::OidcConfig {
            client_id: "client".into(),
            client_secret: "client-secret".to_string().into(),
            issuer: "https://accounts.google.com".into(),
            auth_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            token_url: "https://oauth2.googleapis.com/token".into(),
            redirect_url: "http://127.0.0.1:3000/api/auth/google/callback".into(),
        });
    })
    .await;
    for (next, kept) in [
        ("%2Ftasks%3Fstatus%3Dtodo", Some("/tasks?status=todo")),
        ("%2F%09%2Fevil.example", None),
        ("%2F%5Cevil.example", None),
        ("https%3A%2F%2Fevil.example", None),
    ] {
        let mut browser = Client::new(&app);
        let (status, headers, _) = browser.get(&format!("/api/auth/google?next={next}")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{next}");
        assert!(headers["location"]
            .to_str()
            .unwrap()
            .starts_with("https://accounts.google.com/"));
        let stored: Option<String> = sqlx::query_scalar(
            "SELECT data -> 'oidc_flow' ->> 'next' FROM sessions WHERE data ? 'oidc_flow'",
        )
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
        assert_eq!(stored.as_deref(), kept, "{next}");
        sqlx::query("DELETE FROM sessions")
            .execute(&app.state.pool)
            .await
            .unwrap();
    }
    // A NUL is refused before anything starts (no sign-in flow is stored).
    let mut browser = Client::new(&app);
    let (status, _, body) = browser.get("/api/auth/google?next=%2Fx%00y").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"]["next"].is_array(), "{body}");
    let flows: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE data ? 'oidc_flow'")
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(flows, 0);
}

// Item 9: secrets never in logs.
#[sqlx::test(migrations = false)]
async fn the_app_state_debug_output_shows_no_secret(pool: PgPool) {
    let app = spawn_app(pool).await;
    let shown = format!("{:?}", app.state);
    assert!(!shown.contains("test-secret-key"), "{shown}");
    assert!(!shown.contains("test-metrics-token"), "{shown}");
}

async fn login_status(router: axum::Router, ip: String, password: &'static str) -> StatusCode {
    use tower::ServiceExt;
    let request = Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .header("x-forwarded-for", ip)
        .body(Body::from(
            json!({"email": "ada@example.com", "password": password}).to_string(),
        ))
        .unwrap();
    router.oneshot(request).await.unwrap().status()
}

// Item 3's parallel guesses: see tests/login_burst.rs (it reads a process-wide counter).

// Item 3: a per-account limit for unknown clients; known browsers keep getting in.
#[sqlx::test(migrations = false)]
async fn guesses_from_many_addresses_lock_out_unknown_clients_not_a_known_browser(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut owner = Client::new(&app);
    register(&mut owner, "ada@example.com").await;
    sign_in(&mut owner, "ada@example.com").await;
    let device = owner
        .device_cookie
        .clone()
        .expect("a device cookie at sign-in");
    assert!(device.starts_with("spacedly_device="));

    // One guess from each of many addresses: no per-address limit is reached...
    for i in 0..10 {
        let status = login_status(app.router.clone(), format!("192.0.2.{i}"), "wrong wrong").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // ...but the account is now closed to clients it does not know, right password or not.
    let status = login_status(app.router.clone(), "192.0.2.200".into(), PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // The owner's browser still gets in, from anywhere.
    owner.ip = "198.51.100.77";
    let (status, _, body) = owner
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A forged device cookie is an unknown client.
    let mut forger = Client::new(&app);
    forger.ip = "192.0.2.201";
    let (name, value) = device.split_once('=').unwrap();
    forger.device_cookie = Some(format!("{name}=x{}", &value[1..]));
    let (status, _, _) = forger
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // A device cookie of another account does not open this one.
    let mut eve = Client::new(&app);
    eve.ip = "192.0.2.202";
    register(&mut eve, "eve@example.com").await;
    sign_in(&mut eve, "eve@example.com").await;
    let (status, _, _) = eve
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

// Item 3: a known browser has a limit of its own.
#[sqlx::test(migrations = false)]
async fn a_known_browser_keeps_its_own_limit(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut owner = Client::new(&app);
    register(&mut owner, "ada@example.com").await;
    sign_in(&mut owner, "ada@example.com").await;
    for i in 0..5 {
        // A new address each time: only the device limit can stop these.
        owner.ip = [
            "192.0.2.1",
            "192.0.2.2",
            "192.0.2.3",
            "192.0.2.4",
            "192.0.2.5",
        ][i];
        let (status, _, _) = owner
            .post(
                "/api/auth/login",
                json!({"email": "ada@example.com", "password": "wrong wrong"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    owner.ip = "192.0.2.6";
    let (status, _, _) = owner
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

// Item 8: one-time codes are unique per user, not across users.
#[sqlx::test(migrations = false)]
async fn two_users_can_hold_the_same_sign_in_code(pool: PgPool) {
    use spacedly_server::auth::codes::{self, Purpose};
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    client.ip = "198.51.100.2";
    register(&mut client, "grace@example.com").await;
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM users ORDER BY email")
        .fetch_all(&app.state.pool)
        .await
        .unwrap();
    let mut conn = app.state.pool.acquire().await.unwrap();
    for id in &ids {
        codes::issue_with_secret(
            &mut conn,
            app.state.now(),
            *id,
            Purpose::LoginOtp,
            "123456",
            chrono::Duration::minutes(5),
        )
        .await
        .expect("the same digits for another user");
    }
    for id in &ids {
        assert!(
            codes::check_login_code(&app.state.pool, app.state.now(), *id, "123456")
                .await
                .unwrap()
        );
    }
}

async fn enable_two_factor(app: &crate::common::TestApp) {
    let mut client = Client::new(app);
    register(&mut client, "ada@example.com").await;
    sign_in(&mut client, "ada@example.com").await;
    let (status, _, _) = client
        .post("/api/user/enabled-2fa", json!({"is_Enabled": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

// Item 11: the 2FA code is accepted only in the session that passed the password step.
#[sqlx::test(migrations = false)]
async fn a_sign_in_code_works_only_in_the_session_that_gave_the_password(pool: PgPool) {
    let app = spawn_app(pool).await;
    enable_two_factor(&app).await;
    let mut browser = Client::new(&app);
    let (status, _, body) = browser
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(body["data"]["two_factor_required"], true, "{status} {body}");
    let code = crate::common::last_sign_in_code(&app, "ada@example.com").await;

    // Someone who read the code (but never gave the password) cannot use it.
    let mut reader = Client::new(&app);
    reader.ip = "198.51.100.8";
    let (status, _, _) = reader
        .post(
            "/api/auth/verify-otp",
            json!({"email": "ada@example.com", "otp": code}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reader.get("/api/user/me").await.0, StatusCode::UNAUTHORIZED);

    let (status, _, body) = browser
        .post(
            "/api/auth/verify-otp",
            json!({"email": "ada@example.com", "otp": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(browser.get("/api/user/me").await.0, StatusCode::OK);
}

// Item 1: account pre-hijacking.
#[sqlx::test(migrations = false)]
async fn linking_google_ends_what_an_unverified_sign_up_set_up(pool: PgPool) {
    use spacedly_server::auth::google::{link_or_create, Claims};
    let app = spawn_app(pool).await;
    // A stranger signs up first with the owner's address and a password they know.
    let mut stranger = Client::new(&app);
    register(&mut stranger, "ada@example.com").await;
    sign_in(&mut stranger, "ada@example.com").await;
    let (status, secret) = create_token(&mut stranger, json!({"name": "backdoor"})).await;
    assert_eq!(status, StatusCode::CREATED);

    // The owner signs in with Google, which vouches for the address.
    let claims: Claims = serde_json::from_value(json!({
        "iss": "https://accounts.google.com", "aud": "client", "exp": 0, "sub": "owner-1",
        "email": "ada@example.com", "email_verified": true, "name": "Ada"
    }))
    .unwrap();
    let user = link_or_create(&app.state, &claims).await.unwrap();
    assert!(user.email_verified);
    assert!(!user.has_password(), "the stranger's password is gone");

    assert_eq!(
        stranger.get("/api/user/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(bearer_status(&app, &secret).await, StatusCode::UNAUTHORIZED);
    let mut again = Client::new(&app);
    again.ip = "198.51.100.40";
    let (status, _, _) = again
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let told = crate::common::sent_emails(&app)
        .await
        .into_iter()
        .any(|e| e.to == "ada@example.com" && e.subject.contains("secured"));
    assert!(told, "the owner is told");
}

async fn queued_job_payloads(pool: &PgPool) -> Vec<String> {
    let rows: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT job FROM apalis.jobs WHERE job_type = 'email' AND status = 'Pending'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|b| String::from_utf8(b).unwrap())
        .collect()
}

// Item 7: the queue holds ids, never a live link or code.
#[sqlx::test(migrations = false)]
async fn queued_emails_carry_ids_and_no_secret(pool: PgPool) {
    let app = spawn_app(pool).await;
    enable_two_factor(&app).await;
    crate::common::run_email_jobs(&app).await;
    let mut browser = Client::new(&app);
    browser.ip = "198.51.100.3";
    browser
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    browser
        .post(
            "/api/auth/forgot-password",
            json!({"email": "ada@example.com"}),
        )
        .await;
    let payloads = queued_job_payloads(&app.state.pool).await;
    assert_eq!(payloads.len(), 2, "{payloads:?}");
    for payload in &payloads {
        assert!(!payload.contains("token="), "{payload}");
        assert!(!payload.contains("Hello"), "not rendered: {payload}");
        assert!(!payload.contains("\"code\""), "{payload}");
    }
    // No secret exists before the email is sent...
    let armed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM one_time_codes
         WHERE purpose IN ('login_otp', 'password_reset') AND code_hash IS NOT NULL",
    )
    .fetch_one(&app.state.pool)
    .await
    .unwrap();
    assert_eq!(armed, 0);
    // ...and the sent code and link work.
    let code = crate::common::last_sign_in_code(&app, "ada@example.com").await;
    let (status, _, body) = browser
        .post("/api/auth/verify-otp", json!({"otp": code}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = last_link_token(&app, "ada@example.com", "Reset").await;
    let (status, _, _) = browser
        .post(
            "/api/auth/reset-password",
            json!({"token": token, "password": "another long passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

// Item 7: a link or code that is no longer valid is not sent.
#[sqlx::test(migrations = false)]
async fn an_expired_or_superseded_code_is_not_sent(pool: PgPool) {
    let app = spawn_app(pool).await;
    enable_two_factor(&app).await;
    crate::common::run_email_jobs(&app).await;
    let mut browser = Client::new(&app);
    browser.ip = "198.51.100.4";
    browser
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    // The worker was down for longer than the code lives.
    app.state.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(
        crate::common::run_email_jobs(&app).await,
        0,
        "expired: not sent"
    );

    // Two requests before the worker runs: only the newest code is sent.
    browser
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    app.state.clock.advance(chrono::Duration::minutes(2));
    let (status, _, _) = browser.post("/api/auth/resend-otp", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(crate::common::run_email_jobs(&app).await, 1);
}

// Item 7: deleting the account removes its queued and finished jobs.
#[sqlx::test(migrations = false)]
async fn deleting_the_account_removes_its_jobs(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut web = Client::new(&app);
    register(&mut web, "ada@example.com").await;
    crate::common::run_email_jobs(&app).await; // a finished job
    sign_in(&mut web, "ada@example.com").await;
    web.post("/api/auth/resend-verification", json!({})).await;
    app.state.clock.advance(chrono::Duration::minutes(2));
    web.post("/api/auth/resend-verification", json!({})).await; // a queued one
    web.post(
        "/api/auth/forgot-password",
        json!({"email": "ada@example.com"}),
    )
    .await; // one named by address only
    let mut other = Client::new(&app);
    other.ip = "198.51.100.70";
    register(&mut other, "grace@example.com").await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.jobs")
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(before, 4);

    let (status, _, _) = web
        .request(
            "DELETE",
            "/api/user/me",
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let left: Vec<Vec<u8>> = sqlx::query_scalar("SELECT job FROM apalis.jobs")
        .fetch_all(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(left.len(), 1, "only grace's job stays");
}

// Item 10: forgot-password does the same work whether or not the account exists.
#[sqlx::test(migrations = false)]
async fn forgot_password_does_the_same_work_for_unknown_addresses(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut client = Client::new(&app);
    register(&mut client, "ada@example.com").await;
    crate::common::run_email_jobs(&app).await;
    for email in ["ada@example.com", "nobody@example.com"] {
        let (status, _, _) = client
            .post("/api/auth/forgot-password", json!({"email": email}))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    // The request only enqueued a job, the same one for both: no lookup, no link yet.
    let resets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM one_time_codes WHERE purpose = 'password_reset'")
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    assert_eq!(resets, 0);
    let payloads = queued_job_payloads(&app.state.pool).await;
    assert_eq!(payloads.len(), 2);
    assert!(payloads.iter().all(|p| p.contains("reset_requested")));
    // The job decides: only the existing account gets an email.
    assert_eq!(crate::common::run_email_jobs(&app).await, 1);
    let emails = crate::common::sent_emails(&app).await;
    assert!(emails.iter().all(|e| e.to != "nobody@example.com"));
}

// Item 3: a device stays known for a year, then is an unknown client again.
#[sqlx::test(migrations = false)]
async fn a_device_cookie_expires_after_a_year(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut owner = Client::new(&app);
    register(&mut owner, "ada@example.com").await;
    sign_in(&mut owner, "ada@example.com").await;
    app.state.clock.advance(chrono::Duration::days(366));
    for i in 0..10 {
        let status = login_status(app.router.clone(), format!("192.0.2.{i}"), "wrong wrong").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = owner
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

// Setting a first password: of several requests at once (two tabs, a replay), one sets it and
// the others are refused; none overwrites the password the first one set.
#[sqlx::test(migrations = false)]
async fn parallel_first_passwords_set_one(pool: PgPool) {
    let app = crate::common::spawn_app(pool).await;
    let mut ada = Client::new(&app);
    register(&mut ada, "ada@example.com").await;
    sign_in(&mut ada, "ada@example.com").await;
    // As an account made by Google sign-in: no password.
    sqlx::query("UPDATE users SET password_hash = NULL")
        .execute(&app.state.pool)
        .await
        .unwrap();
    let cookie = ada.cookie.clone();
    let statuses = futures::future::join_all((0..6).map(|i| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let mut client = Client::new(app);
            client.cookie = cookie;
            let password = format!("first passphrase number {i}");
            let (status, _, _) = client
                .post("/api/user/set-password", json!({ "password": password }))
                .await;
            (status, password)
        }
    }))
    .await;
    let set: Vec<_> = statuses
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .collect();
    let refused = statuses
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .count();
    assert_eq!((set.len(), refused), (1, 5), "{statuses:?}");
    let mut fresh = Client::new(&app);
    fresh.ip = "198.51.100.77";
    let (status, _, body) = fresh
        .post(
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": set[0].1}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the password that was set is the one kept: {body}"
    );
}
