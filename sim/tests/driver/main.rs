//! The VOS driver (vos::ssh) against the simulator over real SSH: every operation parsed,
//! prompts answered by plan, state kept, faults reported as the errors they are.

use sim::fleet::{Faults, FleetSpec};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use vos::driver::{Command, Driver, DriverError, FinesseSettings, Product, Store, WebAccess};
use vos::ssh::{Settings, Target, VosSsh};

mod broadworks;
mod posture;
mod proxy_map;

const FLEET: &str = r#"
[hosts]
"proxy.xyz.com" = "127.0.0.1"

[[cluster]]
name = "Finesse A"

[[cluster.node]]
fqdn = "finesse1.sim.example.com"
kind = "finesse"
role = "primary"
password = "Adm1n!pass"
https_ports = [0]
restart_ms = 300
connected_users = { desktop = 1, fippa = 2, third_party = 3, proxy = 1 }

[[cluster.node]]
fqdn = "finesse2.sim.example.com"
kind = "finesse"
role = "secondary"
password = "Adm1n!pass"
https_ports = [0]
"#;

async fn fleet() -> sim::Running {
    let spec: FleetSpec = toml::from_str(FLEET).unwrap();
    spec.check().unwrap();
    sim::start(sim::Fleet::new(spec, None).unwrap())
        .await
        .unwrap()
}

fn driver(running: &sim::Running, fqdn: &str, password: &str, pinned: Option<String>) -> VosSsh {
    let node = running.node(fqdn).unwrap();
    VosSsh::new(
        Target {
            host: node.ssh.ip().to_string(),
            port: node.ssh.port(),
            username: "admin".into(),
            password: password.into(),
        },
        pinned,
        Settings::default(),
        Arc::new(Semaphore::new(8)),
    )
}

/// What a node's TLS port answers one ClientHello of `version` offering `suites` (its first
/// flight, or its alert), read in the clear.
async fn hello_answer(port: u16, version: u16, suites: &[u16]) -> certs::hello::Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let hello = certs::hello::client_hello(version, suites, None, [3; 32]);
    tcp.write_all(&hello).await.unwrap();
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let n = tcp.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed without an answer");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(reply) = certs::hello::parse_server_flight(&buf).unwrap() {
            return reply;
        }
    }
}

#[tokio::test]
async fn allowed_hosts_are_added_listed_refused_and_deleted_through_menus() {
    let running = fleet().await;
    let node = driver(&running, "finesse1.sim.example.com", "Adm1n!pass", None);

    assert_eq!(node.version().await.unwrap().active, "12.6.2.10000-32");
    assert_eq!(
        node.host_key().unwrap().fingerprint,
        running.nodes[0].host_key,
        "first use: the presented key is reported for pinning"
    );
    assert_eq!(node.allowed_hosts().await.unwrap(), Vec::<String>::new());
    let added = node.add_allowed_host("proxy.xyz.com").await.unwrap();
    assert_eq!(added.restart, vec!["Cisco Web Proxy Service"]);
    node.add_allowed_host("10.78.95.178").await.unwrap();
    match node.add_allowed_host("group.facebook").await {
        Err(DriverError::Output(vos::Error::Rejected { input, .. })) => {
            assert_eq!(input, "group.facebook")
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(
        node.allowed_hosts().await.unwrap(),
        ["proxy.xyz.com", "10.78.95.178"]
    );

    assert_eq!(
        node.frame_access(Product::Finesse).await.unwrap(),
        ["https://proxy.xyz.com", "https://10.78.95.178"],
        "Finesse adds a trusted host's frame-ancestors entry by itself (seed 004)"
    );

    // Planned at a number the menu no longer shows it under: nothing is deleted.
    assert!(matches!(
        node.delete_allowed_host("10.78.95.178", Some(1)).await,
        Err(DriverError::UnexpectedPrompt { .. })
    ));
    assert_eq!(node.allowed_hosts().await.unwrap().len(), 2);
    let deleted = node
        .delete_allowed_host("proxy.xyz.com", Some(1))
        .await
        .unwrap();
    assert!(
        deleted.output.contains("Delete operation successful"),
        "{deleted:?}"
    );
    assert_eq!(node.allowed_hosts().await.unwrap(), ["10.78.95.178"]);
    assert_eq!(
        node.frame_access(Product::Finesse).await.unwrap().len(),
        2,
        "the entry stays when the host goes: the admin deletes it (seed 004)"
    );
    // A source the menu does not offer: the driver quits the menu and says what was asked.
    match node.delete_allowed_host("nowhere.xyz.com", None).await {
        Err(DriverError::UnexpectedPrompt { raw }) => {
            assert!(raw.contains("1) 10.78.95.178"), "{raw}")
        }
        other => panic!("expected an unanswered menu, got {other:?}"),
    }
    assert_eq!(
        node.allowed_hosts().await.unwrap(),
        ["10.78.95.178"],
        "nothing deleted"
    );

    // The other node of the cluster has its own list.
    let other = driver(&running, "finesse2.sim.example.com", "Adm1n!pass", None);
    assert!(other.allowed_hosts().await.unwrap().is_empty());
}

#[tokio::test]
async fn client_auth_properties_frame_access_and_connected_users() {
    let running = fleet().await;
    let node = driver(&running, "finesse1.sim.example.com", "Adm1n!pass", None);
    assert!(
        node.client_auth().await.unwrap(),
        "enabled on a fresh node (seeds 001 and 004)"
    );
    let changed = node.set_client_auth(false).await.unwrap();
    assert_eq!(changed.restart, vec!["Cisco Web Proxy Service"]);
    assert!(!node.client_auth().await.unwrap());
    assert_eq!(
        node.property("trustAllCertificates").await.unwrap(),
        "false"
    );
    assert!(node
        .frame_access(Product::Finesse)
        .await
        .unwrap()
        .is_empty());
    node.run(Command::new(vos::cli!(
        "utils finesse frame_access_allowed_list add https://www.abc.com:8445,https://*.abc.com"
    )))
    .await
    .unwrap();
    assert_eq!(
        node.frame_access(Product::Finesse).await.unwrap(),
        ["https://www.abc.com:8445", "https://*.abc.com"]
    );
    let users = node.connected_users().await.unwrap();
    assert_eq!(
        (
            users.total,
            users.desktop,
            users.fippa,
            users.third_party,
            users.lan,
            users.proxy
        ),
        (6, 1, 2, 3, 5, 1)
    );
    assert_eq!(node.update_frequency().await.unwrap(), None);
}

#[tokio::test]
async fn certificate_stores_import_replicates_and_regen_shows_after_restart() {
    let running = fleet().await;
    let publisher = driver(&running, "finesse1.sim.example.com", "Adm1n!pass", None);
    let subscriber = driver(&running, "finesse2.sim.example.com", "Adm1n!pass", None);
    let own = publisher.cert_list(Store::Own).await.unwrap();
    assert_eq!(own[0].unit, "tomcat");
    assert_eq!(
        own[0].description,
        "Self-signed certificate generated by system"
    );
    let before = publisher.cert_pem(Store::Own, &own[0]).await.unwrap();
    assert!(before.starts_with("-----BEGIN CERTIFICATE-----"));
    let trust = subscriber.cert_list(Store::Trust).await.unwrap();
    assert!(
        trust
            .iter()
            .any(|c| c.file == "finesse1.sim.example.com.pem"),
        "the cluster's nodes trust each other"
    );

    // Import a CA into the publisher: the subscriber has it too.
    let ca = testkit::pki::Ca::new("Example Issuing CA");
    let ca_pem = ca.pem();
    publisher.import_trust("tomcat", &ca.der()).await.unwrap();
    let trust = subscriber.cert_list(Store::Trust).await.unwrap();
    let imported = trust
        .iter()
        .find(|c| c.file == "Example_Issuing_CA.pem")
        .expect("replicated");
    assert_eq!(
        subscriber.cert_pem(Store::Trust, imported).await.unwrap(),
        ca_pem.replace("\r\n", "\n")
    );

    // Regenerate: the store changes at once, the endpoint after the restart.
    let served = || async {
        let addr = running.node("finesse1.sim.example.com").unwrap().https[0];
        served_leaf(addr).await
    };
    let served_before = served().await;
    publisher
        .run(
            Command::new(vos::cli!("set cert regen tomcat"))
                .plan(|q| q.contains("(yes|no)?").then(|| vos::cli!("yes").into())),
        )
        .await
        .unwrap();
    let after = publisher.cert_pem(Store::Own, &own[0]).await.unwrap();
    assert_ne!(after, before);
    assert_eq!(
        served().await,
        served_before,
        "served until the web service restarts"
    );
    let (tx, rx) = std::sync::mpsc::channel();
    publisher
        .restart("Cisco Finesse Tomcat", Some(tx))
        .await
        .unwrap();
    let states: Vec<String> = rx
        .try_iter()
        .filter_map(|l| vos::parse_service_line(&l).map(|s| s.state))
        .collect();
    assert_eq!(states, ["STOPPING", "STARTING", "STARTED"]);
    assert_ne!(
        served().await,
        served_before,
        "the regenerated certificate is served"
    );
}

/// The DER of the leaf the endpoint serves.
async fn served_leaf(addr: std::net::SocketAddr) -> Vec<u8> {
    #[derive(Debug)]
    struct Any;
    impl rustls::client::danger::ServerCertVerifier for Any {
        fn verify_server_cert(
            &self,
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &[rustls::pki_types::CertificateDer<'_>],
            _: &rustls::pki_types::ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            rustls::crypto::ring::default_provider()
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(Any))
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("finesse1.sim.example.com").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test]
async fn faults_are_the_errors_they_are() {
    let running = fleet().await;
    let fqdn = "finesse1.sim.example.com";
    let index = running.fleet.index(fqdn).unwrap();

    let wrong = driver(&running, fqdn, "wrong", None);
    assert_eq!(
        wrong.version().await.unwrap_err(),
        DriverError::Authentication
    );

    let pin = running.nodes[index].host_key.clone();
    let node = driver(&running, fqdn, "Adm1n!pass", Some(pin.clone()));
    node.version().await.unwrap();

    // Dropped in the middle of a command: reported, and the next command reconnects.
    running
        .fleet
        .set_faults(
            index,
            Faults {
                drop_mid_command: true,
                ..Faults::default()
            },
        )
        .unwrap();
    assert!(matches!(
        node.allowed_hosts().await,
        Err(DriverError::Dropped { .. })
    ));
    running.fleet.set_faults(index, Faults::default()).unwrap();
    node.allowed_hosts().await.unwrap();

    // Too slow: a timeout, not a hang.
    running
        .fleet
        .set_faults(
            index,
            Faults {
                latency_ms: 1500,
                ..Faults::default()
            },
        )
        .unwrap();
    let slow = node
        .run(Command::new(vos::cli!("show version active")).timeout(Duration::from_millis(300)))
        .await;
    assert!(matches!(slow, Err(DriverError::Timeout { .. })), "{slow:?}");
    running.fleet.set_faults(index, Faults::default()).unwrap();

    // A new host key: nothing is sent until it is accepted.
    running
        .fleet
        .set_faults(
            index,
            Faults {
                host_key_changed: true,
                ..Faults::default()
            },
        )
        .unwrap();
    let fresh = driver(&running, fqdn, "Adm1n!pass", Some(pin.clone()));
    match fresh.version().await {
        Err(DriverError::HostKeyChanged { pinned, presented }) => {
            assert_eq!(pinned, pin);
            assert_ne!(presented, pin);
            assert_eq!(fresh.host_key().unwrap().fingerprint, presented);
        }
        other => panic!("expected a changed host key, got {other:?}"),
    }

    // Down: a connection error.
    running
        .fleet
        .set_faults(
            index,
            Faults {
                down: true,
                ..Faults::default()
            },
        )
        .unwrap();
    let down = driver(&running, fqdn, "Adm1n!pass", None);
    assert!(matches!(
        down.version().await,
        Err(DriverError::Connect(_) | DriverError::Session(_))
    ));
}

#[tokio::test]
async fn cors_frames_properties_services_regen_and_csr() {
    let running = fleet().await;
    let node = driver(&running, "finesse1.sim.example.com", "Adm1n!pass", None);

    assert_eq!(
        node.cors(Product::Finesse).await.unwrap(),
        vos::CorsMode::EnableAll,
        "a fresh install"
    );
    node.set_cors(Product::Finesse, vos::CorsMode::Enable)
        .await
        .unwrap();
    assert_eq!(
        node.cors(Product::Finesse).await.unwrap(),
        vos::CorsMode::Enable
    );
    match node.add_allowed_origins(Product::Finesse, &["*"]).await {
        Err(DriverError::Output(vos::Error::Rejected { input, .. })) => assert_eq!(input, "*"),
        other => panic!("* must be refused, got {other:?}"),
    }
    node.add_allowed_origins(
        Product::Finesse,
        &["https://crm.example.com", "https://wfm.example.com"],
    )
    .await
    .unwrap();
    node.delete_allowed_origin(Product::Finesse, "https://crm.example.com", None)
        .await
        .unwrap();
    assert_eq!(
        node.allowed_origins(Product::Finesse).await.unwrap(),
        ["https://wfm.example.com"]
    );
    assert!(
        matches!(
            node.cors(Product::Cuic).await,
            Err(DriverError::Output(vos::Error::Unexpected { .. }))
        ),
        "no CUIC on a Finesse node"
    );

    let changed = node
        .add_frame_sources(Product::Finesse, &["https://portal.example.com:8445"])
        .await
        .unwrap();
    assert_eq!(
        changed.restart,
        ["Cisco Finesse Tomcat", "Cisco Finesse Notification Service"]
    );
    node.delete_frame_source(Product::Finesse, "https://portal.example.com:8445", None)
        .await
        .unwrap();
    assert!(node
        .frame_access(Product::Finesse)
        .await
        .unwrap()
        .is_empty());

    node.set_property("trustAllCertificates", "true")
        .await
        .unwrap();
    assert_eq!(node.property("trustAllCertificates").await.unwrap(), "true");
    assert!(
        node.https_redirect().await.unwrap(),
        "HTTPS access on by default (seed 002)"
    );

    let services = node.services().await.unwrap();
    assert!(services
        .iter()
        .any(|s| s.service == "Cisco Finesse Tomcat" && s.state == "STARTED"));

    let before = node.cert_list(Store::Own).await.unwrap();
    let old = node.cert_pem(Store::Own, &before[0]).await.unwrap();
    node.regenerate("tomcat").await.unwrap();
    assert_ne!(node.cert_pem(Store::Own, &before[0]).await.unwrap(), old);
    let csr = node.generate_csr("tomcat").await.unwrap();
    assert!(
        csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----"),
        "{csr}"
    );
}

#[tokio::test]
async fn unexpected_language_and_huge_output_are_errors_not_hangs() {
    let running = fleet().await;
    let index = running.fleet.index("finesse1.sim.example.com").unwrap();
    let node = driver(&running, "finesse1.sim.example.com", "Adm1n!pass", None);
    node.version().await.unwrap();

    running
        .fleet
        .set_faults(
            index,
            Faults {
                garbled: true,
                ..Faults::default()
            },
        )
        .unwrap();
    match node.allowed_hosts().await {
        Err(DriverError::Output(vos::Error::Unexpected { raw })) => {
            assert!(raw.contains("Befehl nicht erkannt"), "{raw}")
        }
        other => panic!("expected unexpected output, got {other:?}"),
    }
    match node.add_allowed_host("10.1.1.1").await {
        Err(DriverError::Output(vos::Error::Unexpected { .. })) => {}
        other => panic!("an add answered otherwise is not a success: {other:?}"),
    }

    // 1 MiB before the answer: read whole, then judged (here: still the right answer).
    running
        .fleet
        .set_faults(
            index,
            Faults {
                huge_output_kb: 1024,
                ..Faults::default()
            },
        )
        .unwrap();
    match node.allowed_hosts().await {
        Err(DriverError::Output(vos::Error::Unexpected { raw })) => {
            assert!(raw.len() > 1024 * 1024)
        }
        other => panic!("1 MiB of noise is not a source list: {other:?}"),
    }
    running.fleet.set_faults(index, Faults::default()).unwrap();
    // The session is usable afterwards, and shows what the unconfirmed add did: the node did
    // add the host, which is why an answer the driver cannot read is never taken as either.
    assert_eq!(node.allowed_hosts().await.unwrap(), ["10.1.1.1"]);
}
