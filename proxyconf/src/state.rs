//! What an engine instance reports: the configuration in force, who is connected through it,
//! whom it bans, what it serves and how its upstreams answer. The console polls or is pushed
//! this (the instance's token may do nothing else) and shows it; `Connected agents` takes its
//! proxy side from the sessions.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

/// Times are Unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    /// The instance's name (`proxy-a`).
    pub instance: String,
    /// The engine's release.
    pub engine: String,
    pub started: u64,
    /// The configuration version in force (0: none yet, nothing served).
    pub version: u64,
    /// The last document refused, and why (the one in force keeps serving).
    pub refused: Option<Refusal>,
    pub sessions: Vec<Session>,
    pub bans: Vec<Ban>,
    pub cache: CacheStats,
    pub upstreams: Vec<Health>,
    pub served: Vec<Served>,
    /// Requests answered, by outcome (`forwarded`, `unauthorized`, `rate_limited`, ...).
    pub counters: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub version: u64,
    pub problems: Vec<String>,
    pub at: u64,
}

/// A user's requests from one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user: String,
    pub address: IpAddr,
    pub first: u64,
    pub last: u64,
    pub requests: u64,
    /// Open WebSockets (notifications).
    pub websockets: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum BanTarget {
    Address(IpAddr),
    Account(String),
}

impl std::fmt::Display for BanTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BanTarget::Address(a) => write!(f, "{a}"),
            // The client's text: quoted, its control characters escaped.
            BanTarget::Account(user) => write!(f, "account {user:?}"),
        }
    }
}

/// Where a ban was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BanOrigin {
    /// This instance counted the failures.
    Here,
    /// The other instance of the pair did.
    Peer,
    /// An administrator, through the console.
    Console,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    pub target: BanTarget,
    pub reason: String,
    pub since: u64,
    pub until: u64,
    pub origin: BanOrigin,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheStats {
    pub entries: u64,
    pub bytes: u64,
    pub hits: u64,
    pub misses: u64,
}

/// How an upstream answered lately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Its internal `host:port`.
    pub upstream: String,
    pub up: bool,
    pub last_ok: Option<u64>,
    pub last_error: Option<String>,
}

/// A certificate the instance presents: to clients on a listener, or to upstreams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Served {
    /// `None`: the client certificate it presents upstream.
    pub listener: Option<SocketAddr>,
    /// The chain as PEM, leaf first.
    pub pem: String,
}
