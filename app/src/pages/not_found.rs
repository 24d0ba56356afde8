use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::PublicLayout;

/// A missing page: a real 404 status, with a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <PublicLayout>
            <section class="container error-page">
                <p class="error-page__code">"404"</p>
                <h1>"We couldn't find that page"</h1>
                <p>"The link may be old, or the page may have moved."</p>
                <p>
                    <a class="button button--primary" href="/">
                        "Go to the home page"
                    </a>
                </p>
            </section>
        </PublicLayout>
    }
}
