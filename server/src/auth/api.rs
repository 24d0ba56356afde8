//! /api/auth and /api/user (paths and fields of API.md).

use axum::{
    extract::{Path, State},
    http::header,
    response::{AppendHeaders, IntoResponse},
    routing::{delete, get, post},
    Extension, Json, Router,
};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::{session, session::CurrentUser, LoginOutcome, ProfileChanges, RegisterInput};
use crate::{
    api::ApiJson,
    error::{created, ok, AppError, AppResult},
    http::ClientIp,
    state::AppState,
};

pub fn auth_router() -> Router<AppState> {
    Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/verify-otp", post(verify_otp))
        .route("/resend-otp", post(resend_otp))
        .route("/logout", post(logout))
        .route("/logout-all", post(logout_all))
        .route("/forgot-password", post(forgot_password))
        .route("/reset-password", post(reset_password))
        .route("/verify-email", post(verify_email))
        .route("/resend-verification", post(resend_verification))
        .route("/google", get(google_start))
        .route("/google/callback", get(google_callback))
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

async fn google_start(
    State(state): State<AppState>,
    session: Session,
    axum::extract::Query(query): axum::extract::Query<StartQuery>,
) -> axum::response::Response {
    match super::google::start(&state, &session, query.next.as_deref()).await {
        Ok(url) => axum::response::Redirect::to(&url).into_response(),
        Err(AppError::NotFound) => {
            axum::response::Redirect::to("/login?error=google_unavailable").into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn google_callback(
    State(state): State<AppState>,
    session: Session,
    device: session::Device,
    axum::extract::Query(query): axum::extract::Query<CallbackQuery>,
) -> axum::response::Response {
    let outcome = super::google::finish(
        &state,
        &session,
        query.code.as_deref(),
        query.state.as_deref(),
        query.error.as_deref(),
    )
    .await;
    let target = match outcome {
        Ok(super::google::Finished { user, next }) => {
            match session::sign_in(&state, &session, &user, true, &device).await {
                // `next` was checked by `safe_local_path` when the flow started.
                Ok(()) => next.unwrap_or_else(|| "/dashboard".to_string()),
                Err(e) => {
                    tracing::error!(error = ?e, "could not start the session");
                    "/login?error=google_auth_failed".to_string()
                }
            }
        }
        Err(failure) => format!("/login?error={}", failure.code()),
    };
    axum::response::Redirect::to(&target).into_response()
}

pub fn tokens_router() -> Router<AppState> {
    Router::new()
        .route("/", post(create_token).get(list_tokens))
        .route("/{id}", delete(revoke_token))
}

pub fn user_router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me).patch(update_me).delete(delete_me))
        .route("/export", get(export))
        .route("/sessions", get(list_sessions))
        .route("/sessions/{id}", delete(revoke_session))
        .route("/enabled-2fa", post(set_two_factor))
        .route("/change-password", post(change_password))
        .route("/set-password", post(set_password))
}

#[derive(Deserialize)]
struct RegisterBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    timezone: Option<String>,
}

async fn register(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> AppResult<impl axum::response::IntoResponse> {
    let user = super::register(
        &state,
        RegisterInput {
            name: body.name,
            email: body.email,
            password: body.password,
            timezone: body.timezone,
        },
        ip,
    )
    .await?;
    Ok(created(
        "Account created. Check your inbox to confirm your email address.",
        json!({"user": {"id": user.id, "name": user.name, "email": user.email}}),
    ))
}

#[derive(Deserialize)]
struct LoginBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "rememberMe", alias = "remember_me")]
    remember_me: bool,
}

async fn login(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    session: Session,
    device: session::Device,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> AppResult<impl IntoResponse> {
    let known = super::device::read(&state, &headers);
    match super::login(&state, &body.email, &body.password, ip, known.as_ref()).await? {
        LoginOutcome::SignedIn(user) => {
            session::sign_in(&state, &session, &user, body.remember_me, &device).await?;
            let cookie = super::device::issue(&state, &user);
            Ok((
                AppendHeaders(Some((header::SET_COOKIE, cookie))),
                ok("Signed in", json!({"user": user.summary()})),
            ))
        }
        LoginOutcome::CodeSent(user) => {
            session::set_pending_2fa(&session, &user).await?;
            Ok((
                AppendHeaders(None),
                ok(
                    "OTP sent to your registered email",
                    json!({"two_factor_required": true}),
                ),
            ))
        }
    }
}

#[derive(Deserialize)]
struct VerifyOtpBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    otp: String,
    #[serde(default, rename = "rememberMe", alias = "remember_me")]
    remember_me: bool,
}

async fn verify_otp(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    session: Session,
    device: session::Device,
    ApiJson(body): ApiJson<VerifyOtpBody>,
) -> AppResult<impl IntoResponse> {
    // The code finishes the sign-in of the session that gave the password, and no other: a
    // code read from the mailbox alone must not open a session elsewhere.
    let pending = session::pending_2fa(&state, &session).await?;
    let email = match pending {
        Some(user)
            if body.email.trim().is_empty()
                || body.email.trim().eq_ignore_ascii_case(&user.email) =>
        {
            user.email
        }
        // Counted like any wrong code, and answered the same way.
        _ => String::new(),
    };
    let user = super::verify_login_code(&state, &email, &body.otp, ip).await?;
    session::sign_in(&state, &session, &user, body.remember_me, &device).await?;
    let cookie = super::device::issue(&state, &user);
    Ok((
        AppendHeaders([(header::SET_COOKIE, cookie)]),
        ok("Signed in", json!({"user": user.summary()})),
    ))
}

async fn resend_otp(
    State(state): State<AppState>,
    session: Session,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    // Only a session that passed the password step may ask for another code.
    if let Some(user) = session::pending_2fa(&state, &session).await? {
        super::resend_login_code(&state, &user).await?;
    }
    Ok(ok(
        "If a sign-in is waiting for a code, a new one has been sent (at most once a minute)",
        json!({}),
    ))
}

async fn logout(session: Session) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    session::sign_out(&session).await?;
    Ok(ok("Signed out", json!({})))
}

async fn logout_all(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    super::end_all_sessions(&state, &user).await?;
    session::sign_out(&session).await?;
    Ok(ok("Signed out everywhere", json!({})))
}

#[derive(Deserialize)]
struct EmailBody {
    #[serde(default)]
    email: String,
}

async fn forgot_password(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    ApiJson(body): ApiJson<EmailBody>,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    super::forgot_password(&state, &body.email, ip).await?;
    Ok(ok(
        "If the email exists, a reset link has been sent",
        json!({}),
    ))
}

#[derive(Deserialize)]
struct ResetBody {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    session: Session,
    ApiJson(body): ApiJson<ResetBody>,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    super::reset_password(&state, &body.token, &body.password, ip).await?;
    session::sign_out(&session).await?;
    Ok(ok(
        "Your password has been reset. Sign in with the new one.",
        json!({}),
    ))
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    token: String,
}

async fn verify_email(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenBody>,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    let user = super::verify_email(&state, &body.token).await?;
    Ok(ok(
        "Your email address is confirmed",
        json!({"user": user.summary()}),
    ))
}

async fn resend_verification(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    if super::resend_verification(&state, &user).await? {
        Ok(ok("A new confirmation link has been sent", json!({})))
    } else {
        Err(AppError::RateLimited {
            retry_after: std::time::Duration::from_secs(super::RESEND_COOLDOWN.num_seconds() as u64),
        })
    }
}

async fn me(CurrentUser(user): CurrentUser) -> Json<crate::error::ApiOk<serde_json::Value>> {
    ok("Your profile", json!({"user": user.profile()}))
}

async fn update_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ProfileChanges>,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    let user = super::update_profile(&state, &user, body).await?;
    Ok(ok("Settings saved", json!({"user": user.profile()})))
}

async fn set_two_factor(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    // Booleans only: "false" as a string must not switch anything on.
    let Some(enabled) = body.get("is_Enabled").and_then(serde_json::Value::as_bool) else {
        return Err(AppError::validation(
            "is_Enabled",
            "is_Enabled must be true or false",
        ));
    };
    let user = super::set_two_factor(&state, &user, enabled).await?;
    let message = if enabled {
        "Two-factor authentication is on"
    } else {
        "Two-factor authentication is off"
    };
    Ok(ok(message, json!({"user": user.profile()})))
}

#[derive(Deserialize)]
struct ChangePasswordBody {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    let user =
        super::change_password(&state, &user, &body.current_password, &body.new_password).await?;
    // Other sessions end; this one stays signed in.
    session::refresh_version(&session, &user).await?;
    Ok(ok(
        "Password changed; your other sessions were signed out",
        json!({}),
    ))
}

#[derive(Deserialize)]
struct SetPasswordBody {
    #[serde(default)]
    password: String,
}

async fn set_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<SetPasswordBody>,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    let user = super::set_password(&state, &user, &body.password).await?;
    Ok(ok("Password set", json!({"user": user.profile()})))
}

#[derive(Deserialize)]
struct DeleteBody {
    password: Option<String>,
}

async fn delete_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    body: axum::body::Bytes,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    // The body is optional: accounts without a password send none.
    let password = if body.is_empty() {
        None
    } else {
        serde_json::from_slice::<DeleteBody>(&body)
            .map_err(|_| AppError::BadRequest("The request body is not valid JSON".into()))?
            .password
    };
    let signed_in_at = session::signed_in_at(&session).await?;
    super::delete_account(&state, &user, password.as_deref(), signed_in_at).await?;
    session::sign_out(&session).await?;
    Ok(ok("Your account and all its data were deleted", json!({})))
}

async fn export(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<impl IntoResponse> {
    let data = super::export(&state, &user).await?;
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"spacedly-export.json\"",
        )],
        ok("Your data", data),
    ))
}

#[derive(Deserialize)]
struct CreateTokenBody {
    #[serde(default)]
    name: String,
    #[serde(rename = "expiresInDays")]
    expires_in_days: Option<i64>,
    /// Needed unless this session signed in within the last ten minutes.
    password: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<CreateTokenBody>,
) -> AppResult<impl IntoResponse> {
    // A bearer-token request has no session sign-in time: it must give the password.
    let signed_in_at = if headers.contains_key(header::AUTHORIZATION) {
        None
    } else {
        session::signed_in_at(&session).await?
    };
    let proof = super::RecentAuth {
        password: body.password.as_deref(),
        signed_in_at,
    };
    let created =
        super::api_tokens::create(&state, &user, &body.name, body.expires_in_days, proof).await?;
    Ok(created_response(created))
}

fn created_response(new: super::api_tokens::CreatedToken) -> impl IntoResponse {
    created(
        "Token created. Copy it now: it will not be shown again.",
        json!({"token": new.token, "secret": new.secret}),
    )
}

async fn list_tokens(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    let tokens = super::api_tokens::list(&state.pool, &user).await?;
    Ok(ok("Your API tokens", json!({"tokens": tokens})))
}

async fn revoke_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    super::api_tokens::revoke(&state.pool, &user, id).await?;
    Ok(ok("Token revoked", json!({})))
}

async fn list_sessions(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    let sessions = session::list_sessions(&state, &user, &session).await?;
    Ok(ok("Your sessions", json!({"sessions": sessions})))
}

async fn revoke_session(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<crate::error::ApiOk<serde_json::Value>>> {
    session::revoke_session(&state, &user, &id).await?;
    Ok(ok("Session signed out", json!({})))
}
