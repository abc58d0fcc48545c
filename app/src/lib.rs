//! Gatehouse's user interface and server functions.
//!
//! Pages are rendered on the server and work before the wasm loads; once it has loaded, the
//! same components take over in the browser (hydration). The server functions are thin: they
//! call the `domain` crate, which holds the types, rules, queries and services.

pub mod error;
pub mod server_fns;

mod components;
mod pages;

#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The name of the wasm/js/css bundle under `/pkg` before the build adds its content hash
/// (`gatehouse.<hash>`, [`LeptosOptions::output_name`] at run time).
pub const BUNDLE: &str = "gatehouse";

/// The HTML document around every page. On the server it also sets the Content-Security-Policy
/// whose nonce allows exactly the hydration scripts of this response.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full bg-slate-100">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="gatehouse" href=format!("/pkg/{}.css", options.output_name) />
                <HydrationScripts options />
                <leptos_meta::MetaTags />
            </head>
            <body class="h-full text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// The policy for server-rendered pages: scripts only by this response's nonce (and what those
/// scripts load, `strict-dynamic`), wasm compilation allowed, nothing inline, never framed.
#[cfg(feature = "ssr")]
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    leptos::nonce::provide_nonce();
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&page_csp(&nonce)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, once it has taken the page over: mark the document so
    // that tests and the bundle benchmark can tell.
    Effect::new(|_| {
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("data-hydrated", "");
        }
    });
    view! {
        <Title formatter=|page: String| format!("{page} · Gatehouse") />
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/login") view=pages::login::LoginPage />
                <Route path=path!("/setup") view=pages::login::SetupPage />
                <Route path=path!("/") view=pages::dashboard::DashboardPage />
                <Route path=path!("/inventory") view=pages::inventory::InventoryPage />
                <Route path=path!("/certificates") view=pages::certificates::CertificatesPage />
                <Route path=path!("/certificates/:sha256") view=pages::certificates::CertificatePage />
                <Route path=path!("/nodes/:id") view=pages::node::NodePage />
                <Route path=path!("/proxy-map") view=pages::proxymap::ProxyMapsPage />
                <Route path=path!("/proxy-map/:id") view=pages::proxymap::ProxyMapPage />
                <Route path=path!("/access-policy") view=pages::policy::PoliciesPage />
                <Route path=path!("/plans/:id") view=pages::plan::PlanPage />
                <Route path=path!("/access-policy/plans/:id") view=pages::plan::PlanPage />
                <Route path=path!("/access-policy/:cluster") view=pages::policy::ClusterPolicyPage />
                <Route path=path!("/agents") view=pages::agents::AgentsPage />
                <Route path=path!("/audit") view=pages::audit::AuditPage />
                <Route path=path!("/settings") view=pages::settings::SettingsPage />
                <Route path=path!("/settings/users") view=pages::users::UsersPage />
                <Route path=path!("/settings/tokens") view=pages::tokens::TokensPage />
                <Route path=path!("/settings/account") view=pages::account::AccountPage />
                <Route path=path!("/settings/webhooks") view=pages::webhooks::WebhooksPage />
            </Routes>
        </Router>
    }
}
