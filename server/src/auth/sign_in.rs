//! The one sign-in flow, for the JSON API, the forms and Google alike: the password, then the
//! emailed code when two-factor sign-in is on, then the session (a new id, the device it came
//! from) and the device cookie that keeps this browser's own rate limit.

use std::net::IpAddr;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{request::Parts, HeaderValue},
};
use tower_sessions::Session;

use super::{device, session, LoginOutcome, User};
use crate::{
    error::{AppError, AppResult},
    http::ClientIp,
    state::Services,
};

/// The browser or script signing in, as its request shows it.
pub struct Client {
    pub session: Session,
    /// What the list of sessions shows (user agent, address).
    pub device: session::Device,
    /// Its device cookie, when valid.
    pub known: Option<device::KnownDevice>,
    pub ip: IpAddr,
}

impl Client {
    pub fn from_parts(state: &Services, parts: &Parts, session: Session) -> Self {
        Self {
            session,
            device: session::Device::from_parts(parts),
            known: device::read(state, &parts.headers),
            ip: parts
                .extensions
                .get::<ClientIp>()
                .map_or(IpAddr::from([0, 0, 0, 0]), |ClientIp(ip)| *ip),
        }
    }
}

impl<S> FromRequestParts<S> for Client
where
    S: Send + Sync,
    Services: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("session layer missing")))?;
        Ok(Self::from_parts(&Services::from_ref(state), parts, session))
    }
}

/// A finished sign-in: the user, and the device cookie to set on the answer.
pub struct SignedIn {
    pub user: User,
    pub device_cookie: HeaderValue,
}

/// Where a correct password leaves the client.
pub enum Step {
    SignedIn(SignedIn),
    /// Two-factor sign-in: a code was emailed and this session waits for it ([`with_code`]).
    CodeSent(User),
}

/// The first step: email and password (see `auth::login` for the limits).
pub async fn with_password(
    state: &Services,
    client: &Client,
    email: &str,
    password: &str,
    remember: bool,
) -> AppResult<Step> {
    match super::login(state, email, password, client.ip, client.known.as_ref()).await? {
        LoginOutcome::SignedIn(user) => {
            Ok(Step::SignedIn(finish(state, client, user, remember).await?))
        }
        LoginOutcome::CodeSent(user) => {
            session::set_pending_2fa(&client.session, &user).await?;
            Ok(Step::CodeSent(user))
        }
    }
}

/// The account waiting for its emailed code on this session, if any.
pub async fn pending(state: &Services, client: &Client) -> AppResult<Option<User>> {
    session::pending_2fa(state, &client.session).await
}

/// The second step: the emailed code, in the session that gave the password and no other (a
/// code read from the mailbox alone must not open a session elsewhere). `email`, when given,
/// must be that account's; a mismatch or no waiting sign-in counts as a wrong code.
pub async fn with_code(
    state: &Services,
    client: &Client,
    email: Option<&str>,
    code: &str,
    remember: bool,
) -> AppResult<SignedIn> {
    let email = match pending(state, client).await? {
        Some(user)
            if email.is_none_or(|e| {
                e.trim().is_empty() || e.trim().eq_ignore_ascii_case(&user.email)
            }) =>
        {
            user.email
        }
        _ => String::new(),
    };
    let user = super::verify_login_code(state, &email, code, client.ip).await?;
    finish(state, client, user, remember).await
}

/// The last step, for every way in (password, code, Google, a new account): the session under
/// a new id, and the device cookie.
pub async fn finish(
    state: &Services,
    client: &Client,
    user: User,
    remember: bool,
) -> AppResult<SignedIn> {
    session::sign_in(state, &client.session, &user, remember, &client.device).await?;
    let device_cookie = device::issue(state, &user);
    Ok(SignedIn {
        user,
        device_cookie,
    })
}
