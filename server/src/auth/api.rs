//! /api/auth and /api/user (paths and fields of API.md).

use std::sync::Arc;

use crate::clock::Clock;
use axum::extract::FromRef;
use axum::{
    extract::{Path, State},
    http::header,
    response::{AppendHeaders, IntoResponse},
    Extension, Json,
};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tower_sessions::Session;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    api_tokens::ApiToken, session, session::ActiveSession, session::CurrentUser, sign_in,
    users::UserProfile, users::UserSummary, Export, ProfileChanges, RegisterInput,
};
use crate::{
    api::ApiJson,
    error::{created, ok, ApiOk, AppError, AppResult, Empty},
    http::ClientIp,
    state::Services,
};

pub fn auth_router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
    PgPool: FromRef<S>,
    Clock: FromRef<S>,
    Option<Arc<super::google::Google>>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(verify_otp))
        .routes(routes!(resend_otp))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(google_start))
        .routes(routes!(google_callback))
}

/// `data` of the answers that carry the short form of the user.
#[derive(Serialize, ToSchema)]
pub struct UserData {
    pub user: UserSummary,
}

/// `data` of the answers that carry the full profile.
#[derive(Serialize, ToSchema)]
pub struct ProfileData {
    pub user: UserProfile,
}

/// The account created by POST /api/auth/register.
#[derive(Serialize, ToSchema)]
pub struct NewUser {
    pub id: Uuid,
    pub name: String,
    pub email: String,
}

#[derive(Serialize, ToSchema)]
pub struct NewUserData {
    pub user: NewUser,
}

/// A sign-in either opens the session (`user`) or waits for the emailed code.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginData {
    SignedIn { user: UserSummary },
    CodeRequired { two_factor_required: bool },
}

#[derive(Serialize, ToSchema)]
pub struct CreatedTokenData {
    pub token: ApiToken,
    /// Shown once: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokensData {
    pub tokens: Vec<ApiToken>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionsData {
    pub sessions: Vec<ActiveSession>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StartQuery {
    /// A path on this site to go to after signing in.
    next: Option<String>,
}

/// Starts a Google sign-in: redirects to the provider (state + PKCE).
#[utoipa::path(get, path = "/google", tag = "auth", params(StartQuery),
    responses((status = 303, description = "Redirect to Google, or to /login?error=google_unavailable")))]
async fn google_start(
    State(state): State<Services>,
    State(google): State<Option<Arc<super::google::Google>>>,
    session: Session,
    axum::extract::Query(query): axum::extract::Query<StartQuery>,
) -> axum::response::Response {
    match super::google::start(&state, google.as_deref(), &session, query.next.as_deref()).await {
        Ok(url) => axum::response::Redirect::to(&url).into_response(),
        Err(AppError::NotFound) => {
            axum::response::Redirect::to("/login?error=google_unavailable").into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Google's redirect back: sets the session and redirects to /dashboard (or `next`); on failure
/// redirects to /login?error=google_auth_failed.
#[utoipa::path(get, path = "/google/callback", tag = "auth", params(CallbackQuery),
    responses((status = 303, description = "Redirect to the app or to /login?error=…")))]
async fn google_callback(
    State(state): State<Services>,
    State(google): State<Option<Arc<super::google::Google>>>,
    client: sign_in::Client,
    axum::extract::Query(query): axum::extract::Query<CallbackQuery>,
) -> axum::response::Response {
    let outcome = super::google::finish(
        &state,
        google.as_deref(),
        &client.session,
        query.code.as_deref(),
        query.state.as_deref(),
        query.error.as_deref(),
    )
    .await;
    let (target, cookie) = match outcome {
        Ok(super::google::Finished { user, next }) => {
            match sign_in::finish(&state, &client, user, true).await {
                // `next` was checked by `safe_local_path` when the flow started.
                Ok(done) => (
                    next.unwrap_or_else(|| "/dashboard".to_string()),
                    Some(done.device_cookie),
                ),
                Err(e) => {
                    tracing::error!(error = ?e, "could not start the session");
                    ("/login?error=google_auth_failed".to_string(), None)
                }
            }
        }
        Err(failure) => (format!("/login?error={}", failure.code()), None),
    };
    (
        AppendHeaders(cookie.map(|c| (header::SET_COOKIE, c))),
        axum::response::Redirect::to(&target),
    )
        .into_response()
}

pub fn tokens_router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
    PgPool: FromRef<S>,
    Clock: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
}

pub fn user_router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Services: FromRef<S>,
    PgPool: FromRef<S>,
    Clock: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(me, update_me, delete_me))
        .routes(routes!(export))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(set_two_factor))
        .routes(routes!(change_password))
        .routes(routes!(set_password))
}

#[derive(Deserialize, ToSchema)]
struct RegisterBody {
    /// 2 to 50 characters once trimmed, without control characters.
    #[serde(default)]
    #[schema(
        required = true,
        min_length = 2,
        pattern = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u001F\u007F-\u009F \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]{0,48}[^\u0000-\u001F\u007F-\u009F \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    name: String,
    #[serde(default)]
    #[schema(required = true, format = Email, max_length = 254)]
    email: String,
    /// Kept exactly as typed: at least 8 characters and at most 1024 characters, and not
    /// one of the 10,000 most common passwords.
    #[serde(default)]
    #[schema(required = true, min_length = 8, max_length = 1024)]
    password: String,
    /// An IANA time zone; absent or blank means UTC.
    #[schema(value_type = Option<crate::validate::TimeZoneOrBlank>)]
    timezone: Option<String>,
}

/// Creates an account (name 2-50, email, password of at least 8). Does not sign in.
#[utoipa::path(post, path = "/register", tag = "auth", request_body = RegisterBody,
    responses((status = 201, body = ApiOk<NewUserData>), (status = 409, description = "The email is taken", body = crate::error::ErrorBody)))]
async fn register(
    State(state): State<Services>,
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
        NewUserData {
            user: NewUser {
                id: user.id,
                name: user.name,
                email: user.email,
            },
        },
    ))
}

#[derive(Deserialize, ToSchema)]
struct LoginBody {
    /// Any case; an address that has no account gets the same 401 as a wrong password.
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    email: String,
    /// Up to 1024 characters; anything else gets the same 401 as a wrong password.
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 1024)]
    password: String,
    #[serde(default, rename = "rememberMe", alias = "remember_me")]
    remember_me: bool,
}

/// Signs in with email and password: sets the session cookie, or (with 2FA on) emails a
/// 6-digit code and answers `two_factor_required`.
#[utoipa::path(post, path = "/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = ApiOk<LoginData>), (status = 401, body = crate::error::ErrorBody)))]
async fn login(
    State(state): State<Services>,
    client: sign_in::Client,
    ApiJson(body): ApiJson<LoginBody>,
) -> AppResult<impl IntoResponse> {
    Ok(
        match sign_in::with_password(
            &state,
            &client,
            &body.email,
            &body.password,
            body.remember_me,
        )
        .await?
        {
            sign_in::Step::SignedIn(done) => (
                AppendHeaders(Some((header::SET_COOKIE, done.device_cookie))),
                ok(
                    "Signed in",
                    LoginData::SignedIn {
                        user: done.user.summary(),
                    },
                ),
            ),
            sign_in::Step::CodeSent(_) => (
                AppendHeaders(None),
                ok(
                    "OTP sent to your registered email",
                    LoginData::CodeRequired {
                        two_factor_required: true,
                    },
                ),
            ),
        },
    )
}

#[derive(Deserialize, ToSchema)]
struct VerifyOtpBody {
    /// Optional: when given, the address that signed in (any case).
    #[serde(default)]
    email: String,
    /// The 6-digit code from the email.
    #[serde(default)]
    #[schema(
        required = true,
        min_length = 6,
        max_length = 6,
        pattern = r"^[0-9]{6}$"
    )]
    otp: String,
    #[serde(default, rename = "rememberMe", alias = "remember_me")]
    remember_me: bool,
}

/// The 2FA step: the emailed code, in the session that gave the password.
#[utoipa::path(post, path = "/verify-otp", tag = "auth", request_body = VerifyOtpBody,
    responses((status = 200, body = ApiOk<UserData>), (status = 400, body = crate::error::ErrorBody)))]
async fn verify_otp(
    State(state): State<Services>,
    client: sign_in::Client,
    ApiJson(body): ApiJson<VerifyOtpBody>,
) -> AppResult<impl IntoResponse> {
    let done = sign_in::with_code(
        &state,
        &client,
        Some(&body.email),
        &body.otp,
        body.remember_me,
    )
    .await?;
    Ok((
        AppendHeaders([(header::SET_COOKIE, done.device_cookie)]),
        ok(
            "Signed in",
            UserData {
                user: done.user.summary(),
            },
        ),
    ))
}

#[utoipa::path(post, path = "/resend-otp", tag = "auth", responses((status = 200, body = ApiOk<Empty>)))]
async fn resend_otp(
    State(state): State<Services>,
    session: Session,
) -> AppResult<Json<ApiOk<Empty>>> {
    // Only a session that passed the password step may ask for another code.
    if let Some(user) = session::pending_2fa(&state, &session).await? {
        super::resend_login_code(&state, &user).await?;
    }
    Ok(ok(
        "If a sign-in is waiting for a code, a new one has been sent (at most once a minute)",
        Empty {},
    ))
}

#[utoipa::path(post, path = "/logout", tag = "auth", responses((status = 200, body = ApiOk<Empty>)))]
async fn logout(session: Session) -> AppResult<Json<ApiOk<Empty>>> {
    session::sign_out(&session).await?;
    Ok(ok("Signed out", Empty {}))
}

#[utoipa::path(post, path = "/logout-all", tag = "auth", security(("cookie" = []), ("bearer" = [])), responses((status = 200, body = ApiOk<Empty>)))]
async fn logout_all(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> AppResult<Json<ApiOk<Empty>>> {
    super::end_all_sessions(&state, &user).await?;
    session::sign_out(&session).await?;
    Ok(ok("Signed out everywhere", Empty {}))
}

#[derive(Deserialize, ToSchema)]
struct EmailBody {
    #[serde(default)]
    #[schema(required = true, format = Email, max_length = 254)]
    email: String,
}

#[utoipa::path(post, path = "/forgot-password", tag = "auth", request_body = EmailBody, responses((status = 200, body = ApiOk<Empty>)))]
async fn forgot_password(
    State(state): State<Services>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    ApiJson(body): ApiJson<EmailBody>,
) -> AppResult<Json<ApiOk<Empty>>> {
    super::forgot_password(&state, &body.email, ip).await?;
    Ok(ok(
        "If the email exists, a reset link has been sent",
        Empty {},
    ))
}

#[derive(Deserialize, ToSchema)]
struct ResetBody {
    /// The token from the reset link.
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    token: String,
    /// The new password: at least 8 characters and at most 1024 characters, and not one of
    /// the 10,000 most common passwords.
    #[serde(default)]
    #[schema(required = true, min_length = 8, max_length = 1024)]
    password: String,
}

#[utoipa::path(post, path = "/reset-password", tag = "auth", request_body = ResetBody, responses((status = 200, body = ApiOk<Empty>)))]
async fn reset_password(
    State(state): State<Services>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    session: Session,
    ApiJson(body): ApiJson<ResetBody>,
) -> AppResult<Json<ApiOk<Empty>>> {
    super::reset_password(&state, &session, &body.token, &body.password, ip).await?;
    Ok(ok(
        "Your password has been reset. Sign in with the new one.",
        Empty {},
    ))
}

#[derive(Deserialize, ToSchema)]
struct TokenBody {
    /// The token from the confirmation link.
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    token: String,
}

#[utoipa::path(post, path = "/verify-email", tag = "auth", request_body = TokenBody, responses((status = 200, body = ApiOk<UserData>)))]
async fn verify_email(
    State(state): State<Services>,
    ApiJson(body): ApiJson<TokenBody>,
) -> AppResult<Json<ApiOk<UserData>>> {
    let user = super::verify_email(&state, &body.token).await?;
    Ok(ok(
        "Your email address is confirmed",
        UserData {
            user: user.summary(),
        },
    ))
}

#[utoipa::path(post, path = "/resend-verification", tag = "auth", security(("cookie" = []), ("bearer" = [])), responses((status = 200, body = ApiOk<Empty>), (status = 429, body = crate::error::ErrorBody)))]
async fn resend_verification(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<ApiOk<Empty>>> {
    if super::resend_verification(&state, &user).await? {
        Ok(ok("A new confirmation link has been sent", Empty {}))
    } else {
        Err(AppError::RateLimited {
            retry_after: std::time::Duration::from_secs(super::RESEND_COOLDOWN.num_seconds() as u64),
        })
    }
}

#[utoipa::path(get, path = "/me", tag = "user", security(("cookie" = []), ("bearer" = [])), responses((status = 200, body = ApiOk<ProfileData>)))]
async fn me(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<ApiOk<ProfileData>>> {
    Ok(ok(
        "Your profile",
        ProfileData {
            user: super::profile(&state, &user).await?,
        },
    ))
}

#[utoipa::path(patch, path = "/me", tag = "user", security(("cookie" = []), ("bearer" = [])), request_body = ProfileChanges, responses((status = 200, body = ApiOk<ProfileData>)))]
async fn update_me(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ProfileChanges>,
) -> AppResult<Json<ApiOk<ProfileData>>> {
    let user = super::update_profile(&state, &user, body).await?;
    Ok(ok(
        "Settings saved",
        ProfileData {
            user: super::profile(&state, &user).await?,
        },
    ))
}

#[utoipa::path(post, path = "/enabled-2fa", tag = "user", security(("cookie" = []), ("bearer" = [])), request_body = TwoFactorBody, responses((status = 200, body = ApiOk<ProfileData>)))]
async fn set_two_factor(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> AppResult<Json<ApiOk<ProfileData>>> {
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
    Ok(ok(
        message,
        ProfileData {
            user: super::profile(&state, &user).await?,
        },
    ))
}

/// The body of POST /api/user/enabled-2fa, for the document only: the handler reads the JSON
/// itself so that "false" as a string is a 400 with its own message.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
struct TwoFactorBody {
    #[serde(rename = "is_Enabled")]
    is_enabled: bool,
}

#[derive(Deserialize, ToSchema)]
struct ChangePasswordBody {
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    current_password: String,
    /// At least 8 characters and at most 1024 characters, and not one of the 10,000 most
    /// common passwords.
    #[serde(default)]
    #[schema(required = true, min_length = 8, max_length = 1024)]
    new_password: String,
}

#[utoipa::path(post, path = "/change-password", tag = "user", security(("cookie" = []), ("bearer" = [])), request_body = ChangePasswordBody, responses((status = 200, body = ApiOk<Empty>)))]
async fn change_password(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    session: Session,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> AppResult<Json<ApiOk<Empty>>> {
    super::change_password(
        &state,
        &session,
        &user,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(ok(
        "Password changed; your other sessions were signed out",
        Empty {},
    ))
}

#[derive(Deserialize, ToSchema)]
struct SetPasswordBody {
    /// At least 8 characters and at most 1024 characters, and not one of the 10,000 most
    /// common passwords.
    #[serde(default)]
    #[schema(required = true, min_length = 8, max_length = 1024)]
    password: String,
}

#[utoipa::path(post, path = "/set-password", tag = "user", security(("cookie" = []), ("bearer" = [])), request_body = SetPasswordBody, responses((status = 200, body = ApiOk<ProfileData>)))]
async fn set_password(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<SetPasswordBody>,
) -> AppResult<Json<ApiOk<ProfileData>>> {
    let user = super::set_password(&state, &user, &body.password).await?;
    Ok(ok(
        "Password set",
        ProfileData {
            user: super::profile(&state, &user).await?,
        },
    ))
}

#[derive(Deserialize, ToSchema)]
struct DeleteBody {
    /// The account's password.
    #[schema(value_type = String, required = true, min_length = 1)]
    password: Option<String>,
}

#[utoipa::path(delete, path = "/me", tag = "user", security(("cookie" = []), ("bearer" = [])), request_body(content = DeleteBody, description = "The account's password. Only an account without a password may send no body instead, within ten minutes of signing in"), responses((status = 200, body = ApiOk<Empty>)))]
async fn delete_me(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    session: Session,
    body: axum::body::Bytes,
) -> AppResult<Json<ApiOk<Empty>>> {
    // The body is optional: accounts without a password send none.
    let password = if body.is_empty() {
        None
    } else {
        serde_json::from_slice::<DeleteBody>(&body)
            .map_err(|_| AppError::BadRequest("The request body is not valid JSON".into()))?
            .password
    };
    super::delete_account(&state, &session, &user, password.as_deref()).await?;
    Ok(ok("Your account and all its data were deleted", Empty {}))
}

#[utoipa::path(get, path = "/export", tag = "user", security(("cookie" = []), ("bearer" = [])), responses((status = 200, description = "Everything stored about the user, as a download", body = ApiOk<Export>)))]
async fn export(
    State(state): State<Services>,
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

#[derive(Deserialize, ToSchema)]
struct CreateTokenBody {
    /// 1 to 100 characters once trimmed.
    #[serde(default)]
    #[schema(
        required = true,
        min_length = 1,
        pattern = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]([^\u0000]{0,98}[^\u0000\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    name: String,
    /// Days until the token expires, 1 to 3650; absent or null: never.
    #[serde(rename = "expiresInDays")]
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<i64>,
    /// Needed unless this session signed in within the last ten minutes.
    password: Option<String>,
}

#[utoipa::path(post, path = "/", tag = "tokens", security(("cookie" = []), ("bearer" = [])), request_body = CreateTokenBody, responses((status = 201, body = ApiOk<CreatedTokenData>)))]
async fn create_token(
    State(state): State<Services>,
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
        CreatedTokenData {
            token: new.token,
            secret: new.secret,
        },
    )
}

#[utoipa::path(get, path = "/", tag = "tokens", security(("cookie" = []), ("bearer" = [])), responses((status = 200, body = ApiOk<TokensData>)))]
async fn list_tokens(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<ApiOk<TokensData>>> {
    let tokens = super::api_tokens::list(&state.pool, &user).await?;
    Ok(ok("Your API tokens", TokensData { tokens }))
}

#[utoipa::path(delete, path = "/{id}", tag = "tokens", security(("cookie" = []), ("bearer" = [])), params(("id" = String, Path, description = "The token id")), responses((status = 200, body = ApiOk<Empty>)))]
async fn revoke_token(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<ApiOk<Empty>>> {
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    super::api_tokens::revoke(&state.pool, &user, id).await?;
    Ok(ok("Token revoked", Empty {}))
}

#[utoipa::path(get, path = "/sessions", tag = "user", security(("cookie" = []), ("bearer" = [])), responses((status = 200, body = ApiOk<SessionsData>)))]
async fn list_sessions(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> AppResult<Json<ApiOk<SessionsData>>> {
    let sessions = session::list_sessions(&state, &user, &session).await?;
    Ok(ok("Your sessions", SessionsData { sessions }))
}

#[utoipa::path(delete, path = "/sessions/{id}", tag = "user", security(("cookie" = []), ("bearer" = [])), params(("id" = String, Path, description = "The session id as listed")), responses((status = 200, body = ApiOk<Empty>)))]
async fn revoke_session(
    State(state): State<Services>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<ApiOk<Empty>>> {
    session::revoke_session(&state, &user, &id).await?;
    Ok(ok("Session signed out", Empty {}))
}
