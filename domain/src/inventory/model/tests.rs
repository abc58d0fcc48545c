//! The inventory's rules: parsing FQDNs, addresses, kinds and roles; default endpoints.
use super::*;

#[test]
fn fqdns_are_normalised() {
    assert_eq!(
        Fqdn::parse(" Finesse1.Example.COM. ").unwrap().as_str(),
        "finesse1.example.com"
    );
}

#[test]
fn ip_addresses_are_refused_with_a_pointer_to_the_management_address() {
    for ip in ["10.78.95.178", "::1", "[2001:db8::1]", "2001:db8::1"] {
        let message = Fqdn::parse(ip).unwrap_err();
        assert!(message.contains("IP address"), "{ip}: {message}");
        assert!(message.contains("management address"), "{ip}: {message}");
    }
}

#[test]
fn invalid_names_say_what_is_wrong() {
    let cases = [
        ("finesse1", "not fully qualified"),
        ("a..example.com", "empty label"),
        ("fin_esse.example.com", "'_' is not allowed"),
        ("-bad.example.com", "starts or ends"),
        ("host.123", "ends in a number"),
        ("", "enter the node's FQDN"),
    ];
    for (input, expected) in cases {
        let message = Fqdn::parse(input).unwrap_err();
        assert!(message.contains(expected), "{input}: {message}");
    }
    assert!(Fqdn::parse(&format!("{}.example.com", "a".repeat(64))).is_err());
}

#[test]
fn every_kind_round_trips_and_aliases_are_understood() {
    for kind in NodeKind::ALL {
        assert_eq!(NodeKind::parse(kind.as_str()), Ok(kind));
    }
    assert_eq!(NodeKind::parse("LiveData"), Ok(NodeKind::LiveData));
    assert_eq!(NodeKind::parse("live-data"), Ok(NodeKind::LiveData));
    let json: NodeKind = serde_json::from_str("\"SocialMiner\"").unwrap();
    assert_eq!(json, NodeKind::SocialMiner);
    assert_eq!(
        serde_json::to_string(&NodeKind::ReverseProxy).unwrap(),
        "\"reverse_proxy\""
    );
    assert_eq!(NodeKind::parse("CCP"), Ok(NodeKind::SocialMiner));
    assert!(NodeKind::parse("pbx").unwrap_err().contains("finesse"));
}

/// DOMAIN.md §1: the default ports of each product.
#[test]
fn default_endpoints_follow_the_deployment_table() {
    let ports = |k: NodeKind| {
        k.default_endpoints()
            .iter()
            .map(|e| e.port)
            .collect::<Vec<_>>()
    };
    assert_eq!(ports(NodeKind::Finesse), [8445, 7443]);
    assert_eq!(ports(NodeKind::Ids), [8553]);
    assert_eq!(ports(NodeKind::LiveData), [12005, 12008]);
    assert_eq!(ports(NodeKind::BroadWorks), [8012]);
    assert_eq!(ports(NodeKind::ReverseProxy), [443, 10000, 10001]);
    assert!(ports(NodeKind::Uccx).contains(&8443));
    assert!(ports(NodeKind::Other).is_empty());
}

/// Seed 004: a proxy's public listeners are the external ports of its map, not only 443.
#[test]
fn every_listener_of_a_proxy_is_public_but_its_map_server_and_status_page() {
    let proxy = NodeKind::ReverseProxy;
    assert!(proxy.is_public_listener(PUBLIC_LISTENER));
    assert!(proxy.is_public_listener(""), "a port added by hand");
    assert!(proxy.is_public_listener("CUIC on 8444"));
    assert!(!proxy.is_public_listener("proxy map and static files"));
    assert!(!proxy.is_public_listener("status"));
    assert!(NodeKind::LoadBalancer.is_public_listener(PUBLIC_LISTENER));
    assert!(!NodeKind::Finesse.is_public_listener(""));
    assert!(!NodeKind::Idp.is_public_listener("identity provider"));
}

#[test]
fn roles_use_each_products_words_and_only_one_publisher_is_unique() {
    assert_eq!(NodeRole::parse("Publisher"), Ok(NodeRole::Primary));
    assert_eq!(NodeRole::parse("subscriber"), Ok(NodeRole::Secondary));
    assert_eq!(NodeRole::parse("side-a"), Ok(NodeRole::SideA));
    assert!(NodeRole::parse("master").is_err());
    assert_eq!(NodeKind::Cuic.role_label(NodeRole::Primary), "publisher");
    assert_eq!(NodeKind::Finesse.role_label(NodeRole::Primary), "primary");
    assert!(NodeRole::Primary.is_unique() && !NodeRole::Secondary.is_unique());
    assert_eq!(
        NodeKind::ReverseProxy.roles(),
        &[NodeRole::SideA, NodeRole::SideB, NodeRole::None]
    );
}
