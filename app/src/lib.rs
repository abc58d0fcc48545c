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
use leptos_router::Lazy;

/// The name of the wasm/js/css bundle ([`LeptosOptions::output_name`]) in its directory named
/// by content (`/pkg/<hash>/gatehouse.wasm`, [`LeptosOptions::site_pkg_dir`]).
pub const BUNDLE: &str = "gatehouse";

/// The sign-in page: where a page asked for without signing in sends the browser.
pub const LOGIN: &str = "/login";
/// First-start setup: open to the holder of the one-time link while no user exists.
pub const SETUP: &str = "/setup";
/// The pages anyone may load without signing in; every other page needs a signed-in user.
pub const PUBLIC_PAGES: [&str; 2] = [LOGIN, SETUP];

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
                <link rel="stylesheet" id="gatehouse" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name) />
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
                <Route path=path!("/") view={Lazy::<pages::Dashboard>::new()} />
                <Route path=path!("/inventory") view={Lazy::<pages::Inventory>::new()} />
                <Route path=path!("/certificates") view={Lazy::<pages::Certificates>::new()} />
                <Route path=path!("/certificates/:sha256") view={Lazy::<pages::Certificate>::new()} />
                <Route path=path!("/tools/chain") view={Lazy::<pages::ChainTool>::new()} />
                <Route path=path!("/clusters/:cluster/trust") view={Lazy::<pages::TrustMatrix>::new()} />
                <Route path=path!("/clusters/:cluster/posture") view={Lazy::<pages::Posture>::new()} />
                <Route path=path!("/nodes/:id") view={Lazy::<pages::Node>::new()} />
                <Route path=path!("/nodes/:id/certificate") view={Lazy::<pages::NodeCertificate>::new()} />
                <Route path=path!("/nodes/:id/cti") view={Lazy::<pages::Cti>::new()} />
                <Route path=path!("/proxy-map") view={Lazy::<pages::ProxyMaps>::new()} />
                <Route path=path!("/proxy-map/:id") view={Lazy::<pages::ProxyMap>::new()} />
                <Route path=path!("/proxies") view={Lazy::<pages::Proxies>::new()} />
                <Route path=path!("/proxies/:id") view={Lazy::<pages::ProxyPair>::new()} />
                <Route path=path!("/access-policy") view={Lazy::<pages::Policies>::new()} />
                <Route path=path!("/plans/:id") view={Lazy::<pages::Plan>::new()} />
                <Route path=path!("/access-policy/plans/:id") view={Lazy::<pages::Plan>::new()} />
                <Route path=path!("/access-policy/:cluster") view={Lazy::<pages::ClusterPolicy>::new()} />
                <Route path=path!("/agents") view={Lazy::<pages::Agents>::new()} />
                <Route path=path!("/audit") view={Lazy::<pages::Audit>::new()} />
                <Route path=path!("/settings") view={Lazy::<pages::Settings>::new()} />
                <Route path=path!("/settings/users") view={Lazy::<pages::Users>::new()} />
                <Route path=path!("/settings/tokens") view={Lazy::<pages::Tokens>::new()} />
                <Route path=path!("/settings/account") view={Lazy::<pages::Account>::new()} />
                <Route path=path!("/settings/webhooks") view={Lazy::<pages::Webhooks>::new()} />
            </Routes>
        </Router>
    }
}
