//! The whole web site as one router: the pages and the server functions (Leptos), the built
//! assets, the JSON API and the operational routes, inside every shared middleware layer.
//! `serve` mounts it; the form tests (`app/tests`) drive the same router in-process.

use std::path::PathBuf;

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use spacedly_server::{app, http, AppState};

use crate::{shell, App};

/// The site: pages + server functions + assets + API, wrapped in `app::layers`.
pub fn router(state: AppState, options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);

    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let pages: Router = Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .nest_service(
            &format!("/{}", options.site_pkg_dir),
            http::static_files::assets(
                PathBuf::from(&*options.site_root).join(&*options.site_pkg_dir),
                options.hash_files,
            ),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        // Each page knows its user and the outcome of the form posted before it.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::page::attach,
        ))
        // Forms and server functions: the JSON limit (the stack-wide cap is the upload size).
        .layer(http::body_limit::layer(http::body_limit::JSON))
        .with_state(options);

    app::layers(app::routes(state.clone()).merge(pages), &state)
}
