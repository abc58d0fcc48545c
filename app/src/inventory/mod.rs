//! The inventory: clusters and their nodes (kinds, roles, FQDNs, endpoints).

#[cfg(feature = "ssr")]
pub mod csv_io;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod ssr;

use domain::{NodeKind, NodeRole};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClusterSummary {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// How many nodes the cluster has.
    pub nodes: i64,
    pub created_at: String,
    /// The cluster's own expiry thresholds (`null`: the defaults).
    pub warning_days: Option<i32>,
    pub critical_days: Option<i32>,
    pub warning_lifetime_percent: Option<i32>,
}

/// `POST /api/v1/clusters`, `PUT /api/v1/clusters/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClusterInput {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndpointSpec {
    pub port: u16,
    #[serde(default)]
    pub purpose: Option<String>,
}

/// `POST /api/v1/nodes`, `PUT /api/v1/nodes/{id}`. Absent endpoints: the kind's defaults (on
/// create) or unchanged (on update).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeInput {
    pub cluster_id: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "finesse"))]
    pub kind: NodeKind,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, example = "primary"))]
    pub role: Option<NodeRole>,
    pub fqdn: String,
    /// Management address (IP or name) to connect to instead of resolving the FQDN.
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub endpoints: Option<Vec<EndpointSpec>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Node {
    pub id: i64,
    pub cluster_id: i64,
    pub cluster: String,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub kind: NodeKind,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub role: NodeRole,
    pub fqdn: String,
    pub address: Option<String>,
    pub version: String,
    pub tags: Vec<String>,
    pub endpoints: Vec<EndpointSpec>,
    pub created_at: String,
    pub updated_at: String,
}

/// What resolving the FQDN from Gatehouse found: a warning, never a refusal (the name may
/// resolve only inside the contact center's network).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DnsCheck {
    pub resolved: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The answer to creating or changing a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NodeSaved {
    pub id: i64,
    pub dns: DnsCheck,
}

use crate::error::AppError;
use leptos::prelude::*;

/// Everything the inventory page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub clusters: Vec<ClusterSummary>,
    pub nodes: Vec<Node>,
    /// Every cluster's trusted CA certificates.
    pub cas: Vec<crate::certificates::ClusterCa>,
}

/// What an import found (dry run) or did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read.
    pub rows: usize,
    /// Nothing is written unless this is true.
    pub valid: bool,
    /// Written (false on a dry run or when a row is invalid).
    pub imported: bool,
    pub clusters_created: Vec<String>,
    pub nodes: usize,
    pub endpoints: usize,
    pub error_count: usize,
    /// The first 1,000 errors: `row` is the line in the file (the header is line 1).
    pub errors: Vec<RowError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

/// Checks a pasted CSV inventory (`dry_run`), or imports it when every row is valid.
#[server(prefix = "/api/fn", endpoint = "inventory_import")]
pub async fn import_inventory(
    csv: String,
    dry_run: Option<String>,
) -> Result<ImportReport, AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    let dry_run = dry_run.is_some_and(|v| v == "true" || v == "on");
    csv_io::import(&state.pool, &context, &csv, dry_run).await
}

/// Parses a ports field (`8445, 7443`): the purposes come from the kind's defaults. Empty: the
/// kind's default endpoints.
pub fn parse_ports(kind: NodeKind, text: &str) -> Result<Option<Vec<EndpointSpec>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let mut endpoints = Vec::new();
    for part in text
        .split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let port: u16 = part
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("'{part}' is not a port (1 to 65535)"))?;
        let purpose = kind
            .default_endpoints()
            .iter()
            .find(|e| e.port == port)
            .map(|e| e.purpose.to_owned());
        endpoints.push(EndpointSpec { port, purpose });
    }
    Ok(Some(endpoints))
}

/// The kind's default ports as the form shows them.
pub fn default_ports_text(kind: NodeKind) -> String {
    kind.default_endpoints()
        .iter()
        .map(|e| e.port.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "inventory")]
pub async fn inventory_overview() -> Result<Overview, AppError> {
    let state = crate::state::app_state()?;
    crate::auth::ssr::request_context().require_reader()?;
    Ok(Overview {
        clusters: ssr::list_clusters(&state.pool).await?,
        nodes: ssr::list_nodes(&state.pool, None).await?,
        cas: crate::certificates::ssr::list_cluster_cas(&state.pool, None).await?,
    })
}

#[server(prefix = "/api/fn", endpoint = "cluster_create")]
pub async fn add_cluster(name: String, description: Option<String>) -> Result<i64, AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    ssr::create_cluster(&state.pool, &context, ClusterInput { name, description }).await
}

#[server(prefix = "/api/fn", endpoint = "cluster_delete")]
pub async fn remove_cluster(id: i64) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    ssr::delete_cluster(&state.pool, &context, id).await
}

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

#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/fn", endpoint = "node_create")]
pub async fn add_node(
    cluster_id: i64,
    kind: String,
    role: String,
    fqdn: String,
    address: Option<String>,
    version: Option<String>,
    tags: Option<String>,
    ports: Option<String>,
) -> Result<NodeSaved, AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    let input = node_form(cluster_id, kind, role, fqdn, address, version, tags, ports)?;
    ssr::create_node(&state.pool, &context, input).await
}

#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/fn", endpoint = "node_update")]
pub async fn edit_node(
    id: i64,
    cluster_id: i64,
    kind: String,
    role: String,
    fqdn: String,
    address: Option<String>,
    version: Option<String>,
    tags: Option<String>,
    ports: Option<String>,
) -> Result<NodeSaved, AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    let input = node_form(cluster_id, kind, role, fqdn, address, version, tags, ports)?;
    ssr::update_node(&state.pool, &context, id, input).await
}

#[server(prefix = "/api/fn", endpoint = "node_delete")]
pub async fn remove_node(id: i64) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let context = crate::auth::ssr::request_context();
    ssr::delete_node(&state.pool, &context, id).await
}
