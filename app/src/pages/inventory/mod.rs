//! The inventory: clusters and their nodes. Admins add and remove them here; auditors read.
//! Choosing a kind fills in its default ports (after hydration; without the wasm an empty
//! ports field means the defaults too).

use crate::components::minute;
use crate::components::{
    error_of, field_errors, ActionError, EmptyState, ErrorBox, FieldError, Layout, Section, BUTTON,
    BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL,
};
use crate::server_fns::auth::whoami;
use crate::server_fns::certificates::{AddClusterCa, RemoveClusterCa, SetClusterThresholds};
use crate::server_fns::inventory::{
    inventory_overview, AddCluster, ImportInventory, RemoveCluster, RemoveNode, SaveNode,
};
use domain::certificates::ClusterCa;
use domain::inventory::model::{NodeKind, NodeRole};
use domain::inventory::{default_ports_text, ClusterSummary, ImportReport, Node};
use leptos::prelude::*;

mod cluster;
mod csv;
mod forms;
use cluster::{ClusterCard, TrustActions};
use csv::CsvSection;
use forms::{ClusterForm, NodeForm};

#[component]
pub fn InventoryPage() -> impl IntoView {
    let add_cluster = ServerAction::<AddCluster>::new();
    let add_node = ServerAction::<SaveNode>::new();
    let remove_node = ServerAction::<RemoveNode>::new();
    let remove_cluster = ServerAction::<RemoveCluster>::new();
    let add_ca = ServerAction::<AddClusterCa>::new();
    let import = ServerAction::<ImportInventory>::new();
    let remove_ca = ServerAction::<RemoveClusterCa>::new();
    let thresholds = ServerAction::<SetClusterThresholds>::new();
    let trust = TrustActions {
        add_ca,
        remove_ca,
        thresholds,
    };
    let overview = Resource::new(
        move || {
            (
                add_cluster.version().get(),
                add_node.version().get(),
                remove_node.version().get(),
                remove_cluster.version().get(),
                add_ca.version().get(),
                import.version().get(),
                remove_ca.version().get(),
                thresholds.version().get(),
            )
        },
        |_| inventory_overview(),
    );
    let me = Resource::new(|| (), |_| whoami());
    let is_admin = move || {
        me.get()
            .and_then(|m| m.ok().flatten())
            .is_some_and(|m| m.is_admin())
    };

    // The forms stay mounted while the list refetches, so nothing typed is lost.
    let clusters = Signal::derive(move || {
        overview
            .get()
            .and_then(Result::ok)
            .map(|o| o.clusters)
            .unwrap_or_default()
    });

    view! {
        <Layout title="Inventory">
            <Transition fallback=|| ()>
                {move || is_admin().then(|| view! {
                    <ClusterForm action=add_cluster />
                    <NodeForm action=add_node clusters />
                    <CsvSection action=import />
                })}
            </Transition>
            <ActionError error=error_of(remove_node.value()) />
            <ActionError error=error_of(remove_cluster.value()) />
            <Transition fallback=|| view! { <p class="text-sm text-slate-600">"Loading the inventory…"</p> }>
                {move || overview.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error /> }.into_any(),
                    Ok(data) if data.clusters.is_empty() => view! {
                        <EmptyState
                            title="No clusters yet"
                            body="A cluster groups the nodes of one contact-center deployment (Finesse, CUIC, LiveData, IdS pairs, their proxies). Add one, then its nodes; Gatehouse fills in each product's default ports."
                        />
                    }.into_any(),
                    Ok(data) => {
                        let admin = is_admin();
                        data.clusters
                            .into_iter()
                            .map(|c| {
                                let nodes: Vec<Node> = data.nodes.iter().filter(|n| n.cluster_id == c.id).cloned().collect();
                                let cas: Vec<ClusterCa> = data.cas.iter().filter(|ca| ca.cluster_id == c.id).cloned().collect();
                                view! { <ClusterCard cluster=c nodes cas admin remove_node remove_cluster trust /> }
                            })
                            .collect_view()
                            .into_any()
                    }
                })}
            </Transition>
        </Layout>
    }
}
