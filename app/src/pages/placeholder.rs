//! Areas whose capabilities are still being built: each says plainly what it will do.

use crate::components::{EmptyState, Layout};
use leptos::prelude::*;

#[component]
fn ComingPage(title: &'static str, empty: &'static str, body: &'static str) -> impl IntoView {
    view! {
        <Layout title>
            <EmptyState title=empty body=body />
        </Layout>
    }
}

#[component]
pub fn ProxyMapPage() -> impl IntoView {
    view! {
        <ComingPage
            title="Proxy map"
            empty="No proxy map yet"
            body="The VPN-less proxy map (internal-host:port=external-host:port) will be edited here with live validation, published in versions and rolled out to the nodes."
        />
    }
}
