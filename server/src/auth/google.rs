//! Sign in with Google — or any OpenID Connect provider configured by issuer and endpoints.
//!
//! Authorization code flow with PKCE, `state` and `nonce`. The ID token comes straight from the
//! token endpoint over TLS, so its issuer is validated by TLS (OIDC Core 3.1.3.7) and we check
//! its claims (issuer, audience, expiry, nonce) rather than its signature.

use base64::Engine;
use oauth2::{
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
    AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::{users, User};
use crate::secrets::digests_equal;
use crate::{
    config::OidcConfig,
    error::{AppError, AppResult},
    state::Services,
};

/// The provider name stored with linked identities.
pub const PROVIDER: &str = "google";
/// How long the round trip through the provider may take.
const FLOW_TTL_SECS: i64 = 600;
const FLOW_KEY: &str = "oidc_flow";

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct IdTokenFields {
    pub id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenFields {}

type TokenResponse = StandardTokenResponse<IdTokenFields, BasicTokenType>;
type OidcClient = Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The configured provider, ready to use (one HTTP client for all sign-ins).
#[derive(Clone)]
pub struct Google {
    client: OidcClient,
    http: oauth2::reqwest::Client,
    issuer: String,
    client_id: String,
}

impl std::fmt::Debug for Google {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Google")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Google {
    pub fn new(config: &OidcConfig) -> anyhow::Result<Self> {
        let client = Client::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                config.client_secret.expose_secret().to_string(),
            ))
            .set_auth_uri(AuthUrl::new(config.auth_url.clone())?)
            .set_token_uri(TokenUrl::new(config.token_url.clone())?)
            .set_redirect_uri(RedirectUrl::new(config.redirect_url.clone())?);
        // No redirects: a token endpoint that redirects could leak the code elsewhere.
        let http = oauth2::reqwest::ClientBuilder::new()
            .redirect(oauth2::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Self {
            client,
            http,
            issuer: config.issuer.trim_end_matches('/').to_string(),
            client_id: config.client_id.clone(),
        })
    }
}

/// What the browser must remember between leaving for the provider and coming back.
#[derive(Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    started_at: i64,
    /// Where to go after signing in: a path on our origin (checked by `safe_local_path`).
    #[serde(default)]
    next: Option<String>,
}

/// Why a Google sign-in did not finish; each becomes `/login?error=<code>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Anything technical: expired flow, wrong state, exchange or token problems.
    AuthFailed,
    /// The provider does not vouch for the email, and an account already uses it.
    EmailUnverified,
    /// The visitor cancelled at the provider.
    Cancelled,
}

impl Failure {
    pub fn code(self) -> &'static str {
        match self {
            Self::AuthFailed => "google_auth_failed",
            Self::EmailUnverified => "google_email_unverified",
            Self::Cancelled => "google_cancelled",
        }
    }
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {e}"))
}

/// Starts a sign-in: remembers state, nonce, PKCE verifier and where to go afterwards (only a
/// path on our own origin; anything else is dropped), returns the provider's URL.
pub async fn start(
    state: &Services,
    google: Option<&Google>,
    session: &Session,
    next: Option<&str>,
) -> AppResult<String> {
    let google = google.ok_or(AppError::NotFound)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = CsrfToken::new_random();
    let (url, csrf) = google
        .client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_extra_param("nonce", nonce.secret().clone())
        .set_pkce_challenge(challenge)
        .url();
    let flow = Flow {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        started_at: state.now().timestamp(),
        next: next.and_then(crate::http::redirect::safe_local_path),
    };
    session
        .insert(FLOW_KEY, flow)
        .await
        .map_err(session_error)?;
    Ok(url.to_string())
}

/// The claims we use from the ID token.
#[derive(Debug, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: serde_json::Value,
    pub azp: Option<String>,
    pub exp: i64,
    pub nonce: Option<String>,
    pub sub: String,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: serde_json::Value,
    pub name: Option<String>,
}

impl Claims {
    pub fn email_is_verified(&self) -> bool {
        matches!(self.email_verified, serde_json::Value::Bool(true))
            || self.email_verified.as_str() == Some("true")
    }
}

/// Decodes an ID token's claims and checks they were issued for us, for this sign-in, now.
pub fn validate_id_token(
    id_token: &str,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<Claims, &'static str> {
    let payload = id_token.split('.').nth(1).ok_or("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "payload is not base64url")?;
    let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| "claims are not JSON")?;
    // Google writes its issuer with or without the scheme.
    let iss = claims.iss.trim_end_matches('/');
    if iss != issuer && format!("https://{iss}") != issuer {
        return Err("wrong issuer");
    }
    let audience_ok = match &claims.aud {
        serde_json::Value::String(aud) => aud == client_id,
        serde_json::Value::Array(list) => list.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !audience_ok || claims.azp.as_deref().is_some_and(|azp| azp != client_id) {
        return Err("wrong audience");
    }
    if claims.exp < now - 60 {
        return Err("expired");
    }
    match &claims.nonce {
        Some(n) if digests_equal(n, nonce) => {}
        _ => return Err("wrong nonce"),
    }
    if claims.sub.is_empty() {
        return Err("no subject");
    }
    Ok(claims)
}

fn failed(reason: &str) -> Failure {
    tracing::warn!(reason, "Google sign-in failed");
    Failure::AuthFailed
}

/// A finished sign-in: the account, and where the browser asked to go afterwards.
pub struct Finished {
    pub user: User,
    pub next: Option<String>,
}

/// Finishes a sign-in from the provider's redirect. On success the caller signs the user in.
pub async fn finish(
    state: &Services,
    google: Option<&Google>,
    session: &Session,
    code: Option<&str>,
    returned_state: Option<&str>,
    error: Option<&str>,
) -> Result<Finished, Failure> {
    let google = google.ok_or_else(|| failed("not configured"))?;
    // The flow is single use, whatever happens next.
    let flow: Option<Flow> = session
        .remove(FLOW_KEY)
        .await
        .map_err(|_| failed("session store"))?;
    if error == Some("access_denied") {
        return Err(Failure::Cancelled);
    }
    let flow = flow.ok_or_else(|| failed("no sign-in in progress"))?;
    if state.now().timestamp() - flow.started_at > FLOW_TTL_SECS {
        return Err(failed("flow expired"));
    }
    match returned_state {
        Some(s) if digests_equal(s, &flow.state) => {}
        _ => return Err(failed("state mismatch")),
    }
    let code = code.ok_or_else(|| failed("no code"))?;
    let token = google
        .client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
        .request_async(&google.http)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "token exchange failed");
            Failure::AuthFailed
        })?;
    let id_token = token
        .extra_fields()
        .id_token
        .as_deref()
        .ok_or_else(|| failed("no id_token"))?;
    let claims = validate_id_token(
        id_token,
        &google.issuer,
        &google.client_id,
        &flow.nonce,
        state.now().timestamp(),
    )
    .map_err(failed)?;
    let user = link_or_create(state, &claims).await.map_err(|e| match e {
        AppError::Conflict(_) => Failure::EmailUnverified,
        other => {
            tracing::error!(error = ?other, "Google sign-in could not save the account");
            Failure::AuthFailed
        }
    })?;
    Ok(Finished {
        user,
        next: flow.next,
    })
}

/// A display name of 2-50 characters from the claims.
fn display_name(claims: &Claims, email: &str) -> String {
    let raw = claims
        .name
        .clone()
        .filter(|n| n.trim().chars().count() >= 2)
        .unwrap_or_else(|| email.split('@').next().unwrap_or("Learner").to_string());
    let name: String = raw.trim().chars().take(50).collect();
    if name.chars().count() < 2 {
        "Learner".into()
    } else {
        name
    }
}

/// The account for these claims: already linked, linked now to the account with the same
/// (verified) email, or created. An unverified email never takes over an existing account.
pub async fn link_or_create(state: &Services, claims: &Claims) -> AppResult<User> {
    let mut tx = state.pool.begin().await?;
    let linked = sqlx::query_as!(
        User,
        "SELECT users.* FROM users JOIN oauth_identities i ON i.user_id = users.id
         WHERE i.provider = $1 AND i.subject = $2",
        PROVIDER,
        &claims.sub,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(user) = linked {
        return Ok(user);
    }
    let email = claims
        .email
        .as_deref()
        .and_then(|e| super::types::Email::parse(e).ok())
        .ok_or_else(|| AppError::BadRequest("the provider gave no usable email".into()))?;
    let verified = claims.email_is_verified();
    let existing = sqlx::query_as!(
        User,
        "SELECT * FROM users WHERE email = $1 FOR UPDATE",
        email.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?;
    let user: User =
        match existing {
            Some(_) if !verified => return Err(AppError::Conflict(
                "the provider has not verified this email, which belongs to an existing account"
                    .into(),
            )),
            Some(user) if user.email_verified => {
                sqlx::query_as!(
                User,
                "UPDATE users SET email_verified = true, updated_at = $2 WHERE id = $1 RETURNING *",
                user.id,
                state.now(),
            )
                .fetch_one(&mut *tx)
                .await?
            }
            // Nobody ever proved they read this mailbox, and now its owner has: whoever created the
            // account may be a stranger who signed up first (pre-hijacking). Everything they could
            // have set up ends before the owner gets in.
            Some(user) => super::secure_taken_over_account(state, &mut tx, &user, "Google").await?,
            None => {
                let user = users::insert(
                    &mut tx,
                    &display_name(claims, email.as_str()),
                    email.as_str(),
                    None,
                    "UTC",
                    state.now(),
                )
                .await?;
                sqlx::query_as!(
                    User,
                    "UPDATE users SET email_verified = $2 WHERE id = $1 RETURNING *",
                    user.id,
                    verified,
                )
                .fetch_one(&mut *tx)
                .await?
            }
        };
    sqlx::query!(
        "INSERT INTO oauth_identities (provider, subject, user_id, email, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        PROVIDER,
        &claims.sub,
        user.id,
        email.as_str(),
        state.now(),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, "Google identity linked");
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.sig",
            b64(br#"{"alg":"RS256"}"#),
            b64(claims.to_string().as_bytes())
        )
    }

    fn claims(overrides: serde_json::Value) -> serde_json::Value {
        let mut base = serde_json::json!({
            "iss": "https://accounts.google.com", "aud": "client", "exp": 2_000, "nonce": "n1",
            "sub": "123", "email": "ada@example.com", "email_verified": true, "name": "Ada"
        });
        for (k, v) in overrides.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    const ISS: &str = "https://accounts.google.com";

    #[test]
    fn a_token_for_us_and_this_sign_in_is_accepted() {
        let c = validate_id_token(
            &jwt(claims(serde_json::json!({}))),
            ISS,
            "client",
            "n1",
            1_000,
        )
        .unwrap();
        assert_eq!(c.sub, "123");
        assert!(c.email_is_verified());
        // Google's scheme-less issuer is the same issuer.
        let c = validate_id_token(
            &jwt(claims(serde_json::json!({"iss": "accounts.google.com"}))),
            ISS,
            "client",
            "n1",
            1_000,
        );
        assert!(c.is_ok());
    }

    #[test]
    fn tokens_for_others_or_replayed_are_refused() {
        let check =
            |o: serde_json::Value| validate_id_token(&jwt(claims(o)), ISS, "client", "n1", 1_000);
        assert_eq!(
            check(serde_json::json!({"iss": "https://evil.example"})).unwrap_err(),
            "wrong issuer"
        );
        assert_eq!(
            check(serde_json::json!({"aud": "someone-else"})).unwrap_err(),
            "wrong audience"
        );
        assert_eq!(
            check(serde_json::json!({"azp": "someone-else"})).unwrap_err(),
            "wrong audience"
        );
        assert_eq!(
            check(serde_json::json!({"exp": 100})).unwrap_err(),
            "expired"
        );
        assert_eq!(
            check(serde_json::json!({"nonce": "other"})).unwrap_err(),
            "wrong nonce"
        );
        assert!(validate_id_token("garbage", ISS, "client", "n1", 1_000).is_err());
    }

    #[test]
    fn email_verified_must_be_true() {
        let c = validate_id_token(
            &jwt(claims(serde_json::json!({"email_verified": false}))),
            ISS,
            "client",
            "n1",
            1_000,
        )
        .unwrap();
        assert!(!c.email_is_verified());
        let c = validate_id_token(
            &jwt(claims(serde_json::json!({"email_verified": "true"}))),
            ISS,
            "client",
            "n1",
            1_000,
        )
        .unwrap();
        assert!(c.email_is_verified());
    }
}
