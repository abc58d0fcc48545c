//! The map against what Gatehouse knows: the inventory's endpoints (which lines are expected,
//! which left sides are no known endpoint), the proxy's public names (the external side's case
//! must match them) and the names its certificates cover.
//!
//! A problem with the map as a whole (a line that is missing) has line 0 and column 0.

use crate::diagnostic::{Code, Diagnostic};
use crate::Map;

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

/// Adds what `context` tells about `map` to its diagnostics (sorted again).
pub fn check_with(map: &mut Map, context: &Context) {
    let mut found = Vec::new();
    for m in &map.mappings {
        let (host, port) = m.internal.internal_key();
        if !context.endpoints.is_empty()
            && !context
                .endpoints
                .iter()
                .any(|e| e.port == port && e.host.eq_ignore_ascii_case(&host))
        {
            found.push(Diagnostic::warning(
                m.line,
                m.internal_column,
                Code::UnknownEndpoint,
                format!("{} is no endpoint of a node in the inventory: check the name and port, or add the node", m.internal),
            ));
        }
        let external = m.external.host.to_string();
        if let Some(name) = context
            .proxy_names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(&external) && **n != external)
        {
            found.push(Diagnostic::error(
                m.line,
                m.external_column,
                Code::ExternalCase,
                format!("the proxy's public name is written {name}: the external side is compared exactly, so write it the same way"),
            ));
        }
        if let Some(names) = &context.certificate_names {
            if !names.iter().any(|n| covers(n, &external)) {
                found.push(Diagnostic::warning(
                    m.line,
                    m.external_column,
                    Code::NoCertificate,
                    format!("no certificate of the proxy covers {external}: browsers will refuse the desktop there until one does"),
                ));
            }
        }
    }
    for e in context.endpoints.iter().filter(|e| e.expected) {
        let mapped = map.mappings.iter().any(|m| {
            m.internal.port == e.port && m.internal.host.folded() == e.host.to_ascii_lowercase()
        });
        if !mapped {
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

/// Whether a certificate name (`desk.xyz.com`, `*.xyz.com`) covers `host` (case ignored).
fn covers(name: &str, host: &str) -> bool {
    let (name, host) = (name.to_ascii_lowercase(), host.to_ascii_lowercase());
    match name.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => name == host,
    }
}
