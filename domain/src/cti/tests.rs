use super::*;

/// A fresh XSP as the simulator installs it: a secure interface without client
/// authentication, TLS 1.1 only, no anchors.
fn fresh() -> CtiRead {
    CtiRead {
        interfaces: vec![CtiInterface {
            ip: "10.155.6.175".into(),
            port: 8012,
            secure: true,
            server_certificate: true,
            client_auth_required: false,
        }],
        protocols: vec![("10.155.6.175".into(), "TLSv1.1".into())],
        ciphers: Vec::new(),
        trusts: Vec::new(),
        allow_client_app: Some(false),
        client_identities: None,
    }
}

fn open(read: &CtiRead) -> Vec<String> {
    checklist(read)
        .into_iter()
        .filter(|s| !s.done)
        .map(|s| s.key)
        .collect()
}

#[test]
fn a_fresh_xsp_misses_every_step_but_the_default_ciphers() {
    assert_eq!(
        open(&fresh()),
        [
            "cti_interface",
            "tls12",
            "trust_anchors",
            "allow_client_app"
        ]
    );
    let steps = checklist(&fresh());
    let tls = steps.iter().find(|s| s.key == "tls12").unwrap();
    assert_eq!(
        tls.command.as_deref(),
        Some("XSP|ADP_CLI/Interface/CTI/CTIServer/SSLSettings/Protocols> add 10.155.6.175 TLSv1.2")
    );
    assert!(tls.sentence.contains("does not negotiate earlier versions"));
    let ciphers = steps
        .iter()
        .find(|s| s.key == "recommended_cipher")
        .unwrap();
    assert!(ciphers.done && ciphers.command.is_none(), "{ciphers:?}");
}

#[test]
fn the_checklist_holds_once_every_step_is_done() {
    let mut read = fresh();
    read.interfaces[0].client_auth_required = true;
    read.protocols
        .push(("10.155.6.175".into(), "TLSv1.2".into()));
    read.ciphers = vec![(
        "10.155.6.175".into(),
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256".into(),
    )];
    assert_eq!(
        open(&read),
        ["recommended_cipher", "trust_anchors", "allow_client_app"],
        "CBC only is no recommended suite"
    );
    read.ciphers.push((
        "10.155.6.175".into(),
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305".into(),
    ));
    let anchor = |alias: &str, self_signed| TrustAnchor {
        alias: alias.into(),
        owner: "Internal Private Root".into(),
        issuer: "Internal Private Root".into(),
        self_signed,
    };
    read.trusts = vec![
        anchor("webexclientissuing2023", false),
        anchor("webexclientissuing2023", true),
    ];
    assert_eq!(
        open(&read),
        ["trust_anchors", "allow_client_app"],
        "aliases must differ"
    );
    read.trusts[1].alias = "webexclientroot2023".into();
    read.allow_client_app = Some(true);
    assert!(open(&read).is_empty(), "{:?}", checklist(&read));
}

#[test]
fn an_application_server_has_only_the_client_identity_step() {
    let read = CtiRead {
        client_identities: Some(vec!["other.example.com".into()]),
        ..CtiRead::default()
    };
    let steps = checklist(&read);
    assert_eq!(steps.len(), 1);
    assert!(!steps[0].done);
    assert_eq!(
        steps[0].command.as_deref(),
        Some("AS_CLI/System/ClientIdentity> add bwcticlient.webex.com")
    );
    let done = CtiRead {
        client_identities: Some(vec!["BWCTIclient.webex.com".into()]),
        ..CtiRead::default()
    };
    assert!(checklist(&done)[0].done);
}

#[test]
fn the_probe_finds_what_the_webex_cloud_would_meet() {
    let negotiated = |protocol: &str, mtls, complete| Negotiated {
        protocol: protocol.into(),
        iana: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
        openssl: "ECDHE-RSA-AES128-GCM-SHA256".into(),
        client_certificate_requested: mtls,
        chain_complete: complete,
    };
    let rules = |probe: &CtiProbe| -> Vec<String> {
        probe_findings(probe).into_iter().map(|f| f.rule).collect()
    };
    let refused = CtiProbe {
        port: 8012,
        tls12: Err("handshake_failure".into()),
        recommended: None,
    };
    assert_eq!(rules(&refused), ["tls12_refused"]);
    let fallen = CtiProbe {
        port: 8012,
        tls12: Ok(negotiated("TLSv1.1", true, true)),
        recommended: None,
    };
    assert_eq!(rules(&fallen), ["tls12_refused"]);
    let open = CtiProbe {
        port: 8012,
        tls12: Ok(negotiated("TLSv1.2", false, false)),
        recommended: None,
    };
    assert_eq!(
        rules(&open),
        [
            "client_auth_not_required",
            "chain_incomplete",
            "no_recommended_suite"
        ]
    );
    let good = CtiProbe {
        port: 8012,
        tls12: Ok(negotiated("TLSv1.2", true, true)),
        recommended: Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()),
    };
    assert!(rules(&good).is_empty());
}
