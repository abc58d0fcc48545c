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

/// A closed set of states, stored as the text it is named by (`plan.state` and friends) and
/// read back through [`std::str::FromStr`]: an unknown word is an error, never a state.
macro_rules! states {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $word:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The word stored and shown for it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(word: &str) -> Result<Self, String> {
                match word {
                    $($word => Ok($name::$variant),)+
                    other => Err(format!("{other:?} is not a {} state", stringify!($name))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

states! {
    /// Where a plan is (see the module's documentation).
    PlanState {
        Reading = "reading",
        Ready = "ready",
        Applying = "applying",
        Applied = "applied",
        Failed = "failed",
        Cancelled = "cancelled",
        Superseded = "superseded",
    }
}

states! {
    /// Where one node of a plan is.
    NodeState {
        Reading = "reading",
        Unreachable = "unreachable",
        /// Nothing to do.
        InSync = "in_sync",
        Planned = "planned",
        Applying = "applying",
        Verifying = "verifying",
        Verified = "verified",
        Failed = "failed",
        /// Not as read when apply began: make a new plan.
        Changed = "changed",
        Cancelled = "cancelled",
    }
}

states! {
    /// Where one step of a node's plan is.
    StepState {
        Pending = "pending",
        Running = "running",
        Done = "done",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl PlanState {
    /// An admin may apply it (again: a failed or cancelled plan resumes).
    pub fn can_apply(self) -> bool {
        matches!(self, Self::Ready | Self::Failed | Self::Cancelled)
    }

    /// It may still be cancelled.
    pub fn can_cancel(self) -> bool {
        matches!(self, Self::Reading | Self::Ready | Self::Applying)
    }

    /// Its job is at work: the page follows it.
    pub fn is_running(self) -> bool {
        matches!(self, Self::Reading | Self::Applying)
    }
}

impl NodeState {
    /// Apply takes it up (again).
    pub fn to_apply(self) -> bool {
        matches!(
            self,
            Self::Planned | Self::Applying | Self::Verifying | Self::Failed | Self::Cancelled
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PlanView {
    pub id: i64,
    /// What it reconciles: `access_policy`.
    pub subject: String,
    pub subject_id: i64,
    /// The version of the desired state it was made from.
    pub version: i32,
    pub state: PlanState,
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
    pub state: NodeState,
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
    pub state: StepState,
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
