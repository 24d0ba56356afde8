//! Spacedly's web UI: Leptos components, pages and routes, and the server functions behind
//! them. Server functions are thin adapters: they read the shared state from context, call one
//! function of `spacedly-server`, and map its error. No SQL and no business rule lives here.
//!
//! The UI is built on islands: pages render on the server only, and just the `#[island]`
//! components (the theme toggle, the time zone on sign-up) ship code to the browser.

pub mod accounts;
pub mod analytics;
pub mod calendar;
pub mod components;
pub mod forms;
pub mod notifications;
pub mod page;
pub mod pages;
pub mod reminders;
pub mod revision;
#[cfg(feature = "ssr")]
pub mod site;
pub mod tasks;
pub mod theme;
#[cfg(feature = "ssr")]
pub mod timezones;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    accounts::pages::{
        ForgotPasswordPage, LoginCodePage, LoginPage, RegisterPage, ResetPasswordPage,
        SettingsPage, VerifyEmailPage,
    },
    pages::{landing::Landing, mailbox, not_found::NotFound},
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    provide_request_nonce();
    let theme = theme::theme_from_request();
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme.map(|t| t.as_str())>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta
                    name="description"
                    content="Spacedly schedules when to revisit what you learn, with real spaced repetition."
                />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The per-response CSP nonce chosen by the security middleware, handed to Leptos so that
/// every script it renders carries it.
#[cfg(feature = "ssr")]
fn provide_request_nonce() {
    use leptos::nonce::Nonce;
    use spacedly_server::http::CspNonce;
    if let Some(parts) = use_context::<http::request::Parts>() {
        if let Some(CspNonce(nonce)) = parts.extensions.get::<CspNonce>() {
            provide_context(Nonce::from_value(nonce.clone()));
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        // The one formatter: it escapes every page's title (see components::text).
        <Title formatter=crate::components::text::page_title />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=Landing />
                <Route path=path!("/register") view=RegisterPage />
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/login/code") view=LoginCodePage ssr=SsrMode::Async />
                <Route path=path!("/forgot-password") view=ForgotPasswordPage />
                <Route path=path!("/reset-password") view=ResetPasswordPage />
                <Route path=path!("/verify-email") view=VerifyEmailPage />
                <Route path=path!("/dashboard") view=analytics::DashboardPage ssr=SsrMode::Async />
                <Route path=path!("/analytics") view=analytics::AnalyticsPage ssr=SsrMode::Async />
                <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
                <Route path=path!("/tasks") view=tasks::pages::TasksPage ssr=SsrMode::Async />
                <Route path=path!("/tasks/new") view=tasks::pages::NewTaskPage ssr=SsrMode::Async />
                <Route path=path!("/tasks/:id") view=tasks::pages::TaskPage ssr=SsrMode::Async />
                <Route path=path!("/calendar") view=calendar::CalendarPage ssr=SsrMode::Async />
                <Route path=path!("/review") view=revision::ReviewPage ssr=SsrMode::Async />
                <Route path=path!("/notifications") view=notifications::NotificationsPage ssr=SsrMode::Async />
                <Route path=path!("/dev/mailbox") view=mailbox::MailboxPage ssr=SsrMode::Async />
                <Route path=path!("/dev/mailbox/:id") view=mailbox::MailPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
