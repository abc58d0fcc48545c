//! A map's rollout as item kinds of the reconciliation engine (DOMAIN.md §3 and §4, seed 004):
//! the certificate of each HTTPS map host in the node's tomcat-trust, then the config URIs
//! (at most two, the first takes precedence), then the update frequency. The server reads and
//! changes them through the driver (`drive.rs`).

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

/// The kinds that fetch the proxy map: seed 004, "The Proxy-config map file can be configured
/// in the Finesse, IdS, and CUIC servers using the `utils system reverse-proxy config-uri`
/// command". LiveData is mapped (its ports are in the map) but reads none.
pub fn reads_map(kind: NodeKind) -> bool {
    matches!(kind, NodeKind::Finesse | NodeKind::Ids | NodeKind::Cuic)
}

fn supports(kind: NodeKind) -> Result<(), String> {
    if reads_map(kind) {
        Ok(())
    } else {
        Err(format!(
            "{} does not read a proxy map (Finesse, IdS and CUIC do)",
            kind.label()
        ))
    }
}

use crate::reconcile::trust::{import_command, same_certificate, trust_label};
pub use crate::reconcile::trust::{trust_entry, trust_pem};

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
        import_command(op)
    }
    fn same(&self, a: &str, b: &str) -> bool {
        same_certificate(a, b)
    }
    fn keeps_others(&self) -> bool {
        true
    }
    fn show(&self, value: &str) -> String {
        trust_label(value).to_owned()
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
