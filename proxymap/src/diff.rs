//! What changed between two maps, mapping by mapping (keyed by the internal side, case
//! ignored): `+ a:8445=b:443`, `- a:8445=b:443`, `~ a:8445: b:443 → c:443`. Comments, order
//! and the internal side's case are not changes.

use crate::Map;
use std::collections::HashMap;

pub fn diff(old: &Map, new: &Map) -> Vec<String> {
    let before: HashMap<(String, u16), &crate::Mapping> = old
        .mappings
        .iter()
        .map(|m| (m.internal.internal_key(), m))
        .collect();
    let after: HashMap<(String, u16), &crate::Mapping> = new
        .mappings
        .iter()
        .map(|m| (m.internal.internal_key(), m))
        .collect();
    let mut changes = Vec::new();
    for m in &old.mappings {
        match after.get(&m.internal.internal_key()) {
            None => changes.push(format!("- {m}")),
            Some(now) if now.external != m.external => changes.push(format!(
                "~ {}: {} → {}",
                m.internal, m.external, now.external
            )),
            Some(_) => {}
        }
    }
    for m in &new.mappings {
        if !before.contains_key(&m.internal.internal_key()) {
            changes.push(format!("+ {m}"));
        }
    }
    changes
}
