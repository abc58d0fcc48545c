//! The map as a whole: no internal endpoint twice, no external endpoint for two internal ones,
//! names where the components expect names, external sides that can be reached from outside.

use crate::diagnostic::{Code, Diagnostic};
use crate::host::Host;
use crate::Map;
use std::borrow::Cow;
use std::collections::HashMap;

pub(crate) fn check(map: &mut Map) {
    let mut internal: HashMap<(Cow<str>, u16), usize> = HashMap::with_capacity(map.mappings.len());
    let mut external: HashMap<(Cow<str>, u16), usize> = HashMap::with_capacity(map.mappings.len());
    let mut found = Vec::new();
    for m in &map.mappings {
        let key = (m.internal.host.folded(), m.internal.port);
        if let Some(&first) = internal.get(&key) {
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
        internal.insert(key, m.line);
        let key = (m.external.host.exact(), m.external.port);
        if let Some(&first) = external.get(&key) {
            found.push(Diagnostic::error(
                m.line,
                m.external_column,
                Code::SharedExternal,
                format!(
                    "{} is already the external side of line {first}: each internal endpoint needs its own external host:port",
                    m.external
                ),
            ));
        } else {
            external.insert(key, m.line);
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
        (Some(lan), Some(outside)) if lan.eq_ignore_ascii_case(outside) => Some(format!(
            "is in the internal side's domain {}",
            lan.to_ascii_lowercase()
        )),
        _ => None,
    }
}
