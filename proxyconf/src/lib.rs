//! What `gatehouse-proxy` (the bundled VPN-less reverse proxy, DOMAIN.md §6) is told and what it
//! tells back, shared by the engine and the console so that both read one document the same way.
//!
//! ```text
//! console ──Config (JSON, versioned)──▶ engine        Config::check: every problem, with where
//! console ◀──Report (JSON)───────────── engine        (sessions, bans, what it serves, health)
//! ```
//!
//! The document carries no secret: the engine's private keys stay on its own host (a
//! [`KeyPair`] names files there), so the console, its database and its audit log never hold
//! them. Numbers left out take the defaults of Cisco's public reverse-proxy installer
//! (DOMAIN.md §6), each named where it is declared.

mod check;
mod class;
mod net;
mod state;

pub use check::Problem;
pub use class::{Class, Component, Rate, Rates};
pub use net::{canonical, Cidr};
pub use proxymap::{Host, HostPort};
pub use state::{Ban, BanOrigin, BanTarget, CacheStats, Health, Refusal, Report, Served, Session};

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

/// A Finesse login ID as the engine accepts it before asking Finesse (and the console in a
/// ban): letters, digits and `._@-`, at most 128 characters.
pub fn plausible_login(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= 128
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'))
}

/// The document's format; an engine refuses a document of another schema with that reason.
pub const SCHEMA: u32 = 1;

/// Everything one engine instance does, in force as a whole or not at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub schema: u32,
    /// Set by whoever publishes it (the console counts up per pair); the engine reports the
    /// version in force, which is how drift is seen.
    pub version: u64,
    /// The pair's name, for logs and the status page.
    #[serde(default)]
    pub pair: String,
    pub listeners: Vec<Listener>,
    /// External host:port → internal host:port, from the cluster's published proxy map.
    pub routes: Vec<Route>,
    #[serde(default)]
    pub forwarders: Forwarders,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub bans: BanPolicy,
    #[serde(default)]
    pub timeouts: Timeouts,
    #[serde(default)]
    pub upstream: Upstream,
    #[serde(default)]
    pub status: Status,
    /// The other instance of the pair: bans are shared with it directly, within a second,
    /// whether or not the console is reachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<Peer>,
}

/// The HA peer link: mutual TLS where each instance shows its upstream client certificate and
/// accepts exactly the other's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    /// Where this instance listens for its peer.
    pub listen: SocketAddr,
    /// Where the peer listens for this instance.
    pub address: SocketAddr,
    /// The peer's client certificate (PEM): the only certificate accepted on the link.
    pub certificate: String,
}

impl Config {
    /// Reads a document; the error names the field and the position.
    pub fn from_json(text: &str) -> Result<Config, Problem> {
        serde_json::from_str(text).map_err(|e| Problem::new("", e.to_string()))
    }

    /// The document as published (pretty, stable field order).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Every problem of the document (empty: it may be put in force).
    pub fn check(&self) -> Vec<Problem> {
        check::config(self)
    }

    /// The route a request for `host` arriving at a listener whose clients use `port` goes to
    /// (names compared without case, as DNS does).
    pub fn route(&self, host: &str, port: u16) -> Option<&Route> {
        self.routes
            .iter()
            .find(|r| r.external.port == port && r.external.host.exact().eq_ignore_ascii_case(host))
    }
}

/// A TLS listener: where it binds and the certificates it serves, chosen by SNI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    pub address: SocketAddr,
    /// The port clients connect to when it differs from the bound one (a firewall forwarding
    /// 443 to 8443): requests are routed by this port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    pub certificates: Vec<KeyPair>,
}

impl Listener {
    pub fn port(&self) -> u16 {
        self.public_port.unwrap_or(self.address.port())
    }
}

/// A certificate chain and its key, as PEM files on the engine's host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPair {
    pub certificate: String,
    pub key: String,
}

/// One line of the proxy map, with where the engine connects and what is behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    #[serde(with = "text")]
    pub external: HostPort,
    /// The component's own name and port: the upstream `Host`, SNI and certificate name.
    #[serde(with = "text")]
    pub internal: HostPort,
    /// Connect here instead of resolving the internal name (a split-horizon DNS, a test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<SocketAddr>,
    pub component: Component,
}

/// Who may tell the engine a client's address (seed 004: load balancers, WAFs and forward
/// proxies in front of it), and in which one header. From anyone else the header is not
/// believed: the socket's address is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forwarders {
    #[serde(default)]
    pub addresses: Vec<Cidr>,
    /// E.g. `X-Real-IP` (seed 004's `real_ip_header X-REAL-IP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

impl Forwarders {
    pub fn includes(&self, address: IpAddr) -> bool {
        self.addresses.iter().any(|c| c.contains(address))
    }
}

/// Edge authentication (seed 004 "Authentication").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// Internal `host:port` of the Finesse nodes that check credentials (`GET
    /// /finesse/api/User/<id>`), tried in order; each must be a route. Empty: the first
    /// Finesse route.
    #[serde(with = "text_list")]
    pub finesse: Vec<HostPort>,
    /// How long a checked password is believed without asking Finesse again (installer: 900).
    pub credential_cache_secs: u64,
    /// How long an SSO token is believed (installer: 7,200).
    pub token_cache_secs: u64,
    /// Where each IdS route publishes its token verifying keys.
    pub ids_key_path: String,
    /// How often the IdS keys are fetched again (seed 004: 300 s).
    pub ids_key_refresh_secs: u64,
    /// The token issuers (`iss`) believed; empty: any token the IdS keys sign.
    pub token_issuers: Vec<String>,
    /// A file on the engine's host holding `login:password` of a Finesse administrator: the
    /// valid users are read with it (`GET /finesse/api/Users`) every `users_refresh_secs`, and
    /// a login ID not among them is refused without asking Finesse (seed 004: "valid user list
    /// cached, refreshed every 15 minutes"). Absent: every login ID is asked about.
    pub users_credentials: Option<String>,
    /// How often the valid users are read again (900 s).
    pub users_refresh_secs: u64,
    /// How long after an authenticated REST request its client address may open a WebSocket.
    pub websocket_window_secs: u64,
    /// Paths served without credentials, from the engine's cache (the desktop's static files).
    pub static_prefixes: Vec<String>,
    /// How long a cached static file is served (installer: 24 h).
    pub static_cache_secs: u64,
    /// Upper bounds of the static cache.
    pub static_cache_entries: usize,
    pub static_cache_bytes: usize,
    /// Paths refused whatever the credentials (seed 004: the admin console, BOSH and FIPPA are
    /// not supported through the proxy).
    pub refused_prefixes: Vec<String>,
}

impl Default for Auth {
    fn default() -> Self {
        Self {
            finesse: Vec::new(),
            credential_cache_secs: 900,
            token_cache_secs: 7_200,
            ids_key_path: "/ids/v1/keys/verifying".into(),
            ids_key_refresh_secs: 300,
            token_issuers: Vec::new(),
            users_credentials: None,
            users_refresh_secs: 900,
            websocket_window_secs: 900,
            static_prefixes: [
                "/desktop/assets/",
                "/desktop/css/",
                "/desktop/js/",
                "/desktop/thirdparty/",
                "/desktop/theme/",
            ]
            .map(String::from)
            .to_vec(),
            static_cache_secs: 24 * 3600,
            static_cache_entries: 4_096,
            static_cache_bytes: 64 << 20,
            refused_prefixes: ["/cfadmin", "/admin", "/http-bind", "/fippa"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// Request rates and connection counts per client address (seed 004 is silent; the installer's
/// values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub rates: Rates,
    /// Open HTTP/1.1 connections per client address (more: 503).
    pub http1_connections: u32,
    /// Concurrent HTTP/2 streams per connection.
    pub http2_streams: u32,
    /// Largest request body (15 MB).
    pub body_bytes: u64,
    /// Largest request head (request line and headers).
    pub head_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            rates: Rates::default(),
            http1_connections: 12,
            http2_streams: 150,
            body_bytes: 15 << 20,
            head_bytes: 16 << 10,
        }
    }
}

/// Brute force: `failures` failed authentications within `window_secs` ban the address (and
/// the account) for `ban_secs`; banned requests are answered 418.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BanPolicy {
    pub failures: u32,
    pub window_secs: u64,
    pub ban_secs: u64,
}

impl Default for BanPolicy {
    fn default() -> Self {
        Self {
            failures: 5,
            window_secs: 30,
            ban_secs: 1_800,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// Whole request head (nginx `client_header_timeout`); also how long a kept-alive
    /// connection may sit idle before its next request head has arrived.
    pub client_header_secs: u64,
    /// Between two reads of a request body.
    pub client_body_secs: u64,
    /// Between two writes of a response the client does not read.
    pub send_secs: u64,
    /// Idle HTTP/2 connections, and the longest a kept-alive HTTP/1.1 connection lives idle.
    pub keepalive_secs: u64,
    /// Requests on one kept-alive connection; the last is answered `Connection: close`.
    pub keepalive_requests: u32,
    /// Connecting to an upstream (TCP and TLS).
    pub upstream_connect_secs: u64,
    /// Waiting for an upstream's response head (Finesse's long polls hold up to 60 s).
    pub upstream_response_secs: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            client_header_secs: 10,
            client_body_secs: 10,
            send_secs: 10,
            keepalive_secs: 20,
            keepalive_requests: 500,
            upstream_connect_secs: 5,
            upstream_response_secs: 90,
        }
    }
}

/// How the engine talks to the components behind it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Upstream {
    /// The certificates (PEM) an upstream's chain must lead to: the cluster's trust. Empty:
    /// refused (an engine never forwards credentials to an unverified peer).
    pub trust: Vec<String>,
    /// The certificate presented to upstreams that require one (Finesse client-auth).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<KeyPair>,
    /// The source address of upstream connections (what the components' allowed hosts see).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<IpAddr>,
}

/// The engine's LAN-side ports: its status (Prometheus metrics, the report) and the cluster's
/// `proxymap.txt` for nodes that fetch it from the proxy (seed 004 warns: LAN side only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Status {
    /// Installer: port 10001.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<SocketAddr>,
    /// Installer: port 10000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxymap_address: Option<SocketAddr>,
    /// The published map as the nodes fetch it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub proxymap: String,
}

/// `HostPort` as the map writes it.
mod text {
    use proxymap::HostPort;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &HostPort, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HostPort, D::Error> {
        let text = String::deserialize(d)?;
        HostPort::parse(&text).map_err(|e| serde::de::Error::custom(format!("`{text}`: {e}")))
    }
}

mod text_list {
    use proxymap::HostPort;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &[HostPort], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(value.iter().map(|v| v.to_string()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<HostPort>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|text| {
                HostPort::parse(text)
                    .map_err(|e| serde::de::Error::custom(format!("`{text}`: {e}")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
