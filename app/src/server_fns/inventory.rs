//! Server functions for the inventory: clusters, nodes and the CSV import.

use crate::error::AppError;
use domain::inventory::*;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::inventory::model::{NodeKind, NodeRole},
    domain::inventory::store,
};

/// A node's form fields as the REST input (tags comma-separated; empty ports: the kind's
/// defaults on create, unchanged on update).
#[cfg(feature = "ssr")]
#[allow(clippy::too_many_arguments)]
fn node_form(
    cluster_id: i64,
    kind: String,
    role: String,
    fqdn: String,
    address: Option<String>,
    version: Option<String>,
    tags: Option<String>,
    ports: Option<String>,
) -> Result<NodeInput, AppError> {
    let kind = NodeKind::parse(&kind).map_err(|m| AppError::field("kind", m))?;
    let role = NodeRole::parse(&role).map_err(|m| AppError::field("role", m))?;
    let endpoints = parse_ports(kind, ports.as_deref().unwrap_or_default())
        .map_err(|m| AppError::field("ports", m))?;
    let tags = tags.map(|t| t.split(',').map(str::to_owned).collect());
    Ok(NodeInput {
        cluster_id,
        kind,
        role: Some(role),
        fqdn,
        address,
        version,
        tags,
        endpoints,
    })
}

/// Checks a pasted CSV inventory (`dry_run`), or imports it when every row is valid.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "inventory_import")]
pub async fn import_inventory(
    csv: String,
    dry_run: Option<String>,
) -> Result<ImportReport, AppError> {
    let state = app_state()?;
    let context = request_context();
    let dry_run = dry_run.is_some_and(|v| v == "true" || v == "on");
    domain::inventory::csv::import(&state.pool, &context, &csv, dry_run)
        .await
        .map_err(AppError::from)
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "inventory")]
pub async fn inventory_overview() -> Result<Overview, AppError> {
    let state = app_state()?;
    let context = request_context();
    Ok(Overview {
        clusters: store::list_clusters(&state.pool, &context).await?,
        nodes: store::list_nodes(&state.pool, &context, None).await?,
        cas: domain::certificates::store::list_cluster_cas(&state.pool, &context, None).await?,
    })
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "cluster_create")]
pub async fn add_cluster(name: String, description: Option<String>) -> Result<i64, AppError> {
    let state = app_state()?;
    let context = request_context();
    store::create_cluster(&state.pool, &context, ClusterInput { name, description })
        .await
        .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "cluster_delete")]
pub async fn remove_cluster(id: i64) -> Result<(), AppError> {
    let state = app_state()?;
    let context = request_context();
    store::delete_cluster(&state.pool, &context, id)
        .await
        .map_err(AppError::from)
}

/// Adds a node (no `id`) or changes node `id`: the inventory form's fields either way.
#[allow(clippy::too_many_arguments)]
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "node_save")]
pub async fn save_node(
    id: Option<i64>,
    cluster_id: i64,
    kind: String,
    role: String,
    fqdn: String,
    address: Option<String>,
    version: Option<String>,
    tags: Option<String>,
    ports: Option<String>,
) -> Result<NodeSaved, AppError> {
    let state = app_state()?;
    let context = request_context();
    let input = node_form(cluster_id, kind, role, fqdn, address, version, tags, ports)?;
    match id {
        None => store::create_node(&state.pool, &context, input).await,
        Some(id) => store::update_node(&state.pool, &context, id, input).await,
    }
    .map_err(AppError::from)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "node_delete")]
pub async fn remove_node(id: i64) -> Result<(), AppError> {
    let state = app_state()?;
    let context = request_context();
    store::delete_node(&state.pool, &context, id)
        .await
        .map_err(AppError::from)
}
