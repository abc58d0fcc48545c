//! The policy's derivation into node states and its validation rules.

use super::*;
use crate::inventory::model::NodeKind;
use crate::reconcile::State;
use crate::FieldErrors;

fn proxy(name: &str, hosts: &[&str], origins: &[&str]) -> TrustedProxy {
    TrustedProxy {
        name: name.into(),
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        origins: origins.iter().map(|o| o.to_string()).collect(),
        client_certificate: None,
    }
}

fn pair() -> AccessPolicy {
    AccessPolicy {
        proxies: vec![
            proxy(
                "A",
                &["proxya.xyz.com", "10.78.95.178"],
                &["https://finesse.xyz.com"],
            ),
            proxy(
                "B",
                &["proxyb.xyz.com"],
                &["https://finesse.xyz.com", "https://cuic.xyz.com:8444"],
            ),
        ],
        client_auth: true,
        cuic: ProductAccess {
            cors: CorsMode::Enable,
            extra_origins: vec!["https://wfm.example.com".into()],
            extra_frame_ancestors: vec!["https://*.portal.example.com:*".into()],
        },
        ..Default::default()
    }
}

fn list(states: &crate::reconcile::States, key: &str) -> Vec<String> {
    match states.get(key) {
        Some(State::List(entries)) => entries.clone(),
        other => panic!("{key}: expected a list, got {other:?}"),
    }
}

#[test]
fn every_proxied_node_trusts_every_proxy_host_once() {
    for kind in [
        NodeKind::Finesse,
        NodeKind::Ids,
        NodeKind::Cuic,
        NodeKind::LiveData,
    ] {
        assert_eq!(
            list(&desired(&pair(), kind), items::ALLOWED_HOSTS),
            ["proxya.xyz.com", "10.78.95.178", "proxyb.xyz.com"],
            "{kind:?}"
        );
    }
    assert!(
        desired(&pair(), NodeKind::Cucm).is_empty(),
        "not behind the proxy"
    );
}

#[test]
fn proxy_origins_go_to_cors_and_frame_ancestors_and_finesse_keeps_its_own_host_entries() {
    let finesse = desired(&pair(), NodeKind::Finesse);
    assert_eq!(
        list(&finesse, items::CORS_ORIGINS),
        ["https://finesse.xyz.com", "https://cuic.xyz.com:8444"]
    );
    assert_eq!(
        list(&finesse, items::FRAME_ANCESTORS),
        [
            "https://proxya.xyz.com",
            "https://10.78.95.178",
            "https://proxyb.xyz.com",
            "https://finesse.xyz.com",
            "https://cuic.xyz.com:8444",
        ]
    );
    let cuic = desired(&pair(), NodeKind::Cuic);
    assert_eq!(
        list(&cuic, items::CORS_ORIGINS),
        [
            "https://finesse.xyz.com",
            "https://cuic.xyz.com:8444",
            "https://wfm.example.com"
        ]
    );
    assert_eq!(
        list(&cuic, items::FRAME_ANCESTORS),
        [
            "https://finesse.xyz.com",
            "https://cuic.xyz.com:8444",
            "https://*.portal.example.com:*"
        ]
    );
    assert_eq!(
        cuic.get(items::CORS_MODE),
        Some(&State::Setting("enable".into()))
    );
    assert_eq!(
        finesse.get(items::CLIENT_AUTH),
        Some(&State::Setting("enabled".into()))
    );
}

#[test]
fn deleting_a_proxy_takes_its_origins_and_frame_entries_with_it() {
    let mut policy = pair();
    policy.proxies.remove(1);
    let cuic = desired(&policy, NodeKind::Cuic);
    assert!(!list(&cuic, items::CORS_ORIGINS).contains(&"https://cuic.xyz.com:8444".to_string()));
    assert!(!list(&cuic, items::FRAME_ANCESTORS).contains(&"https://cuic.xyz.com:8444".to_string()));
    let finesse = desired(&policy, NodeKind::Finesse);
    assert!(!list(&finesse, items::FRAME_ANCESTORS).contains(&"https://proxyb.xyz.com".to_string()));
}

#[test]
fn a_valid_policy_has_no_field_errors() {
    assert_eq!(validate(&pair()), FieldErrors::new());
    assert_eq!(validate(&AccessPolicy::default()), FieldErrors::new());
}

#[test]
fn hosts_are_names_or_address_literals() {
    for good in ["proxy.xyz.com", "10.78.95.178", "2001:db8::7", "::1"] {
        assert_eq!(host_entry(good), Ok(()), "{good}");
    }
    for (bad, says) in [
        ("", "enter the name or address"),
        (" proxy.xyz.com", "without spaces"),
        ("[2001:db8::7]", "without brackets"),
        ("10.78.95.300", "not an IPv4 address"),
        ("proxy", "not fully qualified"),
        ("proxy_a.xyz.com", "not allowed in a host name"),
    ] {
        let error = host_entry(bad).unwrap_err();
        assert!(error.contains(says), "{bad:?}: {error}");
    }
}

#[test]
fn origins_are_scheme_host_port_and_never_a_star() {
    for good in [
        "https://finesse.xyz.com",
        "http://crm.example.com:8080",
        "https://10.1.2.3:8445",
        "https://[2001:db8::7]:443",
    ] {
        assert_eq!(origin_entry(good), Ok(()), "{good}");
    }
    for (bad, says) in [
        ("*", "not a valid origin"),
        ("finesse.xyz.com", "scheme://host[:port]"),
        ("https://finesse.xyz.com/desktop", "no path"),
        ("https://finesse.xyz.com:0", "not a port"),
        ("https://finesse.xyz.com:99999", "not a port"),
        ("https://*.xyz.com", "not allowed in a host name"),
    ] {
        let error = origin_entry(bad).unwrap_err();
        assert!(error.contains(says), "{bad:?}: {error}");
    }
}

#[test]
fn frame_sources_are_https_with_stars_allowed_in_host_and_port() {
    for good in [
        "https://www.abc.com:8445",
        "https://*.abc.com",
        "https://*.abc.com:*",
        "https://10.0.0.1",
    ] {
        assert_eq!(frame_source(good), Ok(()), "{good}");
    }
    for bad in [
        "http://www.abc.com",
        "https://www.abc.com:port",
        "www.abc.com",
        "https://a b.com",
    ] {
        assert!(frame_source(bad).is_err(), "{bad}");
    }
}

#[test]
fn case_only_duplicates_and_unnamed_proxies_are_refused_with_their_field() {
    let mut policy = pair();
    policy.proxies[1].hosts.push("PROXYA.xyz.com".into());
    policy.proxies[1].name = "a".into();
    policy
        .cuic
        .extra_origins
        .push("https://WFM.example.com".into());
    policy
        .proxies
        .push(proxy("", &[], &["http://plain.xyz.com"]));
    let errors = validate(&policy);
    let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        [
            "cuic.extra_origins[1]",
            "proxies[1].hosts[1]",
            "proxies[1].name",
            "proxies[2].hosts",
            "proxies[2].name",
            "proxies[2].origins[0]",
        ]
    );
    assert!(errors["proxies[1].hosts[1]"][0].contains("listed twice"));
    assert!(errors["proxies[2].origins[0]"][0].contains("https://"));
}

#[test]
fn the_appliances_length_limits_hold_for_each_products_whole_list() {
    let mut policy = AccessPolicy::default();
    let long = |i: usize| format!("https://origin-{i:03}-{}.example.com", "x".repeat(40));
    policy.finesse.extra_origins = (0..70).map(long).collect();
    policy.cuic.extra_frame_ancestors = (0..40).map(long).collect();
    policy.livedata.extra_frame_ancestors = vec!["https://a.example.com".into()];
    let errors = validate(&policy);
    assert!(
        errors["finesse.origins"][0].contains("at most 4000"),
        "{errors:?}"
    );
    assert!(
        errors["cuic.frame_ancestors"][0].contains("at most 2000"),
        "{errors:?}"
    );
    assert!(errors["livedata.extra_frame_ancestors"][0].contains("no frame-ancestors"));
}

#[test]
fn the_diff_names_each_change_and_ignores_case() {
    let before = pair();
    let mut after = pair();
    after.proxies.remove(0);
    after.proxies[0].hosts.push("192.0.2.9".into());
    after.proxies[0].origins[0] = "HTTPS://FINESSE.xyz.com".into();
    after.client_auth = false;
    after.finesse.cors = CorsMode::Enable;
    after.cuic.extra_origins.clear();
    let lines: Vec<String> = diff(&before, &after)
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "- proxy: A",
            "+ proxy B host: 192.0.2.9",
            "~ client-auth: enabled → disabled",
            "~ Finesse CORS: enable_all → enable",
            "- CUIC extra origin: https://wfm.example.com",
        ]
    );
    assert!(diff(&before, &before).is_empty());
}

/// The browser plans with [`items::ITEMS`], the server drives [`drive::DRIVEN`]: one list of
/// the same items in the same order, or a plan shown would not be the plan run.
#[cfg(feature = "server")]
#[test]
fn the_driven_items_are_the_planned_items_in_the_same_order() {
    let planned: Vec<&str> = items::ITEMS.iter().map(|i| i.key()).collect();
    let driven: Vec<&str> = drive::DRIVEN.iter().map(|i| i.key()).collect();
    assert_eq!(planned, driven);
}

/// Issue 24, item 2: what is checked is what is stored and typed, so a line break, a tab or
/// a separator anywhere refuses the value (it was trimmed for the check and saved whole).
#[test]
fn origins_and_sources_with_a_line_break_or_space_anywhere_are_refused() {
    let bad = [
        "https://\na.example.com",
        "https://a.example.com\r",
        "https://\ta.example.com",
        "https://\u{2028}a.example.com",
        "https://a.example.com\n:443",
        " https://a.example.com",
        "https://a.example.com\u{85}",
        "https://a.exa\u{200b}mple.com",
    ];
    for value in bad {
        let mut policy = pair();
        policy.finesse.extra_origins = vec![value.into()];
        policy.finesse.extra_frame_ancestors = vec![value.into()];
        policy.proxies[0].origins = vec![value.into()];
        policy.proxies[0].hosts = vec![value.trim_start_matches("https://").into()];
        let errors = validate(&policy);
        for field in [
            "finesse.extra_origins[0]",
            "finesse.extra_frame_ancestors[0]",
            "proxies[0].origins[0]",
            "proxies[0].hosts[0]",
        ] {
            assert!(
                errors.contains_key(field),
                "{value:?} passed as {field}: {errors:?}"
            );
        }
        assert!(
            origin_entry(value).is_err() && frame_source(value).is_err(),
            "{value:?}"
        );
    }
    let message = origin_entry("https://a.example.com\n:443").unwrap_err();
    assert!(message.contains("line break"), "{message}");
}

#[test]
fn a_policy_is_stored_in_lower_case_with_short_ipv6_addresses() {
    let mut policy = pair();
    policy.proxies[0].hosts = vec!["ProxyA.XYZ.com".into(), "2001:DB8:0:0::1".into()];
    policy.cuic.extra_origins = vec!["HTTPS://WFM.Example.com:8444".into()];
    let stored = canonical(policy);
    assert_eq!(stored.proxies[0].hosts, ["proxya.xyz.com", "2001:db8::1"]);
    assert_eq!(stored.cuic.extra_origins, ["https://wfm.example.com:8444"]);
    assert!(validate(&stored).is_empty());
}

/// Issue 24, item 9: seeds 001 and 004 as warnings, not silence.
#[test]
fn a_proxy_without_origins_and_client_auth_without_proxies_are_warned_of() {
    let given = |mut policy: AccessPolicy| {
        for proxy in &mut policy.proxies {
            proxy.client_certificate =
                Some("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----".into());
        }
        policy
    };
    assert!(warnings(&given(pair())).is_empty());
    let mut bare = given(pair());
    bare.proxies[1].origins.clear();
    let said = warnings(&bare);
    assert!(
        said["proxies[1].origins"][0].contains("B serves no origin"),
        "{said:?}"
    );
    let alone = AccessPolicy::default();
    assert!(warnings(&alone)["client_auth"][0].contains("no proxy is trusted"));
    let off = AccessPolicy {
        client_auth: false,
        ..AccessPolicy::default()
    };
    assert!(warnings(&off).is_empty());
}

/// Issue 24, item 8: a proxy's certificate goes into every proxied component's tomcat-trust
/// when given; with client-auth on and none given, the policy warns.
#[test]
fn a_proxys_certificate_is_desired_in_every_proxied_components_tomcat_trust() {
    let pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----";
    let mut policy = pair();
    assert!(!desired(&policy, NodeKind::Finesse).contains_key(items::PROXY_TRUST));
    assert!(warnings(&policy).contains_key("proxies[0].client_certificate"));
    policy.proxies[0].client_certificate = Some(pem.into());
    for kind in [
        NodeKind::Finesse,
        NodeKind::Ids,
        NodeKind::Cuic,
        NodeKind::LiveData,
    ] {
        let wanted = desired(&policy, kind);
        let Some(State::Certificates(certificates)) = wanted.get(items::PROXY_TRUST) else {
            panic!("{kind:?}: no certificates desired: {wanted:?}");
        };
        assert_eq!(
            certificates,
            &[crate::reconcile::Trusted {
                // SHA-256 of the one byte 0x00.
                label: "A's client certificate (SHA-256 6e340b9cffb37a98…)".into(),
                der: vec![0],
            }],
            "{kind:?}"
        );
    }
    assert!(!warnings(&policy).contains_key("proxies[0].client_certificate"));
    policy.proxies[0].client_certificate = Some("not a certificate".into());
    assert!(validate(&policy).contains_key("proxies[0].client_certificate"));
}
