//! The account forms: sign-up, sign-in (with and without the emailed code), sign-out, the
//! password links, email confirmation, and every form of the settings page.

use axum::http::StatusCode;
use chrono::Duration;
use sqlx::PgPool;

use crate::common::{last_link_token, last_sign_in_code, sent_emails, site, Site, PASSWORD};

const ADA: &str = "ada@example.com";
const NEW_PASSWORD: &str = "another long secret";

async fn emails_to(site: &Site, to: &str, subject: &str) -> usize {
    sent_emails(site)
        .await
        .iter()
        .filter(|(t, s, _)| t == to && s.contains(subject))
        .count()
}

/// Sessions of `email` that still count (same version as the account).
async fn live_sessions(site: &Site, email: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE u.email = $1 AND (s.data ->> 'ver')::int = u.session_version",
    )
    .bind(email)
    .fetch_one(site.pool())
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn register_creates_the_account_signs_in_and_emails_a_link(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", " Ada@Example.com ").await;
    let (name, timezone, verified): (String, String, bool) =
        sqlx::query_as("SELECT name, timezone, email_verified FROM users WHERE email = $1")
            .bind(ADA)
            .fetch_one(site.pool())
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), timezone.as_str(), verified),
        ("Ada Lovelace", "Europe/London", false)
    );
    assert_eq!(emails_to(&site, ADA, "Confirm your email address").await, 1);
    // Signed in: the dashboard renders for this browser.
    let dashboard = browser.get("/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.contains("Welcome, Ada Lovelace"));
    assert_eq!(live_sessions(&site, ADA).await, 1);
}

#[sqlx::test(migrations = false)]
async fn register_with_invalid_fields_names_each_and_creates_nothing(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    let page = browser
        .submit(
            "/_sf/account/register",
            &[
                ("name", "A"),
                ("email", "not-an-email"),
                ("password", "short"),
                ("timezone", ""),
            ],
            "/register",
        )
        .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &[
            "Your name needs at least 2 characters",
            "Enter a valid email address, like name@example.com",
            "Use at least 8 characters",
        ],
    );
    // What was typed comes back (never the password).
    assert!(page.body.contains("value=\"not-an-email\""));
    assert!(!page.body.contains("value=\"short\""));
    assert_eq!(site.count("SELECT count(*) FROM users").await, 0);
    assert!(sent_emails(&site).await.is_empty());
    assert!(browser.get("/dashboard").await.status == StatusCode::SEE_OTHER);
}

#[sqlx::test(migrations = false)]
async fn register_with_a_taken_email_says_so(pool: PgPool) {
    let site = site(pool).await;
    site.browser().register("Ada Lovelace", ADA).await;
    let other = site.browser().at("198.51.100.2", "curl/8.0");
    let page = other
        .submit(
            "/_sf/account/register",
            &[
                ("name", "Someone"),
                ("email", "ADA@example.com"),
                ("password", NEW_PASSWORD),
            ],
            "/register",
        )
        .await;
    page.shows_error("An account with this email already exists", &[]);
    assert_eq!(site.count("SELECT count(*) FROM users").await, 1);
}

#[sqlx::test(migrations = false)]
async fn login_goes_to_the_dashboard_or_next_and_logout_signs_out(pool: PgPool) {
    let site = site(pool).await;
    let first = site.browser();
    first.register("Ada Lovelace", ADA).await;

    let browser = site.browser().at("198.51.100.2", "curl/8.0");
    let answer = browser.login(ADA, PASSWORD).await;
    answer.see_other("/dashboard");
    browser.follow(&answer).await.shows_nothing();
    assert!(browser.cookie("spacedly_device").is_some());
    assert_eq!(live_sessions(&site, ADA).await, 2);

    let page = browser.submit("/_sf/account/logout", &[], "/login").await;
    page.shows_ok("You are signed out.");
    browser
        .get("/dashboard")
        .await
        .see_other("/login?next=%2Fdashboard");
    assert_eq!(live_sessions(&site, ADA).await, 1);

    // `next` is followed when it is a path of this site, and only then.
    let answer = browser
        .post_form(
            "/_sf/account/login",
            &[
                ("email", ADA),
                ("password", PASSWORD),
                ("next", "/tasks?q=x"),
            ],
        )
        .await;
    answer.see_other("/tasks?q=x");
    browser.forget_cookies();
    let answer = browser
        .post_form(
            "/_sf/account/login",
            &[
                ("email", ADA),
                ("password", PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    answer.see_other("/dashboard");
}

#[sqlx::test(migrations = false)]
async fn a_wrong_password_keeps_the_email_and_does_not_sign_in(pool: PgPool) {
    let site = site(pool).await;
    site.browser().register("Ada Lovelace", ADA).await;
    let browser = site.browser().at("198.51.100.2", "curl/8.0");
    let page = browser
        .submit(
            "/_sf/account/login",
            &[("email", ADA), ("password", "not the password")],
            "/login",
        )
        .await;
    page.shows_error("Invalid email or password", &[]);
    assert!(page.body.contains(&format!("value=\"{ADA}\"")));
    assert_eq!(live_sessions(&site, ADA).await, 1);
    browser
        .get("/dashboard")
        .await
        .see_other("/login?next=%2Fdashboard");
    // Unknown account: the same answer.
    let page = browser
        .submit(
            "/_sf/account/login",
            &[
                ("email", "nobody@example.com"),
                ("password", "not the password"),
            ],
            "/login",
        )
        .await;
    page.shows_error("Invalid email or password", &[]);
}

#[sqlx::test(migrations = false)]
async fn two_factor_on_then_sign_in_needs_the_emailed_code(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", ADA).await;
    let page = browser
        .submit(
            "/_sf/account/two-factor",
            &[("enabled", "on")],
            "/settings#two-factor",
        )
        .await;
    page.shows_ok("Two-factor sign-in is on: we will email you a code each time you sign in.");
    assert!(
        site.scalar::<bool>("SELECT two_factor_enabled FROM users")
            .await
    );

    browser.submit("/_sf/account/logout", &[], "/login").await;
    let page = browser
        .submit(
            "/_sf/account/login",
            &[("email", ADA), ("password", PASSWORD), ("remember", "1")],
            "/login/code?remember=1",
        )
        .await;
    page.shows_ok("We emailed you a sign-in code.");
    assert!(page.contains("We sent a 6-digit code to ada@example.com"));
    assert_eq!(live_sessions(&site, ADA).await, 0, "not signed in yet");

    // A wrong code: the field says so, and the sign-in still waits.
    let page = browser
        .submit(
            "/_sf/account/verify-code",
            &[("otp", "000000"), ("remember", "1")],
            "/login/code?remember=1",
        )
        .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["The code is wrong or has expired"],
    );
    assert_eq!(live_sessions(&site, ADA).await, 0);

    let code = last_sign_in_code(&site, ADA).await;
    let answer = browser
        .post_form(
            "/_sf/account/verify-code",
            &[("otp", &code), ("remember", "1")],
        )
        .await;
    answer.see_other("/dashboard");
    let dashboard = browser.follow(&answer).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    dashboard.shows_nothing();
    assert_eq!(live_sessions(&site, ADA).await, 1);

    // The code works once.
    browser.forget_cookies();
    browser.login(ADA, PASSWORD).await.see_other("/login/code");
    let page = browser
        .submit("/_sf/account/verify-code", &[("otp", &code)], "/login/code")
        .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["The code is wrong or has expired"],
    );

    // And off again, from a signed-in browser.
    let signed_in = site.browser();
    signed_in
        .login(ADA, PASSWORD)
        .await
        .see_other("/login/code");
    let code = last_sign_in_code(&site, ADA).await;
    signed_in
        .post_form("/_sf/account/verify-code", &[("otp", &code)])
        .await
        .see_other("/dashboard");
    let page = signed_in
        .submit(
            "/_sf/account/two-factor",
            &[("enabled", "off")],
            "/settings#two-factor",
        )
        .await;
    page.shows_ok("Two-factor sign-in is off.");
    assert!(
        !site
            .scalar::<bool>("SELECT two_factor_enabled FROM users")
            .await
    );
    let page = signed_in
        .submit("/_sf/account/two-factor", &[], "/settings#two-factor")
        .await;
    page.shows_error("Choose on or off.", &[]);
    assert!(
        !site
            .scalar::<bool>("SELECT two_factor_enabled FROM users")
            .await
    );
}

#[sqlx::test(migrations = false)]
async fn verify_code_without_a_pending_sign_in_starts_again(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    let page = browser
        .submit("/_sf/account/verify-code", &[("otp", "123456")], "/login")
        .await;
    page.shows_error(
        "This sign-in has expired; start again with your email and password.",
        &[],
    );
}

#[sqlx::test(migrations = false)]
async fn resend_code_waits_a_minute_between_codes(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", ADA).await;
    sqlx::query("UPDATE users SET two_factor_enabled = true")
        .execute(site.pool())
        .await
        .unwrap();
    browser.forget_cookies();
    browser.login(ADA, PASSWORD).await.see_other("/login/code");
    assert_eq!(emails_to(&site, ADA, "sign-in code").await, 1);

    let answer = browser
        .post_form_from(Some("/login/code"), "/_sf/account/resend-code", &[])
        .await;
    answer.see_other("/login/code");
    browser.follow(&answer).await.shows_error(
        "A code was sent less than a minute ago; check your inbox.",
        &[],
    );
    assert_eq!(emails_to(&site, ADA, "sign-in code").await, 1);

    site.clock().advance(Duration::seconds(61));
    let answer = browser
        .post_form_from(
            Some("/login/code?remember=1"),
            "/_sf/account/resend-code",
            &[],
        )
        .await;
    answer.see_other("/login/code?remember=1");
    browser
        .follow(&answer)
        .await
        .shows_ok("A new code is on its way.");
    assert_eq!(emails_to(&site, ADA, "sign-in code").await, 2);
    // The new code signs in.
    let code = last_sign_in_code(&site, ADA).await;
    browser
        .post_form("/_sf/account/verify-code", &[("otp", &code)])
        .await
        .see_other("/dashboard");
}

#[sqlx::test(migrations = false)]
async fn logout_all_ends_every_session_of_the_account(pool: PgPool) {
    let site = site(pool).await;
    let laptop = site.browser();
    laptop.register("Ada Lovelace", ADA).await;
    let phone = site
        .browser()
        .at("198.51.100.2", "Mozilla/5.0 (iPhone) Safari/604.1");
    phone.login(ADA, PASSWORD).await.see_other("/dashboard");
    assert_eq!(live_sessions(&site, ADA).await, 2);
    let version: i32 = site.scalar("SELECT session_version FROM users").await;

    let page = laptop
        .submit("/_sf/account/logout-all", &[], "/login")
        .await;
    page.shows_ok("You were signed out on every device.");
    assert_eq!(live_sessions(&site, ADA).await, 0);
    assert!(
        site.scalar::<i32>("SELECT session_version FROM users")
            .await
            > version
    );
    for browser in [&laptop, &phone] {
        browser
            .get("/settings")
            .await
            .see_other("/login?next=%2Fsettings");
    }
}

#[sqlx::test(migrations = false)]
async fn forgot_and_reset_password_through_the_emailed_link(pool: PgPool) {
    let site = site(pool).await;
    let owner = site.browser();
    owner.register("Ada Lovelace", ADA).await;

    let browser = site.browser().at("198.51.100.2", "curl/8.0");
    let message = "If the email exists, a reset link has been sent. It works for one hour.";
    let page = browser
        .submit("/_sf/account/forgot", &[("email", ADA)], "/forgot-password")
        .await;
    page.shows_ok(message);
    assert_eq!(
        emails_to(&site, ADA, "Reset your Spacedly password").await,
        1
    );
    // An unknown address gets the same answer and no email.
    let page = browser
        .submit(
            "/_sf/account/forgot",
            &[("email", "nobody@example.com")],
            "/forgot-password",
        )
        .await;
    page.shows_ok(message);
    assert_eq!(
        sent_emails(&site).await.len(),
        2,
        "the confirmation and one reset"
    );

    // The link is opened elsewhere (asking and resetting share one limit per address).
    let browser = site
        .browser()
        .at("198.51.100.4", "Mozilla/5.0 (Android 15) Chrome/140.0");
    // A wrong token: back to the form with the problem, nothing changed.
    let page = browser
        .submit(
            "/_sf/account/reset",
            &[("token", "not-a-token"), ("password", NEW_PASSWORD)],
            "/reset-password?token=not-a-token",
        )
        .await;
    page.shows_error(
        "This reset link is invalid or has expired; ask for a new one",
        &[],
    );
    browser.login(ADA, NEW_PASSWORD).await.see_other("/login");

    let token = last_link_token(&site, ADA, "Reset your Spacedly password").await;
    // Too short a password: the field says so, and the link still works afterwards.
    let page = browser
        .submit(
            "/_sf/account/reset",
            &[("token", &token), ("password", "short")],
            &format!("/reset-password?token={token}"),
        )
        .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["Use at least 8 characters"],
    );
    let page = browser
        .submit(
            "/_sf/account/reset",
            &[("token", &token), ("password", NEW_PASSWORD)],
            "/login?reset=1",
        )
        .await;
    page.shows_ok("Your password has been reset. Sign in with the new one.");
    // Every session of the account ended; the new password signs in, the old one does not.
    assert_eq!(live_sessions(&site, ADA).await, 0);
    owner
        .get("/dashboard")
        .await
        .see_other("/login?next=%2Fdashboard");
    browser.login(ADA, PASSWORD).await.see_other("/login");
    browser
        .login(ADA, NEW_PASSWORD)
        .await
        .see_other("/dashboard");
}

#[sqlx::test(migrations = false)]
async fn verify_email_by_the_link_then_resend_is_refused(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", ADA).await;
    let token = last_link_token(&site, ADA, "Confirm your email address").await;
    let back = format!("/verify-email?token={token}");
    let page = browser
        .submit("/_sf/account/verify-email", &[("token", &token)], &back)
        .await;
    page.shows_ok("Your email address is confirmed. Reminders will reach you.");
    assert!(
        site.scalar::<bool>("SELECT email_verified FROM users")
            .await
    );

    // The link works once.
    let page = browser
        .submit("/_sf/account/verify-email", &[("token", &token)], &back)
        .await;
    page.shows_error(
        "This confirmation link is invalid or has expired; ask for a new one from the app",
        &[],
    );
    assert!(
        site.scalar::<bool>("SELECT email_verified FROM users")
            .await
    );

    // Nothing to resend once confirmed (the banner is gone, so the page shows nothing).
    let answer = browser
        .post_form_from(Some("/settings"), "/_sf/account/resend-verification", &[])
        .await;
    answer.see_other("/settings");
    assert_eq!(emails_to(&site, ADA, "Confirm your email address").await, 1);
}

#[sqlx::test(migrations = false)]
async fn resend_verification_waits_a_minute(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", ADA).await;
    let answer = browser
        .post_form_from(Some("/tasks"), "/_sf/account/resend-verification", &[])
        .await;
    answer.see_other("/tasks");
    browser.follow(&answer).await.shows_error(
        "A link was sent less than a minute ago; check your inbox.",
        &[],
    );
    assert_eq!(emails_to(&site, ADA, "Confirm your email address").await, 1);

    site.clock().advance(Duration::seconds(61));
    let page = browser
        .submit("/_sf/account/resend-verification", &[], "/dashboard")
        .await;
    page.shows_ok("We sent a new confirmation link.");
    assert_eq!(emails_to(&site, ADA, "Confirm your email address").await, 2);
    // The newest link confirms.
    let token = last_link_token(&site, ADA, "Confirm your email address").await;
    browser
        .submit(
            "/_sf/account/verify-email",
            &[("token", &token)],
            &format!("/verify-email?token={token}"),
        )
        .await
        .shows_ok("Your email address is confirmed. Reminders will reach you.");
}

#[sqlx::test(migrations = false)]
async fn update_profile_saves_or_names_the_bad_field(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", ADA).await;
    let page = browser
        .submit(
            "/_sf/account/profile",
            &[
                ("name", "Ada King"),
                ("timezone", "Europe/Paris"),
                ("week_start", "sunday"),
            ],
            "/settings#profile",
        )
        .await;
    page.shows_ok("Settings saved.");
    let saved: (String, String, String) =
        sqlx::query_as("SELECT name, timezone, week_start FROM users")
            .fetch_one(site.pool())
            .await
            .unwrap();
    assert_eq!(
        saved,
        ("Ada King".into(), "Europe/Paris".into(), "sunday".into())
    );

    for (fields, error) in [
        (
            [
                ("name", "A"),
                ("timezone", "Europe/Paris"),
                ("week_start", "monday"),
            ],
            "Your name needs at least 2 characters",
        ),
        (
            [
                ("name", "Ada"),
                ("timezone", "Europe/Paris"),
                ("week_start", "friday"),
            ],
            "Choose a week start: monday, sunday or saturday",
        ),
    ] {
        let page = browser
            .submit("/_sf/account/profile", &fields, "/settings#profile")
            .await;
        page.shows_error("Please correct the highlighted fields", &[error]);
    }
    let page = browser
        .submit(
            "/_sf/account/profile",
            &[
                ("name", "Ada"),
                ("timezone", "Mars/Olympus"),
                ("week_start", "someday"),
            ],
            "/settings#profile",
        )
        .await;
    assert_eq!(
        page.error_messages(),
        vec!["Please correct the highlighted fields".to_string()]
    );
    let after: (String, String, String) =
        sqlx::query_as("SELECT name, timezone, week_start FROM users")
            .fetch_one(site.pool())
            .await
            .unwrap();
    assert_eq!(after, saved, "a refused change changes nothing");
}

/// Whether the settings page's digest checkbox is ticked.
fn digest_box_checked(body: &str) -> bool {
    let at = body.find(r#"name="digest""#).expect("the digest checkbox");
    let start = body[..at].rfind('<').unwrap();
    let end = at + body[at..].find('>').unwrap();
    body[start..end].contains(" checked")
}

#[sqlx::test(migrations = false)]
async fn the_morning_digest_is_turned_off_and_on_with_its_hour(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", ADA).await;
    let settings = |pool: &PgPool| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (i16, Option<bool>)>(
                "SELECT u.digest_hour, d.enabled FROM users u
                   LEFT JOIN digest_settings d ON d.user_id = u.id",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(settings(site.pool()).await, (5, None));
    assert!(digest_box_checked(&browser.get("/settings").await.body));

    // An unticked box is not posted: the digest is off.
    let page = browser
        .submit(
            "/_sf/account/digest",
            &[("digest_hour", "7")],
            "/settings#digest",
        )
        .await;
    page.shows_ok("Morning digest saved.");
    assert_eq!(settings(site.pool()).await, (7, Some(false)));
    assert!(!digest_box_checked(&page.body));

    let page = browser
        .submit(
            "/_sf/account/digest",
            &[("digest", "on"), ("digest_hour", "soon")],
            "/settings#digest",
        )
        .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["Choose an hour from 0 to 23"],
    );
    assert_eq!(settings(site.pool()).await, (7, Some(false)));

    browser
        .submit(
            "/_sf/account/digest",
            &[("digest", "on"), ("digest_hour", "6")],
            "/settings#digest",
        )
        .await
        .shows_ok("Morning digest saved.");
    assert_eq!(settings(site.pool()).await, (6, Some(true)));
}

#[sqlx::test(migrations = false)]
async fn change_password_keeps_this_session_and_ends_the_others(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", ADA).await;
    let other = site.browser().at("198.51.100.2", "curl/8.0");
    other.login(ADA, PASSWORD).await.see_other("/dashboard");

    let page = browser
        .submit(
            "/_sf/account/change-password",
            &[
                ("current_password", "wrong password"),
                ("new_password", NEW_PASSWORD),
            ],
            "/settings#password",
        )
        .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["The current password is not right"],
    );
    assert_eq!(live_sessions(&site, ADA).await, 2);

    let page = browser
        .submit(
            "/_sf/account/change-password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
            "/settings#password",
        )
        .await;
    page.shows_ok("Password changed; your other sessions were signed out.");
    assert_eq!(live_sessions(&site, ADA).await, 1);
    other
        .get("/dashboard")
        .await
        .see_other("/login?next=%2Fdashboard");
    let fresh = site.browser().at("198.51.100.3", "curl/8.0");
    fresh.login(ADA, PASSWORD).await.see_other("/login");
    fresh.login(ADA, NEW_PASSWORD).await.see_other("/dashboard");
}

#[sqlx::test(migrations = false)]
async fn set_password_gives_a_passwordless_account_one(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", ADA).await;
    // As an account made by Google sign-in: no password.
    sqlx::query("UPDATE users SET password_hash = NULL")
        .execute(site.pool())
        .await
        .unwrap();
    let settings = browser.get("/settings").await;
    assert!(settings
        .body
        .contains("action=\"/_sf/account/set-password\""));

    let page = browser
        .submit(
            "/_sf/account/set-password",
            &[("password", "short")],
            "/settings#password",
        )
        .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["Use at least 8 characters"],
    );
    assert!(site
        .scalar::<Option<String>>("SELECT password_hash FROM users")
        .await
        .is_none());

    let page = browser
        .submit(
            "/_sf/account/set-password",
            &[("password", NEW_PASSWORD)],
            "/settings#password",
        )
        .await;
    page.shows_ok("Password set: you can now also sign in with your email.");
    let fresh = site.browser().at("198.51.100.3", "curl/8.0");
    fresh.login(ADA, NEW_PASSWORD).await.see_other("/dashboard");

    // A second time (a form left open in another tab): refused, the password stays, and the
    // page says so under the change-password form it now shows.
    let hash: Option<String> = site.scalar("SELECT password_hash FROM users").await;
    let page = browser
        .submit(
            "/_sf/account/set-password",
            &[("password", "yet another secret")],
            "/settings#password",
        )
        .await;
    page.shows_error(
        "Your account already has a password; change it instead",
        &[],
    );
    assert_eq!(
        site.scalar::<Option<String>>("SELECT password_hash FROM users")
            .await,
        hash
    );
    fresh.login(ADA, NEW_PASSWORD).await.see_other("/dashboard");
}

#[sqlx::test(migrations = false)]
async fn create_and_revoke_an_api_token(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", ADA).await;

    let page = browser
        .submit(
            "/_sf/account/tokens/create",
            &[("name", ""), ("expires_in_days", "30"), ("password", "")],
            "/settings#tokens",
        )
        .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["Give the token a name of 1 to 100 characters"],
    );
    assert_eq!(site.count("SELECT count(*) FROM api_tokens").await, 0);

    let page = browser
        .submit(
            "/_sf/account/tokens/create",
            &[
                ("name", "backup script"),
                ("expires_in_days", "30"),
                ("password", ""),
            ],
            "/settings#tokens",
        )
        .await;
    page.shows_ok("Token created. Copy it now: it will not be shown again.");
    let (id, prefix): (uuid::Uuid, String) =
        sqlx::query_as("SELECT id, prefix FROM api_tokens WHERE name = 'backup script'")
            .fetch_one(site.pool())
            .await
            .unwrap();
    // The secret is shown once, and it is the token's.
    let secret = page
        .body
        .split("id=\"new-token\"")
        .nth(1)
        .and_then(|rest| rest.split("value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .expect("the new token is shown")
        .to_string();
    assert!(secret.starts_with(&prefix), "{secret} / {prefix}");
    assert!(!browser.get("/settings").await.body.contains(&secret));

    // Signed in more than ten minutes ago: the password is asked for.
    site.clock().advance(Duration::minutes(11));
    let page = browser
        .submit(
            "/_sf/account/tokens/create",
            &[
                ("name", "second"),
                ("expires_in_days", "never"),
                ("password", ""),
            ],
            "/settings#tokens",
        )
        .await;
    page.shows_error(
        "For your safety, confirm your password (or sign in again) first",
        &[],
    );
    assert_eq!(site.count("SELECT count(*) FROM api_tokens").await, 1);

    let page = browser
        .submit(
            "/_sf/account/tokens/revoke",
            &[("id", "not-an-id")],
            "/settings#tokens",
        )
        .await;
    page.shows_error("That token no longer exists.", &[]);
    let page = browser
        .submit(
            "/_sf/account/tokens/revoke",
            &[("id", &id.to_string())],
            "/settings#tokens",
        )
        .await;
    page.shows_ok("Token revoked.");
    assert_eq!(site.count("SELECT count(*) FROM api_tokens").await, 0);
}

#[sqlx::test(migrations = false)]
async fn revoke_session_signs_out_that_browser_only(pool: PgPool) {
    let site = site(pool).await;
    let laptop = site.browser();
    laptop.register("Ada Lovelace", ADA).await;
    let phone = site
        .browser()
        .at("198.51.100.2", "Mozilla/5.0 (iPhone) Safari/604.1");
    phone.login(ADA, PASSWORD).await.see_other("/dashboard");

    let settings = laptop.get("/settings").await;
    let id = settings
        .form_value("/_sf/account/sessions/revoke", "id")
        .expect("a sign-out form for the other session");
    let page = laptop
        .submit(
            "/_sf/account/sessions/revoke",
            &[("id", &id)],
            "/settings#sessions",
        )
        .await;
    page.shows_ok("That session is signed out.");
    assert_eq!(live_sessions(&site, ADA).await, 1);
    phone
        .get("/dashboard")
        .await
        .see_other("/login?next=%2Fdashboard");
    assert_eq!(laptop.get("/dashboard").await.status, StatusCode::OK);

    // Gone already, or never one of ours: not found.
    let page = laptop
        .submit(
            "/_sf/account/sessions/revoke",
            &[("id", &id)],
            "/settings#sessions",
        )
        .await;
    page.shows_error("not found", &[]);
}

#[sqlx::test(migrations = false)]
async fn delete_account_needs_the_password_then_removes_everything(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    browser.register("Ada Lovelace", ADA).await;
    browser
        .post_form("/_sf/tasks/create", &[("title", "Read SICP")])
        .await;
    assert_eq!(site.count("SELECT count(*) FROM tasks").await, 1);

    let page = browser
        .submit(
            "/_sf/account/delete",
            &[("password", "wrong password")],
            "/settings#delete",
        )
        .await;
    page.shows_error(
        "Please correct the highlighted fields",
        &["Enter your current password to delete the account"],
    );
    assert_eq!(site.count("SELECT count(*) FROM users").await, 1);

    let page = browser
        .submit("/_sf/account/delete", &[("password", PASSWORD)], "/")
        .await;
    page.shows_ok("Your account and all its data were deleted.");
    assert_eq!(site.count("SELECT count(*) FROM users").await, 0);
    assert_eq!(site.count("SELECT count(*) FROM tasks").await, 0);
    assert_eq!(
        site.count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL")
            .await,
        0
    );
    browser
        .get("/dashboard")
        .await
        .see_other("/login?next=%2Fdashboard");
    site.browser()
        .login(ADA, PASSWORD)
        .await
        .see_other("/login");
}

#[sqlx::test(migrations = false)]
async fn a_signed_out_form_goes_to_sign_in_and_changes_nothing(pool: PgPool) {
    let site = site(pool).await;
    let browser = site.browser();
    let answer = browser
        .post_form_from(
            Some("/settings"),
            "/_sf/account/two-factor",
            &[("enabled", "on")],
        )
        .await;
    answer.see_other("/login?next=%2Fsettings");
    let answer = browser
        .post_form("/_sf/tasks/create", &[("title", "Read SICP")])
        .await;
    answer.see_other("/login?next=%2Fdashboard");
    assert_eq!(site.count("SELECT count(*) FROM tasks").await, 0);
}
