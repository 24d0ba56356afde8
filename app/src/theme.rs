//! Light/dark theme. Without a choice the page follows the system (CSS `prefers-color-scheme`);
//! the toggle stores a choice in a cookie so the server renders it on the next visit without
//! a flash and without any inline script.

use leptos::prelude::*;

pub const THEME_COOKIE: &str = "theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            _ => None,
        }
    }

    pub fn other(self) -> Self {
        match self {
            Self::Light => Self::Dark,
            Self::Dark => Self::Light,
        }
    }
}

/// Finds `theme=` in a Cookie header value.
pub fn theme_from_cookie_header(header: &str) -> Option<Theme> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == THEME_COOKIE)
        .and_then(|(_, value)| Theme::parse(value.trim()))
}

/// The theme chosen earlier, read from the request's cookie (server) or the document (browser).
pub fn theme_from_request() -> Option<Theme> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(http::header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .and_then(|cookies| theme_from_cookie_header(&cookies))
    }
    #[cfg(not(feature = "ssr"))]
    {
        current_document_theme()
    }
}

#[cfg(not(feature = "ssr"))]
fn current_document_theme() -> Option<Theme> {
    document()
        .document_element()
        .and_then(|root| root.get_attribute("data-theme"))
        .and_then(|t| Theme::parse(&t))
}

/// The theme in effect now in the browser: the stored choice, else the system preference.
#[cfg(not(feature = "ssr"))]
fn effective_theme() -> Theme {
    current_document_theme().unwrap_or_else(|| {
        let dark = window()
            .match_media("(prefers-color-scheme: dark)")
            .ok()
            .flatten()
            .is_some_and(|m| m.matches());
        if dark {
            Theme::Dark
        } else {
            Theme::Light
        }
    })
}

/// Applies and remembers a theme (one year, whole site).
#[cfg(not(feature = "ssr"))]
fn apply_theme(theme: Theme) {
    use wasm_bindgen::JsCast;
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
    if let Ok(html_doc) = document().dyn_into::<web_sys::HtmlDocument>() {
        let _ = html_doc.set_cookie(&format!(
            "{THEME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            theme.as_str()
        ));
    }
}

/// The theme switch: the one island on every page. Hydrating it also marks the document
/// (`data-hydrated`), which tests use to prove the WASM ran; effects never run on the server.
#[island]
pub fn ThemeToggle() -> impl IntoView {
    // The label reflects the theme once the browser knows it; the server renders a neutral one.
    let (label, set_label) = signal("Toggle dark mode".to_string());
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| {
        #[cfg(not(feature = "ssr"))]
        {
            set_label.set(format!(
                "Switch to {} theme",
                effective_theme().other().as_str()
            ));
            if let Some(root) = document().document_element() {
                let _ = root.set_attribute("data-hydrated", "true");
            }
        }
        set_ready.set(true);
    });
    let toggle = move |_| {
        #[cfg(not(feature = "ssr"))]
        {
            let next = effective_theme().other();
            apply_theme(next);
            set_label.set(format!("Switch to {} theme", next.other().as_str()));
        }
        let _ = set_label;
    };
    view! {
        <button
            type="button"
            class="theme-toggle"
            aria-label=label
            title=label
            data-ready=move || ready.get().to_string()
            on:click=toggle
        >
            <span class="theme-toggle__icon" aria-hidden="true"></span>
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_theme_among_other_cookies() {
        assert_eq!(
            theme_from_cookie_header("a=1; theme=dark; b=2"),
            Some(Theme::Dark)
        );
        assert_eq!(theme_from_cookie_header("theme=purple"), None);
        assert_eq!(theme_from_cookie_header(""), None);
    }
}
