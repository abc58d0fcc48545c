//! The wasm entry point: takes over the server-rendered page so that interactions run in the browser.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: a page whose code is a separate module (`app::pages`) is fetched before it
    // is hydrated.
    leptos::mount::hydrate_lazy(app::App);
}
