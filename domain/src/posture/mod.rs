//! A cluster's security posture: what its nodes' settings and endpoints show, judged by the
//! vendor's security guidance (seeds 001-004), each finding with its severity, the sentence it
//! comes from and its fix (a plan of the reconciliation engine where the console can make it,
//! the CLI command or the page that owns the setting otherwise), and one score per scan.
//!
//! ```text
//! read (SSH: properties, redirect, client-auth, CORS, ...) ─┐
//! probe (HTTP 80/8082, HSTS, 5222/7071, TLS 1.0/1.1, CBC) ──┼─▶ Observed ─▶ rules::judge ─▶ Findings
//! certificate findings, the trust matrix's red cells ───────┘                  │
//!                                                                   score, stored per scan (trend)
//! ```
//!
//! The types and the rules are plain (the browser shows them); the reads, the probes and the
//! store are behind the `server` feature.

pub mod rules;
pub use rules::{judge, score, Grade};

#[cfg(feature = "server")]
pub mod items;
#[cfg(feature = "server")]
pub mod print;
#[cfg(feature = "server")]
pub mod store;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

/// How bad a finding is. The score weighs them (see [`score`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = PostureSeverity))]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// How a finding is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = PostureFix))]
pub enum Fix {
    /// The posture plan sets `item` to `to` on the node (`POST .../posture/plan`).
    Plan { item: String, to: String },
    /// A setting another page owns (the access policy, the trust matrix, a node's
    /// certificate): change it there.
    Page { label: String, href: String },
    /// The console cannot make it: the CLI command(s) to run on the node.
    Command { command: String },
}

/// One thing wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = PostureFinding))]
pub struct Finding {
    /// Stable rule id (`trust_all_certificates`, `legacy_tls`, ...; certificate rules
    /// `certificate:<id>`, the trust matrix `trust:<verdict>`).
    pub rule: String,
    pub severity: Severity,
    pub node_id: i64,
    pub node: String,
    /// The port, for a finding about one endpoint.
    pub port: Option<u16>,
    /// What is wrong, in a line.
    pub title: String,
    /// What was seen.
    pub observed: String,
    /// Where the rule comes from: a seed (`seed 001`), with its sentence.
    pub source: String,
    pub sentence: String,
    pub fix: Fix,
    /// What to do, in words, where the fix alone does not say it (a certificate rule's
    /// remediation, why a plan must wait).
    #[serde(default)]
    pub advice: Option<String>,
}

/// What could not be looked at on a node (no credentials, a read that failed, a port that
/// did not answer): the report says so instead of passing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = PostureGap))]
pub struct Gap {
    pub node_id: i64,
    pub node: String,
    pub what: String,
    pub why: String,
}

/// What was seen on one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub node_id: i64,
    pub fqdn: String,
    /// The inventory kind's API name (`finesse`, ...).
    pub kind: String,
    /// Settings read over SSH, by item key (`trustAllCertificates`: `true`, `client-auth`:
    /// `enabled`, ...); a key is absent when the node's kind has no such setting or the read
    /// failed (then in `gaps`).
    pub settings: std::collections::BTreeMap<String, String>,
    /// The reverse-proxy hosts it trusts (allowed-hosts), when read.
    pub allowed_hosts: Option<Vec<String>>,
    /// Plain-HTTP ports and what each answered.
    pub http: Vec<Http>,
    /// The desktop port's `Strict-Transport-Security` header (`Some("")`: none sent).
    pub hsts: Option<(u16, String)>,
    /// Insecure notification ports found open: `(port, what it is)`.
    pub open_insecure: Vec<(u16, String)>,
    /// Per HTTPS endpoint: the old protocols it accepts and a suite without AEAD it chose.
    pub tls: Vec<Tls>,
    pub gaps: Vec<Gap>,
}

/// What a plain-HTTP port answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Http {
    pub port: u16,
    /// The status (301, 200, ...).
    pub status: u16,
    /// Its `Location`, if any.
    pub location: Option<String>,
}

/// What one HTTPS endpoint accepts beyond TLS 1.2/1.3 with AEAD suites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tls {
    pub port: u16,
    pub legacy_protocols: Vec<String>,
    pub weak_suite: Option<String>,
}

/// One scan's report of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PostureReport {
    /// The scan's id (`None` until stored).
    pub id: Option<i64>,
    pub cluster_id: i64,
    pub cluster: String,
    /// RFC 3339.
    pub scanned_at: String,
    pub score: u32,
    pub grade: Grade,
    pub findings: Vec<Finding>,
    pub gaps: Vec<Gap>,
    /// Every check could run (no gap): only then does the score stand for the whole cluster.
    #[serde(default)]
    pub complete: bool,
    /// The nodes looked at.
    pub nodes: Vec<String>,
}

impl PostureReport {
    /// Findings of `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Findings a posture plan would fix.
    pub fn plannable(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| matches!(f.fix, Fix::Plan { .. }))
            .count()
    }
}

/// One point of the trend: a scan's score and counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PosturePoint {
    pub id: i64,
    pub scanned_at: String,
    pub score: u32,
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
}

/// What the posture page shows: the cluster, its latest report (`None`: never scanned) and
/// the trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostureView {
    pub cluster_id: i64,
    pub cluster: String,
    pub report: Option<PostureReport>,
    pub trend: Vec<PosturePoint>,
}
