//! Adopting a node's state into the policy: the way to resolve drift that should stay (an
//! entry an admin added by hand on purpose). The result is a new version that every node is
//! then planned against, so the adopted entries reach the other nodes too.
//!
//! Per item: client-auth and the CORS mode take the node's setting; hosts the node has that no
//! proxy names join a proxy named "Adopted from <node>", hosts it lacks leave their proxies (a
//! proxy left without hosts goes, with its origins); origins and frame-ancestors sources the
//! node has beyond what the proxies bring become the product's extras, and extras it lacks go.
//! A proxy's origin the node lacks stays: it belongs to every product.

use super::items::{self, frame_source_for_host};
use super::{AccessPolicy, CorsMode, TrustedProxy};
use crate::inventory::model::NodeKind;
use crate::reconcile::{State, States};

/// `policy` with the state read from `fqdn` (a node of `kind`) taken in.
pub fn adopt(policy: &AccessPolicy, fqdn: &str, kind: NodeKind, observed: &States) -> AccessPolicy {
    let mut next = policy.clone();
    let list = |key: &str| match observed.get(key) {
        Some(State::List(entries)) => Some(entries.clone()),
        _ => None,
    };
    let setting = |key: &str| match observed.get(key) {
        Some(State::Setting(value)) => Some(value.clone()),
        _ => None,
    };
    let has = |list: &[String], value: &str| list.iter().any(|v| v.eq_ignore_ascii_case(value));

    if let Some(hosts) = list(items::ALLOWED_HOSTS) {
        for proxy in &mut next.proxies {
            proxy.hosts.retain(|h| has(&hosts, h));
        }
        next.proxies.retain(|p| !p.hosts.is_empty());
        let known = next.allowed_hosts();
        let extra: Vec<String> = hosts.iter().filter(|h| !has(&known, h)).cloned().collect();
        if !extra.is_empty() {
            let name = format!("Adopted from {fqdn}");
            match next.proxies.iter_mut().find(|p| p.name == name) {
                Some(proxy) => proxy.hosts.extend(extra),
                None => next.proxies.push(TrustedProxy {
                    name,
                    hosts: extra,
                    origins: Vec::new(),
                    client_certificate: None,
                }),
            }
        }
    }
    if kind == NodeKind::Finesse {
        if let Some(value) = setting(items::CLIENT_AUTH) {
            next.client_auth = value == "enabled";
        }
    }
    let proxy_origins = next.proxy_origins();
    let host_entries: Vec<String> = match kind {
        NodeKind::Finesse => next
            .allowed_hosts()
            .iter()
            .map(|h| frame_source_for_host(h))
            .collect(),
        _ => Vec::new(),
    };
    let product = match kind {
        NodeKind::Finesse => &mut next.finesse,
        NodeKind::Cuic => &mut next.cuic,
        NodeKind::LiveData => &mut next.livedata,
        _ => return next,
    };
    if let Some(mode) = setting(items::CORS_MODE) {
        product.cors = match mode.as_str() {
            "enable" => CorsMode::Enable,
            "disable" => CorsMode::Disable,
            _ => CorsMode::EnableAll,
        };
    }
    if let Some(origins) = list(items::CORS_ORIGINS) {
        product.extra_origins = origins
            .into_iter()
            .filter(|o| !has(&proxy_origins, o))
            .collect();
    }
    if kind != NodeKind::LiveData {
        if let Some(sources) = list(items::FRAME_ANCESTORS) {
            product.extra_frame_ancestors = sources
                .into_iter()
                .filter(|s| !has(&proxy_origins, s) && !has(&host_entries, s))
                .collect();
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::State;

    fn policy() -> AccessPolicy {
        AccessPolicy {
            proxies: vec![
                TrustedProxy {
                    name: "A".into(),
                    hosts: vec!["proxy-a.x.com".into()],
                    origins: vec!["https://desk-a.x.com".into()],
                    client_certificate: None,
                },
                TrustedProxy {
                    name: "B".into(),
                    hosts: vec!["proxy-b.x.com".into()],
                    origins: vec!["https://desk-b.x.com".into()],
                    client_certificate: None,
                },
            ],
            client_auth: true,
            ..Default::default()
        }
    }

    fn list(values: &[&str]) -> State {
        State::List(values.iter().map(|v| v.to_string()).collect())
    }

    #[test]
    fn a_node_adopted_as_it_is_desired_changes_nothing() {
        let desired = crate::access_policy::desired(&policy(), NodeKind::Finesse);
        assert_eq!(
            adopt(&policy(), "f1.x.com", NodeKind::Finesse, &desired),
            policy()
        );
    }

    #[test]
    fn hand_added_entries_are_kept_and_hand_removed_ones_leave_the_policy() {
        let observed: States = [
            (
                items::ALLOWED_HOSTS.to_string(),
                list(&["proxy-a.x.com", "10.66.0.1"]),
            ),
            (
                items::CLIENT_AUTH.to_string(),
                State::Setting("disabled".into()),
            ),
            (
                items::CORS_MODE.to_string(),
                State::Setting("enable".into()),
            ),
            (
                items::CORS_ORIGINS.to_string(),
                list(&["https://desk-a.x.com", "https://crm.x.com"]),
            ),
            (
                items::FRAME_ANCESTORS.to_string(),
                list(&[
                    "https://proxy-a.x.com",
                    "https://desk-a.x.com",
                    "https://portal.x.com",
                ]),
            ),
        ]
        .into_iter()
        .collect();
        let adopted = adopt(&policy(), "f1.x.com", NodeKind::Finesse, &observed);
        let names: Vec<&str> = adopted.proxies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["A", "Adopted from f1.x.com"],
            "B lost its only host"
        );
        assert_eq!(adopted.proxies[1].hosts, ["10.66.0.1"]);
        assert!(!adopted.client_auth);
        assert_eq!(adopted.finesse.cors, CorsMode::Enable);
        assert_eq!(adopted.finesse.extra_origins, ["https://crm.x.com"]);
        assert_eq!(
            adopted.finesse.extra_frame_ancestors,
            ["https://portal.x.com"]
        );
        assert_eq!(adopted.cuic, policy().cuic, "another product is untouched");
        // The new version, desired on that node, is what the node has (but for the host's own
        // frame-ancestors entry, which Finesse adds once the host is added).
        let desired = crate::access_policy::desired(&adopted, NodeKind::Finesse);
        assert_eq!(
            desired[items::ALLOWED_HOSTS],
            observed[items::ALLOWED_HOSTS]
        );
    }
}
