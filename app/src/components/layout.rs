//! Page frames: the public one (landing, errors) and the signed-in one (app navigation).

use leptos::prelude::*;
use leptos_router::components::A;

use crate::theme::ThemeToggle;

#[component]
fn Brand() -> impl IntoView {
    view! {
        <a href="/" class="brand" aria-label="Spacedly home">
            <svg class="brand__mark" viewBox="0 0 32 32" aria-hidden="true">
                <circle cx="8" cy="24" r="4" />
                <circle cx="16" cy="16" r="3" />
                <circle cx="24" cy="8" r="2" />
            </svg>
            <span class="brand__name">"Spacedly"</span>
        </a>
    }
}

#[component]
fn SkipLink() -> impl IntoView {
    view! { <a class="skip-link" href="#main">"Skip to content"</a> }
}

/// The frame of public pages.
#[component]
pub fn PublicLayout(children: Children) -> impl IntoView {
    view! {
        <SkipLink />
        <header class="site-header">
            <div class="container site-header__inner">
                <Brand />
                <nav aria-label="Site" class="site-nav">
                    <a href="/#features">"Features"</a>
                    <a href="/#how-it-works">"How it works"</a>
                    <a href="/login" class="site-nav__signin">"Sign in"</a>
                    <a href="/register" class="button button--primary site-nav__cta">"Create account"</a>
                    <ThemeToggle />
                </nav>
            </div>
        </header>
        <main id="main" class="site-main">
            <div class="container"><crate::forms::PageFlash /></div>
            {children()}
        </main>
        <footer class="site-footer">
            <div class="container">
                <p>"Spacedly — self-hosted spaced repetition for people who learn."</p>
            </div>
        </footer>
    }
}

/// One entry of the signed-in navigation.
#[derive(Clone, Debug, PartialEq)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    /// A figure shown beside the label (reviews due).
    pub badge: Option<i64>,
}

/// The sections of the signed-in app. Each feature adds its page here.
pub fn app_nav_items(dev_tools: bool) -> Vec<NavItem> {
    let reviews_due = crate::page::page().reviews_due;
    let mut items = vec![
        NavItem {
            href: "/dashboard",
            label: "Dashboard",
            badge: None,
        },
        NavItem {
            href: "/tasks",
            label: "Tasks",
            badge: None,
        },
        NavItem {
            href: "/review",
            label: "Review",
            badge: Some(reviews_due),
        },
        NavItem {
            href: "/analytics",
            label: "Analytics",
            badge: None,
        },
        NavItem {
            href: "/calendar",
            label: "Calendar",
            badge: None,
        },
        NavItem {
            href: "/notifications",
            label: "Notifications",
            badge: None,
        },
        NavItem {
            href: "/settings",
            label: "Settings",
            badge: None,
        },
    ];
    if dev_tools {
        items.push(NavItem {
            href: "/dev/mailbox",
            label: "Mailbox",
            badge: None,
        });
    }
    items
}

/// The frame of the signed-in app: a top bar with navigation that folds into a menu on phones.
#[component]
pub fn AppLayout(
    #[prop(into)] title: String,
    items: Vec<NavItem>,
    #[prop(optional)] account: Option<AnyView>,
    #[prop(optional)] banner: Option<AnyView>,
    children: Children,
) -> impl IntoView {
    let nav = items
        .into_iter()
        .map(|item| {
            view! {
                <li>
                    <A href=item.href exact=true>
                        {item.label}
                        {item.badge.filter(|n| *n > 0).map(|n| view! {
                            " "<span class="nav-badge">{n}<span class="visually-hidden">" due"</span></span>
                        })}
                    </A>
                </li>
            }
        })
        .collect_view();
    view! {
        <SkipLink />
        <header class="app-header">
            <div class="container app-header__inner">
                <Brand />
                <details class="app-nav">
                    <summary class="app-nav__toggle" aria-label="Menu">
                        <span aria-hidden="true">"☰"</span>
                    </summary>
                    <nav aria-label="Main">
                        <ul class="app-nav__list">{nav}</ul>
                    </nav>
                </details>
                <ThemeToggle />
                {account}
            </div>
        </header>
        {banner}
        <main id="main" class="app-main container">
            <h1 class="page-title">{title}</h1>
            <crate::forms::PageFlash />
            {children()}
        </main>
    }
}

/// A centred card for the sign-in and sign-up pages.
#[component]
pub fn AuthCard(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <PublicLayout>
            <section class="container auth">
                <div class="auth-card">
                    <h1 class="auth-card__title">{title}</h1>
                    {children()}
                </div>
            </section>
        </PublicLayout>
    }
}

/// The app frame for a signed-in user: navigation, sign-out, and the banner asking to confirm
/// the email address until it is confirmed.
#[component]
pub fn SignedInLayout(
    #[prop(into)] title: String,
    me: crate::accounts::Me,
    children: Children,
) -> impl IntoView {
    use leptos::server_fn::ServerFn;

    use crate::{
        accounts::{form, Logout, ResendVerification},
        forms::{FormMessage, FormState, PostForm},
    };
    let account = view! {
        <crate::notifications::NotificationBell count=crate::notifications::unread_count_now() />
        <div class="account-menu">
            <span class="account-menu__name" title=me.email.clone()>{me.name.clone()}</span>
            <PostForm action=Logout::PATH class="account-menu__form">
                <button type="submit" class="button button--small">"Sign out"</button>
            </PostForm>
        </div>
    }
    .into_any();
    let banner = (!me.email_verified).then(|| {
        view! {
            <div class="banner" role="region" aria-label="Email confirmation">
                <div class="container banner__inner">
                    <p>
                        "Confirm your email address (" {me.email.clone()}
                        ") to receive reminders. Check your inbox for our link."
                    </p>
                    <PostForm action=ResendVerification::PATH class="banner__form">
                        <button type="submit" class="button button--small">"Send the link again"</button>
                    </PostForm>
                    <FormMessage state=FormState::of(form::RESEND_VERIFICATION) />
                </div>
            </div>
        }
        .into_any()
    });
    view! {
        <AppLayout title=title items=app_nav_items(false) account=account banner=banner.unwrap_or_else(|| ().into_any())>
            {children()}
            <crate::components::shortcuts::KeyboardShortcuts />
        </AppLayout>
    }
}
