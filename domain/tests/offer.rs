//! The hello probe against `openssl s_server`, a TLS stack nobody here wrote: which versions it
//! accepts, the suite it chooses, whether it asks for a client certificate, and the chain it
//! sends, each learnt from one ClientHello and the server's first flight.

use certs::hello::{TLS10, TLS11, TLS12};
use domain::scans::offer::{legacy, offer, Answer};
use domain::scans::probe::Target;
use std::time::Duration;
use testkit::openssl::{s_server, scratch, self_signed};

const WAIT: Duration = Duration::from_secs(5);

fn target(port: u16) -> Target {
    Target {
        fqdn: "legacy.example.com".into(),
        address: Some("127.0.0.1".into()),
        port,
    }
}

fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[tokio::test]
async fn a_server_that_still_speaks_tls_1_0_is_found_out_and_its_chain_read() {
    let dir = scratch(env!("CARGO_TARGET_TMPDIR"), "offer-tls10");
    self_signed(&dir, "legacy.example.com");
    let server = s_server(&dir, &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    let found = legacy(&target(server.port), WAIT).await.unwrap();
    assert_eq!(found.protocols, ["TLSv1"], "only TLS 1.0: {found:?}");
    assert_eq!(found.weak_suite, None, "it refuses TLS 1.2 altogether");
    let Answer::Accepted(flight) = offer(&target(server.port), TLS10, &[0xC013, 0x002F], WAIT)
        .await
        .unwrap()
    else {
        panic!("TLS 1.0 refused");
    };
    assert_eq!(flight.version, TLS10);
    assert!(
        [0xC013, 0x002F].contains(&flight.suite),
        "{:04X}",
        flight.suite
    );
    let cert = std::fs::read_to_string(dir.join("cert.pem")).unwrap();
    assert_eq!(flight.chain, [pem_der(&cert)]);
    assert!(!flight.client_certificate_requested);
}

#[tokio::test]
async fn a_modern_server_refuses_old_versions_and_cbc_with_an_alert() {
    let dir = scratch(env!("CARGO_TARGET_TMPDIR"), "offer-modern");
    self_signed(&dir, "legacy.example.com");
    let server = s_server(
        &dir,
        &[
            "-no_tls1",
            "-no_tls1_1",
            "-cipher",
            "ECDHE+AESGCM",
            "-Verify",
            "1",
        ],
    );
    let found = legacy(&target(server.port), WAIT).await.unwrap();
    assert!(found.protocols.is_empty(), "{found:?}");
    assert_eq!(found.weak_suite, None);
    match offer(&target(server.port), TLS11, &[0xC013], WAIT)
        .await
        .unwrap()
    {
        Answer::Refused(why) => assert_eq!(why, "protocol_version"),
        other => panic!("TLS 1.1 accepted: {other:?}"),
    }
    // The suite it prefers among those offered, and the client certificate it requires.
    let Answer::Accepted(flight) = offer(&target(server.port), TLS12, &[0xC030, 0xC02F], WAIT)
        .await
        .unwrap()
    else {
        panic!("TLS 1.2 refused");
    };
    assert_eq!(flight.version, TLS12);
    assert!([0xC030, 0xC02F].contains(&flight.suite));
    assert!(flight.client_certificate_requested, "-Verify asks for one");
}

#[tokio::test]
async fn a_server_that_accepts_cbc_at_tls_1_2_is_named_with_the_suite_it_chose() {
    let dir = scratch(env!("CARGO_TARGET_TMPDIR"), "offer-cbc");
    self_signed(&dir, "legacy.example.com");
    let server = s_server(
        &dir,
        &["-no_tls1", "-no_tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
    );
    let found = legacy(&target(server.port), WAIT).await.unwrap();
    assert!(found.protocols.is_empty(), "{found:?}");
    let suite = found.weak_suite.expect("a CBC suite chosen");
    let named = certs::suites::by_iana(&suite).unwrap_or_else(|| panic!("{suite} has no name"));
    assert!(!named.aead, "{suite}");
    // Nothing listens: the question fails with the connection's reason.
    let closed = testkit::free_port();
    let error = legacy(&target(closed), WAIT).await.unwrap_err();
    assert_eq!(error.code, "refused");
}
