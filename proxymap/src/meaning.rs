//! The map as a whole: no internal endpoint twice, no external endpoint for two internal ones,
//! names where the components expect names, external sides that can be reached from outside.

use crate::diagnostic::{Code, Diagnostic};
use crate::host::{Host, HostPort};
use crate::Map;

pub(crate) fn check(map: &mut Map) {
    let mappings = &map.mappings;
    let mut internal = FirstSeen::new(mappings.len());
    let mut external = FirstSeen::new(mappings.len());
    let mut found = Vec::new();
    for (index, m) in mappings.iter().enumerate() {
        let first = internal.first(key_hash(&m.internal, true), index, |i| {
            same_internal(&mappings[i].internal, &m.internal)
        });
        if let Some(first) = first {
            found.push(Diagnostic::error(
                m.line,
                m.internal_column,
                Code::DuplicateInternal,
                format!(
                    "{} is already mapped on line {} (the internal side ignores case); the proxy installer refuses duplicates: keep one line",
                    m.internal, mappings[first].line
                ),
            ));
            continue;
        }
        let first = external.first(key_hash(&m.external, false), index, |i| {
            mappings[i].external == m.external
        });
        if let Some(first) = first {
            found.push(Diagnostic::error(
                m.line,
                m.external_column,
                Code::SharedExternal,
                format!(
                    "{} is already the external side of line {}: each internal endpoint needs its own external host:port",
                    m.external, mappings[first].line
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

/// Whether two internal sides are one endpoint: the host's case is ignored.
pub(crate) fn same_internal(a: &HostPort, b: &HostPort) -> bool {
    a.port == b.port
        && match (&a.host, &b.host) {
            (Host::Name(a), Host::Name(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        }
}

/// Which mapping first had each key. Open addressing over the mappings' indices: a slot holds
/// the index + 1 (0 is empty) and the high half of the key's hash, so most probes end without
/// comparing names. Two flat arrays of a few hundred KB for a 10,000-line map, where a map of
/// owned or borrowed names took megabytes and hashed every name twice.
pub(crate) struct FirstSeen {
    slots: Vec<(u32, u32)>,
    mask: usize,
}

impl FirstSeen {
    pub(crate) fn new(count: usize) -> Self {
        let size = (count * 2).next_power_of_two().max(16);
        Self {
            slots: vec![(0, 0); size],
            mask: size - 1,
        }
    }

    /// The index of an earlier key that is `same` as this one, or `None` once `index` is
    /// recorded as the first with it.
    pub(crate) fn first(
        &mut self,
        hash: u64,
        index: usize,
        same: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        match self.probe(hash, same) {
            Ok(earlier) => Some(earlier),
            Err(empty) => {
                self.slots[empty] = (index as u32 + 1, (hash >> 32) as u32);
                None
            }
        }
    }

    /// The index of a recorded key that is `same` as this one.
    pub(crate) fn find(&self, hash: u64, same: impl Fn(usize) -> bool) -> Option<usize> {
        self.probe(hash, same).ok()
    }

    /// The recorded index with this key, or the empty slot where it would go.
    fn probe(&self, hash: u64, same: impl Fn(usize) -> bool) -> Result<usize, usize> {
        let tag = (hash >> 32) as u32;
        let mut at = hash as usize & self.mask;
        loop {
            match self.slots[at] {
                (0, _) => return Err(at),
                (slot, slot_tag) if slot_tag == tag && same(slot as usize - 1) => {
                    return Ok(slot as usize - 1)
                }
                _ => at = (at + 1) & self.mask,
            }
        }
    }
}

/// The hash of a side, its host's case ignored when `fold` (the internal side). A host name
/// holds only letters, digits, `-` and `.` by now, and setting bit 0x20 of those lowercases the
/// letters and leaves the rest as they are: the name is hashed eight bytes at a time.
pub(crate) fn key_hash(side: &HostPort, fold: bool) -> u64 {
    let mut hash = u64::from(side.port);
    let mut add = |word: u64| {
        hash = (hash.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    };
    match &side.host {
        Host::Name(name) => {
            let case = if fold { 0x2020_2020_2020_2020 } else { 0 };
            let mut words = name.as_bytes().chunks_exact(8);
            for word in &mut words {
                add(u64::from_le_bytes(word.try_into().unwrap_or_default()) | case);
            }
            let rest = words.remainder();
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            add((u64::from_le_bytes(last) | case) ^ ((rest.len() as u64) << 56));
        }
        Host::V4(address) => add(u64::from(u32::from(*address)) | 1 << 40),
        Host::V6(address) => {
            let bits = u128::from(*address);
            add(bits as u64);
            add((bits >> 64) as u64 ^ 2);
        }
    }
    // Murmur3's finaliser: the multiplications mix upwards, the table indexes by the low bits.
    let mut x = hash ^ (hash >> 33);
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^ (x >> 33)
}

fn looks_internal(internal: &Host, external: &Host) -> Option<String> {
    if external.is_private_address() {
        return Some(format!("{external} is a private address"));
    }
    let itself = match (internal, external) {
        (Host::Name(a), Host::Name(b)) => a.eq_ignore_ascii_case(b),
        (a, b) => a == b,
    };
    if itself {
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
