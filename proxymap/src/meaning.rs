//! The map as a whole: no internal endpoint twice, no external endpoint for two internal ones,
//! names where the components expect names, external sides that can be reached from outside.

use crate::diagnostic::{Code, Diagnostic};
use crate::host::Host;
use crate::Map;
use std::collections::HashMap;

pub(crate) fn check(map: &mut Map) {
    let mut internal: HashMap<(String, u16), usize> = HashMap::with_capacity(map.mappings.len());
    let mut external: HashMap<(String, u16), usize> = HashMap::with_capacity(map.mappings.len());
    let mut found = Vec::new();
    for m in &map.mappings {
        if let Some(first) = internal.insert(m.internal.internal_key(), m.line) {
            internal.insert(m.internal.internal_key(), first);
            found.push(Diagnostic::error(
                m.line,
                m.internal_column,
                Code::DuplicateInternal,
                format!(
                    "{} is already mapped on line {first} (the internal side ignores case); the proxy installer refuses duplicates: keep one line",
                    m.internal
                ),
            ));
            continue;
        }
        let key = (m.external.host.to_string(), m.external.port);
        if let Some(first) = external.insert(key.clone(), m.line) {
            external.insert(key, first);
            found.push(Diagnostic::error(
                m.line,
                m.external_column,
                Code::SharedExternal,
                format!(
                    "{} is already the external side of line {first}: each internal endpoint needs its own external host:port",
                    m.external
                ),
            ));
        }
        for (host, column, which) in [
            (&m.internal.host, m.internal_column, "internal"),
            (&m.external.host, m.external_column, "external"),
        ] {
            if !matches!(host, Host::Name(_)) {
                found.push(Diagnostic::warning(
                    m.line,
                    column,
                    Code::AddressLiteral,
                    format!("the {which} side is the address {host}: the components expect host names (FQDNs) here"),
                ));
            }
        }
        if let Some(why) = looks_internal(&m.internal.host, &m.external.host) {
            found.push(Diagnostic::warning(
                m.line,
                m.external_column,
                Code::ExternalLooksInternal,
                format!("the external side {why}: remote agents reach it through the proxy, from outside the LAN"),
            ));
        }
    }
    map.diagnostics.append(&mut found);
}

fn looks_internal(internal: &Host, external: &Host) -> Option<String> {
    if external.is_private_address() {
        return Some(format!("{external} is a private address"));
    }
    if external.folded() == internal.folded() {
        return Some("is the internal host itself".into());
    }
    match (internal.domain(), external.domain()) {
        (Some(lan), Some(outside)) if lan == outside => {
            Some(format!("is in the internal side's domain {lan}"))
        }
        _ => None,
    }
}
