//! The inventory: clusters and their nodes (kinds, roles, FQDNs, endpoints).

#[cfg(feature = "server")]
pub mod csv;
pub mod model;
#[cfg(feature = "server")]
pub mod store;

use model::{NodeKind, NodeRole};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ClusterInput {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EndpointSpec {
    pub port: u16,
    #[serde(default)]
    pub purpose: Option<String>,
}

/// `POST /api/v1/nodes`, `PUT /api/v1/nodes/{id}`. Absent endpoints: the kind's defaults (on
/// create) or unchanged (on update).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NodeInput {
    pub cluster_id: i64,
    #[cfg_attr(feature = "server", schema(value_type = String, example = "finesse"))]
    pub kind: NodeKind,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, example = "primary"))]
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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Node {
    pub id: i64,
    pub cluster_id: i64,
    pub cluster: String,
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub kind: NodeKind,
    #[cfg_attr(feature = "server", schema(value_type = String))]
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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DnsCheck {
    pub resolved: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The answer to creating or changing a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NodeSaved {
    pub id: i64,
    pub dns: DnsCheck,
}

/// Everything the inventory page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub clusters: Vec<ClusterSummary>,
    pub nodes: Vec<Node>,
    /// Every cluster's trusted CA certificates.
    pub cas: Vec<ClusterCa>,
}

/// A CA certificate trusted for one cluster: probes of its nodes are also verified against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ClusterCa {
    pub cluster_id: i64,
    pub fingerprint_sha256: String,
    pub subject: String,
    pub not_after: String,
    pub added_by: String,
    pub added_at: String,
}

/// What an import found (dry run) or did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
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

/// What the inventory refuses, in its words.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no cluster with id {0}")]
    NoSuchCluster(i64),
    #[error("no node with id {0}")]
    NoSuchNode(i64),
    #[error("the cluster {name} still has {nodes} node(s); delete or move them first")]
    ClusterNotEmpty { name: String, nodes: i64 },
    #[error("the CSV header cannot be read: {0}")]
    UnreadableHeader(String),
    #[error("the first line must be the header '{expected}' (found '{found}')")]
    WrongHeader { expected: String, found: String },
    #[error("at most {0} rows can be imported at once; split the file")]
    TooManyRows(usize),
}

#[cfg(feature = "server")]
impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        match self {
            Refused::NoSuchCluster(_) | Refused::NoSuchNode(_) => crate::Failure::NotFound,
            Refused::ClusterNotEmpty { .. } => crate::Failure::Conflict,
            _ => crate::Failure::Unreadable,
        }
    }
}

#[cfg(feature = "server")]
crate::refusal!(Refused);
