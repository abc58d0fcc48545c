//! The fleet file: which appliances to simulate, on which loopback ports, with which accounts,
//! certificates and connected users (TOML or JSON, by the file's extension).

use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    #[serde(default, rename = "cluster")]
    pub clusters: Vec<ClusterSpec>,
    /// Names the simulated appliances resolve besides the system resolver's (`allowed-hosts
    /// add` refuses names that resolve nowhere): name → address.
    #[serde(default)]
    pub hosts: std::collections::BTreeMap<String, String>,
    /// One host key and one tomcat key for every node (large fleets for benchmarks start in
    /// seconds instead of minutes; each node still has its own certificate).
    #[serde(default)]
    pub share_keys: bool,
    /// Agents sign in and out: every 30 s each Finesse node's connected users drift a little
    /// around the fleet file's numbers (within ±40%), so a demo's history has a shape.
    #[serde(default)]
    pub drift_users: bool,
    /// How long one minute of a node's proxy-map update frequency lasts, in milliseconds
    /// (tests shorten it to see a published change arrive). Default: a real minute.
    #[serde(default)]
    pub minute_ms: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    pub name: String,
    #[serde(default, rename = "node")]
    pub nodes: Vec<NodeSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub fqdn: String,
    /// `finesse`, `cuic`, `livedata`, `ids`, `uccx`, `socialminer`, `cucm`, ... (Gatehouse's
    /// inventory kinds).
    pub kind: String,
    /// `primary`/`publisher` replicates trust imports to the other nodes of its cluster.
    #[serde(default = "default_role")]
    pub role: String,
    #[serde(default = "default_version")]
    pub version: String,
    /// The loopback address to listen on (any 127.x.y.z works on Linux).
    #[serde(default = "default_address")]
    pub address: String,
    /// 0: any free port (tests).
    #[serde(default)]
    pub ssh_port: u16,
    /// HTTPS listeners serving the node's tomcat certificate; the first one of a Finesse node
    /// also answers the Finesse REST subset. 0: any free port.
    #[serde(default)]
    pub https_ports: Vec<u16>,
    /// Plain-HTTP listeners (Finesse's 80 and 8082): a 301 to the first HTTPS port while the
    /// HTTPS redirect is on, the desktop in the clear otherwise. 0: any free port.
    #[serde(default)]
    pub http_ports: Vec<u16>,
    /// Finesse's unencrypted notification ports (XMPP 5222, BOSH 7071): they accept
    /// connections only while `enableInsecureOpenfirePort` is true. 0: a free port, chosen
    /// once.
    #[serde(default)]
    pub insecure_ports: Vec<u16>,
    /// The lowest TLS version a fresh install accepts (`show tls min-version`; default 1.2).
    /// Below 1.2 its HTTPS ports also accept TLS 1.0/1.1 and CBC suites (as far as the
    /// server's first flight: enough for a probe, no legacy session is completed).
    #[serde(default)]
    pub tls_min: Option<String>,
    /// Finesse properties (`utils finesse show_property webservices`) as installed, over a
    /// fresh install's (`trustAllCertificates`, `secureSystemInfo` and
    /// `enableInsecureOpenfirePort` all `false`).
    #[serde(default)]
    pub properties: std::collections::BTreeMap<String, String>,
    /// A `broadworks` node's server: `xsp` (default), `adp` or `as` (its CLI's prompt).
    #[serde(default)]
    pub bw_server: Option<String>,
    /// A BroadWorks XSP|ADP's CTI TLS listeners (8012). 0: any free port.
    #[serde(default)]
    pub cti_ports: Vec<u16>,
    #[serde(default = "default_username")]
    pub username: String,
    pub password: String,
    /// The tomcat certificate it starts with (see [`Profile`]).
    #[serde(default)]
    pub certificate: Profile,
    #[serde(default)]
    pub connected_users: Users,
    /// Finesse agents the REST API authenticates (`User/<id>`, `Users`).
    #[serde(default, rename = "agent")]
    pub agents: Vec<Agent>,
    #[serde(default)]
    pub faults: Faults,
    /// Nodes of the other clusters whose tomcat certificate it holds in tomcat-trust when
    /// installed (its own cluster's it always does).
    #[serde(default)]
    pub trusts: Vec<String>,
    /// How long `utils service restart` takes (real appliances: minutes).
    #[serde(default = "default_restart_ms")]
    pub restart_ms: u64,
}

fn default_restart_ms() -> u64 {
    3000
}

fn default_role() -> String {
    "primary".into()
}
fn default_version() -> String {
    "12.6.2.10000-32".into()
}
fn default_address() -> String {
    "127.0.0.1".into()
}
fn default_username() -> String {
    "admin".into()
}

impl NodeSpec {
    /// A publisher replicates what is imported into its trust stores to its subscribers.
    pub fn is_publisher(&self) -> bool {
        matches!(self.role.as_str(), "primary" | "publisher" | "side_a")
    }

    pub fn is_finesse(&self) -> bool {
        self.kind == "finesse"
    }
}

/// The tomcat certificate a node starts with: what the console's lints must find.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Self-signed, RSA-2048, two years, CN and SAN the FQDN: what VOS generates.
    #[default]
    Default,
    Expired,
    /// Ten days left.
    Expiring,
    CnNotInSan,
    Rsa4096,
    Ecdsa,
    /// A critical extension other than key usage and basic constraints (CSCvd56174).
    CriticalExtension,
    /// Issued by an intermediate the endpoint does not send.
    ChainMissing,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub id: String,
    pub password: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

/// Connected users, as `show_connected_users summary` and ConnectedUsersInfo report them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Users {
    pub desktop: u32,
    pub fippa: u32,
    pub third_party: u32,
    /// Of all of them, how many come through the reverse proxy.
    pub proxy: u32,
}

impl Users {
    pub fn total(&self) -> u32 {
        self.desktop + self.fippa + self.third_party
    }
}

/// Faults to inject, from the fleet file or at run time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Added before every answer of the CLI and of HTTPS.
    pub latency_ms: u64,
    /// The SSH connection is dropped after the command is read, before its output.
    pub drop_mid_command: bool,
    /// Like `drop_mid_command`, only for commands that start with this (empty: none), e.g.
    /// `utils cuic cors allowed_origin add`: the connection drops in the middle of a change.
    pub drop_on_command: String,
    /// Like `drop_on_command`, but the command runs first: the change is made, its answer is
    /// lost with the connection.
    pub drop_after_command: String,
    /// Every password is refused.
    pub auth_failure: bool,
    /// The node presents a new host key (as after a reinstall).
    pub host_key_changed: bool,
    /// Nothing answers: connections are refused.
    pub down: bool,
    /// Every command is answered in another language (German), as a misconfigured locale might.
    pub garbled: bool,
    /// Every command's output is preceded by this many KiB of lines.
    pub huge_output_kb: u64,
    /// HTTPS connections with no request for this long are closed (0: kept), as Tomcat's
    /// `keepAliveTimeout` closes them under a proxy's kept-alive pool.
    pub keepalive_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl FleetSpec {
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|error| SpecError::Read {
            path: path.display().to_string(),
            error,
        })?;
        let invalid = |message: String| SpecError::Invalid {
            path: path.display().to_string(),
            message,
        };
        let spec: FleetSpec = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?
        } else {
            toml::from_str(&text).map_err(|e| invalid(e.to_string()))?
        };
        spec.check().map_err(invalid)?;
        Ok(spec)
    }

    /// What serde cannot say: unique FQDNs, names that are names, known kinds.
    pub fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for node in self.nodes() {
            if !seen.insert(node.fqdn.to_ascii_lowercase()) {
                return Err(format!("{} appears twice", node.fqdn));
            }
            if node.fqdn.parse::<std::net::IpAddr>().is_ok() || !node.fqdn.contains('.') {
                return Err(format!("{}: an FQDN is needed", node.fqdn));
            }
            if node.address.parse::<std::net::IpAddr>().is_err() {
                return Err(format!(
                    "{}: address {} is not an IP address",
                    node.fqdn, node.address
                ));
            }
            if let Some(min) = &node.tls_min {
                if !matches!(min.as_str(), "1.0" | "1.1" | "1.2" | "1.3") {
                    return Err(format!(
                        "{}: tls_min must be 1.0, 1.1, 1.2 or 1.3",
                        node.fqdn
                    ));
                }
            }
            if node.password.is_empty() {
                return Err(format!("{}: a password is needed", node.fqdn));
            }
            if node.connected_users.proxy > node.connected_users.total() {
                return Err(format!(
                    "{}: more users via the proxy than connected",
                    node.fqdn
                ));
            }
        }
        Ok(())
    }

    pub fn nodes(&self) -> impl Iterator<Item = &NodeSpec> {
        self.clusters.iter().flat_map(|c| &c.nodes)
    }
}
