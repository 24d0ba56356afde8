//! Forms as plain HTML: each one posts to a server function that does the work and answers
//! `303 See Other` to a server-rendered page, which shows the outcome carried in the session
//! (a [`Flash`]): a message, field errors under their fields, and the typed values again. The
//! same happens with JavaScript off, before the islands hydrate, and after: no script takes
//! part. A hidden one-time nonce lets the server recognise a form that arrives twice.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::page::page;
#[cfg(feature = "ssr")]
use crate::page::Flash;

/// The outcome of the last submission of one form, as the page renders it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormState {
    pub ok: bool,
    pub message: String,
    pub fields: BTreeMap<String, String>,
    pub values: BTreeMap<String, String>,
}

impl FormState {
    /// The outcome of form `form`, if it was the one just posted.
    pub fn of(form: &str) -> Self {
        #[cfg(not(feature = "ssr"))]
        {
            let _ = (form, page);
            Self::default()
        }
        #[cfg(feature = "ssr")]
        match page().flash {
            Some(Flash {
                form: f,
                ok,
                message,
                fields,
                values,
                ..
            }) if f == form => Self {
                ok,
                message,
                fields,
                values,
            },
            _ => Self::default(),
        }
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }

    /// What the user typed into `name` last time, if the form comes back to them.
    pub fn value(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }
}

/// A `<form method="post">` to a server function, with its one-time nonce.
#[component]
pub fn PostForm(
    /// The server function's path (`<Fn as ServerFn>::PATH`).
    action: &'static str,
    #[prop(into, default = "form".to_string())] class: String,
    #[prop(into, optional)] id: Option<String>,
    #[prop(optional)] novalidate: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <form method="post" action=action class=class id=id novalidate=novalidate>
            <input type="hidden" name="nonce" value=new_nonce() />
            {children()}
        </form>
    }
}

/// A random nonce for [`PostForm`] (rendered on the server only).
fn new_nonce() -> String {
    #[cfg(feature = "ssr")]
    {
        spacedly_server::secrets::new_token()
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

/// A labelled input with its error underneath, wired for screen readers. After a failed
/// submission it shows what was typed (never for passwords).
#[component]
pub fn Field(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    /// Defaults to `field-<name>`; set it when a page has two forms with the same field name.
    #[prop(into, optional)]
    id: Option<String>,
    #[prop(into, default = "text".to_string())] kind: String,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(into, optional)] value: Option<String>,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    state: FormState,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("field-{name}"));
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let error = state.field(&name);
    let value = if kind == "password" {
        None
    } else {
        state.value(&name).or(value)
    };
    let described_by = [
        hint.as_ref().map(|_| hint_id.clone()),
        error.as_ref().map(|_| error_id.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let invalid = error.is_some();
    view! {
        <div class="field" class:field--invalid=invalid>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="field__hint" id=hint_id>{h}</p> })}
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                value=value
                required=required
                autofocus=autofocus || invalid
                aria-invalid=invalid.then_some("true")
                aria-describedby=(!described_by.is_empty()).then_some(described_by)
            />
            {error.map(|e| view! { <p class="field__error" id=error_id role="alert">{e}</p> })}
        </div>
    }
}

/// The form-level message of the last submission.
#[component]
pub fn FormMessage(state: FormState) -> impl IntoView {
    (!state.message.is_empty()).then(|| {
        let (class, role) = if state.ok {
            ("notice notice--ok", "status")
        } else {
            ("notice notice--error", "alert")
        };
        view! { <p class=class role=role>{state.message}</p> }
    })
}

#[cfg(feature = "ssr")]
pub use ssr::*;

#[cfg(feature = "ssr")]
mod ssr {
    use std::future::Future;

    use leptos::prelude::*;
    use serde::{Deserialize, Serialize};
    use spacedly_server::{
        auth,
        idempotency::{self, Once},
        AppError, AppState,
    };
    use tower_sessions::Session;
    use uuid::Uuid;

    use crate::page::{see_other, Flash, FLASH};

    /// Where a submitted form sends the browser, and what that page shows.
    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    pub struct Outcome {
        pub to: String,
        pub flash: Option<Flash>,
        /// Signs the browser in as this user (a new account): replayed to a repeated submission,
        /// which carries the browser's cookie from before the first one answered.
        pub sign_in: Option<Uuid>,
    }

    impl Outcome {
        /// Go to `to` with nothing to show.
        pub fn go(to: impl Into<String>) -> Self {
            Self {
                to: to.into(),
                ..Default::default()
            }
        }

        pub fn ok(to: impl Into<String>, form: &str, message: impl Into<String>) -> Self {
            Self::message(to, form, true, message)
        }

        pub fn failed(to: impl Into<String>, form: &str, message: impl Into<String>) -> Self {
            Self::message(to, form, false, message)
        }

        fn message(
            to: impl Into<String>,
            form: &str,
            ok: bool,
            message: impl Into<String>,
        ) -> Self {
            Self {
                to: to.into(),
                flash: Some(Flash {
                    form: form.into(),
                    ok,
                    message: message.into(),
                    ..Default::default()
                }),
                sign_in: None,
            }
        }

        /// Back to the form with the problem (see `Flash::error`, the one mapping from an
        /// error to a form's message).
        pub fn error(to: impl Into<String>, form: &str, error: AppError) -> Self {
            Self {
                to: to.into(),
                flash: Some(Flash::error(form, &error)),
                sign_in: None,
            }
        }

        /// What `result` comes to on form `form`: its message at `to` when it worked, the
        /// problem otherwise.
        pub fn of<T>(
            result: Result<T, AppError>,
            to: impl Into<String>,
            form: &str,
            message: impl FnOnce(T) -> String,
        ) -> Self {
            match result {
                Ok(value) => Self::ok(to, form, message(value)),
                Err(e) => Self::error(to, form, e),
            }
        }

        /// Names the field errors as the form does (`rename` maps an API field name).
        pub fn rename_fields(mut self, rename: impl Fn(&str) -> String) -> Self {
            if let Some(flash) = self.flash.as_mut() {
                flash.fields = std::mem::take(&mut flash.fields)
                    .into_iter()
                    .map(|(k, v)| (rename(&k), v))
                    .collect();
            }
            self
        }

        /// Keeps what was typed, to fill the form again.
        pub fn keep(mut self, values: &[(&str, &str)]) -> Self {
            if let Some(flash) = self.flash.as_mut() {
                flash.values = values
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
            }
            self
        }
    }

    pub fn state() -> Result<AppState, ServerFnError> {
        use_context::<AppState>().ok_or_else(|| ServerFnError::new("server state missing"))
    }

    pub async fn session() -> Result<Session, ServerFnError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|_| ServerFnError::new("session missing"))
    }

    pub fn internal(e: AppError) -> ServerFnError {
        tracing::error!(error = ?e, "server function failed");
        ServerFnError::new("Something went wrong on our side; please try again")
    }

    /// The browser signing in, for `auth::sign_in`.
    pub async fn client() -> Result<auth::sign_in::Client, ServerFnError> {
        let (state, session) = (state()?, session().await?);
        let parts = use_context::<http::request::Parts>()
            .ok_or_else(|| ServerFnError::new("request missing"))?;
        Ok(auth::sign_in::Client::from_parts(&state, &parts, session))
    }

    /// Makes this browser a known device of the user who just signed in (`auth::device`).
    pub fn set_device_cookie(cookie: http::HeaderValue) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.append_header(http::header::SET_COOKIE, cookie);
        }
    }

    /// Whether the caller is a browser following links and forms (it accepts HTML), as
    /// opposed to a script calling the server function.
    pub fn wants_html() -> bool {
        use_context::<http::request::Parts>()
            .and_then(|p| {
                p.headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.contains("text/html"))
            })
            .unwrap_or(false)
    }

    /// The path of the page the form was on (its Referer, when that is this site).
    pub fn referer_path() -> Option<String> {
        let parts = use_context::<http::request::Parts>()?;
        let referer = parts.headers.get(http::header::REFERER)?.to_str().ok()?;
        let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
        let url = url::Url::parse(referer).ok()?;
        let origin_host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str()?),
            None => url.host_str()?.to_string(),
        };
        (origin_host == host).then(|| match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        })
    }

    /// The signed-in user of a form's server function. Without one, a browser is sent to sign
    /// in (and back to its page afterwards); a script gets 401. Never a 500.
    pub async fn require_user() -> Result<auth::User, ServerFnError> {
        let state = state()?;
        let session = session().await?;
        if let Some(user) = spacedly_server::identity::current_user(&state.pool, &session)
            .await
            .map_err(internal)?
        {
            return Ok(user);
        }
        if wants_html() {
            let back = referer_path().unwrap_or_else(|| "/dashboard".into());
            see_other(&crate::page::login_url(&back));
        } else if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::UNAUTHORIZED);
        }
        Err(ServerFnError::new("Please sign in to continue"))
    }

    /// The common form of a signed-in user: `work` does the action (one call into
    /// `spacedly_server`), its result becomes the message at `to` (see [`Outcome::of`]); what
    /// was typed (`keep`) comes back with a problem.
    pub async fn act<T, W>(
        nonce: Option<String>,
        (to, form): (String, &'static str),
        keep: &[(&str, &str)],
        work: impl FnOnce(AppState, auth::User) -> W,
        message: impl FnOnce(T) -> String,
    ) -> Result<(), ServerFnError>
    where
        W: Future<Output = Result<T, AppError>>,
    {
        let user = require_user().await?;
        submit(nonce, async move {
            let result = work(state()?, user).await;
            let failed = result.is_err();
            let outcome = Outcome::of(result, to, form, message);
            Ok(if failed { outcome.keep(keep) } else { outcome })
        })
        .await
    }

    /// Runs a form's work once per nonce and answers with its outcome. A repeat of the same
    /// submission (double click, a re-sent POST) waits for the first and gets its outcome
    /// (`idempotency::run_once`).
    pub async fn submit<F>(nonce: Option<String>, work: F) -> Result<(), ServerFnError>
    where
        F: Future<Output = Result<Outcome, ServerFnError>>,
    {
        let (state, session) = (state()?, session().await?);
        let outcome = match nonce.filter(|n| idempotency::valid_nonce(n)) {
            None => work.await?,
            Some(nonce) => {
                let work = async { work.await.map_err(Failed) };
                match idempotency::run_once(&state.pool, &nonce, state.now(), work)
                    .await
                    .map_err(|Failed(e)| e)?
                {
                    Once::Ran(outcome) | Once::Replayed(outcome) => outcome,
                    Once::Busy => Outcome::failed(
                        referer_path().unwrap_or_else(|| "/".into()),
                        "",
                        "This form was already sent and is still being handled; reload the page in a moment.",
                    ),
                }
            }
        };
        apply(&state, &session, outcome).await
    }

    /// A form's work that failed (it answers the server function's error).
    struct Failed(ServerFnError);

    impl From<AppError> for Failed {
        fn from(e: AppError) -> Self {
            Self(internal(e))
        }
    }

    async fn apply(
        state: &AppState,
        session: &Session,
        outcome: Outcome,
    ) -> Result<(), ServerFnError> {
        if let Some(user_id) = outcome.sign_in {
            let already = spacedly_server::identity::current_user(&state.pool, session)
                .await
                .map_err(internal)?
                .is_some_and(|u| u.id == user_id);
            if !already {
                if let Some(user) = auth::users::find_by_id(&state.pool, user_id)
                    .await
                    .map_err(|e| internal(e.into()))?
                {
                    let done = auth::sign_in::finish(state, &client().await?, user, false)
                        .await
                        .map_err(internal)?;
                    set_device_cookie(done.device_cookie);
                }
            }
        }
        if let Some(flash) = outcome.flash {
            session.insert(FLASH, flash).await.map_err(|e| {
                internal(AppError::Internal(anyhow::anyhow!(
                    "storing the flash: {e}"
                )))
            })?;
        }
        see_other(&outcome.to);
        Ok(())
    }
}

/// The message of a server function error, without the framework's prefixes.
pub fn server_error_message(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        _ => "Something went wrong on our side; please try again".into(),
    }
}

/// A message for the whole page (not one form): e.g. the welcome after sign-up.
#[component]
pub fn PageFlash() -> impl IntoView {
    view! { <FormMessage state=FormState::of("") /> }
}
