//! Certificates for tests: a CA (self-signed, or an intermediate under another) that issues
//! leaves, and self-signed leaves with a chosen lifetime. Made by rcgen; the tests that need
//! certificates made by other tools use the openssl CLI.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::RootCertStore;

/// A certificate authority that can issue certificates.
pub struct Ca {
    certificate: rcgen::Certificate,
    issuer: Issuer<'static, KeyPair>,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn key() -> KeyPair {
    KeyPair::generate().expect("a new key pair")
}

impl Ca {
    /// A self-signed root named `cn`.
    pub fn new(cn: &str) -> Self {
        let params = ca_params(cn);
        let key = key();
        let certificate = params.clone().self_signed(&key).expect("a self-signed CA");
        Self {
            certificate,
            issuer: Issuer::new(params, key),
        }
    }

    /// An intermediate CA named `cn`, issued by this one.
    pub fn intermediate(&self, cn: &str) -> Ca {
        let params = ca_params(cn);
        let key = key();
        let certificate = params
            .clone()
            .signed_by(&key, &self.issuer)
            .expect("an intermediate CA");
        Ca {
            certificate,
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `names` (its CN the first name), issued by this CA.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        let key = key();
        let certificate = leaf_params(names)
            .signed_by(&key, &self.issuer)
            .expect("a leaf");
        Leaf::new(certificate, key)
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.certificate.der().clone()
    }

    pub fn pem(&self) -> String {
        self.certificate.pem()
    }

    /// A root store holding only this CA.
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.der())
            .expect("a CA certificate rustls accepts");
        roots
    }
}

fn leaf_params(names: &[&str]) -> CertificateParams {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("valid names");
    if let Some(first) = names.first() {
        params.distinguished_name.push(DnType::CommonName, *first);
    }
    params
}

/// A leaf certificate and its key.
pub struct Leaf {
    pub der: CertificateDer<'static>,
    pub pem: String,
    /// The private key as PEM (PKCS #8), for servers that read files.
    pub key_pem: String,
    key: Vec<u8>,
}

impl Leaf {
    fn new(certificate: rcgen::Certificate, key: KeyPair) -> Self {
        Self {
            der: certificate.der().clone(),
            pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            key: key.serialize_der(),
        }
    }

    /// A self-signed leaf named `cn` for `names`, issued 80 days ago, expiring in `days` (a
    /// negative number: expired that long ago).
    pub fn self_signed(cn: &str, names: &[&str], days: i64) -> Self {
        let mut params = leaf_params(names);
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(80);
        params.not_after = now + time::Duration::days(days);
        let key = key();
        let certificate = params.self_signed(&key).expect("a self-signed leaf");
        Self::new(certificate, key)
    }

    /// The private key (PKCS #8), as rustls takes it.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }
}
