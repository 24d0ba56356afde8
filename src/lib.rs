//! The WASM entry point: hydrates the islands of the server-rendered page (nothing else of
//! the page runs in the browser).

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // The islands live in `spacedly-app`: using the crate here links it in, with the
    // functions each island exports for `hydrate_islands` to find.
    #[allow(unused_imports)]
    use spacedly_app::*;
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
