//! Spacedly's web UI: Leptos components, pages and routes, and the server functions behind
//! them. Server functions are thin adapters: they read the shared state from context, call one
//! function of `spacedly-server`, and map its error. No SQL and no business rule lives here.

pub mod accounts;
pub mod components;
pub mod forms;
pub mod pages;
pub mod theme;
pub mod timezones;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
};

use crate::{
    accounts::pages::{
        DashboardPage, ForgotPasswordPage, LoginCodePage, LoginPage, RegisterPage,
        ResetPasswordPage, SettingsPage, VerifyEmailPage,
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
                <HydrationScripts options />
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

    // Effects never run on the server: this attribute proves the WASM hydrated the page.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "Spacedly".to_string() } else { format!("{title} · Spacedly") }
        } />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=Landing />
                <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} />
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} />
                <Route path=path!("/login/code") view={Lazy::<LoginCodeRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()} />
                <Route path=path!("/reset-password") view={Lazy::<ResetPasswordRoute>::new()} />
                <Route path=path!("/verify-email") view={Lazy::<VerifyEmailRoute>::new()} />
                <Route path=path!("/dashboard") view={Lazy::<DashboardRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/dev/mailbox") view={Lazy::<MailboxRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/dev/mailbox/:id") view={Lazy::<MailRoute>::new()} ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

/// A page whose code is loaded on first visit (with `cargo leptos build --split`), so the landing
/// page does not carry every form of the app.
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    };
}

lazy_page!(RegisterRoute, RegisterPage);
lazy_page!(LoginRoute, LoginPage);
lazy_page!(LoginCodeRoute, LoginCodePage);
lazy_page!(ForgotPasswordRoute, ForgotPasswordPage);
lazy_page!(ResetPasswordRoute, ResetPasswordPage);
lazy_page!(VerifyEmailRoute, VerifyEmailPage);
lazy_page!(DashboardRoute, DashboardPage);
lazy_page!(SettingsRoute, SettingsPage);
lazy_page!(MailboxRoute, mailbox::MailboxPage);
lazy_page!(MailRoute, mailbox::MailPage);
