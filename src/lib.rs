//! The WASM entry point: hydrates the islands of the server-rendered page (nothing else of
//! the page runs in the browser).

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
