use super::rules::*;
use super::*;

fn finesse() -> Observed {
    Observed {
        node_id: 7,
        fqdn: "finesse1.example.com".into(),
        kind: "finesse".into(),
        ..Observed::default()
    }
}

fn with(settings: &[(&str, &str)]) -> Observed {
    let mut node = finesse();
    for (k, v) in settings {
        node.settings.insert((*k).into(), (*v).into());
    }
    node
}

fn rules(node: &Observed) -> Vec<String> {
    judge(node, 3).into_iter().map(|f| f.rule).collect()
}

#[test]
fn a_fresh_finesse_install_has_only_the_findings_of_its_defaults() {
    // Seed 001: SystemInfo is open on the LAN by default; CORS is enable_all; the gadget
    // allow list is off; client-auth is on.
    let node = with(&[
        (TRUST_ALL, "false"),
        (SECURE_SYSTEM_INFO, "false"),
        (INSECURE_OPENFIRE, "false"),
        (HTTPS_REDIRECT, "enabled"),
        (GADGET_CHECK, "disabled"),
        (CLIENT_AUTH, "enabled"),
        (CORS_MODE, "enable_all"),
        (TLS_MIN, "1.2"),
    ]);
    assert_eq!(
        rules(&node),
        [
            "system_info_unauthenticated",
            "cors_allows_all",
            "gadget_source_check_off"
        ]
    );
}

#[test]
fn trusting_every_certificate_is_high_and_planned_back() {
    let found = judge(&with(&[(TRUST_ALL, "true")]), 3);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::High);
    assert_eq!(
        found[0].fix,
        Fix::Plan {
            item: TRUST_ALL.into(),
            to: "false".into()
        }
    );
    assert!(found[0].sentence.contains("trustAllCertificates true"));
    assert_eq!(found[0].source, "seed 001 (Finesse: Manage Security)");
}

#[test]
fn open_notification_ports_are_found_by_the_property_or_by_the_probe() {
    assert_eq!(
        rules(&with(&[(INSECURE_OPENFIRE, "true")])),
        ["insecure_notification_ports"]
    );
    let mut probed = finesse();
    probed.open_insecure = vec![(5222, "XMPP".into())];
    let found = judge(&probed, 3);
    assert_eq!(found[0].rule, "insecure_notification_ports");
    assert!(found[0].observed.contains("port 5222 (XMPP)"));
}

#[test]
fn http_must_redirect_to_https_and_the_desktop_send_hsts() {
    let mut node = finesse();
    node.http = vec![
        Http {
            port: 80,
            status: 301,
            location: Some("https://FINESSE1.example.com:8445/desktop/".into()),
        },
        Http {
            port: 8082,
            status: 200,
            location: None,
        },
    ];
    node.hsts = Some((8445, "max-age=31536000; includeSubDomains".into()));
    let found = judge(&node, 3);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].rule.as_str(), found[0].port),
        ("http_not_redirected", Some(8082))
    );
    // A redirect to plain HTTP is no redirect to HTTPS.
    node.http = vec![Http {
        port: 80,
        status: 302,
        location: Some("http://elsewhere/".into()),
    }];
    node.hsts = Some((8445, String::new()));
    assert_eq!(rules(&node), ["http_not_redirected", "hsts_missing"]);
    node.hsts = Some((8445, "Max-Age=0; includeSubDomains".into()));
    assert!(rules(&node).contains(&"hsts_missing".to_owned()));
    node.hsts = Some((8445, "includeSubDomains; MAX-AGE=\"600\"".into()));
    assert!(!rules(&node).contains(&"hsts_missing".to_owned()));
    // A redirect to another host, or a 304, is no redirect to this node's HTTPS.
    for (status, location) in [
        (301, "https://elsewhere.example.com/"),
        (304, "https://finesse1.example.com/"),
    ] {
        node.http = vec![Http {
            port: 80,
            status,
            location: Some(location.into()),
        }];
        assert!(
            rules(&node).contains(&"http_not_redirected".to_owned()),
            "{status} {location}"
        );
    }
    // Disabled without an HTTP port to look at: still found from the setting.
    assert_eq!(
        rules(&with(&[(HTTPS_REDIRECT, "disabled")])),
        ["http_not_redirected"]
    );
}

#[test]
fn client_auth_must_match_whether_a_proxy_is_trusted() {
    let mut node = with(&[(CLIENT_AUTH, "disabled")]);
    node.allowed_hosts = Some(vec!["proxy.example.com".into()]);
    let found = judge(&node, 3);
    assert_eq!(found[0].rule, "client_auth_off_with_proxy");
    assert_eq!(found[0].severity, Severity::High);
    assert!(matches!(&found[0].fix, Fix::Page { href, .. } if href == "/clusters/3/access"));
    let mut node = with(&[(CLIENT_AUTH, "enabled")]);
    node.allowed_hosts = Some(Vec::new());
    assert_eq!(rules(&node), ["client_auth_on_without_proxy"]);
    // Not read: no verdict either way.
    assert!(rules(&with(&[(CLIENT_AUTH, "enabled")])).is_empty());
    node.allowed_hosts = Some(vec!["p".into()]);
    assert!(rules(&node).is_empty());
}

#[test]
fn old_protocols_and_suites_without_aead_are_found_per_endpoint() {
    let mut node = with(&[(TLS_MIN, "1.0")]);
    node.tls = vec![
        Tls {
            port: 8445,
            legacy_protocols: vec!["TLSv1".into(), "TLSv1.1".into()],
            weak_suite: Some("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256".into()),
        },
        Tls {
            port: 7443,
            legacy_protocols: Vec::new(),
            weak_suite: None,
        },
    ];
    let found = judge(&node, 3);
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].rule.as_str(), found[0].port),
        ("legacy_tls", Some(8445))
    );
    assert!(found[0].observed.contains("TLSv1 and TLSv1.1"));
    assert_eq!(
        found[0].fix,
        Fix::Plan {
            item: TLS_MIN.into(),
            to: "1.2".into()
        }
    );
    assert_eq!(found[1].rule, "weak_cipher_suite");
    // Where the minimum version could not be read, the fix is the command; where it is set
    // already (a reboot pending), planning it again would change nothing (or lower 1.3).
    node.settings.clear();
    assert!(matches!(judge(&node, 3)[0].fix, Fix::Command { .. }));
    node.settings.insert(TLS_MIN.into(), "1.3".into());
    assert!(
        matches!(&judge(&node, 3)[0].fix, Fix::Command { command } if command.contains("reboot"))
    );
}

#[test]
fn the_score_weighs_each_severity_and_never_goes_below_zero() {
    let finding = |severity| Finding {
        rule: "r".into(),
        severity,
        node_id: 1,
        node: "n".into(),
        port: None,
        title: String::new(),
        observed: String::new(),
        source: String::new(),
        sentence: String::new(),
        fix: Fix::Command {
            command: String::new(),
        },
        advice: None,
    };
    assert_eq!(score(&[]), (100, Grade::A));
    assert_eq!(score(&[finding(Severity::Low)]), (99, Grade::A));
    assert_eq!(
        score(&[finding(Severity::High), finding(Severity::Medium)]),
        (86, Grade::B)
    );
    assert_eq!(score(&vec![finding(Severity::Critical); 2]), (60, Grade::C));
    assert_eq!(score(&vec![finding(Severity::Critical); 9]), (0, Grade::D));
}
