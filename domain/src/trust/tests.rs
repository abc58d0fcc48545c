//! The required-trust rules, one per test.

use super::*;

fn member(id: i64, kind: NodeKind, role: NodeRole, fqdn: &str) -> Member {
    Member {
        id,
        cluster: kind as i64,
        kind,
        role,
        fqdn: fqdn.into(),
    }
}

/// (holder, column label, rule) of every requirement.
fn cells(members: &[Member], extra: &Extra) -> Vec<(i64, String, String)> {
    requirements(members, extra)
        .into_iter()
        .map(|r| (r.holder, r.needed.label(), r.rule))
        .collect()
}

fn has(cells: &[(i64, String, String)], holder: i64, column: &str, rule: &str) -> bool {
    cells
        .iter()
        .any(|(h, c, r)| *h == holder && c == column && r == rule)
}

fn ucce() -> Vec<Member> {
    vec![
        member(
            1,
            NodeKind::Finesse,
            NodeRole::Primary,
            "finesse1.example.com",
        ),
        member(
            2,
            NodeKind::Finesse,
            NodeRole::Secondary,
            "finesse2.example.com",
        ),
        member(3, NodeKind::Cucm, NodeRole::Primary, "cucm1.example.com"),
        member(4, NodeKind::Ids, NodeRole::Primary, "ids1.example.com"),
        member(
            5,
            NodeKind::LiveData,
            NodeRole::SideA,
            "livedata1.example.com",
        ),
        member(6, NodeKind::SocialMiner, NodeRole::None, "ccp.example.com"),
        member(7, NodeKind::Cuic, NodeRole::Primary, "cuic1.example.com"),
        member(
            8,
            NodeKind::CloudConnect,
            NodeRole::Primary,
            "cloudconnect1.example.com",
        ),
    ]
}

#[test]
fn finesse_nodes_trust_each_other_and_the_components_they_call_in_unified_cce() {
    let cells = cells(&ucce(), &Extra::default());
    assert!(has(&cells, 1, "finesse2.example.com", "finesse_peers"));
    assert!(has(&cells, 2, "finesse1.example.com", "finesse_peers"));
    for holder in [1, 2] {
        assert!(has(&cells, holder, "cucm1.example.com", "finesse_cucm"));
        assert!(has(&cells, holder, "ids1.example.com", "finesse_ids"));
        assert!(has(
            &cells,
            holder,
            "livedata1.example.com",
            "finesse_livedata"
        ));
        assert!(has(
            &cells,
            holder,
            "ccp.example.com",
            "finesse_socialminer"
        ));
    }
    // Nothing asks CUIC, CUCM or IdS to trust anything without proxies or a map host.
    assert!(
        cells.iter().all(|(h, _, _)| [1, 2].contains(h)),
        "{cells:?}"
    );
    assert!(
        !cells
            .iter()
            .any(|(h, c, _)| *h == 1 && c == "finesse1.example.com"),
        "not itself"
    );
    for holder in [1, 2] {
        assert!(has(
            &cells,
            holder,
            "cloudconnect1.example.com",
            "finesse_cloud_connect"
        ));
    }
    assert_eq!(cells.len(), 2 * 6);
}

#[test]
fn uccx_and_socialminer_trust_each_other() {
    let members = vec![
        member(1, NodeKind::Uccx, NodeRole::Primary, "uccx1.example.com"),
        member(2, NodeKind::Uccx, NodeRole::Secondary, "uccx2.example.com"),
        member(3, NodeKind::SocialMiner, NodeRole::None, "sm.example.com"),
    ];
    let cells = cells(&members, &Extra::default());
    for uccx in [1, 2] {
        assert!(has(&cells, uccx, "sm.example.com", "uccx_socialminer"));
    }
    assert!(has(&cells, 3, "uccx1.example.com", "socialminer_uccx"));
    assert!(has(&cells, 3, "uccx2.example.com", "socialminer_uccx"));
    assert_eq!(cells.len(), 4, "{cells:?}");
    // UCCX's co-resident Finesse trusts CUCM and IdS as Finesse nodes do.
    let mut with_cucm = members.clone();
    with_cucm.push(member(
        5,
        NodeKind::Cucm,
        NodeRole::Primary,
        "cucm1.example.com",
    ));
    with_cucm.push(member(
        6,
        NodeKind::Ids,
        NodeRole::Primary,
        "ids1.example.com",
    ));
    let cells = super::tests::cells(&with_cucm, &Extra::default());
    assert!(has(&cells, 1, "cucm1.example.com", "uccx_cucm"));
    assert!(has(&cells, 2, "ids1.example.com", "uccx_ids"));
}

#[test]
fn proxies_with_client_auth_and_an_https_map_host_are_trusted_by_every_component_behind_them() {
    let extra = Extra {
        proxies_with_client_auth: vec!["proxy-a.example.com".into()],
        map_hosts: vec!["maps.example.com".into()],
        third_party: vec![],
    };
    let cells = cells(&ucce(), &extra);
    for behind in [1, 2, 4, 5, 7] {
        assert!(
            has(&cells, behind, "proxy-a.example.com", "proxy_client_auth"),
            "{behind}"
        );
        assert!(
            has(
                &cells,
                behind,
                "proxy-map host maps.example.com",
                "proxymap_https"
            ),
            "{behind}"
        );
    }
    for not_behind in [3, 6, 8] {
        assert!(
            !cells
                .iter()
                .any(|(h, c, _)| *h == not_behind && c.starts_with("proxy")),
            "{not_behind}"
        );
    }
}

#[test]
fn third_party_servers_are_trusted_by_finesse_and_uccx_and_every_requirement_names_its_seed() {
    let extra = Extra {
        third_party: vec!["gadgets.example.com".into()],
        ..Extra::default()
    };
    let all = requirements(&ucce(), &extra);
    assert!(all.iter().any(|r| r.holder == 1
        && r.needed.label() == "gadgets.example.com"
        && r.rule == "third_party"));
    assert!(all.iter().all(|r| r.source.contains("seed 00")), "{all:?}");
    // Sorted by holder, no repeats.
    let keys: Vec<(i64, &Needed)> = all.iter().map(|r| (r.holder, &r.needed)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
}

#[test]
fn other_clusters_count_only_in_the_same_dns_domain_and_finesse_peers_only_in_their_cluster() {
    let mut members = ucce();
    // Another site: its own Finesse pair and IdS under another domain.
    let mut site_b = member(
        8,
        NodeKind::Finesse,
        NodeRole::Primary,
        "finesse1.site-b.example.net",
    );
    site_b.cluster = 98;
    members.push(site_b);
    members.push(member(
        9,
        NodeKind::Ids,
        NodeRole::Primary,
        "ids1.site-b.example.net",
    ));
    // A Finesse node of the same domain in another cluster (another deployment's pair).
    let mut other_pair = member(
        10,
        NodeKind::Finesse,
        NodeRole::Primary,
        "finesse9.example.com",
    );
    other_pair.cluster = 99;
    members.push(other_pair);
    let cells = cells(&members, &Extra::default());
    assert!(has(&cells, 8, "ids1.site-b.example.net", "finesse_ids"));
    assert!(
        !has(&cells, 8, "ids1.example.com", "finesse_ids"),
        "{cells:?}"
    );
    assert!(!has(&cells, 1, "ids1.site-b.example.net", "finesse_ids"));
    assert!(!has(
        &cells,
        1,
        "finesse1.site-b.example.net",
        "finesse_peers"
    ));
    assert!(
        !has(&cells, 1, "finesse9.example.com", "finesse_peers"),
        "{cells:?}"
    );
    assert!(has(&cells, 10, "ids1.example.com", "finesse_ids"));
}
