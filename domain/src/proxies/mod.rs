//! gatehouse-proxy pairs in the console: two engine instances (sides A and B) in the DMZ that
//! route by one published proxy map. The console makes each configuration version from the
//! pair's settings, the map and the trust it knows ([`proxyconf::Config`]); each instance
//! pulls the version it is told to serve with a token of its own (a principal of role
//! [`Role::Proxy`](crate::auth::Role::Proxy): it may read its own configuration and report
//! its state, nothing else) and reports back what it serves, who is connected, whom it bans.
//! Bans an admin adds or lifts reach both instances with their next pull.

use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod store;

/// Every instance token starts with this (a leaked one is easy to recognise).
pub const TOKEN_PREFIX: &str = "gp_";

/// One instance as the console knows it (`GET /api/v1/proxies`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Instance {
    pub id: i64,
    pub pair_id: i64,
    pub pair: String,
    /// `a` or `b`.
    pub side: String,
    pub name: String,
    /// The client listeners of the configuration it serves.
    pub listen: Vec<String>,
    /// The configuration version it is told to serve (0: none yet).
    pub published: u64,
    /// The version it reported in force (0: none, or it never reported).
    pub in_force: u64,
    /// Its last refusal of a configuration, in its words.
    pub refused: Option<String>,
    /// `up` (reported within a minute, every upstream answering), `degraded` (reported, an
    /// upstream failing), `silent` (no report for a minute), `never` (no report yet).
    pub health: String,
    pub last_seen: Option<String>,
    pub has_token: bool,
    pub token_hint: Option<String>,
    pub sessions: usize,
    pub bans: usize,
    /// Drift: it serves another version than the one it was told (or refused it), while no
    /// plan is being applied; in words.
    pub drift: Option<String>,
}

/// An agent connected through a proxy instance, as the instance last reported
/// (`Connected agents`' proxy side).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ProxiedAgent {
    pub user: String,
    pub address: String,
    pub pair: String,
    pub instance: String,
    pub websockets: u32,
    pub last: String,
}

/// A pair (`GET /api/v1/proxy-pairs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Pair {
    pub id: i64,
    pub name: String,
    pub map_id: i64,
    pub map: String,
    /// The newest configuration version made (0: none).
    pub version: u64,
    pub instances: Vec<Instance>,
}

/// `POST /api/v1/proxy-pairs`: a pair, its instances' names and its settings (a configuration
/// document whose routes, upstream trust and map the console fills in: left empty here).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NewPair {
    pub name: String,
    pub map_id: i64,
    /// Side A's and side B's names (`proxy-a`, `proxy-b`).
    pub instances: [String; 2],
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub settings: proxyconf::Config,
    /// What differs for side A and side B (their listen addresses, client certificates,
    /// source addresses): JSON merge patches (RFC 7386) over the pair's document. Absent: the
    /// two instances serve the same document (on hosts of their own).
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = Option<Vec<Object>>))]
    pub overlays: Option<[serde_json::Value; 2]>,
}

/// `PUT /api/v1/proxy-pairs/{id}/settings`: the pair's settings and its instances' overlays,
/// as in [`NewPair`] (taking effect with the next plan applied); `GET` answers the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PairSettings {
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub settings: proxyconf::Config,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = Option<Vec<Object>>))]
    pub overlays: Option<[serde_json::Value; 2]>,
}

/// A new instance token: the only time it is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct IssuedToken {
    pub instance_id: i64,
    pub token: String,
}

/// `POST /api/v1/proxies/{id}/bans`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NewBan {
    pub ip: String,
    pub minutes: u64,
    pub reason: String,
}

/// A ban as an instance reported it, with how long it has left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BanView {
    /// An address (or IPv6 /64), or `account "<name>"`.
    pub target: String,
    /// How `DELETE /api/v1/proxies/{id}/bans/{ip}` names it: the address, or `account:<name>`.
    pub key: String,
    pub reason: String,
    pub since: String,
    pub until: String,
    pub seconds_left: u64,
    /// `here` (the instance counted the failures), `peer`, `console`.
    pub origin: String,
}

/// A user's requests from one address through an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SessionView {
    pub user: String,
    pub address: String,
    pub first: String,
    pub last: String,
    pub requests: u64,
    pub websockets: u32,
}

/// A certificate an instance serves (on a listener, or to upstreams).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServedView {
    /// The listener's address; `None`: the client certificate shown to upstreams.
    pub listener: Option<String>,
    pub subject: String,
    pub not_after: String,
    pub days_left: i64,
    pub sha256: String,
}

/// An upstream's health as an instance last saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamView {
    pub upstream: String,
    pub up: bool,
    pub last_ok: Option<String>,
    pub last_error: Option<String>,
}

/// Everything the pair page shows of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceDetail {
    pub instance: Instance,
    pub sessions: Vec<SessionView>,
    pub bans: Vec<BanView>,
    pub upstreams: Vec<UpstreamView>,
    pub served: Vec<ServedView>,
    /// Requests answered, by outcome.
    pub counters: Vec<(String, u64)>,
    pub cache_entries: u64,
    pub cache_hits: u64,
}

/// The pair page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairDetail {
    pub pair: Pair,
    pub instances: Vec<InstanceDetail>,
    /// Its newest plans, newest first.
    pub plans: Vec<ProxyPlan>,
}

/// What an instance's pull answers: the configuration to serve when it is newer than the one
/// the instance has, and the orders it has not taken yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pull {
    pub config: Option<proxyconf::Config>,
    pub orders: Vec<Order>,
}

/// An order for an instance, numbered (the instance says which it took last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: i64,
    #[serde(flatten)]
    pub what: OrderKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "order")]
pub enum OrderKind {
    Ban { ban: proxyconf::Ban },
    Lift { target: proxyconf::BanTarget },
}

/// A plan for a pair's configuration (`POST /api/v1/proxy-pairs/{id}/plan`): per instance,
/// the version it is told to serve now, the one the plan makes it serve and every setting
/// that changes; applied once both instances report the new version in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ProxyPlan {
    pub id: i64,
    pub pair_id: i64,
    pub pair: String,
    /// The configuration version it makes both instances serve.
    pub version: u64,
    /// `ready` (waiting for an admin), `applying` (the instances are told; waiting for their
    /// reports), `applied` (both report it in force), `failed` (see `error`), `superseded` (a
    /// newer plan came before it was applied).
    pub state: String,
    pub instances: Vec<PlanInstance>,
    pub created_by: String,
    pub created_at: String,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<String>,
}

/// One instance in a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PlanInstance {
    pub instance_id: i64,
    pub name: String,
    /// The version it was told to serve when the plan was made (0: none).
    pub from: u64,
    pub to: u64,
    /// Every setting of its document that changes (empty: the same document).
    pub changes: Vec<ConfigChange>,
    /// How its verification ended: `verified`, or why not.
    #[serde(default)]
    pub outcome: Option<String>,
}

/// A setting that changes: its path in the document (`limits.rates.finesse.per_second`,
/// `routes[finesse1.example.com:8445]`), what it is and what it becomes (`none`: absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConfigChange {
    pub path: String,
    pub from: String,
    pub to: String,
}

/// What the console refuses about pairs and instances, in its words.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no proxy instance with id {0}")]
    NoSuchInstance(i64),
    #[error("no proxy pair with id {0}")]
    NoSuchPair(i64),
    #[error("no proxy map with id {0}")]
    NoSuchMap(i64),
    #[error("a proxy pair named {0:?} exists already")]
    NameTaken(String),
    #[error("the map {0:?} has no published version: publish it first")]
    NotPublished(String),
    #[error("no proxy plan with id {0}")]
    NoSuchPlan(i64),
    #[error("plan {0} is {1}: only a ready plan is applied (make a new plan)")]
    NotReady(i64, String),
    #[error(
        "plan {0} was made when the instances were told other versions than now: make a new plan"
    )]
    Stale(i64),
    #[error("the pair's settings, its map or the certificates its nodes serve changed since plan {0} was made: make a new plan")]
    Changed(i64),
}

#[cfg(feature = "server")]
impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        use crate::Failure;
        match self {
            Refused::NoSuchInstance(_)
            | Refused::NoSuchPair(_)
            | Refused::NoSuchMap(_)
            | Refused::NoSuchPlan(_) => Failure::NotFound,
            Refused::NameTaken(_)
            | Refused::NotPublished(_)
            | Refused::NotReady(..)
            | Refused::Stale(_)
            | Refused::Changed(_) => Failure::Conflict,
        }
    }
}

#[cfg(feature = "server")]
crate::refusal!(Refused);
