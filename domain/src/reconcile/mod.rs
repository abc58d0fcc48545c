//! The reconciliation engine: desired state → plan → apply → verify, for every feature that
//! changes appliances (the access policy first; proxy-map rollout, trust imports and posture
//! fixes later), in the shape operators know from Terraform and Kubernetes controllers.
//!
//! ```text
//!  desired (PostgreSQL) ─┐
//!                        ├─ plan_node ─▶ NodePlan (steps, skipped, restarts, the state read)
//!  observed (read) ──────┘                    │ an admin confirms
//!                                             ▼
//!              apply (durable jobs, node by node) ─▶ read again ─▶ verify (== desired?)
//! ```
//!
//! The engine is generic over *items*: an [`Item`] is what one kind of setting is on a node (a
//! list such as the allowed hosts, one setting such as client-auth, or the certificates a trust
//! store must hold), which node kinds take it, the [`Change`] each step runs (one typed value,
//! stored with the plan: what the admin confirms is what the driver runs), the restarts it
//! needs, and what a change does to other items by itself. Adding an item kind is one
//! implementation of [`Item`] (and, on the server, of `Drive`, which reads it through any
//! driver, `&dyn vos::driver::Console`); the planner, the apply loop and drift stay as they
//! are.
//!
//! ```ignore
//! /// `utils system reverse-proxy client-auth enable|disable`, on Finesse.
//! pub struct ClientAuth;
//!
//! impl Item for ClientAuth {
//!     fn key(&self) -> &'static str { "client-auth" }
//!     fn label(&self) -> &'static str { "Proxy client certificates (client-auth)" }
//!     fn supports(&self, kind: NodeKind) -> Result<(), String> {
//!         (kind == NodeKind::Finesse).then_some(()).ok_or_else(|| "set on Finesse nodes".into())
//!     }
//!     // What the plan shows and what apply runs: one value.
//!     fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
//!         match op {
//!             Op::Set { to, .. } => Ok(Change::set_client_auth(to == "enabled")),
//!             _ => Err(refused(self, "client-auth is enabled or disabled")),
//!         }
//!     }
//!     fn restarts(&self, _kind: NodeKind) -> &'static [&'static str] { &["Cisco Web Proxy Service"] }
//! }
//!
//! impl Drive for ClientAuth {
//!     fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
//!         Box::pin(async move {
//!             let on = driver.client_auth().await?;
//!             Ok(State::Setting(if on { "enabled" } else { "disabled" }.into()))
//!         })
//!     }
//! }
//! // then: &ClientAuth in its subject's `items()` (see `subject.rs`)
//! ```

mod plan;
pub mod trust;
pub use plan::{apply_op, plan_node};
pub use trust::Trusted;
pub use vos::driver::{Change, Refused};

mod view;
pub use view::{
    About, Drift, NodeState, PlanNodeView, PlanState, PlanView, Remaining, StepState, StepView,
};

#[cfg(feature = "server")]
mod apply;
#[cfg(feature = "server")]
pub mod drift;
#[cfg(feature = "server")]
pub mod drive;
#[cfg(feature = "server")]
pub mod jobs;
#[cfg(feature = "server")]
mod nodes;
#[cfg(feature = "server")]
mod read;
#[cfg(feature = "server")]
mod refused;
#[cfg(feature = "server")]
mod show;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
pub mod subject;

#[cfg(test)]
mod tests;

use crate::inventory::model::NodeKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One item's state on a node: the entries of a list, in the node's order, one setting, or the
/// certificates of a trust store (desired: those that must be there; others are left alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", from = "Stored")]
pub enum State {
    List(Vec<String>),
    Setting(String),
    Certificates(Vec<Trusted>),
}

/// A state as stored, including an earlier Gatehouse's: a trust store was a list of
/// `label\nPEM` texts.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stored {
    List(Vec<String>),
    Setting(String),
    Certificates(Vec<Trusted>),
}

impl From<Stored> for State {
    fn from(stored: Stored) -> Self {
        match stored {
            // A trust store's entries (one that does not read as a certificate could never be
            // imported: it is left out).
            Stored::List(entries)
                if !entries.is_empty()
                    && entries
                        .iter()
                        .all(|e| e.contains("-----BEGIN CERTIFICATE-----")) =>
            {
                State::Certificates(
                    entries
                        .iter()
                        .filter_map(|e| Trusted::from_text(e))
                        .collect(),
                )
            }
            Stored::List(entries) => State::List(entries),
            Stored::Setting(value) => State::Setting(value),
            Stored::Certificates(certificates) => State::Certificates(certificates),
        }
    }
}

/// Every item's state on one node, by item key.
pub type States = BTreeMap<String, State>;

/// One change to one item on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum Op {
    Add {
        value: String,
    },
    /// Through the item's interactive delete menu, where the entry is number `index` at this
    /// point of the plan (earlier deletions shift the numbering).
    Remove {
        value: String,
        index: usize,
    },
    Set {
        from: String,
        to: String,
    },
    /// A certificate imported into a trust store (nothing is ever deleted from one).
    Import {
        certificate: Trusted,
    },
}

/// One command of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The item's key (`allowed-hosts`, `cors-origins`, ...).
    pub item: String,
    pub op: Op,
    /// What runs: shown before anything runs (menu answers after ` → `), run as it is.
    pub command: Planned,
}

/// A step's command as stored with its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Planned {
    Change(Change),
    /// The text of a step an earlier Gatehouse planned: shown, never run (make a new plan).
    Earlier(String),
}

impl Planned {
    /// The change to run, unless an earlier Gatehouse planned it.
    pub fn change(&self) -> Option<&Change> {
        match self {
            Planned::Change(change) => Some(change),
            Planned::Earlier(_) => None,
        }
    }
}

impl std::fmt::Display for Planned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Planned::Change(change) => change.fmt(f),
            Planned::Earlier(text) => f.write_str(text),
        }
    }
}

/// An item the plan leaves alone on this node, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Skipped {
    pub item: String,
    pub reason: String,
}

/// What it takes to turn one node's observed state into its desired state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NodePlan {
    pub steps: Vec<Step>,
    pub skipped: Vec<Skipped>,
    /// Services to restart once the steps ran, in order, without repeats.
    pub restarts: Vec<String>,
}

impl NodePlan {
    /// Nothing to run: the node is as desired.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// A kind of setting the engine manages. The required core says what it is and where it
/// applies; the hooks have defaults that suit most lists.
pub trait Item: Send + Sync {
    /// Stable key: in plans, the drift metric's `item` label, the REST API.
    fn key(&self) -> &'static str;

    /// What an admin calls it ("Allowed hosts").
    fn label(&self) -> &'static str;

    /// Whether a node of `kind` takes it; `Err` says why not (shown in the plan).
    fn supports(&self, kind: NodeKind) -> Result<(), String>;

    /// The change a step runs on a node of `kind`, as the plan shows it and the driver runs
    /// it. `Err`: a value that cannot be typed at the CLI (the node is not planned).
    fn command(&self, kind: NodeKind, op: &Op) -> Result<Change, Refused>;

    /// Services a node of `kind` must restart after a change to this item. Default: none.
    fn restarts(&self, _kind: NodeKind) -> &'static [&'static str] {
        &[]
    }

    /// Whether two entries are the same (hostnames and origins ignore case). Default:
    /// ASCII case-insensitive.
    fn same(&self, a: &str, b: &str) -> bool {
        a.eq_ignore_ascii_case(b)
    }

    /// What `op` does by itself to other items on a node of `kind` (Finesse adds a trusted
    /// host's frame-ancestors entry): `(item key, entry added)`. Default: nothing.
    fn adds_elsewhere(&self, _kind: NodeKind, _op: &Op) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// Whether two certificates of this item are the same: by their DER. A store that lists
    /// its entries by name only (a BroadWorks trust anchor, known by its alias) matches by
    /// name instead.
    fn same_certificate(&self, a: &Trusted, b: &Trusted) -> bool {
        a.same(b)
    }

    /// Whether the list's order matters (config URIs: the first takes precedence). The plan
    /// then removes from the first entry out of place to the end and adds the rest in order.
    /// Default: no, a list is a set.
    fn ordered(&self) -> bool {
        false
    }
}

/// Why a value cannot be a step of `item`'s (an op the item never plans).
pub fn refused(item: &dyn Item, what: &'static str) -> Refused {
    Refused {
        value: item.key().to_owned(),
        why: what,
    }
}

/// Whether `observed` equals `desired` for `item` (lists as sets, in order when the item is
/// [`Item::ordered`]; certificates only those desired; settings exactly), and what differs
/// when not: `(expected, actual)` as the drift report shows them.
pub fn difference(item: &dyn Item, desired: &State, observed: &State) -> Option<(String, String)> {
    let equal = match (desired, observed) {
        (State::List(want), State::List(have)) if item.ordered() => {
            want.len() == have.len() && want.iter().zip(have).all(|(w, h)| item.same(w, h))
        }
        (State::Certificates(want), State::Certificates(have)) => {
            let missing: Vec<Trusted> = want
                .iter()
                .filter(|w| !have.iter().any(|h| item.same_certificate(h, w)))
                .cloned()
                .collect();
            return (!missing.is_empty()).then(|| {
                (
                    render(item, desired),
                    format!("missing {}", render(item, &State::Certificates(missing))),
                )
            });
        }
        // An earlier Gatehouse stored an empty trust list as a list.
        (State::List(want), State::Certificates(_)) if want.is_empty() => true,
        (State::List(want), State::List(have)) => {
            want.iter().all(|w| have.iter().any(|h| item.same(w, h)))
                && have.iter().all(|h| want.iter().any(|w| item.same(w, h)))
        }
        (State::Setting(want), State::Setting(have)) => want == have,
        _ => false,
    };
    (!equal).then(|| (render(item, desired), render(item, observed)))
}

/// A state as one line: a list's entries (certificates by name) joined by `, ` (`none` when
/// empty), or the setting (`none` when empty).
pub fn render(_item: &dyn Item, state: &State) -> String {
    match state {
        State::List(entries) if entries.is_empty() => "none".into(),
        State::List(entries) => entries.join(", "),
        State::Certificates(certificates) if certificates.is_empty() => "none".into(),
        State::Certificates(certificates) => certificates
            .iter()
            .map(|c| c.label.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        State::Setting(value) if value.is_empty() => "none".into(),
        State::Setting(value) => value.clone(),
    }
}
