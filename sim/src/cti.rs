//! A BroadWorks node's CTI TLS listener (8012), reflecting its CLI settings: the interface's
//! protocols (none set: TLS 1.2), its cipher suites in its order (none set: seed 003's system
//! default list), whether a client certificate is required, and the trust anchors it is
//! checked against. A TLS 1.2 hello that settles on a suite rustls speaks is a real handshake
//! (mTLS against the anchors); any other accepted hello gets the server's first flight only
//! (`certs::hello`), enough for a probe; a refused one gets the alert a server would send.

use crate::broadworks::certs_der;
use crate::Fleet;
use certs::hello::{self, ClientHello};
use rustls::crypto::ring::cipher_suite as rs;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(crate) async fn serve(fleet: Arc<Fleet>, node: usize, listener: TcpListener) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        if fleet.faults(node).down {
            continue;
        }
        tokio::spawn(answer(fleet.clone(), node, tcp));
    }
}

/// What the interface accepts now.
struct Settings {
    versions: Vec<u16>,
    suites: Vec<u16>,
    client_auth: bool,
    anchors: Vec<Vec<u8>>,
}

fn settings(fleet: &Fleet, node: usize) -> Option<Settings> {
    fleet.read(node, |s| {
        let bw = &s.broadworks;
        let interface = bw.cti.first()?;
        let mut versions: Vec<u16> = bw
            .protocols
            .iter()
            .filter(|(ip, _)| *ip == interface.ip)
            .filter_map(|(_, p)| match p.as_str() {
                "TLSv1" => Some(hello::TLS10),
                "TLSv1.1" => Some(hello::TLS11),
                "TLSv1.2" => Some(hello::TLS12),
                "TLSv1.3" => Some(hello::TLS13),
                _ => None,
            })
            .collect();
        if versions.is_empty() {
            versions.push(hello::TLS12);
        }
        let mut suites: Vec<u16> = bw
            .ciphers
            .iter()
            .filter(|(ip, _)| *ip == interface.ip)
            .filter_map(|(_, name)| certs::suites::by_iana(name).map(|s| s.code))
            .collect();
        if suites.is_empty() {
            suites = certs::suites::BROADWORKS_DEFAULTS
                .iter()
                .filter_map(|n| certs::suites::by_iana(n).map(|s| s.code))
                .collect();
        }
        Some(Settings {
            versions,
            suites,
            client_auth: interface.client_auth_required,
            anchors: bw.trusts.iter().filter_map(|a| certs_der(&a.pem)).collect(),
        })
    })
}

/// The rustls suite for a code point this listener completes handshakes with (RSA keys).
fn rustls_suite(code: u16) -> Option<rustls::SupportedCipherSuite> {
    match code {
        0xC02F => Some(rs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
        0xC030 => Some(rs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
        0xCCA8 => Some(rs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
        _ => None,
    }
}

async fn answer(fleet: Arc<Fleet>, node: usize, mut tcp: TcpStream) {
    let (Some(settings), Some(hello)) = (
        settings(&fleet, node),
        crate::legacy::peek_hello(&tcp).await,
    ) else {
        return;
    };
    let Some(version) = settings
        .versions
        .iter()
        .copied()
        .filter(|v| *v <= hello.version.min(hello::TLS12))
        .max()
    else {
        let _ = tcp
            .write_all(&hello::alert(
                hello.version.min(hello::TLS12),
                hello::PROTOCOL_VERSION,
            ))
            .await;
        return;
    };
    let Some(suite) = choose(&settings, &hello, version) else {
        let _ = tcp
            .write_all(&hello::alert(version, hello::HANDSHAKE_FAILURE))
            .await;
        return;
    };
    if let (hello::TLS12, Some(rustls_suite)) = (version, rustls_suite(suite)) {
        if let Some(config) = config(&fleet, node, &settings, rustls_suite) {
            handshake(config, tcp).await;
            return;
        }
    }
    let chain: Vec<Vec<u8>> = fleet.served(node).cert.iter().map(|c| c.to_vec()).collect();
    let flight = hello::server_flight(version, suite, &chain, settings.client_auth, &[], [7; 32]);
    if tcp.write_all(&flight).await.is_ok() {
        let mut sink = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut sink)).await;
    }
}

/// The server's preference among the client's suites: the first of its list the client
/// offers that the version allows (below TLS 1.2 only the SHA-1 and MD5 suites: AEAD and
/// SHA-256/384 suites are TLS 1.2's).
fn choose(settings: &Settings, hello: &ClientHello, version: u16) -> Option<u16> {
    settings.suites.iter().copied().find(|code| {
        let old = certs::suites::by_code(*code)
            .is_some_and(|s| s.iana.ends_with("_SHA") || s.iana.ends_with("_MD5"));
        hello.suites.contains(code) && (version >= hello::TLS12 || old)
    })
}

/// A TLS 1.2 server with exactly `suite`, requiring a client certificate signed by one of
/// the trust anchors when client authentication is required (`None`: required but no anchor
/// to check it against; the first flight alone is answered then).
fn config(
    fleet: &Fleet,
    node: usize,
    settings: &Settings,
    suite: rustls::SupportedCipherSuite,
) -> Option<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: vec![suite],
        ..rustls::crypto::ring::default_provider()
    });
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .ok()?;
    let served = fleet.served(node);
    let builder = if settings.client_auth {
        let mut roots = rustls::RootCertStore::empty();
        for der in &settings.anchors {
            let _ = roots.add(rustls::pki_types::CertificateDer::from(der.clone()));
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .ok()?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    Some(Arc::new(
        builder.with_cert_resolver(Arc::new(Fixed(served))),
    ))
}

#[derive(Debug)]
struct Fixed(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Completes the handshake, then answers each line of CTI XML with an acknowledgement until
/// the client hangs up.
async fn handshake(config: Arc<rustls::ServerConfig>, tcp: TcpStream) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let Ok(Ok(mut tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
    else {
        return;
    };
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(30), tls.read(&mut buf)).await {
        if n == 0 || tls.write_all(b"<ack/>\n").await.is_err() {
            break;
        }
    }
}
