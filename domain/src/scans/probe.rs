//! The live TLS probe: one real handshake to a node's endpoint, recording what the endpoint
//! serves, as a browser or a peer component would meet it.
//!
//! connect (to the management address, else the FQDN) → handshake with the FQDN as SNI,
//! accepting any certificate so that even a broken chain is recorded, and checking the server's
//! handshake signature with whatever key its leaf holds (a signature that does not verify is
//! recorded, not fatal: [`certs::tls::Observer`]) → afterwards, check the recorded chain for the
//! FQDN against the system roots and, when given, the cluster's own CAs.
//! Every failure carries a stable reason code (`bad_name`, `dns`, `refused`, `timeout`,
//! `unreachable`, `reset`, `not_tls`, `tls_alert:<name>`, `incompatible`, `protocol_error`,
//! `no_certificate`, `oversized`, `tls`, `io`; the scan adds `bad_certificate`) and a sentence
//! for people.

use certs::tls::TrustFailure;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{RootCertStore, SignatureScheme};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// What a successful handshake showed.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The served chain, leaf first, as DER.
    pub chain: Vec<Vec<u8>>,
    /// `TLSv1.2` or `TLSv1.3`.
    pub protocol: String,
    /// The IANA name, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    pub cipher_suite: String,
    pub alpn: Option<String>,
    /// Whether the server sent a CertificateRequest (asked for a client certificate).
    pub client_certificate_requested: bool,
    pub handshake_time: Duration,
    /// The chain verifies for the FQDN against the system's trusted roots; else why not.
    pub public_trust: Result<(), TrustFailure>,
    /// The same against the cluster's uploaded CAs (`None` when it has none).
    pub cluster_trust: Option<Result<(), TrustFailure>>,
    /// Why the server's handshake signature did not verify with the leaf's key, if it did not.
    pub signature_error: Option<String>,
}

/// Why a probe failed: a stable code for machines, a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeError {
    pub code: String,
    pub message: String,
}

impl ProbeError {
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// One endpoint to probe.
#[derive(Debug, Clone)]
pub struct Target {
    /// Sent as SNI and checked against the certificate.
    pub fqdn: String,
    /// Where to connect instead of resolving the FQDN.
    pub address: Option<String>,
    pub port: u16,
}

/// Shared, reusable probe settings: built once, used for every probe of a scan.
pub struct Prober {
    config: Arc<rustls::ClientConfig>,
    /// `None` when the machine has no trusted roots at all (no ca-certificates).
    public: Option<Arc<WebPkiServerVerifier>>,
    pub timeout: Duration,
}

/// Loads the machine's trusted roots (`/etc/ssl/certs` and friends); unreadable ones are skipped.
pub fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        tracing::warn!(%error, "reading the system's trusted roots");
    }
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    tracing::debug!(added, ignored, "system roots loaded");
    roots
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A verifier built over `roots`, or why it could not be built (no roots at all).
pub fn verifier(roots: RootCertStore) -> Result<Arc<WebPkiServerVerifier>, String> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| format!("no usable trust anchors: {e}"))
}

impl Prober {
    pub fn new(public_roots: RootCertStore, timeout: Duration) -> Result<Self, String> {
        let public = verifier(public_roots).ok();
        Ok(Self {
            config: Arc::new(client_config()?),
            public,
            timeout,
        })
    }

    /// Probes one endpoint; `cluster` is the verifier over the cluster's own CAs, if any.
    pub async fn probe(
        &self,
        target: &Target,
        cluster: Option<&WebPkiServerVerifier>,
    ) -> Result<Handshake, ProbeError> {
        let server_name = ServerName::try_from(target.fqdn.clone()).map_err(|_| {
            ProbeError::new("bad_name", format!("'{}' is not a host name", target.fqdn))
        })?;
        let deadline = Instant::now() + self.timeout;
        let left = || deadline.saturating_duration_since(Instant::now());
        let started = Instant::now();
        let (tcp, address) = connect(target, deadline).await?;

        let requested = Arc::new(RecordRequest(AtomicBool::new(false)));
        let observer = Arc::new(certs::tls::Observer::new(provider()));
        let mut config = (*self.config).clone();
        config.client_auth_cert_resolver = requested.clone();
        config
            .dangerous()
            .set_certificate_verifier(observer.clone());
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let stream = tokio::time::timeout(left(), connector.connect(server_name.clone(), tcp))
            .await
            .map_err(|_| {
                ProbeError::new(
                    "timeout",
                    format!(
                        "the TLS handshake with {address} did not finish within {:?}",
                        self.timeout
                    ),
                )
            })?
            .map_err(|e| handshake_error(&e))?;
        let handshake_time = started.elapsed();

        let (_, connection) = stream.get_ref();
        let chain: Vec<Vec<u8>> = connection
            .peer_certificates()
            .unwrap_or_default()
            .iter()
            .map(|c| c.as_ref().to_vec())
            .collect();
        if chain.is_empty() {
            return Err(ProbeError::new(
                "no_certificate",
                "the server sent no certificate",
            ));
        }
        let protocol = match connection.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
            other => format!("{other:?}"),
        };
        let cipher_suite = connection
            .negotiated_cipher_suite()
            .map(|s| iana_name(s.suite()))
            .unwrap_or_default();
        let alpn = connection
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let public_trust = match &self.public {
            Some(public) => verify(public, &chain, &server_name),
            None => Err(TrustFailure::NoRoots),
        };
        let cluster_trust = cluster.map(|v| verify(v, &chain, &server_name));
        Ok(Handshake {
            chain,
            protocol,
            cipher_suite,
            alpn,
            client_certificate_requested: requested.0.load(Ordering::Relaxed),
            handshake_time,
            public_trust,
            cluster_trust,
            signature_error: observer.signature_problem(),
        })
    }
}

/// Resolves the target (its address, else its FQDN) and connects, by `deadline`.
pub(crate) async fn connect(
    target: &Target,
    deadline: Instant,
) -> Result<(TcpStream, std::net::SocketAddr), ProbeError> {
    let host = target.address.as_deref().unwrap_or(&target.fqdn);
    let left = || deadline.saturating_duration_since(Instant::now());
    let timed_out = |what: String| ProbeError::new("timeout", what);
    let addresses = tokio::time::timeout(left(), tokio::net::lookup_host((host, target.port)))
        .await
        .map_err(|_| timed_out(format!("resolving {host} took too long")))?
        .map_err(|e| ProbeError::new("dns", format!("{host} does not resolve: {e}")))?
        .collect::<Vec<_>>();
    let Some(address) = addresses.first().copied() else {
        return Err(ProbeError::new(
            "dns",
            format!("{host} resolves to no address"),
        ));
    };
    let tcp = tokio::time::timeout(left(), TcpStream::connect(address))
        .await
        .map_err(|_| timed_out(format!("{address} did not accept a connection in time")))?
        .map_err(|e| connect_error(&e, address))?;
    let _ = tcp.set_nodelay(true);
    Ok((tcp, address))
}

/// The chain verifies for the name, now, against the verifier's anchors.
fn verify(
    verifier: &WebPkiServerVerifier,
    chain: &[Vec<u8>],
    name: &ServerName<'static>,
) -> Result<(), TrustFailure> {
    let end_entity = CertificateDer::from(chain[0].as_slice());
    let intermediates: Vec<CertificateDer<'_>> = chain[1..]
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    verifier
        .verify_server_cert(&end_entity, &intermediates, name, &[], UnixTime::now())
        .map(|_| ())
        .map_err(|e| TrustFailure::from(&e))
}

/// rustls names the TLS 1.3 suites `TLS13_*`; IANA names them `TLS_*`.
pub fn iana_name(suite: rustls::CipherSuite) -> String {
    let name = format!("{suite:?}");
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

fn connect_error(error: &std::io::Error, address: std::net::SocketAddr) -> ProbeError {
    use std::io::ErrorKind as K;
    match error.kind() {
        K::ConnectionRefused => ProbeError::new(
            "refused",
            format!("{address} refused the connection (nothing listens on that port)"),
        ),
        K::TimedOut => ProbeError::new("timeout", format!("connecting to {address} timed out")),
        K::HostUnreachable | K::NetworkUnreachable => {
            ProbeError::new("unreachable", format!("{address} is unreachable: {error}"))
        }
        _ => ProbeError::new("io", format!("connecting to {address}: {error}")),
    }
}

fn handshake_error(error: &std::io::Error) -> ProbeError {
    use std::io::ErrorKind as K;
    if let Some(tls) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        return match tls {
            rustls::Error::AlertReceived(alert) => {
                let name = snake_case(&format!("{alert:?}"));
                let hint = match name.as_str() {
                    "handshake_failure" | "insufficient_security" | "protocol_version" => {
                        " (no protocol version or cipher suite in common: Gatehouse offers TLS 1.2 and 1.3 with AEAD suites)"
                    }
                    "certificate_required" | "bad_certificate" => " (the server wants a client certificate)",
                    "unrecognised_name" => " (the server does not know this FQDN as SNI)",
                    _ => "",
                };
                ProbeError::new(&format!("tls_alert:{name}"), format!("the server refused the handshake: {name}{hint}"))
            }
            // An over-long *record* is what plain HTTP looks like ("HTTP" read as a length); an
            // over-long *handshake message* is an oversized certificate chain.
            rustls::Error::InvalidMessage(rustls::InvalidMessage::HandshakePayloadTooLarge) => {
                ProbeError::new("oversized", "the server's handshake is larger than TLS allows (an oversized certificate chain?)")
            }
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } | rustls::Error::InappropriateHandshakeMessage { .. } => {
                ProbeError::new("not_tls", format!("the endpoint does not speak TLS as expected (plain HTTP or another protocol?): {tls}"))
            }
            rustls::Error::NoCertificatesPresented => ProbeError::new("no_certificate", "the server sent no certificate"),
            rustls::Error::PeerIncompatible(why) => ProbeError::new(
                "incompatible",
                format!("the server and the console have nothing in common to agree on: {} (Gatehouse offers TLS 1.2 and 1.3 with AEAD suites)", words(&format!("{why:?}"))),
            ),
            rustls::Error::PeerMisbehaved(why) => ProbeError::new(
                "protocol_error",
                format!("the server broke the TLS protocol: {}", words(&format!("{why:?}"))),
            ),
            rustls::Error::DecryptError => ProbeError::new(
                "protocol_error",
                "the server's encrypted handshake could not be decrypted (a broken TLS stack or something rewriting the connection)",
            ),
            other => ProbeError::new("tls", format!("the TLS handshake failed: {other}")),
        };
    }
    match error.kind() {
        K::UnexpectedEof => ProbeError::new(
            "reset",
            "the server closed the connection during the handshake",
        ),
        K::ConnectionReset | K::BrokenPipe => ProbeError::new(
            "reset",
            format!("the server reset the connection during the handshake: {error}"),
        ),
        K::InvalidData => ProbeError::new(
            "not_tls",
            format!("the endpoint does not speak TLS (plain HTTP or another protocol?): {error}"),
        ),
        _ => ProbeError::new("io", format!("during the handshake: {error}")),
    }
}

/// `HandshakeFailure` → `handshake_failure`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `NoCipherSuitesInCommon` → `no cipher suites in common`; `Expired` → `expired`.
fn words(name: &str) -> String {
    snake_case(name.split(['(', ' ', '{']).next().unwrap_or(name)).replace('_', " ")
}

/// The TLS client every probe starts from (TLS 1.2 and 1.3, any certificate recorded, no
/// client certificate); also what the benchmark's bare handshake loop uses.
pub fn client_config() -> Result<rustls::ClientConfig, String> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .dangerous()
        // Any certificate is accepted during the handshake (the chain is judged afterwards, so
        // that a broken one is still recorded); each probe puts in its own observer, which
        // notes a handshake signature that does not verify.
        .with_custom_certificate_verifier(Arc::new(certs::tls::Observer::new(provider())))
        .with_no_client_auth();
    // Every probe is a full handshake: a resumed session shows no certificate, and rustls
    // would report the one remembered from an earlier handshake.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

/// Notes that the server asked for a client certificate, and offers none.
#[derive(Debug)]
struct RecordRequest(AtomicBool);

impl ResolvesClientCert for RecordRequest {
    fn resolve(
        &self,
        _hints: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.0.store(true, Ordering::Relaxed);
        None
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
