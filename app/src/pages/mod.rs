//! One file per page.

pub mod account;
pub mod agents;
pub mod audit;
pub mod certificates;
pub mod chain_tool;
pub mod cti;
pub mod dashboard;
pub mod inventory;
pub mod login;
pub mod node;
mod node_access;
pub mod node_certificate;
pub mod plan;
pub mod policy;
pub mod posture;
pub mod proxies;
pub mod proxymap;
pub mod settings;
pub mod tokens;
pub mod trust_matrix;
pub mod users;
pub mod webhooks;

use leptos::prelude::*;

/// Declares a group of pages whose code is one wasm module of its own, fetched the first time
/// one of them is opened (the server names it in the page it renders, so the browser fetches it
/// beside the main bundle). The sign-in page's bundle then holds only what signing in needs.
/// Few groups rather than one module per page: code shared by two modules goes to a third, and
/// many small modules would cost a request each and compress worse. Each page gets a route type:
/// `Lazy::<pages::Inventory>::new()`.
macro_rules! lazy_pages {
    ($group:ident, $load:ident, $preload:ident { $($route:ident => $page:path),* $(,)? }) => {
        /// The pages of one lazily loaded module.
        #[derive(Clone, Copy, Debug)]
        #[repr(u8)]
        pub enum $group {
            $($route),*
        }

        #[leptos::lazy]
        fn $load(page: $group) -> AnyView {
            match page {
                $($group::$route => $page().into_any()),*
            }
        }

        $(
            #[derive(Debug)]
            pub struct $route;

            impl leptos_router::LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_: Self) -> AnyView {
                    $load($group::$route).await
                }

                async fn preload() {
                    #[cfg(feature = "hydrate")]
                    $preload().await;
                }
            }
        )*
    };
}

lazy_pages!(Fleet, fleet_page, __preload_fleet_page {
    Dashboard => dashboard::DashboardPage,
    Inventory => inventory::InventoryPage,
    Agents => agents::AgentsPage,
});

lazy_pages!(Certs, certs_page, __preload_certs_page {
    Certificates => certificates::CertificatesPage,
    Certificate => certificates::CertificatePage,
    ChainTool => chain_tool::ChainToolPage,
    TrustMatrix => trust_matrix::TrustMatrixPage,
    Posture => posture::PosturePage,
    NodeCertificate => node_certificate::NodeCertificatePage,
});

// The node page alone: the heaviest page (stores, access, agents, credentials).
lazy_pages!(Nodes, node_page, __preload_node_page {
    Node => node::NodePage,
});

lazy_pages!(Admin, admin_page, __preload_admin_page {
    Audit => audit::AuditPage,
    Settings => settings::SettingsPage,
    Users => users::UsersPage,
    Tokens => tokens::TokensPage,
    Account => account::AccountPage,
    Webhooks => webhooks::WebhooksPage,
    // The proxy pairs (their tokens beside the API tokens): not with the map editor, whose
    // module is the largest, so that a first visit to a map page stays within its budget.
    Proxies => proxies::ProxiesPage,
    ProxyPair => proxies::PairPage,
});

lazy_pages!(Maps, maps_page, __preload_maps_page {
    ProxyMaps => proxymap::ProxyMapsPage,
    ProxyMap => proxymap::ProxyMapPage,
});

lazy_pages!(AccessPolicy, policy_page, __preload_policy_page {
    Policies => policy::PoliciesPage,
    ClusterPolicy => policy::ClusterPolicyPage,
    Plan => plan::PlanPage,
    // A BroadWorks node's CTI checklist, whose plan opens the plan page. Here, where the
    // budget had room: beside the node page or the certificate pages it passed 500 KB, and a
    // group of its own made every page's shared modules heavier (BUDGET_LOG=1 shows each page).
    Cti => cti::CtiPage,
});

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
