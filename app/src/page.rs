//! What every page knows about its request, decided before rendering starts: the signed-in
//! user, and the outcome of the form posted just before (Post/Redirect/Get). A middleware on
//! the page routes fills it in (see [`attach`]); components read it with [`page`].

use serde::{Deserialize, Serialize};

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
    /// monday, sunday or saturday.
    pub week_start: String,
}

/// The outcome of a form, carried from the POST to the page it redirects to (defined with the
/// server's plumbing, which uploads share). The browser build never holds one: pages render on
/// the server.
#[cfg(feature = "ssr")]
pub use spacedly_server::http::flash::Flash;
#[cfg(not(feature = "ssr"))]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flash;

#[derive(Debug, Clone, Default)]
pub struct PageContext {
    pub me: Option<Me>,
    pub flash: Option<Flash>,
    /// The opened `Flash::sealed_secret`.
    pub secret: Option<String>,
    /// The path and query of this request.
    pub path: String,
    /// Unread notifications of the signed-in user (the bell's first figure).
    pub unread: i64,
    /// Reviews due today (the navigation's figure beside Review).
    pub reviews_due: i64,
}

/// The context of the page being rendered (empty in the browser: pages render on the server).
pub fn page() -> PageContext {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<PageContext>().cloned())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        PageContext::default()
    }
}

/// The signed-in user; without one, the response becomes a redirect to the sign-in page that
/// comes back here afterwards.
pub fn require_me() -> Option<Me> {
    let context = page();
    if context.me.is_none() {
        #[cfg(feature = "ssr")]
        ssr::see_other(&ssr::login_url(&context.path));
    }
    context.me
}

#[cfg(feature = "ssr")]
pub use ssr::*;

#[cfg(feature = "ssr")]
mod ssr {
    use axum::{
        extract::{Request, State},
        http::{header, HeaderValue, Method},
        middleware::Next,
        response::Response,
    };
    use leptos::prelude::*;
    use spacedly_server::{auth, AppState};
    use tower_sessions::Session;

    use super::{Flash, Me, PageContext};

    pub use spacedly_server::http::flash::FLASH;

    pub fn me(user: &auth::User) -> Me {
        Me {
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            two_factor_enabled: user.two_factor_enabled,
            has_password: user.has_password(),
            timezone: user.timezone.clone(),
            digest_hour: user.digest_hour,
            week_start: user.week_start.as_str().into(),
        }
    }

    /// Middleware for the page routes: loads the user and takes the flash out of the session
    /// before the page renders (the session is saved with the response head, so it must not
    /// change while the body streams).
    pub async fn attach(
        State(state): State<AppState>,
        mut request: Request,
        next: Next,
    ) -> Response {
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return next.run(request).await;
        }
        let path = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let mut context = PageContext {
            path,
            ..Default::default()
        };
        if let Some(session) = request.extensions().get::<Session>().cloned() {
            match spacedly_server::identity::current_user(&state.pool, &session).await {
                Ok(Some(user)) => {
                    context.me = Some(me(&user));
                    match spacedly_server::notifications::unread_count(&state.pool, user.id).await {
                        Ok(n) => context.unread = n,
                        Err(e) => tracing::warn!(error = ?e, "unread notifications"),
                    }
                    let zone = spacedly_server::tasks::zone_of(&user.timezone);
                    match spacedly_server::revision::due_count(
                        &state.pool,
                        user.id,
                        zone,
                        state.now(),
                    )
                    .await
                    {
                        Ok(n) => context.reviews_due = n,
                        Err(e) => tracing::warn!(error = ?e, "reviews due"),
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = ?e, "loading the signed-in user"),
            }
            match session.remove::<Flash>(FLASH).await {
                Ok(flash) => context.flash = flash,
                Err(e) => tracing::warn!(error = %e, "reading the flash"),
            }
        }
        if let Some(sealed) = context
            .flash
            .as_ref()
            .and_then(|f| f.sealed_secret.as_deref())
        {
            context.secret = spacedly_server::sealed::open(
                secrecy::ExposeSecret::expose_secret(&state.config.secret_key),
                sealed,
            );
        }
        let personal = context.me.is_some() || context.flash.is_some();
        request.extensions_mut().insert(context);
        let mut response = next.run(request).await;
        if personal {
            // Personal pages and one-time messages stay out of every cache and the back-forward
            // history's stored copies.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }

    /// Ends this request with `303 See Other` to `location` (a path on this site). Works for a
    /// page render and for a form's server function alike.
    pub fn see_other(location: &str) {
        let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
            return;
        };
        let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
        response.insert_header(header::LOCATION, value);
        response.set_status(http::StatusCode::SEE_OTHER);
    }

    /// `/login?next=<path>`.
    pub fn login_url(back_to: &str) -> String {
        let encoded: String = url::form_urlencoded::byte_serialize(back_to.as_bytes()).collect();
        format!("/login?next={encoded}")
    }
}
