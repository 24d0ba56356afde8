//! The WASM entry point: hydrates the server-rendered page.

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy hydration: pages marked lazy load their own WASM chunk on first visit.
    leptos::mount::hydrate_lazy(spacedly_app::App);
}
