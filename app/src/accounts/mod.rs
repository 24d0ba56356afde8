//! Accounts in the browser: the server functions (thin adapters over `spacedly_server::auth`)
//! and the pages that use them. Every form's server function ends in a redirect to a page that
//! shows the outcome (see `crate::forms`).

pub mod pages;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use spacedly_server::{auth::User, AppState};

pub use crate::page::Me;

#[cfg(feature = "ssr")]
pub(crate) mod backend {
    use leptos::prelude::*;
    use spacedly_server::http::ClientIp;

    pub use crate::forms::{client, internal, require_user, session, set_device_cookie, state};

    pub fn client_ip() -> std::net::IpAddr {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<ClientIp>().copied())
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |ClientIp(ip)| ip)
    }
}

/// Only paths on this site may follow a sign-in (no open redirect), resolved as a browser
/// would resolve them.
#[cfg(feature = "ssr")]
pub fn safe_next(next: Option<String>) -> String {
    next.as_deref()
        .and_then(spacedly_server::http::redirect::safe_local_path)
        .unwrap_or_else(|| "/dashboard".to_string())
}

/// `/login`, keeping where to go afterwards.
#[cfg(feature = "ssr")]
fn login_page(next: &Option<String>) -> String {
    match next.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => format!("/login?next={}", encode(n)),
        None => "/login".to_string(),
    }
}

/// Form ids: which form on a page an outcome belongs to.
pub mod form {
    pub const REGISTER: &str = "register";
    pub const LOGIN: &str = "login";
    pub const CODE: &str = "code";
    pub const RESEND_CODE: &str = "resend-code";
    pub const FORGOT: &str = "forgot";
    pub const RESET: &str = "reset";
    pub const VERIFY: &str = "verify";
    pub const RESEND_VERIFICATION: &str = "resend-verification";
    pub const PROFILE: &str = "profile";
    pub const DIGEST: &str = "digest";
    pub const TWO_FACTOR: &str = "two-factor";
    pub const PASSWORD: &str = "password";
    pub const SET_PASSWORD: &str = "set-password";
    pub const TOKENS: &str = "tokens";
    pub const SESSIONS: &str = "sessions";
    pub const DELETE: &str = "delete";
}

#[server(prefix = "/_sf", endpoint = "account/register")]
pub async fn register(
    name: String,
    email: String,
    password: String,
    timezone: Option<String>,
    nonce: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    use spacedly_server::auth;
    crate::forms::submit(nonce, async move {
        let state = backend::state()?;
        let input = auth::RegisterInput {
            name: name.clone(),
            email: email.clone(),
            password,
            timezone: timezone.clone(),
        };
        Ok(
            match auth::register(&state, input, backend::client_ip()).await {
                Ok(user) => {
                    // Signed in straight away; the banner asks to confirm the address.
                    let client = backend::client().await?;
                    let done = auth::sign_in::finish(&state, &client, user, false)
                        .await
                        .map_err(backend::internal)?;
                    backend::set_device_cookie(done.device_cookie);
                    let user = done.user;
                    Outcome {
                        sign_in: Some(user.id),
                        ..Outcome::ok(
                            "/dashboard",
                            "",
                            "Welcome to Spacedly! Your account is ready.",
                        )
                    }
                }
                Err(e) => Outcome::error("/register", form::REGISTER, e).keep(&[
                    ("name", &name),
                    ("email", &email),
                    ("timezone", timezone.as_deref().unwrap_or_default()),
                ]),
            },
        )
    })
    .await
}

#[server(prefix = "/_sf", endpoint = "account/login")]
pub async fn login(
    email: String,
    password: String,
    remember: Option<String>,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    use spacedly_server::auth::sign_in::{self, Step};
    // Signing in twice is harmless, so a repeated submission simply runs again.
    crate::forms::submit(None, async move {
        let (state, client) = (backend::state()?, backend::client().await?);
        let remember = remember.is_some();
        Ok(
            match sign_in::with_password(&state, &client, &email, &password, remember).await {
                Ok(Step::SignedIn(done)) => {
                    backend::set_device_cookie(done.device_cookie);
                    Outcome::go(safe_next(next))
                }
                Ok(Step::CodeSent(_)) => {
                    let to = if remember {
                        "/login/code?remember=1"
                    } else {
                        "/login/code"
                    };
                    Outcome::ok(to, form::CODE, "We emailed you a sign-in code.")
                }
                Err(e) => {
                    Outcome::error(login_page(&next), form::LOGIN, e).keep(&[("email", &email)])
                }
            },
        )
    })
    .await
}

/// The email of the sign-in waiting for its code on this session.
#[server(prefix = "/_sf", endpoint = "account/pending")]
pub async fn pending_login() -> Result<Option<String>, ServerFnError> {
    let state = backend::state()?;
    let session = backend::session().await?;
    let user = spacedly_server::auth::session::pending_2fa(&state, &session)
        .await
        .map_err(backend::internal)?;
    Ok(user.map(|u| u.email))
}

#[server(prefix = "/_sf", endpoint = "account/verify-code")]
pub async fn verify_code(otp: String, remember: Option<String>) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    use spacedly_server::auth::sign_in;
    crate::forms::submit(None, async move {
        let (state, client) = (backend::state()?, backend::client().await?);
        if sign_in::pending(&state, &client)
            .await
            .map_err(backend::internal)?
            .is_none()
        {
            return Ok(Outcome::failed("/login", form::LOGIN, EXPIRED_SIGN_IN));
        }
        Ok(
            match sign_in::with_code(&state, &client, None, &otp, remember.is_some()).await {
                Ok(done) => {
                    backend::set_device_cookie(done.device_cookie);
                    Outcome::go("/dashboard")
                }
                Err(e) => {
                    let back = if remember.is_some() {
                        "/login/code?remember=1"
                    } else {
                        "/login/code"
                    };
                    Outcome::error(back, form::CODE, e)
                }
            },
        )
    })
    .await
}

#[cfg(feature = "ssr")]
const EXPIRED_SIGN_IN: &str = "This sign-in has expired; start again with your email and password.";

#[server(prefix = "/_sf", endpoint = "account/resend-code")]
pub async fn resend_code(nonce: Option<String>) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    use spacedly_server::auth;
    crate::forms::submit(nonce, async move {
        let state = backend::state()?;
        let session = backend::session().await?;
        let back = crate::forms::referer_path()
            .filter(|p| p.starts_with("/login/code"))
            .unwrap_or_else(|| "/login/code".into());
        if let Some(user) = auth::session::pending_2fa(&state, &session)
            .await
            .map_err(backend::internal)?
        {
            if !auth::resend_login_code(&state, &user)
                .await
                .map_err(backend::internal)?
            {
                return Ok(Outcome::failed(
                    back,
                    form::RESEND_CODE,
                    "A code was sent less than a minute ago; check your inbox.",
                ));
            }
        }
        Ok(Outcome::ok(
            back,
            form::RESEND_CODE,
            "A new code is on its way.",
        ))
    })
    .await
}

#[server(prefix = "/_sf", endpoint = "account/logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    crate::forms::submit(None, async move {
        let session = backend::session().await?;
        spacedly_server::auth::session::sign_out(&session)
            .await
            .map_err(backend::internal)?;
        Ok(crate::forms::Outcome::ok(
            "/login",
            form::LOGIN,
            "You are signed out.",
        ))
    })
    .await
}

#[server(prefix = "/_sf", endpoint = "account/logout-all")]
pub async fn logout_all() -> Result<(), ServerFnError> {
    use spacedly_server::auth;
    let session = backend::session().await?;
    let work = |state: AppState, user: User| async move {
        auth::end_all_sessions(&state, &user).await?;
        auth::session::sign_out(&session).await
    };
    let done = |()| "You were signed out on every device.".to_string();
    crate::forms::act(None, ("/login".into(), form::LOGIN), &[], work, done).await
}

#[server(prefix = "/_sf", endpoint = "account/forgot")]
pub async fn forgot_password(email: String, nonce: Option<String>) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    crate::forms::submit(nonce, async move {
        let result = spacedly_server::auth::forgot_password(
            &backend::state()?.services,
            &email,
            backend::client_ip(),
        )
        .await;
        let sent =
            |()| "If the email exists, a reset link has been sent. It works for one hour.".into();
        Ok(Outcome::of(result, "/forgot-password", form::FORGOT, sent).keep(&[("email", &email)]))
    })
    .await
}

#[server(prefix = "/_sf", endpoint = "account/reset")]
pub async fn reset_password(
    token: String,
    password: String,
    nonce: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    use spacedly_server::auth;
    crate::forms::submit(nonce, async move {
        let ip = backend::client_ip();
        let session = backend::session().await?;
        Ok(
            match auth::reset_password(&backend::state()?.services, &session, &token, &password, ip)
                .await
            {
                Ok(_) => Outcome::ok(
                    "/login?reset=1",
                    form::LOGIN,
                    "Your password has been reset. Sign in with the new one.",
                ),
                Err(e) => Outcome::error(
                    format!("/reset-password?token={}", encode(&token)),
                    form::RESET,
                    e,
                ),
            },
        )
    })
    .await
}

#[server(prefix = "/_sf", endpoint = "account/verify-email")]
pub async fn verify_email(token: String) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    crate::forms::submit(None, async move {
        let result = spacedly_server::auth::verify_email(&backend::state()?.services, &token).await;
        let back = format!("/verify-email?token={}", encode(&token));
        let done = |_| "Your email address is confirmed. Reminders will reach you.".into();
        Ok(Outcome::of(result, back, form::VERIFY, done))
    })
    .await
}

#[server(prefix = "/_sf", endpoint = "account/resend-verification")]
pub async fn resend_verification(nonce: Option<String>) -> Result<(), ServerFnError> {
    let back = crate::forms::referer_path().unwrap_or_else(|| "/dashboard".into());
    let work = |state: AppState, user: User| async move {
        match spacedly_server::auth::resend_verification(&state, &user).await? {
            true => Ok(()),
            false => Err(spacedly_server::AppError::BadRequest(
                "A link was sent less than a minute ago; check your inbox.".into(),
            )),
        }
    };
    let done = |()| "We sent a new confirmation link.".to_string();
    crate::forms::act(nonce, (back, form::RESEND_VERIFICATION), &[], work, done).await
}

#[cfg(feature = "ssr")]
const SETTINGS: &str = "/settings";

#[server(prefix = "/_sf", endpoint = "account/profile")]
pub async fn update_profile(
    name: String,
    timezone: String,
    week_start: Option<String>,
) -> Result<(), ServerFnError> {
    use spacedly_server::auth::{self, ProfileChanges};
    let typed = [
        ("name", name.clone()),
        ("timezone", timezone.clone()),
        ("week_start", week_start.clone().unwrap_or_default()),
    ];
    let work = |state: AppState, user: User| async move {
        let changes = ProfileChanges::from_form(name, timezone, week_start);
        auth::update_profile(&state, &user, changes).await
    };
    let keep = typed.each_ref().map(|(k, v)| (*k, v.as_str()));
    let to = (format!("{SETTINGS}#profile"), form::PROFILE);
    crate::forms::act(None, to, &keep, work, |_| "Settings saved.".into()).await
}

/// Whether the user gets the morning digest (the settings page's checkbox).
#[server(prefix = "/_sf", endpoint = "account/digest-enabled")]
pub async fn digest_enabled() -> Result<bool, ServerFnError> {
    let user = backend::require_user().await?;
    let state = backend::state()?;
    spacedly_server::digest::enabled(&state.pool, user.id)
        .await
        .map_err(|e| backend::internal(e.into()))
}

/// Turns the morning digest on or off and sets its hour.
#[server(prefix = "/_sf", endpoint = "account/digest")]
pub async fn set_digest(digest: Option<String>, digest_hour: String) -> Result<(), ServerFnError> {
    use spacedly_server::auth::{self, ProfileChanges};
    let typed = [("digest_hour", digest_hour.clone())];
    let work = |state: AppState, user: User| async move {
        let changes = ProfileChanges::digest_from_form(digest.as_deref(), &digest_hour)?;
        auth::update_profile(&state, &user, changes).await
    };
    let keep = typed.each_ref().map(|(k, v)| (*k, v.as_str()));
    let to = (format!("{SETTINGS}#digest"), form::DIGEST);
    crate::forms::act(None, to, &keep, work, |_| "Morning digest saved.".into()).await
}

#[server(prefix = "/_sf", endpoint = "account/two-factor")]
pub async fn set_two_factor(enabled: Option<String>) -> Result<(), ServerFnError> {
    use spacedly_server::auth;
    let work = |state: AppState, user: User| async move {
        auth::set_two_factor(&state, &user, auth::parse_on_off(enabled.as_deref())?).await
    };
    let done = |user: User| match user.two_factor_enabled {
        true => "Two-factor sign-in is on: we will email you a code each time you sign in.".into(),
        false => "Two-factor sign-in is off.".into(),
    };
    let to = (format!("{SETTINGS}#two-factor"), form::TWO_FACTOR);
    crate::forms::act(None, to, &[], work, done).await
}

#[server(prefix = "/_sf", endpoint = "account/change-password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), ServerFnError> {
    use spacedly_server::auth::change_password;
    let session = backend::session().await?;
    let work = |state: AppState, user: User| async move {
        change_password(&state, &session, &user, &current_password, &new_password).await
    };
    let done = |_| "Password changed; your other sessions were signed out.".to_string();
    let to = (format!("{SETTINGS}#password"), form::PASSWORD);
    crate::forms::act(None, to, &[], work, done).await
}

#[server(prefix = "/_sf", endpoint = "account/set-password")]
pub async fn set_password(password: String) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    let user = backend::require_user().await?;
    crate::forms::submit(None, async move {
        let to = format!("{SETTINGS}#password");
        Ok(
            match spacedly_server::auth::set_password(&backend::state()?.services, &user, &password)
                .await
            {
                Ok(_) => Outcome::ok(
                    to,
                    form::PASSWORD,
                    "Password set: you can now also sign in with your email.",
                ),
                // It has one already (set from another tab): the page now shows the change form.
                Err(e @ spacedly_server::AppError::Conflict(_)) => {
                    Outcome::error(to, form::PASSWORD, e)
                }
                Err(e) => Outcome::error(to, form::SET_PASSWORD, e),
            },
        )
    })
    .await
}

#[server(prefix = "/_sf", endpoint = "account/tokens/create")]
pub async fn create_token(
    name: String,
    expires_in_days: String,
    password: Option<String>,
    nonce: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    use secrecy::ExposeSecret;
    let user = backend::require_user().await?;
    crate::forms::submit(nonce, async move {
        let state = backend::state()?;
        let to = format!("{SETTINGS}#tokens");
        let days = match expires_in_days.trim() {
            "" | "never" => None,
            d => d.parse::<i64>().ok(),
        };
        let signed_in_at = spacedly_server::auth::session::signed_in_at(&backend::session().await?)
            .await
            .map_err(backend::internal)?;
        let proof = spacedly_server::auth::RecentAuth {
            password: password.as_deref().filter(|p| !p.is_empty()),
            signed_in_at,
        };
        Ok(
            match spacedly_server::auth::api_tokens::create(&state, &user, &name, days, proof).await
            {
                Ok(created) => {
                    let mut outcome = Outcome::ok(
                        to,
                        form::TOKENS,
                        "Token created. Copy it now: it will not be shown again.",
                    );
                    if let Some(flash) = outcome.flash.as_mut() {
                        flash.sealed_secret = Some(spacedly_server::sealed::seal(
                            state.config.secret_key.expose_secret(),
                            &created.secret,
                        ));
                    }
                    outcome
                }
                Err(e) => Outcome::error(to, form::TOKENS, e)
                    .keep(&[("name", &name), ("expires_in_days", &expires_in_days)]),
            },
        )
    })
    .await
}

#[server(prefix = "/_sf", endpoint = "account/tokens/revoke")]
pub async fn revoke_token(id: String) -> Result<(), ServerFnError> {
    use spacedly_server::auth::api_tokens;
    let work = |state: AppState, user: User| async move {
        api_tokens::revoke(&state.pool, &user, api_tokens::parse_id(&id)?).await
    };
    let to = (format!("{SETTINGS}#tokens"), form::TOKENS);
    crate::forms::act(None, to, &[], work, |()| "Token revoked.".into()).await
}

#[server(prefix = "/_sf", endpoint = "account/delete")]
pub async fn delete_account(password: Option<String>) -> Result<(), ServerFnError> {
    use crate::forms::Outcome;
    use spacedly_server::auth;
    let (user, session) = (backend::require_user().await?, backend::session().await?);
    crate::forms::submit(None, async move {
        let result = auth::delete_account(
            &backend::state()?.services,
            &session,
            &user,
            password.as_deref(),
        )
        .await;
        Ok(match result {
            Ok(()) => Outcome::ok("/", "", "Your account and all its data were deleted."),
            Err(e) => Outcome::error(format!("{SETTINGS}#delete"), form::DELETE, e),
        })
    })
    .await
}

#[server(prefix = "/_sf", endpoint = "account/sessions/revoke")]
pub async fn revoke_session(id: String) -> Result<(), ServerFnError> {
    use spacedly_server::auth::session;
    let work = |state: AppState, user: User| async move {
        session::revoke_session(&state, &user, &id).await
    };
    let to = (format!("{SETTINGS}#sessions"), form::SESSIONS);
    crate::forms::act(None, to, &[], work, |()| {
        "That session is signed out.".into()
    })
    .await
}

/// Percent-encodes a query value.
#[cfg(feature = "ssr")]
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Whether this server offers sign-in with Google.
pub fn google_enabled() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<spacedly_server::AppState>().is_some_and(|s| s.google.is_some())
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub expires: Option<String>,
}

#[server(prefix = "/_sf", endpoint = "account/tokens")]
pub async fn list_tokens() -> Result<Vec<TokenView>, ServerFnError> {
    let state = backend::state()?;
    let user = backend::require_user().await?;
    let day = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d").to_string();
    let tokens = spacedly_server::auth::api_tokens::list(&state.pool, &user)
        .await
        .map_err(backend::internal)?;
    Ok(tokens
        .into_iter()
        .map(|t| TokenView {
            id: t.id.to_string(),
            name: t.name,
            prefix: t.prefix,
            created: day(t.created_at),
            last_used: t.last_used_at.map(day),
            expires: t.expires_at.map(day),
        })
        .collect())
}

/// The message for `/login?error=<code>`.
pub fn login_error_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "google_auth_failed" => "Google sign-in failed. Please try again.",
        "google_email_unverified" => {
            "Google has not verified that email address, so we did not link it to the Spacedly \
             account that uses it. Sign in with your password instead."
        }
        "google_cancelled" => "Google sign-in was cancelled.",
        "google_unavailable" => "Sign-in with Google is not set up on this server.",
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub device: String,
    pub signed_in: String,
    pub current: bool,
}

/// A short description of a browser from its User-Agent.
pub fn describe_user_agent(ua: Option<&str>) -> String {
    let Some(ua) = ua else {
        return "Unknown device".into();
    };
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/", "curl/"]
        .iter()
        .find(|b| ua.contains(*b))
        .map(|b| match *b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            "Safari/" => "Safari",
            _ => "Command line",
        })
        .unwrap_or("Browser");
    let os = ["Android", "iPhone", "iPad", "Windows", "Mac OS X", "Linux"]
        .iter()
        .find(|o| ua.contains(*o))
        .map(|o| match *o {
            "Mac OS X" => "macOS",
            other => other,
        });
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_string(),
    }
}

#[server(prefix = "/_sf", endpoint = "account/sessions")]
pub async fn list_sessions() -> Result<Vec<SessionView>, ServerFnError> {
    let state = backend::state()?;
    let user = backend::require_user().await?;
    let session = backend::session().await?;
    let sessions = spacedly_server::auth::session::list_sessions(&state, &user, &session)
        .await
        .map_err(backend::internal)?;
    Ok(sessions
        .into_iter()
        .map(|s| SessionView {
            id: s.id,
            device: format!(
                "{}{}",
                describe_user_agent(s.user_agent.as_deref()),
                s.ip.map(|ip| format!(", {ip}")).unwrap_or_default()
            ),
            signed_in: s
                .signed_in_at
                .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "unknown".into()),
            current: s.current,
        })
        .collect())
}
