//! A map's rollout as item kinds of the reconciliation engine (DOMAIN.md §3 and §4, seed 004):
//! the certificate of each HTTPS map host in the node's tomcat-trust, then the config URIs
//! (at most two, the first takes precedence), then the update frequency. The server reads and
//! changes them through the driver (`drive.rs`).

use crate::inventory::model::NodeKind;
use crate::reconcile::{refused, Change, Item, Op, Refused};

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
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        crate::reconcile::trust::import(self, "tomcat", op)
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
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        match op {
            Op::Add { value } => Change::add_config_uri(value),
            Op::Remove { value, index } => Ok(Change::delete_config_uri(value, Some(*index))),
            _ => Err(refused(self, "a list is added to and deleted from")),
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
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        match op {
            Op::Set { to, .. } => to
                .parse()
                .map(Change::set_update_frequency)
                .map_err(|_| refused(self, "an update frequency is a number of minutes")),
            _ => Err(refused(self, "the update frequency is set")),
        }
    }
}
