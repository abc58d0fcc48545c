//! The BroadWorks CTI driver against a simulated XSP over real SSH: contexts, the seed's
//! tables, changes answered `...Done`, a trust anchor copied by SCP then installed, and the CTI
//! listener reflecting each step (seed 003's checklist).

use certs::hello::{self, Reply};
use std::sync::Arc;
use tokio::sync::Semaphore;
use vos::driver::{Change, CtiSettings, Driver, DriverError};
use vos::ssh::{Dialect, Settings, Target, VosSsh};

const FLEET: &str = r#"
[[cluster]]
name = "BroadWorks"
[[cluster.node]]
fqdn = "xsp1.bw.sim.example.com"
kind = "broadworks"
password = "Adm1n!pass"
cti_ports = [0]
"#;

#[tokio::test]
async fn an_xsp_is_brought_from_its_install_to_the_seeds_checklist() {
    let spec: sim::fleet::FleetSpec = toml::from_str(FLEET).unwrap();
    let running = sim::start(sim::Fleet::new(spec, None).unwrap())
        .await
        .unwrap();
    let node = &running.nodes[0];
    let xsp = VosSsh::new(
        Target {
            host: node.ssh.ip().to_string(),
            port: node.ssh.port(),
            username: "admin".into(),
            password: "Adm1n!pass".into(),
        },
        None,
        Settings {
            dialect: Dialect::BroadWorks,
            ..Settings::default()
        },
        Arc::new(Semaphore::new(4)),
    );
    let cti = node.cti[0].port();
    let interfaces = xsp.cti_interfaces().await.unwrap();
    assert_eq!(interfaces.len(), 1);
    let ip = interfaces[0].ip.clone();
    assert!(
        !interfaces[0].client_auth_required,
        "a fresh install asks for no client certificate"
    );
    assert_eq!(
        xsp.cti_values(false).await.unwrap(),
        [(ip.clone(), "TLSv1.1".to_owned())]
    );
    // TLS 1.1 only, with the system's suites (all TLS 1.2's): the Webex cloud's hello finds
    // nothing in common.
    assert_eq!(
        super::hello_answer(cti, hello::TLS12, &[0xC02F, 0xC027, 0xC013]).await,
        Reply::Alert {
            level: 2,
            description: hello::HANDSHAKE_FAILURE
        }
    );

    xsp.apply(&Change::add_cti_protocol(&ip, "TLSv1.2").unwrap())
        .await
        .unwrap();
    let Reply::Accepted(flight) = super::hello_answer(cti, hello::TLS12, &[0xC027, 0xC02F]).await
    else {
        panic!("TLS 1.2 refused after it was added");
    };
    assert_eq!(
        (flight.version, flight.suite),
        (hello::TLS12, 0xC02F),
        "the system list's order"
    );
    assert!(!flight.client_certificate_requested);

    // The CLI takes IANA names only (seed 003).
    let refused = xsp
        .apply(&Change::add_cti_cipher(&ip, "ECDHE-RSA-AES128-GCM-SHA256").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, DriverError::Output(vos::Error::Rejected { .. })),
        "{refused:?}"
    );

    // A trust anchor: copied by SCP, then installed under its alias.
    let root = testkit::pki::Ca::new("Internal Private Root");
    xsp.apply(&Change::update_cti_trust("webexclientroot2023", &root.der()).unwrap())
        .await
        .unwrap();
    let anchors = xsp.cti_trusts().await.unwrap();
    assert_eq!(anchors.len(), 1);
    assert_eq!(anchors[0].alias, "webexclientroot2023");
    assert!(anchors[0].self_signed);
    assert!(
        Change::update_cti_trust("root;reboot", &root.der()).is_err(),
        "one word, no shell"
    );

    assert!(!xsp.allow_client_app().await.unwrap());
    xsp.apply(&Change::set_allow_client_app(true))
        .await
        .unwrap();
    assert!(xsp.allow_client_app().await.unwrap());

    xsp.apply(&Change::set_cti_client_auth(&ip, true).unwrap())
        .await
        .unwrap();
    let Reply::Accepted(flight) = super::hello_answer(cti, hello::TLS12, &[0xC02F]).await else {
        panic!("refused with client authentication on");
    };
    assert!(flight.client_certificate_requested, "mTLS required now");
    // An unknown context is the CLI's error, not a silent success.
    let error = xsp.client_identities().await.unwrap_err();
    assert!(
        matches!(error, DriverError::Output(vos::Error::Rejected { .. })),
        "{error:?}"
    );
}
