//! Accounts: sign-up, sign-in (with emailed codes), sessions, email verification, password
//! reset and changes. The JSON API (`api.rs`) and the Leptos server functions both call the
//! functions here, so the two cannot disagree.

pub mod api;
pub mod api_tokens;
pub mod codes;
pub mod device;
pub mod emails;
pub mod google;
pub mod password;
pub mod session;
pub mod sign_in;
pub mod types;
pub use crate::users;

use std::net::IpAddr;

use chrono::{Duration, Utc};
use sqlx::PgConnection;

use crate::{
    error::{AppError, AppResult},
    limits,
    state::Services,
    validate::Choice,
};
use codes::Purpose;
use types::{Email, NewPassword, TimeZone, UserName, Validator};
pub use users::User;

/// The one answer to every failed sign-in, so it never reveals which part was wrong.
pub const INVALID_CREDENTIALS: &str = "Invalid email or password";
/// The one answer to a wrong, used or expired sign-in code.
pub const INVALID_CODE: &str = "The code is wrong or has expired";
/// Time between two resends of a code or link.
pub const RESEND_COOLDOWN: Duration = Duration::seconds(60);

const LOGIN_CODE_TTL: Duration = Duration::minutes(5);
pub(crate) const RESET_LINK_TTL: Duration = Duration::hours(1);
const VERIFY_LINK_TTL: Duration = Duration::hours(24);

pub struct RegisterInput {
    pub name: String,
    pub email: String,
    pub password: String,
    pub timezone: Option<String>,
}

fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Enqueues an account email on `conn` (the caller's transaction). Ids only: the email is
/// rendered, and any secret drawn, when it is sent (see `emails`).
async fn enqueue_mail(
    conn: &mut PgConnection,
    user_id: Option<uuid::Uuid>,
    email: emails::AccountEmail,
) -> AppResult<()> {
    emails::enqueue(conn, emails::SendEmail { user_id, email }).await?;
    Ok(())
}

async fn send_verification(
    state: &Services,
    conn: &mut PgConnection,
    user: &User,
) -> AppResult<()> {
    let code_id = codes::issue(
        conn,
        state.now(),
        user.id,
        Purpose::EmailVerify,
        VERIFY_LINK_TTL,
    )
    .await?;
    enqueue_mail(
        conn,
        Some(user.id),
        emails::AccountEmail::Secret { code_id },
    )
    .await
}

/// Creates an account and sends the verification email.
pub async fn register(state: &Services, input: RegisterInput, ip: IpAddr) -> AppResult<User> {
    let timezone = match input.timezone.as_deref().map(str::trim) {
        None | Some("") => Ok(TimeZone::utc()),
        Some(tz) => TimeZone::parse(tz),
    };
    let parsed = (
        UserName::parse(&input.name),
        Email::parse(&input.email),
        NewPassword::parse(&input.password),
        timezone,
    );
    let (name, email, password, timezone) = match parsed {
        (Ok(name), Ok(email), Ok(password), Ok(timezone)) => (name, email, password, timezone),
        (name, email, password, timezone) => {
            let mut v = Validator::default();
            v.check("name", name);
            v.check("email", email);
            v.check("password", password);
            v.check("timezone", timezone);
            return Err(v.into_error());
        }
    };

    limits::hit(&state.pool, state.now(), limits::SIGNUP, &ip_key(ip)).await?;
    let hash = password::hash(password.expose().to_string()).await?;

    let mut tx = state.pool.begin().await?;
    let user = match users::insert(
        &mut tx,
        name.as_str(),
        email.as_str(),
        Some(&hash),
        timezone.as_str(),
        state.now(),
    )
    .await
    {
        Ok(user) => user,
        Err(e) if unique_violation(&e) => {
            return Err(AppError::Conflict(
                "An account with this email already exists".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    send_verification(state, &mut tx, &user).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "account created");
    Ok(user)
}

/// The result of a correct email and password.
pub enum LoginOutcome {
    SignedIn(User),
    /// 2FA is on: a code was emailed; `verify_login_code` finishes the sign-in.
    CodeSent(User),
}

/// The client part of a rate-limit key (IPv6 clients by their /64).
fn ip_key(ip: IpAddr) -> String {
    crate::http::client_ip::rate_key(ip).to_string()
}

fn login_key(email: &str, ip: IpAddr) -> String {
    format!("{email}|{}", ip_key(ip))
}

/// Checks an email and password. Every failure gets the same answer and takes the same time.
///
/// Attempts are counted before the password is checked, in one statement each, so parallel
/// guesses cannot slip past the limits. A client presenting a device cookie for this account
/// (`device::read`) is limited per device; any other client is limited per (email, IP) and per
/// account, so guesses spread over many addresses lock the account against unknown clients
/// only, never against the owner's known browsers.
pub async fn login(
    state: &Services,
    email: &str,
    password: &str,
    ip: IpAddr,
    device: Option<&device::KnownDevice>,
) -> AppResult<LoginOutcome> {
    let email = email.trim().to_lowercase();
    let now = state.now();
    let user = if password.is_empty() || password.chars().count() > types::PASSWORD_MAX {
        None
    } else {
        users::find_by_email(&state.pool, &email).await?
    };
    let known = device.filter(|d| user.as_ref().is_some_and(|u| u.id == d.user_id));
    let key = login_key(&email, ip);
    match known {
        Some(d) => limits::hit(&state.pool, now, limits::LOGIN_PER_DEVICE, &d.device_id).await?,
        None => {
            limits::hit(&state.pool, now, limits::LOGIN_FAILURES, &key).await?;
            limits::hit(&state.pool, now, limits::LOGIN_PER_ACCOUNT, &email).await?;
        }
    }

    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = password::verify(password.to_string(), stored).await?;
    let user = match (ok, user) {
        (true, Some(user)) => user,
        _ => return Err(AppError::InvalidCredentials(INVALID_CREDENTIALS.into())),
    };
    // The owner got in: their own attempts stop counting against them.
    match known {
        Some(d) => limits::clear(&state.pool, limits::LOGIN_PER_DEVICE, &d.device_id).await?,
        None => {
            limits::clear(&state.pool, limits::LOGIN_FAILURES, &key).await?;
            limits::forgive(&state.pool, limits::LOGIN_PER_ACCOUNT, &email).await?;
        }
    }

    if user.two_factor_enabled {
        send_login_code(state, &user).await?;
        Ok(LoginOutcome::CodeSent(user))
    } else {
        Ok(LoginOutcome::SignedIn(user))
    }
}

async fn send_login_code(state: &Services, user: &User) -> AppResult<()> {
    let mut tx = state.pool.begin().await?;
    let code_id = codes::issue(
        &mut tx,
        state.now(),
        user.id,
        Purpose::LoginOtp,
        LOGIN_CODE_TTL,
    )
    .await?;
    enqueue_mail(
        &mut tx,
        Some(user.id),
        emails::AccountEmail::Secret { code_id },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// True unless a secret of this purpose went to the user less than `RESEND_COOLDOWN` ago.
async fn cooldown_over(state: &Services, user: &User, purpose: Purpose) -> AppResult<bool> {
    let last = codes::last_issued(&state.pool, user.id, purpose).await?;
    Ok(last.is_none_or(|at| state.now() - at >= RESEND_COOLDOWN))
}

/// Sends a fresh sign-in code to a user who already gave the right password, at most once a
/// minute. Returns false when the cooldown is still running.
pub async fn resend_login_code(state: &Services, user: &User) -> AppResult<bool> {
    if !cooldown_over(state, user, Purpose::LoginOtp).await? {
        return Ok(false);
    }
    send_login_code(state, user).await?;
    Ok(true)
}

/// Finishes a 2FA sign-in. Wrong, used, expired and unknown all get the same answer.
pub async fn verify_login_code(
    state: &Services,
    email: &str,
    code: &str,
    ip: IpAddr,
) -> AppResult<User> {
    let email = email.trim().to_lowercase();
    limits::hit(
        &state.pool,
        state.now(),
        limits::OTP_CHECKS,
        &login_key(&email, ip),
    )
    .await?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::validation(
            "otp",
            "Enter the 6-digit code from the email",
        ));
    }
    let Some(user) = users::find_by_email(&state.pool, &email).await? else {
        return Err(AppError::validation("otp", INVALID_CODE));
    };
    if !user.two_factor_enabled
        || !codes::check_login_code(&state.pool, state.now(), user.id, code).await?
    {
        return Err(AppError::validation("otp", INVALID_CODE));
    }
    Ok(user)
}

/// Marks the address as verified. Unknown, used and expired links get the same answer.
pub async fn verify_email(state: &Services, token: &str) -> AppResult<User> {
    let mut tx = state.pool.begin().await?;
    let Some(user_id) =
        codes::consume_link(&mut tx, state.now(), Purpose::EmailVerify, token.trim()).await?
    else {
        return Err(AppError::BadRequest(
            "This confirmation link is invalid or has expired; ask for a new one from the app"
                .into(),
        ));
    };
    let user = sqlx::query_as!(
        User,
        "UPDATE users SET email_verified = true, updated_at = $2 WHERE id = $1 RETURNING *",
        user_id,
        state.now(),
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Sends the verification link again, at most once a minute. False while the cooldown runs.
pub async fn resend_verification(state: &Services, user: &User) -> AppResult<bool> {
    if user.email_verified {
        return Err(AppError::BadRequest(
            "Your email address is already confirmed".into(),
        ));
    }
    if !cooldown_over(state, user, Purpose::EmailVerify).await? {
        return Ok(false);
    }
    let mut tx = state.pool.begin().await?;
    send_verification(state, &mut tx, user).await?;
    tx.commit().await?;
    Ok(true)
}

/// Emails a reset link when the account exists. The caller answers the same either way, and
/// the request does the same work either way: whether the account exists is looked up in the
/// job, so the answer's timing does not tell.
pub async fn forgot_password(state: &Services, email: &str, ip: IpAddr) -> AppResult<()> {
    let email = Email::parse(email).map_err(|m| AppError::validation("email", m))?;
    limits::hit(&state.pool, state.now(), limits::RESET_PER_IP, &ip_key(ip)).await?;
    limits::hit(
        &state.pool,
        state.now(),
        limits::RESET_PER_EMAIL,
        email.as_str(),
    )
    .await?;
    let mut conn = state.pool.acquire().await?;
    enqueue_mail(
        &mut conn,
        None,
        emails::AccountEmail::ResetRequested {
            email: email.as_str().to_string(),
        },
    )
    .await
}

/// Stores a new password hash, ends every session, and tells the user by email.
async fn replace_password(
    state: &Services,
    conn: &mut PgConnection,
    user_id: uuid::Uuid,
    hash: &str,
    verified_email: bool,
) -> AppResult<User> {
    let user = sqlx::query_as!(
        User,
        "UPDATE users SET password_hash = $2, session_version = session_version + 1,
             email_verified = email_verified OR $3, updated_at = $4
         WHERE id = $1 RETURNING *",
        user_id,
        hash,
        verified_email,
        state.now(),
    )
    .fetch_one(&mut *conn)
    .await?;
    enqueue_mail(
        conn,
        Some(user.id),
        emails::AccountEmail::PasswordChanged {
            changed_at: state.now(),
        },
    )
    .await?;
    Ok(user)
}

/// An account created with an email nobody confirmed is being claimed by the address's proven
/// owner: the password is cleared, sessions, API tokens, pending codes and links end, 2FA
/// (set up by whoever knew the password) is off, the email counts as verified, and the owner is
/// told by email. Runs in the caller's transaction.
pub(crate) async fn secure_taken_over_account(
    state: &Services,
    conn: &mut PgConnection,
    user: &User,
    provider: &str,
) -> AppResult<User> {
    let now = state.now();
    let user = sqlx::query_as!(
        User,
        "UPDATE users SET password_hash = NULL, two_factor_enabled = false,
             email_verified = true, session_version = session_version + 1, updated_at = $2
         WHERE id = $1 RETURNING *",
        user.id,
        now,
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("DELETE FROM api_tokens WHERE user_id = $1", user.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "UPDATE one_time_codes SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL",
        user.id,
        now,
    )
    .execute(&mut *conn)
    .await?;
    enqueue_mail(
        conn,
        Some(user.id),
        emails::AccountEmail::AccountSecured {
            provider: provider.to_string(),
        },
    )
    .await?;
    tracing::warn!(user_id = %user.id, "unverified account claimed by its email's owner: password, sessions and tokens ended");
    Ok(user)
}

/// Sets a new password from a reset link; every session of the account ends.
pub async fn reset_password(
    state: &Services,
    session: &tower_sessions::Session,
    token: &str,
    new_password: &str,
    ip: IpAddr,
) -> AppResult<User> {
    let password =
        NewPassword::parse(new_password).map_err(|m| AppError::validation("password", m))?;
    limits::hit(
        &state.pool,
        state.now(),
        limits::RESET_LINK_PER_IP,
        &ip_key(ip),
    )
    .await?;
    let hash = password::hash(password.expose().to_string()).await?;
    let mut tx = state.pool.begin().await?;
    let Some(user_id) =
        codes::consume_link(&mut tx, state.now(), Purpose::PasswordReset, token.trim()).await?
    else {
        return Err(AppError::BadRequest(
            "This reset link is invalid or has expired; ask for a new one".into(),
        ));
    };
    // The link proved the user reads this mailbox.
    let user = replace_password(state, &mut tx, user_id, &hash, true).await?;
    // A reset answers a lost or stolen password: API tokens minted with it end too.
    sqlx::query!("DELETE FROM api_tokens WHERE user_id = $1", user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "password reset");
    // This browser signs in again, with the new password.
    session::sign_out(session).await?;
    Ok(user)
}

/// Changes the password of a signed-in user who knows the current one.
pub async fn change_password(
    state: &Services,
    session: &tower_sessions::Session,
    user: &User,
    current: &str,
    new_password: &str,
) -> AppResult<User> {
    let password = Validator::only("new_password", NewPassword::parse(new_password))?;
    if user.password_hash.is_none() {
        return Err(AppError::BadRequest(
            "Your account has no password yet; set one instead".into(),
        ));
    }
    if !password::verify(current.to_string(), user.password_hash.clone()).await? {
        return Err(AppError::validation(
            "current_password",
            "The current password is not right",
        ));
    }
    let hash = password::hash(password.expose().to_string()).await?;
    let mut tx = state.pool.begin().await?;
    let user = replace_password(state, &mut tx, user.id, &hash, false).await?;
    tx.commit().await?;
    // The other sessions end; this one stays signed in.
    session::refresh_version(session, &user).await?;
    Ok(user)
}

/// Gives an account created through Google a password.
pub async fn set_password(state: &Services, user: &User, new_password: &str) -> AppResult<User> {
    let password =
        NewPassword::parse(new_password).map_err(|m| AppError::validation("password", m))?;
    let has_one =
        || AppError::Conflict("Your account already has a password; change it instead".into());
    if user.password_hash.is_some() {
        return Err(has_one());
    }
    let hash = password::hash(password.expose().to_string()).await?;
    // Only while it has none: of two requests at once, the second changes nothing.
    sqlx::query_as!(
        User,
        "UPDATE users SET password_hash = $2, updated_at = $3
         WHERE id = $1 AND password_hash IS NULL RETURNING *",
        user.id,
        hash,
        state.now(),
    )
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(has_one)
}

/// Ends every session of the user (the caller signs the current one out too).
pub async fn end_all_sessions(state: &Services, user: &User) -> AppResult<User> {
    Ok(sqlx::query_as!(
        User,
        "UPDATE users SET session_version = session_version + 1, updated_at = $2
         WHERE id = $1 RETURNING *",
        user.id,
        state.now(),
    )
    .fetch_one(&state.pool)
    .await?)
}

/// The two-factor switch as the settings form sends it.
pub fn parse_on_off(value: Option<&str>) -> AppResult<bool> {
    match value {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        _ => Err(AppError::BadRequest("Choose on or off.".into())),
    }
}

pub async fn set_two_factor(state: &Services, user: &User, enabled: bool) -> AppResult<User> {
    Ok(sqlx::query_as!(
        User,
        "UPDATE users SET two_factor_enabled = $2, updated_at = $3 WHERE id = $1 RETURNING *",
        user.id,
        enabled,
        state.now(),
    )
    .fetch_one(&state.pool)
    .await?)
}

/// The body of PATCH /api/user/me: absent or null fields keep their value.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ProfileChanges {
    /// 2 to 50 characters once trimmed, without control characters.
    #[schema(
        min_length = 2,
        pattern = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u001F\u007F-\u009F \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]{0,48}[^\u0000-\u001F\u007F-\u009F \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::validate::TimeZoneName>)]
    pub timezone: Option<String>,
    /// The hour of the daily digest, 0 to 23.
    #[schema(minimum = 0, maximum = 23)]
    pub digest_hour: Option<i64>,
    /// Whether the morning digest is sent (a JSON boolean).
    pub digest_enabled: Option<bool>,
    /// The day weeks start on.
    #[schema(value_type = Option<users::WeekStart>)]
    pub week_start: Option<String>,
}

impl ProfileChanges {
    /// The profile form's fields (the week start is kept when absent).
    pub fn from_form(name: String, timezone: String, week_start: Option<String>) -> Self {
        Self {
            name: Some(name),
            timezone: Some(timezone),
            week_start,
            ..Self::default()
        }
    }

    /// The digest form's fields: a checkbox (absent when off) and the hour as typed.
    pub fn digest_from_form(digest: Option<&str>, digest_hour: &str) -> AppResult<Self> {
        let hour = digest_hour
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::validation("digest_hour", "Choose an hour from 0 to 23"))?;
        Ok(Self {
            digest_hour: Some(hour),
            digest_enabled: Some(digest == Some("on")),
            ..Self::default()
        })
    }
}

/// Updates the given settings; the others keep their value.
pub async fn update_profile(
    state: &Services,
    user: &User,
    changes: ProfileChanges,
) -> AppResult<User> {
    let mut v = Validator::default();
    let name = changes
        .name
        .as_deref()
        .and_then(|n| v.check("name", UserName::parse(n)));
    let timezone = changes
        .timezone
        .as_deref()
        .and_then(|t| v.check("timezone", TimeZone::parse(t)));
    let digest_hour = changes.digest_hour.and_then(|h| {
        v.check(
            "digest_hour",
            if (0..=23).contains(&h) {
                Ok(h as i16)
            } else {
                Err("Choose an hour from 0 to 23".to_string())
            },
        )
    });
    let week_start = changes
        .week_start
        .as_deref()
        .and_then(|w| v.check("week_start", users::WeekStart::parse(w)));
    v.finish()?;
    let mut tx = state.pool.begin().await?;
    let user = sqlx::query_as!(
        User,
        "UPDATE users SET name = COALESCE($2, name), timezone = COALESCE($3, timezone),
             digest_hour = COALESCE($4, digest_hour), week_start = COALESCE($5, week_start),
             updated_at = $6
         WHERE id = $1 RETURNING *",
        user.id,
        name.as_ref().map(UserName::as_str),
        timezone.as_ref().map(TimeZone::as_str),
        digest_hour,
        week_start.map(users::WeekStart::as_str),
        state.now(),
    )
    .fetch_one(&mut *tx)
    .await?;
    if let Some(on) = changes.digest_enabled {
        crate::digest::set_enabled(&mut tx, user.id, on).await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// The user as GET /api/user/me shows them, with what the digest and calendar keep.
pub async fn profile(state: &Services, user: &User) -> AppResult<users::UserProfile> {
    let (digest_enabled, feed_url) = tokio::try_join!(
        async { Ok::<_, AppError>(crate::digest::enabled(&state.pool, user.id).await?) },
        crate::calendar::feed_url_of(state, user.id),
    )?;
    Ok(user.profile(digest_enabled, feed_url))
}

/// Everything stored about the user, for "download my data".
pub async fn export(state: &Services, user: &User) -> AppResult<Export> {
    let api_tokens = api_tokens::list(&state.pool, user).await?;
    Ok(Export {
        exported_at: state.now(),
        user: profile(state, user).await?,
        api_tokens,
    })
}

/// The answer of GET /api/user/export.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub exported_at: chrono::DateTime<Utc>,
    pub user: users::UserProfile,
    pub api_tokens: Vec<api_tokens::ApiToken>,
}

/// Proof that the person at the keyboard is the account's owner right now, for sensitive
/// actions (creating an API token): the password again, or a sign-in in this session within
/// `RECENT_SIGN_IN`.
#[derive(Default)]
pub struct RecentAuth<'a> {
    pub password: Option<&'a str>,
    pub signed_in_at: Option<chrono::DateTime<Utc>>,
}

impl std::fmt::Debug for RecentAuth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentAuth")
            .field("password", &self.password.map(|_| "[REDACTED]"))
            .field("signed_in_at", &self.signed_in_at)
            .finish()
    }
}

/// Accepts a recent sign-in, or else the right password.
pub async fn require_recent_auth(
    state: &Services,
    user: &User,
    proof: RecentAuth<'_>,
) -> AppResult<()> {
    if proof
        .signed_in_at
        .is_some_and(|at| state.now() - at < RECENT_SIGN_IN)
    {
        return Ok(());
    }
    match (proof.password, &user.password_hash) {
        (Some(given), Some(_)) if !given.is_empty() => {
            if password::verify(given.to_string(), user.password_hash.clone()).await? {
                Ok(())
            } else {
                Err(AppError::validation(
                    "password",
                    "The password is not right",
                ))
            }
        }
        _ => Err(AppError::Forbidden(
            "For your safety, confirm your password (or sign in again) first".into(),
        )),
    }
}

/// How recent a sign-in must be to delete an account that has no password.
pub const RECENT_SIGN_IN: Duration = Duration::minutes(10);

/// Deletes the account and everything it owns. Needs the password, or (for accounts without
/// one) a sign-in within the last ten minutes.
pub async fn delete_account(
    state: &Services,
    session: &tower_sessions::Session,
    user: &User,
    password: Option<&str>,
) -> AppResult<()> {
    let signed_in_at = session::signed_in_at(session).await?;
    match &user.password_hash {
        Some(_) => {
            let given = password.unwrap_or_default().to_string();
            if given.is_empty() || !password::verify(given, user.password_hash.clone()).await? {
                return Err(AppError::validation(
                    "password",
                    "Enter your current password to delete the account",
                ));
            }
        }
        None => {
            let recent = signed_in_at.is_some_and(|at| state.now() - at < RECENT_SIGN_IN);
            if !recent {
                return Err(AppError::Forbidden(
                    "For your safety, sign in again before deleting your account".into(),
                ));
            }
        }
    }
    // Rows the user owns go with it (ON DELETE CASCADE); files are removed by their features.
    // Jobs live in the queue's own tables: the user's queued and finished ones go explicitly.
    let mut tx = state.pool.begin().await?;
    let files = crate::attachments::keys_of_user(&mut tx, user.id).await?;
    emails::delete_user_jobs(&mut tx, user.id, &user.email).await?;
    sqlx::query!("DELETE FROM users WHERE id = $1", user.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // The rows are gone; the files follow (the orphan sweep removes any that fail here).
    crate::attachments::remove_files(state, files).await;
    tracing::info!(user_id = %user.id, "account deleted");
    session::sign_out(session).await
}
