//! What a security posture reads and changes on a simulated Finesse node: the lowest TLS
//! version (and the legacy hellos its HTTPS port answers below 1.2), the gadget source check,
//! the HTTP redirect with HSTS, and the notification ports that open with their property.

use certs::hello::{self, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vos::driver::{Change, Driver, FinesseSettings};

const FLEET: &str = r#"
[[cluster]]
name = "Posture"
[[cluster.node]]
fqdn = "finesse1.posture.sim.example.com"
kind = "finesse"
role = "primary"
password = "Adm1n!pass"
https_ports = [0]
http_ports = [0]
insecure_ports = [0]
tls_min = "1.0"
"#;

#[tokio::test]
async fn the_lowest_tls_version_is_read_set_and_served() {
    let spec: sim::fleet::FleetSpec = toml::from_str(FLEET).unwrap();
    let running = sim::start(sim::Fleet::new(spec, None).unwrap())
        .await
        .unwrap();
    let node = super::driver(
        &running,
        "finesse1.posture.sim.example.com",
        "Adm1n!pass",
        None,
    );
    let https = running.nodes[0].https[0].port();
    assert_eq!(node.tls_min_version().await.unwrap(), "1.0");
    let Reply::Accepted(flight) = super::hello_answer(https, hello::TLS10, &[0xC013]).await else {
        panic!("TLS 1.0 refused below the minimum");
    };
    assert_eq!((flight.version, flight.suite), (hello::TLS10, 0xC013));
    assert!(!flight.chain.is_empty());
    assert!(
        flight.client_certificate_requested,
        "client-auth is on after install"
    );
    let Reply::Accepted(cbc) = super::hello_answer(https, hello::TLS12, &[0xC027]).await else {
        panic!("a CBC suite refused on a legacy node");
    };
    assert_eq!(cbc.suite, 0xC027);

    let changed = node
        .apply(&Change::set_tls_min_version("1.2").unwrap())
        .await
        .unwrap();
    assert!(
        changed.output.contains("The system will reboot"),
        "{}",
        changed.output
    );
    assert_eq!(node.tls_min_version().await.unwrap(), "1.2");
    assert_eq!(
        super::hello_answer(https, hello::TLS10, &[0xC013]).await,
        Reply::Alert {
            level: 2,
            description: hello::PROTOCOL_VERSION
        }
    );
    assert!(
        Change::set_tls_min_version("1.2; reboot").is_err(),
        "one word"
    );

    assert!(
        !node.gadget_source_check().await.unwrap(),
        "off on a fresh install"
    );
}

#[tokio::test]
async fn http_redirects_with_hsts_and_the_notification_ports_follow_their_property() {
    let spec: sim::fleet::FleetSpec = toml::from_str(FLEET).unwrap();
    let running = sim::start(sim::Fleet::new(spec, None).unwrap())
        .await
        .unwrap();
    let addr = &running.nodes[0];
    let mut tcp = tokio::net::TcpStream::connect(addr.http[0]).await.unwrap();
    tcp.write_all(b"GET /desktop/ HTTP/1.1\r\nHost: finesse1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 301"), "{answer}");
    let location = format!(
        "location: https://finesse1.posture.sim.example.com:{}/desktop/\r\n",
        addr.https[0].port()
    );
    assert!(answer.to_ascii_lowercase().contains(&location), "{answer}");
    let insecure = addr.insecure[0];
    assert!(
        tokio::net::TcpStream::connect(insecure).await.is_err(),
        "closed by default (seed 001)"
    );
    let node = super::driver(
        &running,
        "finesse1.posture.sim.example.com",
        "Adm1n!pass",
        None,
    );
    node.set_property("enableInsecureOpenfirePort", "true")
        .await
        .unwrap();
    let mut open = false;
    for _ in 0..30 {
        if tokio::net::TcpStream::connect(insecure).await.is_ok() {
            open = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(open, "opened with its property");
}
