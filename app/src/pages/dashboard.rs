//! The fleet overview. Until the inventory and certificate scans exist it explains what will
//! appear here and where to start.

use crate::components::{EmptyState, Layout};
use leptos::prelude::*;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Layout title="Dashboard">
            <EmptyState
                title="No clusters yet"
                body="The dashboard will show every node's certificate state (expired, critical, warning, ok, unreachable), an expiry timeline for the next year, and findings by severity, once the inventory has clusters and nodes and a scan has run."
            >
                <a href="/inventory" class="text-sm font-medium text-indigo-700 underline">"Go to Inventory"</a>
            </EmptyState>
        </Layout>
    }
}
