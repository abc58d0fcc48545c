//! DER → [`CertInfo`], with x509-parser. Also PEM splitting and chain checks that need the
//! certificates' signatures.

use crate::{CertInfo, CsrInfo, Extension, KeyInfo};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{self, OidRegistry};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a readable X.509 certificate: {}", self.0)
    }
}

fn registry() -> &'static OidRegistry<'static> {
    static REGISTRY: std::sync::OnceLock<OidRegistry<'static>> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| OidRegistry::default().with_all_crypto().with_x509())
}

fn oid_name(oid: &oid_registry::Oid<'_>) -> Option<String> {
    registry().get(oid).map(|entry| entry.sn().to_owned())
}

fn common_name(name: &x509_parser::x509::X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
}

fn curve_name(oid: &str) -> &str {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.33" => "P-224",
        "1.2.840.10045.3.1.1" => "P-192",
        other => other,
    }
}

fn key_info(cert: &X509Certificate<'_>) -> KeyInfo {
    spki_info(cert.public_key())
}

fn spki_info(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> KeyInfo {
    let parameters_oid = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| oid.to_id_string());
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => KeyInfo {
            algorithm: "RSA".into(),
            bits: Some(rsa.key_size() as u32),
            curve: None,
        },
        Ok(PublicKey::EC(ec)) => KeyInfo {
            algorithm: "EC".into(),
            bits: Some(ec.key_size() as u32),
            curve: parameters_oid.map(|oid| curve_name(&oid).to_owned()),
        },
        Ok(PublicKey::DSA(_)) => KeyInfo {
            algorithm: "DSA".into(),
            bits: None,
            curve: None,
        },
        _ => {
            let oid = spki.algorithm.algorithm.to_id_string();
            let (algorithm, bits) = match oid.as_str() {
                "1.3.101.112" => ("Ed25519".to_owned(), Some(256)),
                "1.3.101.113" => ("Ed448".to_owned(), Some(456)),
                _ => (oid, None),
            };
            KeyInfo {
                algorithm,
                bits,
                curve: None,
            }
        }
    }
}

const KEY_USAGE_BITS: [&str; 9] = [
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

/// Reads one DER certificate. Trailing bytes after the certificate are an error.
pub fn parse(der: &[u8]) -> Result<CertInfo, ParseError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| ParseError(e.to_string()))?;
    if !rest.is_empty() {
        return Err(ParseError(format!(
            "{} bytes after the certificate",
            rest.len()
        )));
    }
    let mut info = CertInfo {
        version: cert.version().0 + 1,
        subject: cert.subject().to_string(),
        subject_cn: common_name(cert.subject()),
        issuer: cert.issuer().to_string(),
        issuer_cn: common_name(cert.issuer()),
        serial: hex::encode(cert.tbs_certificate.raw_serial()),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        has_san: false,
        san_dns: Vec::new(),
        san_ip: Vec::new(),
        key: key_info(&cert),
        signature_algorithm: oid_name(&cert.signature_algorithm.algorithm)
            .unwrap_or_else(|| cert.signature_algorithm.algorithm.to_id_string()),
        extensions: Vec::new(),
        is_ca: false,
        key_usage: None,
        extended_key_usage: Vec::new(),
        subject_key_id: None,
        authority_key_id: None,
        sha256: hex::encode(Sha256::digest(der)),
        sha1: hex::encode(Sha1::digest(der)),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw()
            && cert.verify_signature(None).is_ok(),
    };
    for extension in cert.extensions() {
        info.extensions.push(Extension {
            oid: extension.oid.to_id_string(),
            name: oid_name(&extension.oid),
            critical: extension.critical,
        });
        match extension.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                info.has_san = true;
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(dns) => info.san_dns.push(dns.to_string()),
                        GeneralName::IPAddress(bytes) => info.san_ip.push(ip_string(bytes)),
                        _ => {}
                    }
                }
            }
            ParsedExtension::BasicConstraints(bc) => info.is_ca = bc.ca,
            ParsedExtension::KeyUsage(ku) => {
                let bits = ku.flags;
                info.key_usage = Some(
                    KEY_USAGE_BITS
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| bits & (1 << i) != 0)
                        .map(|(_, name)| (*name).to_owned())
                        .collect(),
                );
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let mut names = Vec::new();
                if eku.server_auth {
                    names.push("serverAuth".to_owned());
                }
                if eku.client_auth {
                    names.push("clientAuth".to_owned());
                }
                if eku.code_signing {
                    names.push("codeSigning".to_owned());
                }
                if eku.email_protection {
                    names.push("emailProtection".to_owned());
                }
                if eku.time_stamping {
                    names.push("timeStamping".to_owned());
                }
                if eku.ocsp_signing {
                    names.push("OCSPSigning".to_owned());
                }
                if eku.any {
                    names.push("anyExtendedKeyUsage".to_owned());
                }
                names.extend(eku.other.iter().map(|oid| oid.to_id_string()));
                info.extended_key_usage = names;
            }
            ParsedExtension::SubjectKeyIdentifier(id) => {
                info.subject_key_id = Some(hex::encode(id.0))
            }
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                info.authority_key_id = aki.key_identifier.as_ref().map(|id| hex::encode(id.0));
            }
            _ => {}
        }
    }
    Ok(info)
}

fn ip_string(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(octets).to_string()
        }
        _ => hex::encode(bytes),
    }
}

/// The certificates in PEM text (one or more `CERTIFICATE` blocks, other blocks ignored), as DER.
pub fn pem_certificates(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut found = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(text.as_bytes()) {
        let block = block.map_err(|e| format!("not valid PEM: {e}"))?;
        if block.label == "CERTIFICATE" {
            found.push(block.contents);
        }
    }
    if found.is_empty() {
        return Err("no '-----BEGIN CERTIFICATE-----' block found".into());
    }
    Ok(found)
}

/// Every PEM block in `text` with its label (`CERTIFICATE`, `PRIVATE KEY`, …) and its decoded
/// contents, in order; text between blocks (openssl's `Bag Attributes`, comments, blank lines)
/// is skipped.
pub fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    x509_parser::pem::Pem::iter_from_buffer(text.as_bytes())
        .map(|block| {
            block
                .map(|b| (b.label, b.contents))
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// PEM text of a DER certificate (the inverse of [`pem_certificates`] for one certificate).
pub fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in text.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// Whether `issuer_der`'s key signed `cert_der`.
pub fn signed_by(cert_der: &[u8], issuer_der: &[u8]) -> bool {
    let (Ok((_, cert)), Ok((_, issuer))) = (
        X509Certificate::from_der(cert_der),
        X509Certificate::from_der(issuer_der),
    ) else {
        return false;
    };
    cert.issuer().as_raw() == issuer.subject().as_raw()
        && cert.verify_signature(Some(issuer.public_key())).is_ok()
}

/// Reads a certificate signing request (DER), its signature checked.
pub fn parse_csr(der: &[u8]) -> Result<CsrInfo, ParseError> {
    use x509_parser::certification_request::X509CertificationRequest;
    let (rest, csr) =
        X509CertificationRequest::from_der(der).map_err(|e| ParseError(e.to_string()))?;
    if !rest.is_empty() {
        return Err(ParseError(format!(
            "{} bytes after the request",
            rest.len()
        )));
    }
    csr.verify_signature()
        .map_err(|e| ParseError(format!("its signature does not verify: {e}")))?;
    let info = &csr.certification_request_info;
    let mut out = CsrInfo {
        subject: info.subject.to_string(),
        subject_cn: common_name(&info.subject),
        has_san: false,
        san_dns: Vec::new(),
        san_ip: Vec::new(),
        key: spki_info(&info.subject_pki),
        public_key_sha256: hex::encode(Sha256::digest(info.subject_pki.raw)),
    };
    for extension in csr.requested_extensions().into_iter().flatten() {
        if let ParsedExtension::SubjectAlternativeName(san) = extension {
            out.has_san = true;
            for name in &san.general_names {
                match name {
                    GeneralName::DNSName(dns) => out.san_dns.push(dns.to_string()),
                    GeneralName::IPAddress(bytes) => out.san_ip.push(ip_string(bytes)),
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}

/// The SHA-256 of a certificate's public key (its DER SubjectPublicKeyInfo): equal to a CSR's
/// [`CsrInfo::public_key_sha256`] when the certificate was issued for that request's key.
pub fn public_key_sha256(der: &[u8]) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    Some(hex::encode(Sha256::digest(cert.public_key().raw)))
}
