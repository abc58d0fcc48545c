//! A map's rollout as item kinds of the reconciliation engine (DOMAIN.md §3 and §4, seed 004):
//! the certificate of each HTTPS map host in the node's tomcat-trust, then the config URIs
//! (at most two, the first takes precedence), then the update frequency. The server reads and
//! changes them through the driver (`drive.rs`).

use crate::access_policy::items::is_proxied;
use crate::inventory::model::NodeKind;
use crate::reconcile::{Item, Op};

pub const MAP_HOST_TRUST: &str = "map-host-trust";
pub const CONFIG_URIS: &str = "config-uris";
pub const UPDATE_FREQUENCY: &str = "update-frequency";

/// At most this many config URIs per node (the node refuses a third).
pub const MAX_URIS: usize = 2;

/// The items in planning order: a map host is trusted before its URI is added (the node
/// fetches the map when the URI is added and refuses a host it does not trust).
pub static ITEMS: [&dyn Item; 3] = [&MapHostTrust, &ConfigUris, &UpdateFrequency];

fn supports(kind: NodeKind) -> Result<(), String> {
    if is_proxied(kind) {
        Ok(())
    } else {
        Err(format!(
            "{} does not read a proxy map (Finesse, IdS, CUIC and LiveData do)",
            kind.label()
        ))
    }
}

/// A trusted certificate as an entry: a line that names it, then its PEM.
pub fn trust_entry(label: &str, pem: &str) -> String {
    format!("{label}\n{}", pem.trim())
}

/// The PEM of a trust entry.
pub fn trust_pem(entry: &str) -> &str {
    entry.split_once('\n').map_or(entry, |(_, pem)| pem)
}

/// The base64 body of a PEM, without its armour and whitespace: two entries are the same
/// certificate when these are equal.
fn pem_body(entry: &str) -> String {
    trust_pem(entry)
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect()
}

/// `set cert import trust tomcat`: the certificates of the servers that host the map over
/// HTTPS, in each node's tomcat-trust. Certificates already there are left alone.
pub struct MapHostTrust;

impl Item for MapHostTrust {
    fn key(&self) -> &'static str {
        MAP_HOST_TRUST
    }
    fn label(&self) -> &'static str {
        "Map host certificate in tomcat-trust"
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        supports(kind)
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> String {
        match op {
            Op::Add { value } => {
                format!("set cert import trust tomcat → paste {}", self.show(value))
            }
            Op::Remove { value, .. } | Op::Set { to: value, .. } => {
                format!("(left alone: {})", self.show(value))
            }
        }
    }
    fn same(&self, a: &str, b: &str) -> bool {
        pem_body(a) == pem_body(b)
    }
    fn keeps_others(&self) -> bool {
        true
    }
    fn show(&self, value: &str) -> String {
        value
            .split_once('\n')
            .map_or(value, |(label, _)| label)
            .to_owned()
    }
}

/// `utils system reverse-proxy config-uri`: where the node fetches its map.
pub struct ConfigUris;

impl Item for ConfigUris {
    fn key(&self) -> &'static str {
        CONFIG_URIS
    }
    fn label(&self) -> &'static str {
        "Proxy map config URIs"
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        supports(kind)
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> String {
        match op {
            Op::Add { value } => format!("utils system reverse-proxy config-uri add {value}"),
            Op::Remove { index, .. } => {
                format!("utils system reverse-proxy config-uri delete → {index}")
            }
            Op::Set { to, .. } => format!("utils system reverse-proxy config-uri add {to}"),
        }
    }
    /// A URI's path is case-sensitive.
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }
    fn ordered(&self) -> bool {
        true
    }
}

/// `utils system reverse-proxy set-config-update-frequency N`: minutes between fetches.
pub struct UpdateFrequency;

impl Item for UpdateFrequency {
    fn key(&self) -> &'static str {
        UPDATE_FREQUENCY
    }
    fn label(&self) -> &'static str {
        "Proxy map update frequency (minutes)"
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        supports(kind)
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> String {
        let minutes = match op {
            Op::Set { to, .. } => to,
            Op::Add { value } | Op::Remove { value, .. } => value,
        };
        format!("utils system reverse-proxy set-config-update-frequency {minutes}")
    }
}
