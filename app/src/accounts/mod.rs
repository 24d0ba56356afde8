//! Accounts in the browser: the server functions (thin adapters over `spacedly_server::auth`)
//! and the pages that use them.

pub mod pages;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::forms::FormResult;

/// What the pages need to know about the signed-in user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub two_factor_enabled: bool,
    pub has_password: bool,
    pub timezone: String,
    pub digest_hour: i16,
}

#[cfg(feature = "ssr")]
pub(crate) mod backend {
    use leptos::prelude::*;
    use spacedly_server::{auth, http::ClientIp, AppError, AppState};
    use tower_sessions::Session;

    use super::Me;

    pub fn state() -> Result<AppState, ServerFnError> {
        use_context::<AppState>().ok_or_else(|| ServerFnError::new("server state missing"))
    }

    pub async fn session() -> Result<Session, ServerFnError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|_| ServerFnError::new("session missing"))
    }

    pub fn device() -> auth::session::Device {
        use_context::<http::request::Parts>()
            .map(|parts| auth::session::Device::from_parts(&parts))
            .unwrap_or_default()
    }

    pub fn client_ip() -> std::net::IpAddr {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<ClientIp>().copied())
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |ClientIp(ip)| ip)
    }

    /// The device cookie of this request, when valid (see `auth::device`).
    pub fn known_device(state: &AppState) -> Option<auth::device::KnownDevice> {
        use_context::<http::request::Parts>().and_then(|p| auth::device::read(state, &p.headers))
    }

    /// Makes this browser a known device of `user` (after a successful sign-in).
    pub fn remember_device(state: &AppState, user: &auth::User) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.append_header(http::header::SET_COOKIE, auth::device::issue(state, user));
        }
    }

    pub fn internal(e: AppError) -> ServerFnError {
        tracing::error!(error = ?e, "server function failed");
        ServerFnError::new("Something went wrong on our side; please try again")
    }

    pub async fn user() -> Result<Option<auth::User>, ServerFnError> {
        let state = state()?;
        let session = session().await?;
        auth::session::current_user(&state, &session)
            .await
            .map_err(internal)
    }

    pub async fn require_user() -> Result<auth::User, ServerFnError> {
        user()
            .await?
            .ok_or_else(|| ServerFnError::new("Please sign in to continue"))
    }

    pub fn me(user: &auth::User) -> Me {
        Me {
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            two_factor_enabled: user.two_factor_enabled,
            has_password: user.has_password(),
            timezone: user.timezone.clone(),
            digest_hour: user.digest_hour,
        }
    }
}

/// Only same-site paths may follow a sign-in (no open redirect).
pub fn safe_next(next: Option<String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/dashboard".to_string(),
    }
}

#[server(prefix = "/_sf", endpoint = "account/me")]
pub async fn current_user() -> Result<Option<Me>, ServerFnError> {
    Ok(backend::user().await?.as_ref().map(backend::me))
}

#[server(prefix = "/_sf", endpoint = "account/register")]
pub async fn register(
    name: String,
    email: String,
    password: String,
    timezone: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use spacedly_server::auth;
    let state = backend::state()?;
    let input = auth::RegisterInput {
        name,
        email: email.clone(),
        password: password.clone(),
        timezone,
    };
    match auth::register(&state, input, backend::client_ip()).await {
        Ok(user) => {
            // Signed in straight away; the banner asks to confirm the address.
            let session = backend::session().await?;
            auth::session::sign_in(&state, &session, &user, false, &backend::device())
                .await
                .map_err(backend::internal)?;
            leptos_axum::redirect("/dashboard");
            Ok(FormResult::success("Account created"))
        }
        Err(e) => crate::forms::from_error(e),
    }
}

#[server(prefix = "/_sf", endpoint = "account/login")]
pub async fn login(
    email: String,
    password: String,
    remember: Option<String>,
    next: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use spacedly_server::auth::{self, LoginOutcome};
    let state = backend::state()?;
    let session = backend::session().await?;
    let known = backend::known_device(&state);
    match auth::login(
        &state,
        &email,
        &password,
        backend::client_ip(),
        known.as_ref(),
    )
    .await
    {
        Ok(LoginOutcome::SignedIn(user)) => {
            auth::session::sign_in(
                &state,
                &session,
                &user,
                remember.is_some(),
                &backend::device(),
            )
            .await
            .map_err(backend::internal)?;
            backend::remember_device(&state, &user);
            leptos_axum::redirect(&safe_next(next));
            Ok(FormResult::success("Signed in"))
        }
        Ok(LoginOutcome::CodeSent(user)) => {
            auth::session::set_pending_2fa(&session, &user)
                .await
                .map_err(backend::internal)?;
            let remember = if remember.is_some() {
                "&remember=1"
            } else {
                ""
            };
            leptos_axum::redirect(&format!("/login/code?sent=1{remember}"));
            Ok(FormResult::success("We emailed you a sign-in code"))
        }
        Err(e) => crate::forms::from_error(e),
    }
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
pub async fn verify_code(
    otp: String,
    remember: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use spacedly_server::auth;
    let state = backend::state()?;
    let session = backend::session().await?;
    let Some(pending) = auth::session::pending_2fa(&state, &session)
        .await
        .map_err(backend::internal)?
    else {
        return Ok(FormResult {
            ok: false,
            message: "This sign-in has expired; start again with your email and password".into(),
            ..Default::default()
        });
    };
    match auth::verify_login_code(&state, &pending.email, &otp, backend::client_ip()).await {
        Ok(user) => {
            auth::session::sign_in(
                &state,
                &session,
                &user,
                remember.is_some(),
                &backend::device(),
            )
            .await
            .map_err(backend::internal)?;
            backend::remember_device(&state, &user);
            leptos_axum::redirect("/dashboard");
            Ok(FormResult::success("Signed in"))
        }
        Err(e) => crate::forms::from_error(e),
    }
}

#[server(prefix = "/_sf", endpoint = "account/resend-code")]
pub async fn resend_code() -> Result<FormResult, ServerFnError> {
    use spacedly_server::auth;
    let state = backend::state()?;
    let session = backend::session().await?;
    if let Some(user) = auth::session::pending_2fa(&state, &session)
        .await
        .map_err(backend::internal)?
    {
        if !auth::resend_login_code(&state, &user)
            .await
            .map_err(backend::internal)?
        {
            return Ok(FormResult {
                ok: false,
                message: "A code was sent less than a minute ago; check your inbox".into(),
                ..Default::default()
            });
        }
    }
    Ok(FormResult::success("A new code is on its way"))
}

#[server(prefix = "/_sf", endpoint = "account/logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    let session = backend::session().await?;
    spacedly_server::auth::session::sign_out(&session)
        .await
        .map_err(backend::internal)?;
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}

#[server(prefix = "/_sf", endpoint = "account/logout-all")]
pub async fn logout_all() -> Result<(), ServerFnError> {
    let state = backend::state()?;
    let user = backend::require_user().await?;
    spacedly_server::auth::end_all_sessions(&state, &user)
        .await
        .map_err(backend::internal)?;
    spacedly_server::auth::session::sign_out(&backend::session().await?)
        .await
        .map_err(backend::internal)?;
    leptos_axum::redirect("/login?signed_out=all");
    Ok(())
}

#[server(prefix = "/_sf", endpoint = "account/forgot")]
pub async fn forgot_password(email: String) -> Result<FormResult, ServerFnError> {
    let state = backend::state()?;
    match spacedly_server::auth::forgot_password(&state, &email, backend::client_ip()).await {
        Ok(()) => Ok(FormResult::success(
            "If the email exists, a reset link has been sent. It works for one hour.",
        )),
        Err(e) => crate::forms::from_error(e),
    }
}

#[server(prefix = "/_sf", endpoint = "account/reset")]
pub async fn reset_password(token: String, password: String) -> Result<FormResult, ServerFnError> {
    let state = backend::state()?;
    match spacedly_server::auth::reset_password(&state, &token, &password, backend::client_ip())
        .await
    {
        Ok(_) => {
            spacedly_server::auth::session::sign_out(&backend::session().await?)
                .await
                .map_err(backend::internal)?;
            leptos_axum::redirect("/login?reset=1");
            Ok(FormResult::success("Your password has been reset"))
        }
        Err(e) => crate::forms::from_error(e),
    }
}

#[server(prefix = "/_sf", endpoint = "account/verify-email")]
pub async fn verify_email(token: String) -> Result<FormResult, ServerFnError> {
    let state = backend::state()?;
    match spacedly_server::auth::verify_email(&state, &token).await {
        Ok(_) => Ok(FormResult::success(
            "Your email address is confirmed. Reminders will reach you.",
        )),
        Err(e) => crate::forms::from_error(e),
    }
}

#[server(prefix = "/_sf", endpoint = "account/resend-verification")]
pub async fn resend_verification() -> Result<FormResult, ServerFnError> {
    let state = backend::state()?;
    let user = backend::require_user().await?;
    match spacedly_server::auth::resend_verification(&state, &user).await {
        Ok(true) => Ok(FormResult::success("We sent a new confirmation link")),
        Ok(false) => Ok(FormResult {
            ok: false,
            message: "A link was sent less than a minute ago; check your inbox".into(),
            ..Default::default()
        }),
        Err(e) => crate::forms::from_error(e),
    }
}

#[server(prefix = "/_sf", endpoint = "account/profile")]
pub async fn update_profile(
    name: String,
    timezone: String,
    digest_hour: String,
) -> Result<FormResult, ServerFnError> {
    let state = backend::state()?;
    let user = backend::require_user().await?;
    let digest_hour = match digest_hour.trim().parse::<i64>() {
        Ok(h) => Some(h),
        Err(_) => {
            return Ok(FormResult {
                ok: false,
                message: "Choose an hour from 0 to 23".into(),
                fields: [(
                    "digest_hour".to_string(),
                    "Choose an hour from 0 to 23".to_string(),
                )]
                .into(),
            })
        }
    };
    let changes = spacedly_server::auth::ProfileChanges {
        name: Some(name),
        timezone: Some(timezone),
        digest_hour,
    };
    match spacedly_server::auth::update_profile(&state, &user, changes).await {
        Ok(_) => Ok(FormResult::success("Settings saved")),
        Err(e) => crate::forms::from_error(e),
    }
}

#[server(prefix = "/_sf", endpoint = "account/two-factor")]
pub async fn set_two_factor(enabled: String) -> Result<FormResult, ServerFnError> {
    let state = backend::state()?;
    let user = backend::require_user().await?;
    let enabled = match enabled.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            return Ok(FormResult {
                ok: false,
                message: "Choose on or off".into(),
                ..Default::default()
            })
        }
    };
    match spacedly_server::auth::set_two_factor(&state, &user, enabled).await {
        Ok(_) => Ok(FormResult::success(if enabled {
            "Two-factor sign-in is on: we will email you a code each time you sign in"
        } else {
            "Two-factor sign-in is off"
        })),
        Err(e) => crate::forms::from_error(e),
    }
}

#[server(prefix = "/_sf", endpoint = "account/change-password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<FormResult, ServerFnError> {
    let state = backend::state()?;
    let user = backend::require_user().await?;
    match spacedly_server::auth::change_password(&state, &user, &current_password, &new_password)
        .await
    {
        Ok(user) => {
            spacedly_server::auth::session::refresh_version(&backend::session().await?, &user)
                .await
                .map_err(backend::internal)?;
            Ok(FormResult::success(
                "Password changed; your other sessions were signed out",
            ))
        }
        Err(e) => crate::forms::from_error(e),
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenCreated {
    pub result: FormResult,
    /// Shown once, right after creation.
    pub secret: Option<String>,
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

#[server(prefix = "/_sf", endpoint = "account/tokens/create")]
pub async fn create_token(
    name: String,
    expires_in_days: String,
    password: Option<String>,
) -> Result<TokenCreated, ServerFnError> {
    use spacedly_server::auth;
    let state = backend::state()?;
    let user = backend::require_user().await?;
    let days = match expires_in_days.trim() {
        "" | "never" => None,
        d => d.parse::<i64>().ok(),
    };
    let signed_in_at = auth::session::signed_in_at(&backend::session().await?)
        .await
        .map_err(backend::internal)?;
    let proof = auth::RecentAuth {
        password: password.as_deref(),
        signed_in_at,
    };
    match auth::api_tokens::create(&state, &user, &name, days, proof).await {
        Ok(created) => Ok(TokenCreated {
            result: FormResult::success("Token created. Copy it now: it will not be shown again."),
            secret: Some(created.secret),
        }),
        Err(e) => Ok(TokenCreated {
            result: crate::forms::from_error(e)?,
            secret: None,
        }),
    }
}

#[server(prefix = "/_sf", endpoint = "account/tokens/revoke")]
pub async fn revoke_token(id: String) -> Result<FormResult, ServerFnError> {
    let state = backend::state()?;
    let user = backend::require_user().await?;
    let Ok(id) = id.parse() else {
        return Ok(FormResult {
            ok: false,
            message: "Not found".into(),
            ..Default::default()
        });
    };
    match spacedly_server::auth::api_tokens::revoke(&state.pool, &user, id).await {
        Ok(()) => Ok(FormResult::success("Token revoked")),
        Err(e) => crate::forms::from_error(e),
    }
}

#[server(prefix = "/_sf", endpoint = "account/delete")]
pub async fn delete_account(password: Option<String>) -> Result<FormResult, ServerFnError> {
    use spacedly_server::auth;
    let state = backend::state()?;
    let user = backend::require_user().await?;
    let session = backend::session().await?;
    let signed_in_at = auth::session::signed_in_at(&session)
        .await
        .map_err(backend::internal)?;
    match auth::delete_account(&state, &user, password.as_deref(), signed_in_at).await {
        Ok(()) => {
            auth::session::sign_out(&session)
                .await
                .map_err(backend::internal)?;
            leptos_axum::redirect("/?account=deleted");
            Ok(FormResult::success("Your account was deleted"))
        }
        Err(e) => crate::forms::from_error(e),
    }
}

/// Which sign-in options this server offers.
#[server(prefix = "/_sf", endpoint = "account/options")]
pub async fn sign_in_options() -> Result<bool, ServerFnError> {
    Ok(backend::state()?.google.is_some())
}

#[server(prefix = "/_sf", endpoint = "account/set-password")]
pub async fn set_password(password: String) -> Result<FormResult, ServerFnError> {
    let state = backend::state()?;
    let user = backend::require_user().await?;
    match spacedly_server::auth::set_password(&state, &user, &password).await {
        Ok(_) => Ok(FormResult::success(
            "Password set: you can now also sign in with your email",
        )),
        Err(e) => crate::forms::from_error(e),
    }
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

#[server(prefix = "/_sf", endpoint = "account/sessions/revoke")]
pub async fn revoke_session(id: String) -> Result<FormResult, ServerFnError> {
    let state = backend::state()?;
    let user = backend::require_user().await?;
    match spacedly_server::auth::session::revoke_session(&state, &user, &id).await {
        Ok(()) => Ok(FormResult::success("That session is signed out")),
        Err(e) => crate::forms::from_error(e),
    }
}
