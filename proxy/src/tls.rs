//! TLS on both sides: what clients are served (TLS 1.2 and 1.3, ECDHE with AES-GCM only, the
//! certificate chosen by SNI among the routes' names, no session tickets) and how upstreams are
//! met (their chain verified against the cluster's trust, the engine's client certificate shown).

use proxyconf::{KeyPair, Problem};
use rustls::crypto::{ring as provider, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::{ClientHello, ResolvesServerCert, ServerSessionMemoryCache};
use rustls::sign::CertifiedKey;
use std::collections::HashSet;
use std::sync::Arc;

/// The suites the installer allows (`ECDHE ... AES-GCM`), TLS 1.3's AES-GCM ones beside them.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    use provider::cipher_suite as s;
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            s::TLS13_AES_256_GCM_SHA384,
            s::TLS13_AES_128_GCM_SHA256,
            s::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            s::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            s::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            s::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        ..provider::default_provider()
    })
}

/// A certificate chain and its key read from the engine's host.
pub(crate) struct Loaded {
    pub key: Arc<CertifiedKey>,
    /// The chain as PEM (what the console is told the engine serves).
    pub pem: String,
}

pub(crate) fn load_pair(pair: &KeyPair, at: &str) -> Result<Loaded, Problem> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&pair.certificate)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            Problem::new(
                format!("{at}.certificate"),
                format!("{}: {e}", pair.certificate),
            )
        })?;
    if chain.is_empty() {
        return Err(Problem::new(
            format!("{at}.certificate"),
            format!("{}: no certificate in it", pair.certificate),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&pair.key)
        .map_err(|e| Problem::new(format!("{at}.key"), format!("{}: {e}", pair.key)))?;
    let pem = chain.iter().map(|c| pem("CERTIFICATE", c)).collect();
    let key = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| {
        Problem::new(
            format!("{at}.key"),
            format!("{} does not go with {}: {e}", pair.key, pair.certificate),
        )
    })?;
    Ok(Loaded {
        key: Arc::new(key),
        pem,
    })
}

pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Whether `key`'s leaf is valid for `name`.
pub(crate) fn covers(key: &CertifiedKey, name: &str) -> bool {
    let (Some(leaf), Ok(name)) = (key.cert.first(), ServerName::try_from(name.to_owned())) else {
        return false;
    };
    webpki::EndEntityCert::try_from(leaf)
        .is_ok_and(|cert| cert.verify_is_valid_for_subject_name(&name).is_ok())
}

/// Chooses the certificate by SNI; a name that is not a route's refuses the handshake.
#[derive(Debug)]
struct BySni {
    keys: Vec<Arc<CertifiedKey>>,
    /// Route host names, lowercased.
    hosts: HashSet<String>,
}

impl ResolvesServerCert for BySni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name()?.to_ascii_lowercase();
        if !self.hosts.contains(&name) {
            return None;
        }
        self.keys.iter().find(|k| covers(k, &name)).cloned()
    }
}

/// A listener's TLS: `hosts` are the route names served there.
pub(crate) fn server(
    keys: Vec<Arc<CertifiedKey>>,
    hosts: HashSet<String>,
) -> Arc<rustls::ServerConfig> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("the provider supports TLS 1.2 and 1.3")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(BySni { keys, hosts }));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // Installer: a 10 MB session cache, no tickets (rustls issues none without a ticketer).
    config.session_storage = ServerSessionMemoryCache::new(40_000);
    Arc::new(config)
}

/// Any name: the LAN-side `proxymap.txt` port serves the first certificate.
pub(crate) fn lan(key: Arc<CertifiedKey>) -> Arc<rustls::ServerConfig> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("the provider supports TLS 1.2 and 1.3")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(key)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// How upstreams are met: verified against `trust`, shown `client` when they ask.
pub(crate) fn client(
    trust: &[String],
    client: Option<&Loaded>,
) -> Result<Arc<rustls::ClientConfig>, Problem> {
    let mut roots = rustls::RootCertStore::empty();
    for (i, text) in trust.iter().enumerate() {
        let certs = CertificateDer::pem_slice_iter(text.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Problem::new(format!("upstream.trust[{i}]"), e.to_string()))?;
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| Problem::new(format!("upstream.trust[{i}]"), e.to_string()))?;
        }
    }
    let provider = Arc::new(provider::default_provider());
    let verifier = crate::pinned::Pinned::new(roots, provider.clone(), trust)?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("the provider supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match client {
        Some(loaded) => builder.with_client_cert_resolver(Arc::new(
            rustls::sign::SingleCertAndKey::from(loaded.key.clone()),
        )),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
