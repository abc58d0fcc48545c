//! The TLS probe against real TLS servers on loopback (rustls, certificates made by rcgen), and
//! against endpoints that fail in each of the ways the reason codes name.

use domain::scans::probe::{Prober, Target};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use testkit::pki::Ca;
use testkit::tls::{provider, server_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A CA and its leaf for `names`: the chain the server sends (leaf, CA) and its key.
fn issued(ca: &Ca, names: &[&str]) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let leaf = ca.leaf(names);
    (vec![leaf.der.clone(), ca.der()], leaf.key())
}

/// A TLS server on loopback that completes handshakes until the test ends.
async fn tls_server(config: rustls::ServerConfig) -> u16 {
    testkit::tls::serve_config(config, Arc::new(AtomicBool::new(true))).await
}

fn target(fqdn: &str, port: u16) -> Target {
    Target {
        fqdn: fqdn.into(),
        address: Some("127.0.0.1".into()),
        port,
    }
}

fn prober() -> Prober {
    Prober::new(domain::scans::probe::system_roots(), Duration::from_secs(2)).unwrap()
}

#[tokio::test]
async fn a_handshake_records_the_chain_protocol_cipher_and_trust() {
    let pki = Ca::new("Contact Center Test CA");
    let (chain, key) = issued(&pki, &["finesse1.example.com"]);
    let port = tls_server(server_config(chain.clone(), key)).await;
    let cluster = domain::scans::probe::verifier(pki.roots()).unwrap();

    let done = prober()
        .probe(&target("finesse1.example.com", port), Some(&cluster))
        .await
        .unwrap();
    assert_eq!(done.chain.len(), 2);
    assert_eq!(done.chain[0], chain[0].as_ref());
    assert_eq!(done.protocol, "TLSv1.3");
    assert!(
        done.cipher_suite.starts_with("TLS_AES_") || done.cipher_suite.starts_with("TLS_CHACHA20"),
        "{}",
        done.cipher_suite
    );
    assert_eq!(done.alpn, None);
    assert!(!done.client_certificate_requested);
    assert!(
        done.public_trust.is_err(),
        "a private CA is not publicly trusted"
    );
    assert_eq!(done.cluster_trust, Some(Ok(())));
}

/// Serves whichever certificate it holds now, as an appliance does after `set cert regen`.
#[derive(Debug)]
struct Swappable(std::sync::Mutex<Arc<rustls::sign::CertifiedKey>>);

impl Swappable {
    fn set(&self, (chain, key): (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)) {
        let certified = rustls::sign::CertifiedKey::from_der(chain, key, &provider()).unwrap();
        *self.0.lock().unwrap() = Arc::new(certified);
    }
}

impl rustls::server::ResolvesServerCert for Swappable {
    fn resolve(
        &self,
        _: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.lock().unwrap().clone())
    }
}

#[tokio::test]
async fn every_probe_is_a_full_handshake_so_a_replaced_certificate_is_seen() {
    // A resumed TLS session would report the chain of the first handshake, not what the
    // server serves now.
    let pki = Ca::new("Contact Center Test CA");
    let (first, key) = issued(&pki, &["finesse1.example.com"]);
    let certified = rustls::sign::CertifiedKey::from_der(first.clone(), key, &provider()).unwrap();
    let resolver = Arc::new(Swappable(std::sync::Mutex::new(Arc::new(certified))));
    // TLS 1.2: the client caches the session at the end of the handshake (1.3 tickets come
    // later, after the probe has stopped reading).
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(resolver.clone());
    let port = tls_server(config).await;
    let prober = prober();
    let target = target("finesse1.example.com", port);

    let before = prober.probe(&target, None).await.unwrap();
    assert_eq!(before.chain[0], first[0].as_ref());
    let (second, key) = issued(&pki, &["finesse1.example.com"]);
    resolver.set((second.clone(), key));
    let after = prober.probe(&target, None).await.unwrap();
    assert_eq!(after.chain[0], second[0].as_ref(), "the new certificate");
}

#[tokio::test]
async fn the_fqdn_is_checked_against_the_certificate() {
    let pki = Ca::new("Contact Center Test CA");
    let (chain, key) = issued(&pki, &["other.example.com"]);
    let port = tls_server(server_config(chain, key)).await;
    let cluster = domain::scans::probe::verifier(pki.roots()).unwrap();
    let done = prober()
        .probe(&target("finesse1.example.com", port), Some(&cluster))
        .await
        .unwrap();
    let error = done.cluster_trust.unwrap().unwrap_err();
    assert_eq!(error, certs::tls::TrustFailure::NotValidForName);
}

#[tokio::test]
async fn tls12_only_servers_are_recorded_with_their_suite() {
    let pki = Ca::new("Contact Center Test CA");
    let (chain, key) = issued(&pki, &["xsp.example.com"]);
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let port = tls_server(config).await;
    let done = prober()
        .probe(&target("xsp.example.com", port), None)
        .await
        .unwrap();
    assert_eq!(done.protocol, "TLSv1.2");
    assert!(
        done.cipher_suite.starts_with("TLS_ECDHE_"),
        "{}",
        done.cipher_suite
    );
    assert_eq!(done.cluster_trust, None);
}

#[tokio::test]
async fn a_request_for_a_client_certificate_is_noticed() {
    let pki = Ca::new("Contact Center Test CA");
    let (chain, key) = issued(&pki, &["xsp.example.com"]);
    let client_verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(pki.roots()),
        provider(),
    )
    .allow_unauthenticated()
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(client_verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let port = tls_server(config).await;
    let done = prober()
        .probe(&target("xsp.example.com", port), None)
        .await
        .unwrap();
    assert!(done.client_certificate_requested);
}

async fn plain_server(answer: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = tcp.read(&mut [0u8; 512]).await;
                let _ = tcp.write_all(answer).await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn failures_carry_stable_reason_codes() {
    let probe = prober();
    let code = |r: Result<domain::scans::probe::Handshake, domain::scans::probe::ProbeError>| {
        r.unwrap_err().code
    };

    let http = plain_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
    assert_eq!(
        code(probe.probe(&target("web.example.com", http), None).await),
        "not_tls"
    );

    // A handshake record holding an empty ServerHello: TLS-shaped, but garbage.
    let garbage = plain_server(&[0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]).await;
    assert_eq!(
        code(probe.probe(&target("web.example.com", garbage), None).await),
        "not_tls"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert_eq!(
        code(probe.probe(&target("web.example.com", closed), None).await),
        "refused"
    );

    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let fast = Prober::new(rustls::RootCertStore::empty(), Duration::from_millis(300)).unwrap();
    assert_eq!(
        code(
            fast.probe(&target("web.example.com", silent_port), None)
                .await
        ),
        "timeout"
    );
    drop(silent);

    let nowhere = Target {
        fqdn: "nowhere.invalid".into(),
        address: None,
        port: 443,
    };
    assert_eq!(code(probe.probe(&nowhere, None).await), "dns");
}

#[tokio::test]
async fn an_oversized_chain_is_a_clear_failure_not_a_hang() {
    let pki = Ca::new("Contact Center Test CA");
    let (mut chain, key) = issued(&pki, &["big.example.com"]);
    let padding = chain[1].clone();
    chain.extend(std::iter::repeat_n(padding, 400));
    let port = tls_server(server_config(chain, key)).await;
    let error = prober()
        .probe(&target("big.example.com", port), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, "oversized", "{error}");
}
