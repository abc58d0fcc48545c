//! The map as a whole: no internal endpoint twice, no external endpoint for two internal ones,
//! names where the components expect names, external sides that can be reached from outside.

use crate::diagnostic::{Code, Diagnostic};
use crate::host::Host;
use crate::Map;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Where each endpoint was first seen: by a fast hasher (no untrusted party chooses the keys
/// of a map its own admin is editing, so SipHash's protection buys nothing here).
type Seen<'a> = HashMap<(Cow<'a, str>, u16), usize, BuildHasherDefault<Fast>>;

/// The Firefox hasher's mix, eight bytes at a time.
#[derive(Default)]
struct Fast(u64);

impl Fast {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Fast {
    fn finish(&self) -> u64 {
        // The multiply mixes upwards; the table indexes by the low bits.
        self.0.rotate_left(26)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
        let rest = words.remainder();
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 56));
    }
    // A key is a name, its end marker and a port: one mix each, not a padded word of bytes.
    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }
    fn write_u16(&mut self, port: u16) {
        self.add(u64::from(port));
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

pub(crate) fn check(map: &mut Map) {
    let size = map.mappings.len();
    let mut internal: Seen = HashMap::with_capacity_and_hasher(size, Default::default());
    let mut external: Seen = HashMap::with_capacity_and_hasher(size, Default::default());
    let mut found = Vec::new();
    for m in &map.mappings {
        let key = (m.internal.host.folded(), m.internal.port);
        let key_internal = key.0.clone();
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
        if let Some(why) = looks_internal(&key_internal, &m.internal.host, &m.external.host) {
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

/// `folded` is the internal host, lowercased.
fn looks_internal(folded: &str, internal: &Host, external: &Host) -> Option<String> {
    if external.is_private_address() {
        return Some(format!("{external} is a private address"));
    }
    if external.exact().eq_ignore_ascii_case(folded) {
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
