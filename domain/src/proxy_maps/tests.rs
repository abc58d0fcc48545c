use super::*;

#[test]
fn the_guides_ports_are_expected_and_nothing_else() {
    assert_eq!(expected_ports(NodeKind::Finesse), [8445]);
    assert_eq!(expected_ports(NodeKind::Cuic), [8444, 8447]);
    assert_eq!(expected_ports(NodeKind::LiveData), [12005, 12008]);
    assert_eq!(expected_ports(NodeKind::Ids), [8553]);
    assert!(
        expected_ports(NodeKind::Idp).is_empty(),
        "only when its name differs"
    );
    assert!(expected_ports(NodeKind::Imp).is_empty());
}

#[test]
fn a_validation_counts_and_renders() {
    let map = proxymap::parse("a.lan:8445=a.xyz.com\n10.0.0.1:8445=b.xyz.com\nbad line\n");
    let v = Validation::of(&map);
    assert_eq!(
        (v.valid, v.mappings, v.errors, v.warnings),
        (false, 2, 1, 1)
    );
    assert_eq!(v.diagnostics[1].code, "missing-equals");
    assert_eq!(
        v.rendered,
        "a.lan:8445=a.xyz.com:443\n10.0.0.1:8445=b.xyz.com:443\n"
    );
}

#[test]
fn slugs_come_from_names_and_only_safe_ones_are_taken() {
    assert_eq!(slug_of("Site A: Finesse (pair 1)"), "site-a-finesse-pair-1");
    assert_eq!(slug_of("---"), "");
    assert!(slug_is_valid("site-a"));
    for bad in ["", "-a", "Site", "a/b", "a.b", &"a".repeat(64)] {
        assert!(!slug_is_valid(bad), "{bad}");
    }
}

mod rollout_plans {
    use crate::inventory::model::NodeKind;
    use crate::proxy_maps::items::{CONFIG_URIS, ITEMS, MAP_HOST_TRUST, UPDATE_FREQUENCY};
    use crate::proxy_maps::rollout::{self, https_host, propagation, Propagation, Rollout};
    use crate::reconcile::{difference, NodePlan, State, States, Trusted};

    const A: &str = "https://gatehouse.xyz.com/maps/east/proxymap.txt";
    const B: &str = "https://backup.xyz.com/proxymap.txt";
    const OLD: &str = "https://saproxy.xyz.com:10000/proxymap.txt";

    fn plan_node(
        items: &[&dyn crate::reconcile::Item],
        kind: NodeKind,
        observed: &States,
        desired: &States,
    ) -> NodePlan {
        crate::reconcile::plan_node(items, kind, observed, desired).unwrap()
    }

    fn certificate(label: &str, der: &[u8]) -> Trusted {
        Trusted {
            label: label.into(),
            der: der.to_vec(),
        }
    }

    fn list(values: &[&str]) -> State {
        State::List(values.iter().map(|v| v.to_string()).collect())
    }

    fn commands(observed: &States, desired: &States) -> Vec<String> {
        plan_node(&ITEMS, NodeKind::Finesse, observed, desired)
            .steps
            .into_iter()
            .map(|s| s.command.to_string())
            .collect()
    }

    fn uris(values: &[&str]) -> States {
        States::from([(CONFIG_URIS.to_owned(), list(values))])
    }

    #[test]
    fn config_uris_keep_their_order_and_the_node_never_holds_three() {
        // The desired first URI is the node's second: both go, then both come back in order.
        assert_eq!(
            commands(&uris(&[B, A]), &uris(&[A, B])),
            [
                "utils system reverse-proxy config-uri delete → 2",
                "utils system reverse-proxy config-uri delete → 1",
                format!("utils system reverse-proxy config-uri add {A}").as_str(),
                format!("utils system reverse-proxy config-uri add {B}").as_str(),
            ]
        );
        // A right first URI stays; an old fallback is deleted before the new one is added.
        assert_eq!(
            commands(&uris(&[A, OLD]), &uris(&[A, B])),
            [
                "utils system reverse-proxy config-uri delete → 2".to_owned(),
                format!("utils system reverse-proxy config-uri add {B}"),
            ]
        );
        assert!(commands(&uris(&[A, B]), &uris(&[A, B])).is_empty());
        assert_eq!(
            commands(&uris(&[OLD]), &uris(&[])),
            ["utils system reverse-proxy config-uri delete → 1"]
        );
    }

    #[test]
    fn the_map_host_is_trusted_before_its_uri_and_other_certificates_stay() {
        let entry = certificate("gatehouse.xyz.com (SHA-256 ab12…)", b"map host");
        let rollout = Rollout {
            config_uris: vec![A.into()],
            update_frequency: 5,
            restrict_to_inventory: false,
        };
        let desired = rollout::desired(&rollout, std::slice::from_ref(&entry));
        let mut observed = uris(&[]);
        observed.insert(
            MAP_HOST_TRUST.into(),
            State::Certificates(vec![certificate("other CA", b"other")]),
        );
        observed.insert(UPDATE_FREQUENCY.into(), State::Setting(String::new()));
        assert_eq!(
            commands(&observed, &desired),
            [
                "set cert import trust tomcat → paste gatehouse.xyz.com (SHA-256 ab12…)".to_owned(),
                format!("utils system reverse-proxy config-uri add {A}"),
                "utils system reverse-proxy set-config-update-frequency 5".to_owned(),
            ]
        );
        // Already trusted (the same certificate, named differently): nothing to import.
        let same = certificate("tomcat-trust/gatehouse.pem", b"map host");
        let another = certificate("another", b"another");
        observed.insert(
            MAP_HOST_TRUST.into(),
            State::Certificates(vec![same, another.clone()]),
        );
        observed.insert(CONFIG_URIS.into(), list(&[A]));
        observed.insert(UPDATE_FREQUENCY.into(), State::Setting("5".into()));
        assert!(commands(&observed, &desired).is_empty());
        let trust = crate::proxy_maps::items::MapHostTrust;
        assert_eq!(
            difference(
                &trust,
                &desired[MAP_HOST_TRUST],
                &State::Certificates(vec![another])
            ),
            Some((
                "gatehouse.xyz.com (SHA-256 ab12…)".into(),
                "missing gatehouse.xyz.com (SHA-256 ab12…)".into()
            ))
        );
    }

    #[test]
    fn only_the_kinds_that_read_maps_take_a_rollout() {
        let desired = uris(&[A]);
        // Seed 004: Finesse, IdS and CUIC take config URIs; LiveData is mapped, reads none.
        for kind in [NodeKind::Cucm, NodeKind::LiveData] {
            let plan = plan_node(&ITEMS, kind, &uris(&[]), &desired);
            assert!(plan.steps.is_empty());
            assert_eq!(plan.skipped.len(), 1);
        }
        for kind in [NodeKind::Finesse, NodeKind::Ids, NodeKind::Cuic] {
            assert_eq!(plan_node(&ITEMS, kind, &uris(&[]), &desired).steps.len(), 1);
        }
    }

    #[test]
    fn rollout_settings_are_checked_field_by_field() {
        let bad = Rollout {
            config_uris: vec![A.into(), A.into(), "ftp://x/proxymap.txt".into()],
            update_frequency: 0,
            restrict_to_inventory: false,
        };
        let errors = rollout::check(&bad);
        assert_eq!(
            errors["config_uris"],
            [
                "a node takes at most 2 config URIs",
                "URI 2 repeats URI 1",
                "URI 3: it must start with https:// (or http://)"
            ]
        );
        assert_eq!(
            errors["update_frequency"],
            ["a number of minutes from 1 to 1440"]
        );
        for uri in [
            "https://",
            "https://u:p@h/x",
            "https://h/a b",
            "https://h/x#y",
        ] {
            let one = Rollout {
                config_uris: vec![uri.into()],
                ..Rollout::default()
            };
            assert!(rollout::check(&one).contains_key("config_uris"), "{uri}");
        }
        let fine = Rollout {
            config_uris: vec![A.into(), "http://10.0.0.5:8080/m.txt".into()],
            ..Rollout::default()
        };
        assert!(rollout::check(&fine).is_empty());
    }

    #[test]
    fn https_hosts_and_ports_come_from_the_uri() {
        assert_eq!(https_host(A), Some(("gatehouse.xyz.com".into(), 443)));
        assert_eq!(https_host(OLD), Some(("saproxy.xyz.com".into(), 10000)));
        assert_eq!(
            https_host("https://[2001:db8::5]:8443/m"),
            Some(("2001:db8::5".into(), 8443))
        );
        assert_eq!(https_host("http://plain.xyz.com/m"), None);
        assert_eq!(https_host("https://h:notaport/m"), None);
    }

    #[test]
    fn a_node_is_propagated_pending_stale_or_not_configured() {
        assert_eq!(propagation(false, true, true), Propagation::NotConfigured);
        assert_eq!(propagation(true, true, true), Propagation::Propagated);
        assert_eq!(propagation(true, false, false), Propagation::Pending);
        assert_eq!(propagation(true, false, true), Propagation::Stale);
        // The word the pages show is the one the API writes.
        for state in [
            Propagation::Propagated,
            Propagation::Pending,
            Propagation::Stale,
            Propagation::NotConfigured,
            Propagation::Unknown,
        ] {
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
    }

    #[test]
    fn maps_are_the_same_whatever_the_order_and_the_left_sides_case() {
        let pair = |l: &str, r: &str| (l.to_owned(), r.to_owned());
        let a = [
            pair("F1.lan:8445", "f1.xyz.com:443"),
            pair("ids.lan:8553", "ids.xyz.com:443"),
        ];
        let b = [
            pair("ids.lan:8553", "ids.xyz.com:443"),
            pair("f1.lan:8445", "f1.xyz.com:443"),
        ];
        assert!(rollout::same_map(&a, &b));
        let c = [
            pair("ids.lan:8553", "ids.xyz.com:443"),
            pair("f1.lan:8445", "F1.xyz.com:443"),
        ];
        assert!(
            !rollout::same_map(&a, &c),
            "the right side is case-sensitive"
        );
    }
}

/// The browser plans with [`items::ITEMS`], the server drives [`drive::DRIVEN`]: one list.
#[cfg(feature = "server")]
#[test]
fn the_driven_items_are_the_items_in_the_same_order() {
    let items: Vec<&str> = items::ITEMS.iter().map(|i| i.key()).collect();
    let driven: Vec<&str> = drive::DRIVEN.iter().map(|i| i.key()).collect();
    assert_eq!(items, driven);
}

/// Property: every map proposed from a valid inventory (unique FQDNs, any mix of the kinds that
/// read maps, first labels that repeat across sites) validates with no diagnostic at all, alone
/// and against that inventory; and parse → render → parse gives the same mappings.
#[test]
fn every_map_generated_from_a_valid_inventory_validates() {
    use crate::inventory::model::NodeKind;
    const KINDS: [NodeKind; 4] = [
        NodeKind::Finesse,
        NodeKind::Ids,
        NodeKind::Cuic,
        NodeKind::LiveData,
    ];
    // A small xorshift: many inventories, the same every run.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    for _ in 0..300 {
        let mut nodes: Vec<MapNode> = Vec::new();
        for i in 0..(1 + next(12)) {
            let which = next(4) as usize;
            let kind = KINDS[which];
            let word = ["finesse", "ids", "cuic", "livedata"][which];
            let fqdn = format!("{word}{}.site{}.lan.example.com", next(3), next(3));
            if nodes.iter().any(|n| n.fqdn == fqdn) {
                continue;
            }
            nodes.push(MapNode {
                id: i as i64,
                fqdn,
                kind,
            });
        }
        let text = generate(&nodes, "{host}.xyz.com:{port}");
        let mut map = proxymap::parse(&text);
        assert!(map.diagnostics.is_empty(), "{text}\n{:?}", map.diagnostics);
        let context = proxymap::Context {
            endpoints: nodes
                .iter()
                .flat_map(|n| {
                    expected_ports(n.kind)
                        .iter()
                        .map(|port| proxymap::Endpoint {
                            host: n.fqdn.clone(),
                            port: *port,
                            label: n.fqdn.clone(),
                            expected: true,
                        })
                })
                .collect(),
            proxy_names: Vec::new(),
            certificate_names: None,
        };
        proxymap::check_with(&mut map, &context);
        assert!(map.diagnostics.is_empty(), "{text}\n{:?}", map.diagnostics);
        let again = proxymap::parse(&map.render());
        assert_eq!(again.mappings.len(), map.mappings.len());
        assert_eq!(again.render(), map.render());
    }
}
