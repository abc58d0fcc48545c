//! The planner: one node's observed and desired states in, the commands that turn one into the
//! other out. Pure, so every ordering and numbering rule is a unit test.
//!
//! Order on a node: every item's additions first, in the order the items are given (so a
//! replacement proxy is trusted before the old one goes, and what an addition does by itself,
//! such as Finesse's frame-ancestors entry for a trusted host, is known before the next item is
//! planned); then removals, items in reverse order (origins and frame-ancestors before the
//! host they belong to); then settings (a CORS mode switched to "only the allowed origins"
//! after those origins are there). An ordered list (config URIs, where the first takes
//! precedence) is put right in its place among the additions; a trust store's certificates
//! only get imports.

use super::{Item, NodePlan, Op, Planned, Refused, Skipped, State, States, Step, Trusted};
use crate::inventory::model::NodeKind;
use std::collections::BTreeMap;

/// Plans one node of `kind`: `items` in planning order, `observed` as read from the node,
/// `desired` from the policy (an item the policy does not manage is absent and left alone).
/// `Err`: a desired value cannot be typed at the node's CLI.
pub fn plan_node(
    items: &[&dyn Item],
    kind: NodeKind,
    observed: &States,
    desired: &States,
) -> Result<NodePlan, Refused> {
    let mut plan = NodePlan::default();
    // The node's lists as they will be after each step, to number the menus and to see what
    // additions do by themselves.
    let mut lists: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut managed: Vec<&dyn Item> = Vec::new();
    for &item in items {
        if !desired.contains_key(item.key()) {
            continue;
        }
        if let Err(reason) = item.supports(kind) {
            plan.skipped.push(Skipped {
                item: item.key().into(),
                reason,
            });
            continue;
        }
        if let Some(State::List(entries)) = observed.get(item.key()) {
            lists.insert(item.key(), entries.clone());
        }
        managed.push(item);
    }

    let mut changed: Vec<&dyn Item> = Vec::new();
    for &item in &managed {
        if let Some(State::Certificates(want)) = desired.get(item.key()) {
            let mut have: Vec<Trusted> = match observed.get(item.key()) {
                Some(State::Certificates(have)) => have.clone(),
                _ => Vec::new(),
            };
            for certificate in want {
                if !have.iter().any(|h| item.same_certificate(h, certificate)) {
                    have.push(certificate.clone());
                    let op = Op::Import {
                        certificate: certificate.clone(),
                    };
                    push(&mut plan, &mut changed, item, kind, op)?;
                }
            }
            continue;
        }
        let Some(State::List(want)) = desired.get(item.key()) else {
            continue;
        };
        if item.ordered() {
            reorder(&mut plan, &mut changed, &mut lists, item, kind, want)?;
            continue;
        }
        for value in want {
            let have = lists.entry(item.key()).or_default();
            if have.iter().any(|h| item.same(h, value)) {
                continue;
            }
            have.push(value.clone());
            let op = Op::Add {
                value: value.clone(),
            };
            for (other, entry) in item.adds_elsewhere(kind, &op) {
                let list = lists.entry(other).or_default();
                if !list.iter().any(|e| e.eq_ignore_ascii_case(&entry)) {
                    list.push(entry);
                }
            }
            push(&mut plan, &mut changed, item, kind, op)?;
        }
    }
    for &item in managed.iter().rev() {
        let Some(State::List(want)) = desired.get(item.key()) else {
            continue;
        };
        let have = lists.entry(item.key()).or_default();
        let mut at = 0;
        while at < have.len() {
            if want.iter().any(|w| item.same(w, &have[at])) {
                at += 1;
                continue;
            }
            let value = have.remove(at);
            let op = Op::Remove {
                value,
                index: at + 1,
            };
            push(&mut plan, &mut changed, item, kind, op)?;
        }
    }
    for &item in &managed {
        let Some(State::Setting(want)) = desired.get(item.key()) else {
            continue;
        };
        let have = match observed.get(item.key()) {
            Some(State::Setting(have)) => have.clone(),
            _ => String::new(),
        };
        if &have != want {
            let op = Op::Set {
                from: have,
                to: want.clone(),
            };
            push(&mut plan, &mut changed, item, kind, op)?;
        }
    }
    for item in changed {
        for service in item.restarts(kind) {
            if !plan.restarts.iter().any(|s| s == service) {
                plan.restarts.push((*service).to_owned());
            }
        }
    }
    Ok(plan)
}

/// An ordered list: every entry from the first one out of place is removed, last first (so
/// each keeps its menu number), then the desired entries from there are added in order.
fn reorder<'a>(
    plan: &mut NodePlan,
    changed: &mut Vec<&'a dyn Item>,
    lists: &mut BTreeMap<&'static str, Vec<String>>,
    item: &'a dyn Item,
    kind: NodeKind,
    want: &[String],
) -> Result<(), Refused> {
    let have = lists.entry(item.key()).or_default();
    let kept = have
        .iter()
        .zip(want)
        .take_while(|(h, w)| item.same(h, w))
        .count();
    while have.len() > kept {
        let index = have.len();
        let value = have.pop().unwrap_or_default();
        push(plan, changed, item, kind, Op::Remove { value, index })?;
    }
    for value in &want[kept..] {
        have.push(value.clone());
        let op = Op::Add {
            value: value.clone(),
        };
        push(plan, changed, item, kind, op)?;
    }
    Ok(())
}

fn push<'a>(
    plan: &mut NodePlan,
    changed: &mut Vec<&'a dyn Item>,
    item: &'a dyn Item,
    kind: NodeKind,
    op: Op,
) -> Result<(), Refused> {
    if !changed.iter().any(|c| c.key() == item.key()) {
        changed.push(item);
    }
    plan.steps.push(Step {
        item: item.key().into(),
        command: Planned::Change(item.command(kind, &op)?),
        op,
    });
    Ok(())
}

/// What `op` on `item` makes of a node's `states` (of a node of `kind`), with what it does by
/// itself to other items: the state a node should be in after some of its steps.
pub fn apply_op(states: &mut States, item: &dyn Item, kind: NodeKind, op: &Op) {
    match op {
        Op::Add { value } => {
            add(states, item.key(), value, |a, b| item.same(a, b));
            for (other, entry) in item.adds_elsewhere(kind, op) {
                add(states, other, &entry, |a, b| a.eq_ignore_ascii_case(b));
            }
        }
        Op::Remove { value, .. } => {
            if let Some(State::List(entries)) = states.get_mut(item.key()) {
                if let Some(at) = entries.iter().position(|e| item.same(e, value)) {
                    entries.remove(at);
                }
            }
        }
        Op::Set { to, .. } => {
            states.insert(item.key().to_owned(), State::Setting(to.clone()));
        }
        Op::Import { certificate } => {
            let entry = states
                .entry(item.key().to_owned())
                .or_insert_with(|| State::Certificates(Vec::new()));
            if let State::Certificates(certificates) = entry {
                if !certificates
                    .iter()
                    .any(|c| item.same_certificate(c, certificate))
                {
                    certificates.push(certificate.clone());
                }
            }
        }
    }
}

fn add(states: &mut States, key: &str, value: &str, same: impl Fn(&str, &str) -> bool) {
    let entry = states
        .entry(key.to_owned())
        .or_insert_with(|| State::List(Vec::new()));
    if let State::List(entries) = entry {
        if !entries.iter().any(|e| same(e, value)) {
            entries.push(value.to_owned());
        }
    }
}
