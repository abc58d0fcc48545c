//! Access to the appliances themselves over their `admin:` CLI: the platform admin account
//! (sealed at rest, never shown), the SSH host key pinned on first use, a connection test, the
//! certificate stores read from each node, trust imports, and connected users.

use certs::Finding;
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod drivers;
#[cfg(feature = "server")]
pub mod secret;
#[cfg(feature = "server")]
pub mod slots;
#[cfg(feature = "server")]
pub mod store;

/// `PUT /api/v1/nodes/{id}/credentials`: the password is never returned by anything.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CredentialsInput {
    pub username: String,
    pub password: String,
    /// The SSH port (default: unchanged, 22 for a new node).
    #[serde(default)]
    pub port: Option<u16>,
}

/// A host key as seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct KeyFacts {
    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    pub algorithm: String,
    pub public_key: String,
    pub seen_at: String,
}

/// The node's SSH host key: `none` (never connected), `unconfirmed` (pinned on first use, not
/// yet confirmed by an admin), `confirmed`, or `changed` (the node presented another key:
/// every operation is blocked until an admin accepts it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HostKey {
    pub state: String,
    pub pinned: Option<KeyFacts>,
    pub presented: Option<KeyFacts>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<String>,
}

/// What the node page shows of the access to a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Access {
    pub ssh_port: u16,
    /// `None`: no credentials stored.
    pub username: Option<String>,
    pub credentials_updated_at: Option<String>,
    pub credentials_updated_by: Option<String>,
    pub host_key: HostKey,
    /// Why nothing is sent to the node now although credentials are stored: its address or
    /// FQDN changed since they were bound (`None`: they go to it).
    pub identity_changed: Option<String>,
}

/// `POST /api/v1/nodes/{id}/test-connection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConnectionTest {
    pub ok: bool,
    /// The CLI prompt reached (`admin:`).
    pub prompt: Option<String>,
    /// `show version active`.
    pub version: Option<String>,
    /// Connecting (when no session was open), signing in and the command, in milliseconds.
    pub latency_ms: Option<u64>,
    /// Why not, in words.
    pub message: String,
    /// A stable reason code when not ok: `no_credentials`, `connect`, `authentication`,
    /// `host_key_changed`, `timeout`, `dropped`, `session`, `output`.
    pub error: Option<String>,
    pub host_key: HostKey,
}

/// One certificate of a node's own or trust store, as read from the appliance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StoreEntry {
    /// `own` or `trust`.
    pub store: String,
    pub unit: String,
    pub file: String,
    pub description: String,
    pub fingerprint_sha256: Option<String>,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    pub not_after: Option<String>,
    pub days_left: Option<i64>,
    /// ok, warning, critical, expired (with the node's thresholds).
    pub state: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = Vec<Object>))]
    pub findings: Vec<Finding>,
    /// Why the file could not be read or parsed.
    pub error: Option<String>,
}

/// `GET /api/v1/nodes/{id}/stores`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Stores {
    /// When the entries were read (`None`: never).
    pub read_at: Option<String>,
    /// Why the last attempt failed (the entries are then the last good read's).
    pub error: Option<String>,
    pub attempted_at: Option<String>,
    pub own: Vec<StoreEntry>,
    pub trust: Vec<StoreEntry>,
    /// Set when the tomcat certificate in the store is not the one the node's endpoints serve
    /// (a restart of the web service is pending, or the store was changed elsewhere).
    pub tomcat_mismatch: Option<String>,
}

/// Trust units a certificate can be imported into (`set cert import trust <unit>` takes the
/// name without `-trust`).
pub const TRUST_UNITS: [&str; 5] = [
    "tomcat-trust",
    "CallManager-trust",
    "ipsec-trust",
    "CAPF-trust",
    "tomcat-ECDSA-trust",
];

/// `POST /api/v1/nodes/{id}/stores/trust`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrustImport {
    /// `tomcat-trust`, `CallManager-trust`, ...
    pub unit: String,
    pub pem: String,
}

/// What an operation that changed a node did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Operation {
    pub ok: bool,
    pub command: String,
    pub message: String,
    /// What the appliance printed.
    pub output: String,
    /// Services to restart for the change to take effect.
    pub restart: Vec<String>,
    /// The plan that made the change, when the reconciliation engine made it (its page shows
    /// each step as it ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<i64>,
}

/// Connected users of one Finesse node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Counts {
    pub desktop: u32,
    pub fippa: u32,
    pub third_party: u32,
    pub total: u32,
    pub lan: u32,
    pub proxy: u32,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.desktop += other.desktop;
        self.fippa += other.fippa;
        self.third_party += other.third_party;
        self.total += other.total;
        self.lan += other.lan;
        self.proxy += other.proxy;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NodeAgents {
    pub node_id: i64,
    pub fqdn: String,
    pub cluster_id: i64,
    pub cluster: String,
    /// The last sample (`None`: never read).
    pub counts: Option<Counts>,
    pub read_at: Option<String>,
    /// Where the last sample came from: `rest` (ConnectedUsersInfo) or `cli`.
    pub source: Option<String>,
    /// Why the last read failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ClusterAgents {
    pub cluster_id: i64,
    pub cluster: String,
    pub counts: Counts,
}

/// One point of the fleet's history: the fleet total at `at` (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HistoryPoint {
    pub at: i64,
    pub total: u32,
    pub proxy: u32,
}

/// `GET /api/v1/connected-agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConnectedAgents {
    pub nodes: Vec<NodeAgents>,
    pub clusters: Vec<ClusterAgents>,
    pub totals: Counts,
    /// The latest read among the nodes.
    pub read_at: Option<String>,
    /// The fleet total over the last 24 hours, one point per sampling round.
    pub history: Vec<HistoryPoint>,
    /// Who is connected through the gatehouse-proxy instances, and through which (from their
    /// reports of the last minute).
    #[serde(default)]
    pub proxied: Vec<crate::proxies::ProxiedAgent>,
}

/// A restart as the page and the REST API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Restart {
    pub id: i64,
    pub node_id: i64,
    pub fqdn: String,
    pub service: String,
    /// `queued`, `running`, `done`, `failed`.
    pub state: String,
    /// What the node printed, line by line.
    pub lines: Vec<String>,
    pub error: Option<String>,
    pub requested_by: String,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// A service a node must restart for applied changes to take effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PendingRestart {
    pub node_id: i64,
    pub fqdn: String,
    pub service: String,
    pub since: String,
}

/// What the appliance layer refuses, in its words (why a node could not be reached is
/// [`store::NodeFailure`]).
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no restart with id {0}")]
    NoSuchRestart(i64),
    #[error("restarts are already running on this cluster's nodes; wait for them to end")]
    RestartsRunning,
    #[error("no restart is pending on this cluster's nodes")]
    NothingToRestart,
    #[error("{0}")]
    StoreReadEnded(String),
    #[error("reading the certificate stores of {0} is still running after 5 minutes; its result shows when it ends")]
    StoreReadRunning(String),
    #[error("reading the certificate stores failed: {0}")]
    StoreReadFailed(String),
    #[error("no host key seen yet: test the connection first")]
    NoHostKeyYet,
    #[error("{0} is a BroadWorks node: it has no VOS certificate stores (its CTI interface's settings are on its CTI page)")]
    NotVos(String),
    #[error("generating the CSR failed: {0}")]
    CsrFailed(String),
    #[error("{0} has no CSR from this console yet: generate one on its page first")]
    NoCsr(String),
}

#[cfg(feature = "server")]
impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        match self {
            Refused::NoSuchRestart(_) | Refused::NoCsr(_) => crate::Failure::NotFound,
            _ => crate::Failure::Conflict,
        }
    }
}

#[cfg(feature = "server")]
crate::refusal!(Refused);
