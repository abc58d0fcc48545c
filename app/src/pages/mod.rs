//! One file per page.

pub mod account;
pub mod agents;
pub mod audit;
pub mod certificates;
pub mod dashboard;
pub mod inventory;
pub mod login;
pub mod node;
mod node_access;
pub mod plan;
pub mod policy;
pub mod proxymap;
pub mod settings;
pub mod tokens;
pub mod users;
pub mod webhooks;

use leptos::prelude::*;

/// Any path the console does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <leptos_meta::Title text="Not found" />
        <div class="mx-auto max-w-md px-6 py-24 text-center">
            <p class="text-sm font-semibold text-indigo-600">"404"</p>
            <h1 class="mt-2 text-2xl font-semibold">"There is no page here"</h1>
            <p class="mt-2 text-sm text-slate-600">"Check the address, or go back to the dashboard."</p>
            <a href="/" class="mt-6 inline-block text-sm font-medium text-indigo-700 underline">"Dashboard"</a>
        </div>
    }
}
