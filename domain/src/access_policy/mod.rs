//! The access policy of VPN-less clusters: which reverse proxies the components trust (allowed
//! hosts), whether proxies must present a client certificate, and per product the CORS mode, the
//! allowed origins and the frame-ancestors sources (DOMAIN.md §4, seed 004). One policy per
//! cluster, or one shared by the clusters behind one proxy pair.
//!
//! The policy is the desired state the reconciliation engine ([`crate::reconcile`]) plans
//! against: [`desired`] turns it into each node's item states. A trusted proxy brings its
//! origins with it: they go to every product's CORS allowed origins and to the Finesse and CUIC
//! frame-ancestors, and leave with it (seed 004: entries left behind "become a security
//! vulnerability"). Finesse adds a trusted host's `https://<host>` frame-ancestors entry by
//! itself, so its desired list holds those too.

mod adopt;
mod diff;
#[cfg(feature = "server")]
pub mod drive;
pub mod items;
#[cfg(feature = "server")]
pub mod store;
mod validate;
pub use adopt::adopt;
pub use diff::{diff, Change};
pub use validate::{
    canonical, frame_source, host_entry, origin_entry, validate, warnings, FRAME_LIMIT,
    ORIGINS_LIMIT,
};

#[cfg(test)]
mod tests;

use crate::inventory::model::NodeKind;
use crate::reconcile::{State, States, Trusted};
use serde::{Deserialize, Serialize};

/// The access policy's name as a subject of the reconciliation engine (plans, drift).
pub const SUBJECT: &str = "access_policy";

/// One cluster's (or proxy pair's) access policy, as saved in a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AccessPolicy {
    /// The trusted reverse proxies.
    pub proxies: Vec<TrustedProxy>,
    /// Whether the Finesse nodes verify the proxies' client certificates (`client-auth`; on
    /// after a fresh install).
    pub client_auth: bool,
    pub finesse: ProductAccess,
    pub cuic: ProductAccess,
    /// LiveData has CORS, no frame-ancestors list.
    pub livedata: ProductAccess,
}

/// No proxy, CORS open to every origin, client-auth on: what a freshly installed node has.
impl Default for AccessPolicy {
    fn default() -> Self {
        Self {
            proxies: Vec::new(),
            client_auth: true,
            finesse: ProductAccess::default(),
            cuic: ProductAccess::default(),
            livedata: ProductAccess::default(),
        }
    }
}

/// A reverse proxy the components accept requests from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TrustedProxy {
    /// What the admins call it ("proxy A").
    pub name: String,
    /// Its public and private names and addresses (seed 004: add both): the allowed hosts.
    pub hosts: Vec<String>,
    /// The origins browsers reach the components through it at (`https://finesse.example.com`):
    /// allowed CORS origins and frame-ancestors sources while it is trusted.
    pub origins: Vec<String>,
    /// The certificate it presents to the components (PEM, one certificate; stored as parsed
    /// and re-encoded). Seed 004: it must be in the tomcat-trust of every component it forwards
    /// to, "Otherwise, the traffic from proxy will be rejected": the policy imports it into
    /// each node's tomcat-trust and never removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
}

impl TrustedProxy {
    /// Its client certificate's DER, when it has one.
    pub fn client_certificate_der(&self) -> Option<Vec<u8>> {
        crate::reconcile::trust::der_of_pem(self.client_certificate.as_deref()?)
    }
}

/// The certificate a proxy's listener presented, for an admin to compare before it becomes the
/// proxy's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerCertificate {
    /// `host:port` as asked.
    pub listener: String,
    /// The leaf certificate in PEM.
    pub pem: String,
    /// Its subject's CN (else the subject).
    pub subject: String,
    /// SHA-256 of its DER, as `openssl x509 -fingerprint -sha256` prints it (`AB:CD:...`).
    pub fingerprint: String,
    pub not_after: String,
}

/// CORS and frame-ancestors of one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ProductAccess {
    pub cors: CorsMode,
    /// Origins allowed besides the proxies' own.
    pub extra_origins: Vec<String>,
    /// Frame-ancestors sources besides the proxies' own (not for LiveData).
    pub extra_frame_ancestors: Vec<String>,
}

/// `utils <product> cors enable_all | enable | disable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CorsMode {
    /// Every origin (a fresh install's setting).
    #[default]
    EnableAll,
    /// Only the allowed origins.
    Enable,
    Disable,
}

impl CorsMode {
    /// The word the CLI takes, also the item's setting value.
    pub fn word(self) -> &'static str {
        match self {
            CorsMode::EnableAll => "enable_all",
            CorsMode::Enable => "enable",
            CorsMode::Disable => "disable",
        }
    }
}

impl AccessPolicy {
    /// The product settings a node of `kind` takes (`None`: no CORS there).
    pub fn product(&self, kind: NodeKind) -> Option<&ProductAccess> {
        match kind {
            NodeKind::Finesse => Some(&self.finesse),
            NodeKind::Cuic => Some(&self.cuic),
            NodeKind::LiveData => Some(&self.livedata),
            _ => None,
        }
    }

    /// Every proxy's hosts, in order, without repeats (case ignored).
    pub fn allowed_hosts(&self) -> Vec<String> {
        unique(self.proxies.iter().flat_map(|p| p.hosts.iter()))
    }

    /// Every proxy's origins, in order, without repeats (case ignored).
    pub fn proxy_origins(&self) -> Vec<String> {
        unique(self.proxies.iter().flat_map(|p| p.origins.iter()))
    }
}

/// A cluster's policy as the page and `GET .../access-policy` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PolicyView {
    pub cluster_id: i64,
    /// The clusters that follow this policy (this one among them).
    pub clusters: Vec<i64>,
    /// 0 before the first save: nothing of the cluster is managed yet.
    pub version: i32,
    pub policy: AccessPolicy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_at: Option<String>,
    /// What the saved policy allows but an admin should know ([`warnings`]), keyed as field
    /// errors are; empty before the first save.
    #[serde(default)]
    pub warnings: crate::FieldErrors,
}

/// One saved version, with what it changed from the one before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VersionView {
    pub version: i32,
    pub author: String,
    pub reason: String,
    pub saved_at: String,
    pub changes: Vec<Change>,
}

/// A save: the new policy, the version it was edited from, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Save {
    pub policy: AccessPolicy,
    /// The version the edit started from (REST: also `If-Match: "<version>"`).
    #[serde(default)]
    pub base_version: Option<i32>,
    #[serde(default)]
    pub reason: String,
}

/// `POST .../access-policy/follow`: the cluster whose policy to follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Follow {
    pub cluster_id: i64,
}

/// A cluster as the access-policy overview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ClusterStanding {
    pub cluster_id: i64,
    pub cluster: String,
    /// Its Finesse, IdS, CUIC and LiveData nodes.
    pub nodes: i64,
    /// 0: no policy saved yet.
    pub version: i32,
    /// Drifted items on its nodes.
    pub drift: i64,
    /// Service restarts its nodes still need.
    pub restarts: i64,
    /// The other clusters that follow the same policy (behind the same proxy pair).
    pub shared_with: Vec<String>,
    pub plan_id: Option<i64>,
    pub plan_state: Option<crate::reconcile::PlanState>,
    pub plan_at: Option<String>,
}

/// The item states a node of `kind` should have under `policy` (item keys of
/// [`items::ITEMS`]). Items the kind does not take are included all the same: the planner
/// skips them with the item's reason, so the plan says why.
pub fn desired(policy: &AccessPolicy, kind: NodeKind) -> States {
    let mut states = States::new();
    if !items::is_proxied(kind) {
        return states;
    }
    let hosts = policy.allowed_hosts();
    states.insert(items::ALLOWED_HOSTS.into(), State::List(hosts.clone()));
    let certificates: Vec<Trusted> = policy
        .proxies
        .iter()
        .filter_map(|p| {
            Some(Trusted::named(
                &format!("{}'s client certificate", p.name),
                p.client_certificate_der()?,
            ))
        })
        .collect();
    // Only when a proxy has one: reading a trust store takes a command per certificate.
    if !certificates.is_empty() {
        states.insert(items::PROXY_TRUST.into(), State::Certificates(certificates));
    }
    states.insert(
        items::CLIENT_AUTH.into(),
        State::Setting(
            if policy.client_auth {
                "enabled"
            } else {
                "disabled"
            }
            .into(),
        ),
    );
    let none = ProductAccess::default();
    let product = policy.product(kind).unwrap_or(&none);
    states.insert(
        items::CORS_MODE.into(),
        State::Setting(product.cors.word().into()),
    );
    let origins = policy.proxy_origins();
    states.insert(
        items::CORS_ORIGINS.into(),
        State::List(unique(origins.iter().chain(&product.extra_origins))),
    );
    let by_finesse: Vec<String> = match kind {
        NodeKind::Finesse => hosts
            .iter()
            .map(|h| items::frame_source_for_host(h))
            .collect(),
        _ => Vec::new(),
    };
    states.insert(
        items::FRAME_ANCESTORS.into(),
        State::List(unique(
            by_finesse
                .iter()
                .chain(&origins)
                .chain(&product.extra_frame_ancestors),
        )),
    );
    states
}

/// `values` in order, the first of each case-insensitive repeat kept.
fn unique<'a>(values: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(value)) {
            out.push(value.clone());
        }
    }
    out
}

/// What the access policy refuses, in its words.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("cluster {cluster_id}'s policy has no version {version}")]
    NoSuchVersion { cluster_id: i64, version: i32 },
    #[error("name the version this edit started from (If-Match: \"<version>\", or base_version; 0 for the first)")]
    BaseVersionMissing,
    #[error("this cluster has no access policy yet: save one first")]
    NoPolicy,
    #[error("cluster {0} has no access policy yet: save one there first")]
    NoPolicyToFollow(i64),
    #[error("this node's cluster has no access policy to adopt into")]
    NoPolicyToAdopt,
    #[error("this cluster has no access policy to leave")]
    NoPolicyToLeave,
    #[error("this cluster's policy is its own already: no other cluster follows it")]
    NotShared,
    #[error("a cluster cannot follow its own policy: name another cluster")]
    FollowsItself,
    #[error("{0} is not under the access policy (not a Finesse, IdS, CUIC or LiveData node)")]
    NotUnderPolicy(String),
    #[error("no Finesse, IdS, CUIC or LiveData node follows this policy: add the nodes to the inventory first")]
    NoNodes,
    #[error("reading {fqdn} failed: {why}")]
    ReadFailed { fqdn: String, why: String },
    #[error("{listener}: {why}")]
    ListenerUnreadable { listener: String, why: String },
    #[error("{0} presented no certificate")]
    NoListenerCertificate(String),
}

#[cfg(feature = "server")]
impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        match self {
            Refused::NoSuchVersion { .. } => crate::Failure::NotFound,
            Refused::BaseVersionMissing => crate::Failure::VersionRequired,
            Refused::FollowsItself => crate::Failure::Unreadable,
            _ => crate::Failure::Conflict,
        }
    }
}

#[cfg(feature = "server")]
crate::refusal!(Refused);
