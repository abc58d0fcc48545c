//! The map against what Gatehouse knows: the inventory's endpoints (which lines are expected,
//! which left sides are no known endpoint), the proxy's public names (the external side's case
//! must match them) and the names its certificates cover.
//!
//! A problem with the map as a whole (a line that is missing) has line 0 and column 0.

use crate::diagnostic::{Code, Diagnostic};
use crate::host::{parse_host, HostPort};
use crate::meaning::{key_hash, same_internal, FirstSeen};
use crate::Map;
use std::borrow::Cow;
use std::collections::HashSet;

/// One endpoint of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Endpoint {
    /// The node's FQDN (or address) as used on the LAN.
    pub host: String,
    pub port: u16,
    /// What the admin calls it: `finesse1.lan (Finesse)`.
    pub label: String,
    /// Whether the map needs a line for it (a Finesse, IdS, CUIC or LiveData node's default
    /// ports: 8445, 8553, 8444 and 8447, 12005 and 12008).
    pub expected: bool,
}

/// What the map is checked against; empty parts check nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Context {
    pub endpoints: Vec<Endpoint>,
    /// The reverse proxy's public names, as configured (case matters on the external side).
    pub proxy_names: Vec<String>,
    /// The names the proxy's certificates cover (`*.xyz.com` covers one label); `None` while
    /// they are not known.
    pub certificate_names: Option<Vec<String>>,
}

/// Adds what `context` tells about `map` to its diagnostics (sorted again). Linear in the
/// map's lines: the inventory and the certificates' names are looked up in tables built once,
/// and a line costs no allocation unless it has something to say.
pub fn check_with(map: &mut Map, context: &Context) {
    let inventory = Inventory::new(&context.endpoints);
    let certificates = context
        .certificate_names
        .as_ref()
        .map(|names| Certificates::new(names));
    let mut found = Vec::new();
    // Which of the inventory's endpoints a line maps.
    let mut mapped = vec![false; context.endpoints.len()];
    for m in &map.mappings {
        if !context.endpoints.is_empty() {
            match inventory.find(&m.internal) {
                Some(endpoint) => mapped[endpoint] = true,
                None => found.push(Diagnostic::warning(
                    m.line,
                    m.internal_column,
                    Code::UnknownEndpoint,
                    format!("{} is no endpoint of a node in the inventory: check the name and port, or add the node", m.internal),
                )),
            }
        }
        let external = m.external.host.exact();
        if let Some(name) = context
            .proxy_names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(&external) && **n != *external)
        {
            found.push(Diagnostic::error(
                m.line,
                m.external_column,
                Code::ExternalCase,
                format!("the proxy's public name is written {name}: the external side is compared exactly, so write it the same way"),
            ));
        }
        if let Some(certificates) = &certificates {
            if !certificates.cover(&external) {
                found.push(Diagnostic::warning(
                    m.line,
                    m.external_column,
                    Code::NoCertificate,
                    format!("no certificate of the proxy covers {external}: browsers will refuse the desktop there until one does"),
                ));
            }
        }
    }
    for (i, e) in context.endpoints.iter().enumerate() {
        if e.expected && !mapped[inventory.first[i]] {
            found.push(Diagnostic::warning(
                0,
                0,
                Code::MissingEndpoint,
                format!(
                    "no line maps {}:{} ({}): remote agents cannot reach it through the proxy",
                    e.host, e.port, e.label
                ),
            ));
        }
    }
    map.diagnostics.append(&mut found);
    crate::sort(&mut map.diagnostics);
}

/// The inventory's endpoints as a map's internal sides compare them (the host's case ignored).
struct Inventory {
    /// Each endpoint as a side; `None` for a host no line could name.
    sides: Vec<Option<HostPort>>,
    /// The first endpoint equal to each (itself unless the inventory lists one twice).
    first: Vec<usize>,
    table: FirstSeen,
}

impl Inventory {
    fn new(endpoints: &[Endpoint]) -> Self {
        let sides: Vec<Option<HostPort>> = endpoints
            .iter()
            .map(|e| parse_host(&e.host).map(|host| HostPort { host, port: e.port }))
            .collect();
        let mut table = FirstSeen::new(sides.len());
        let first = sides
            .iter()
            .enumerate()
            .map(|(i, side)| match side {
                Some(side) => table
                    .first(key_hash(side, true), i, |j| {
                        sides[j].as_ref().is_some_and(|s| same_internal(s, side))
                    })
                    .unwrap_or(i),
                None => i,
            })
            .collect();
        Self {
            sides,
            first,
            table,
        }
    }

    /// The endpoint a line's internal side names.
    fn find(&self, side: &HostPort) -> Option<usize> {
        self.table.find(key_hash(side, true), |i| {
            self.sides[i]
                .as_ref()
                .is_some_and(|s| same_internal(s, side))
        })
    }
}

/// The names a proxy's certificates cover (case ignored): exact names, and the parents of
/// wildcards (`*.xyz.com` covers one label under `xyz.com`).
struct Certificates {
    exact: HashSet<String>,
    wildcard_parents: HashSet<String>,
}

impl Certificates {
    fn new(names: &[String]) -> Self {
        let mut exact = HashSet::new();
        let mut wildcard_parents = HashSet::new();
        for name in names.iter().map(|n| n.to_ascii_lowercase()) {
            match name.strip_prefix("*.") {
                Some(parent) => wildcard_parents.insert(parent.to_owned()),
                None => exact.insert(name),
            };
        }
        Self {
            exact,
            wildcard_parents,
        }
    }

    /// Whether a certificate name covers `host`.
    fn cover(&self, host: &str) -> bool {
        let host = match host.bytes().any(|b| b.is_ascii_uppercase()) {
            true => Cow::Owned(host.to_ascii_lowercase()),
            false => Cow::Borrowed(host),
        };
        self.exact.contains(host.as_ref())
            || host.split_once('.').is_some_and(|(label, parent)| {
                !label.is_empty() && self.wildcard_parents.contains(parent)
            })
    }
}
