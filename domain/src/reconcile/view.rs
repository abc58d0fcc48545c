//! A plan as the page and `GET /api/v1/plans/{id}` show it: per node what was read, the
//! commands with their outcomes and outputs, and what still differs.
//!
//! Plan states: `reading` (the nodes are being read) → `ready` (shown, waiting for an admin to
//! confirm) → `applying` → `applied` (every node verified or already in sync) or `failed`
//! (some node failed, changed since the plan, or could not be read: resumable) or `cancelled`.
//! A ready plan made from an older version of the desired state is `superseded`.
//!
//! Node states: `reading`, `unreachable`, `in_sync` (nothing to do), `planned`, `applying`,
//! `verifying`, `verified`, `failed`, `changed` (it was not as read when apply began: make a new
//! plan), `cancelled`.

use super::{Op, Skipped};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PlanView {
    pub id: i64,
    /// What it reconciles: `access_policy`.
    pub subject: String,
    pub subject_id: i64,
    /// The version of the desired state it was made from.
    pub version: i32,
    pub state: String,
    pub created_by: String,
    pub created_at: String,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<String>,
    pub finished_at: Option<String>,
    /// What the plan reconciles, as its page names it.
    pub about: About,
    pub nodes: Vec<PlanNodeView>,
}

/// What a plan reconciles, in an admin's words (its subject says: `reconcile::subject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct About {
    /// What the plan's version is a version of ("policy", "the map's rollout settings").
    pub of: String,
    /// The console page where it is edited.
    pub href: String,
    /// That page's link text ("The cluster's policy").
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PlanNodeView {
    pub node_id: i64,
    pub fqdn: String,
    pub kind: String,
    pub role: String,
    pub cluster_id: i64,
    pub cluster: String,
    pub state: String,
    pub error: Option<String>,
    pub steps: Vec<StepView>,
    pub skipped: Vec<Skipped>,
    /// Services the node must restart once its steps ran.
    pub restarts: Vec<String>,
    /// What still differs from the desired state after a failed or changed apply.
    pub remaining: Vec<Remaining>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StepView {
    pub position: i32,
    pub item: String,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub op: Op,
    pub command: String,
    /// `pending`, `running`, `done`, `failed`, `cancelled`.
    pub state: String,
    /// The appliance's whole output.
    pub output: Option<String>,
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// One item that differs: what the desired state says and what the node has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Remaining {
    pub item: String,
    pub expected: String,
    pub actual: String,
}

impl PlanView {
    /// Commands to run over every node (the diff's size).
    pub fn step_count(&self) -> usize {
        self.nodes.iter().map(|n| n.steps.len()).sum()
    }
}

/// One drifted item of one node (`GET /api/v1/drift`, the dashboard, `/metrics`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Drift {
    pub cluster_id: i64,
    pub cluster: String,
    pub node_id: i64,
    pub fqdn: String,
    /// Whose item it is: the subject that manages it (`access_policy`, `proxy_map`).
    pub subject: String,
    /// Where it is set right (applied again, adopted): its subject's page.
    pub about: Option<About>,
    pub item: String,
    pub expected: String,
    pub actual: String,
    /// Since when it differs (the check that first saw it).
    pub since: String,
    pub checked_at: String,
}
