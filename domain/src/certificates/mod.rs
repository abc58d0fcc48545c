//! What the fleet serves: the fleet overview, the certificate list, a node's report, one
//! certificate's page, scans started from the console, and alert mutes. The types cross the
//! browser boundary; the queries and services live in [`store`] (with `server`).

#[cfg(feature = "server")]
pub mod cache;
pub mod chain;
mod scan;
#[cfg(feature = "server")]
pub mod store;

pub use scan::{ScanProgress, ScanResult, ScanStatus};

use certs::tls::TrustFailure;
use certs::{CertInfo, Finding};
use serde::{Deserialize, Serialize};

/// Who silenced (`mute`) or acknowledged (`ack`: it keeps alerting) an alert, why, and until when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Mute {
    /// `mute` or `ack`.
    pub kind: String,
    pub owner: String,
    pub note: String,
    pub until: String,
    pub muted_by: String,
}

/// One certificate where it is served now (`GET /api/v1/certificates`, the Certificates page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ServedCertificate {
    pub fingerprint_sha256: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    pub not_after: String,
    pub days_left: i64,
    /// `ok`, `warning`, `critical` or `expired`.
    pub state: String,
    pub node_id: i64,
    pub cluster_id: i64,
    pub cluster: String,
    pub fqdn: String,
    pub kind: String,
    pub port: i32,
    pub chain_position: i32,
    /// Most severe first: `{"id","severity","message","remediation","source"}`.
    #[cfg_attr(feature = "server", schema(value_type = Vec<Object>))]
    pub findings: Vec<Finding>,
    /// Present while the alert is muted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute: Option<Mute>,
}

/// `GET /api/v1/alerts`: one entry per served certificate that is not ok.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Alert {
    pub node_id: i64,
    pub cluster: String,
    pub fqdn: String,
    pub port: i32,
    pub chain_position: i32,
    pub fingerprint_sha256: String,
    pub subject_cn: Option<String>,
    /// `warning`, `critical` or `expired`.
    pub state: String,
    pub days_left: i64,
    pub not_after: String,
    /// Silenced until `mute.until`.
    pub muted: bool,
    /// Someone is on it (`mute.owner`); it still alerts.
    pub acknowledged: bool,
    /// Present while muted or acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mute: Option<Mute>,
}

/// What the overview and the list can be narrowed to (query parameters; empty means all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Filter {
    pub cluster: Option<i64>,
    pub kind: Option<String>,
    /// `expired`, `critical`, `warning`, `ok` or `unreachable`.
    pub state: Option<String>,
    /// A lint id.
    pub lint: Option<String>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Endpoints by the state of what they serve (the worst certificate of the chain decides).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StateCounts {
    pub expired: u32,
    pub critical: u32,
    pub warning: u32,
    pub ok: u32,
    /// The latest probe failed.
    pub unreachable: u32,
    /// Never probed yet.
    pub not_scanned: u32,
}

/// Certificates expiring per week over the next 365 days, split by alert state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Already expired (left of the axis).
    pub expired: u32,
    /// 53 weeks from today.
    pub weeks: Vec<TimelineWeek>,
    /// Expiring later than a year from now.
    pub later: u32,
    /// The first day of each month within the year: (days from today, `Jan 2027`).
    pub months: Vec<(u32, String)>,
    /// Expiring within 30, 90 and 365 days (not yet expired).
    pub within: [u32; 3],
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineWeek {
    /// The week's first day, `YYYY-MM-DD`.
    pub starts: String,
    /// `[critical, warning, ok]`.
    pub counts: [u32; 3],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LintCount {
    pub id: String,
    pub severity: certs::Severity,
    /// Served certificates with this finding.
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub filter: Filter,
    pub clusters: Vec<(i64, String)>,
    pub nodes: u32,
    pub endpoints: u32,
    pub counts: StateCounts,
    /// Distinct certificates (by fingerprint) in view.
    pub certificates: u32,
    pub timeline: Timeline,
    /// The ten served certificates that expire first.
    pub soonest: Vec<ServedCertificate>,
    /// Findings on served certificates: `[critical, warning, info]`.
    pub severities: [u32; 3],
    pub lints: Vec<LintCount>,
    pub last_scan: Option<ScanStatus>,
    pub running: Option<ScanStatus>,
}

/// The latest probe of an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ProbeSummary {
    pub ok: bool,
    pub probed_at: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub protocol: Option<String>,
    pub cipher_suite: Option<String>,
    pub alpn: Option<String>,
    pub client_certificate_requested: Option<bool>,
    pub handshake_ms: Option<f64>,
    pub publicly_trusted: bool,
    /// Why the chain does not verify against the system roots: a code (`unknown_issuer`,
    /// `not_valid_for_name`, ...; see README).
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub public_trust_error: Option<TrustFailure>,
    /// `null` when the cluster has no CA certificates of its own.
    pub cluster_trusted: Option<bool>,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub cluster_trust_error: Option<TrustFailure>,
}

/// One certificate of a served chain, with everything the node page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChainCertificate {
    pub position: i32,
    pub fingerprint_sha256: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    pub not_after: String,
    pub days_left: i64,
    pub state: String,
    #[cfg_attr(feature = "server", schema(value_type = Vec<Object>))]
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute: Option<Mute>,
    /// Every parsed fact (subject, SANs, key, extensions, fingerprints, ...).
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub details: CertInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EndpointReport {
    pub port: i32,
    pub purpose: String,
    /// `null` before the first scan.
    pub probe: Option<ProbeSummary>,
    pub chain: Vec<ChainCertificate>,
}

/// What an endpoint served at one probe (the scan history of a node).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub probed_at: String,
    pub scan_id: Option<i64>,
    pub port: i32,
    pub ok: bool,
    pub error_code: Option<String>,
    /// The leaf served, when the handshake succeeded.
    pub fingerprint_sha256: Option<String>,
    pub subject_cn: Option<String>,
}

/// `GET /api/v1/nodes/{id}/certificates` and the node page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NodeReport {
    pub node_id: i64,
    pub fqdn: String,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub node: crate::inventory::Node,
    pub endpoints: Vec<EndpointReport>,
    /// The latest probes of this node's endpoints, newest first (at most 50).
    pub history: Vec<HistoryEntry>,
    /// The expiry thresholds in force for this node, and where each comes from.
    pub thresholds: EffectiveThresholds,
}

/// A place a certificate is or was served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Placement {
    pub node_id: i64,
    pub cluster: String,
    pub fqdn: String,
    pub port: i32,
    pub chain_position: i32,
    pub first_seen_at: String,
    pub last_seen_at: String,
    /// Served there at the endpoint's latest probe.
    pub current: bool,
    /// Findings where it is served now (empty for past placements).
    #[cfg_attr(feature = "server", schema(value_type = Vec<Object>))]
    pub findings: Vec<Finding>,
    pub state: Option<String>,
}

/// `GET /api/v1/certificates/{sha256}` and the certificate page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CertificateReport {
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub details: CertInfo,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub first_seen_at: String,
    pub placements: Vec<Placement>,
    pub pem: String,
}

/// Expiry thresholds, each with where it comes from (`default`, `cluster` or `node`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EffectiveThresholds {
    pub warning_days: i64,
    pub warning_days_from: String,
    pub critical_days: i64,
    pub critical_days_from: String,
    pub warning_lifetime_percent: i64,
    pub warning_lifetime_percent_from: String,
}

/// `PUT /api/v1/clusters/{id}/thresholds`, `PUT /api/v1/nodes/{id}/thresholds`: `null` or absent
/// inherits (node from cluster, cluster from the defaults).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ThresholdsInput {
    #[serde(default)]
    pub warning_days: Option<i64>,
    #[serde(default)]
    pub critical_days: Option<i64>,
    #[serde(default)]
    pub warning_lifetime_percent: Option<i64>,
}

pub use crate::inventory::ClusterCa;

/// `POST /api/v1/clusters/{id}/cas`: one or more PEM `CERTIFICATE` blocks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CaUpload {
    pub pem: String,
}

/// Empty form fields mean "not set".
fn blank_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl Filter {
    /// From form values, where an empty choice means all.
    pub fn from_form(
        cluster: Option<String>,
        kind: Option<String>,
        state: Option<String>,
        lint: Option<String>,
    ) -> Self {
        Self {
            cluster: blank_none(cluster).and_then(|c| c.parse().ok()),
            kind: blank_none(kind),
            state: blank_none(state),
            lint: blank_none(lint),
        }
    }
}

/// The Certificates page lists at most this many rows (the API returns all of them).
pub const LIST_LIMIT: usize = 500;

/// What the certificate views, scans, mutes, thresholds and cluster CAs refuse, in their words.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no scan with id {0}")]
    NoSuchScan(i64),
    #[error("a scan of the whole fleet is already running (scan {0})")]
    FleetScanRunning(i64),
    #[error("scan {0} is not running")]
    ScanNotRunning(i64),
    #[error("node {node_id} has no endpoint on port {port}")]
    NoSuchEndpoint { node_id: i64, port: i32 },
    #[error("this alert is neither muted nor acknowledged")]
    NotMuted,
    #[error("a certificate is named by its SHA-256 fingerprint (64 hex digits)")]
    NotAFingerprint,
    #[error("no certificate with this fingerprint has been seen")]
    NeverSeen,
    #[error("this cluster does not trust a CA with this fingerprint")]
    NoSuchCa,
}

#[cfg(feature = "server")]
impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        match self {
            Refused::FleetScanRunning(_) | Refused::ScanNotRunning(_) => crate::Failure::Conflict,
            _ => crate::Failure::NotFound,
        }
    }
}

#[cfg(feature = "server")]
crate::refusal!(Refused);
