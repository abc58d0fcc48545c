//! A scan as the console shows it: its state and counts, the results as they complete, and the
//! line that says where it is.

use serde::{Deserialize, Serialize};

/// A scan as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ScanStatus {
    pub id: i64,
    /// `queued` (waiting for a replica's worker), `running`, `done`, `cancelled`, or
    /// `interrupted` (the replicas running it stopped before it could finish).
    pub state: String,
    pub done: i32,
    pub total: i32,
    /// Probes of this scan that failed so far.
    pub failed: i64,
    pub requested_by: String,
    /// The nodes asked for; absent for the whole fleet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_ids: Option<Vec<i64>>,
    pub started_at: String,
    pub finished_at: Option<String>,
}

impl ScanStatus {
    /// Whether it is still to finish (queued or running).
    pub fn is_active(&self) -> bool {
        matches!(self.state.as_str(), "queued" | "running")
    }

    /// Where the scan is, in one line.
    pub fn headline(&self) -> String {
        let (id, done, total) = (self.id, self.done, self.total);
        match self.state.as_str() {
            "queued" => format!("Scan {id} queued: {total} endpoints, waiting for a free worker"),
            "running" => format!("Scan {id} running: {done} of {total} endpoints"),
            "done" => format!(
                "Scan {id} done: {done} endpoints probed, {} failed",
                self.failed
            ),
            "interrupted" => format!(
                "Scan {id} interrupted after {done} of {total} endpoints: the servers running it stopped; start a new scan"
            ),
            _ => format!("Scan {id} cancelled after {done} of {total} endpoints"),
        }
    }
}

/// One endpoint's result within a scan, as it completes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    pub probe_id: i64,
    pub node_id: i64,
    pub fqdn: String,
    pub port: i32,
    pub ok: bool,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// The leaf's CN and state when the handshake succeeded.
    pub subject_cn: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanProgress {
    pub scan: ScanStatus,
    /// The most recent results first (at most 50).
    pub results: Vec<ScanResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_says_where_it_is_in_each_state() {
        let scan = |state: &str| ScanStatus {
            id: 7,
            state: state.into(),
            done: 3,
            total: 10,
            failed: 1,
            requested_by: "admin".into(),
            node_ids: None,
            started_at: String::new(),
            finished_at: None,
        };
        assert!(scan("queued").is_active() && scan("running").is_active());
        assert!(!scan("done").is_active() && !scan("interrupted").is_active());
        assert_eq!(
            scan("queued").headline(),
            "Scan 7 queued: 10 endpoints, waiting for a free worker"
        );
        assert_eq!(
            scan("running").headline(),
            "Scan 7 running: 3 of 10 endpoints"
        );
        assert_eq!(
            scan("done").headline(),
            "Scan 7 done: 3 endpoints probed, 1 failed"
        );
        assert!(scan("interrupted")
            .headline()
            .starts_with("Scan 7 interrupted after 3 of 10 endpoints"));
        assert_eq!(
            scan("cancelled").headline(),
            "Scan 7 cancelled after 3 of 10 endpoints"
        );
    }
}
