//! The inventory: clusters and their nodes (kinds, roles, FQDNs, endpoints).

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
