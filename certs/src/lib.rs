//! Certificate facts and the rules Gatehouse checks them against.
//!
//! [`CertInfo`] is what a certificate says (parsed from DER by [`analyze::parse`] with the
//! `analyze` feature). [`lints::lint`] judges one certificate in its context (the node's FQDN,
//! kind and version, where it is served, the expiry thresholds) and returns [`Finding`]s, each
//! with a stable id (an API: monitoring and the REST API name them), a severity, the rule's
//! source and a remediation sentence. The types carry no parser, so the browser shows them too.

use serde::{Deserialize, Serialize};

#[cfg(feature = "analyze")]
pub mod analyze;
pub mod hello;
pub mod lints;
pub mod suites;
pub mod tls;

/// What a certificate says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertInfo {
    /// X.509 version: 1, 2 or 3.
    pub version: u32,
    pub subject: String,
    pub subject_cn: Option<String>,
    pub issuer: String,
    pub issuer_cn: Option<String>,
    /// Hex, as printed by most tools.
    pub serial: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// Whether the certificate has a subjectAltName extension at all.
    pub has_san: bool,
    pub san_dns: Vec<String>,
    pub san_ip: Vec<String>,
    pub key: KeyInfo,
    /// e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA256`.
    pub signature_algorithm: String,
    pub extensions: Vec<Extension>,
    pub is_ca: bool,
    /// Key usage bits by name (`digitalSignature`, `keyCertSign`, ...); `None` without the extension.
    pub key_usage: Option<Vec<String>>,
    pub extended_key_usage: Vec<String>,
    pub subject_key_id: Option<String>,
    pub authority_key_id: Option<String>,
    pub sha256: String,
    pub sha1: String,
    /// Issuer equals subject and the signature verifies with its own key.
    pub self_signed: bool,
}

/// What a certificate signing request says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsrInfo {
    pub subject: String,
    pub subject_cn: Option<String>,
    /// Whether it asks for a subjectAltName at all (VOS leaves it out when the CSR is made with
    /// an empty Parent Domain; the CA then writes the SANs).
    pub has_san: bool,
    pub san_dns: Vec<String>,
    pub san_ip: Vec<String>,
    pub key: KeyInfo,
    /// SHA-256 of its DER SubjectPublicKeyInfo.
    pub public_key_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA` or the OID.
    pub algorithm: String,
    /// Key size in bits (RSA modulus, EC field size).
    pub bits: Option<u32>,
    /// EC curve name (`P-256`, ...).
    pub curve: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extension {
    pub oid: String,
    /// A readable name when known (`keyUsage`, `basicConstraints`, ...).
    pub name: Option<String>,
    pub critical: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One rule a certificate breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id, e.g. `cn_not_in_san`.
    pub id: String,
    pub severity: Severity,
    /// What is wrong, for this certificate.
    pub message: String,
    /// What to do about it.
    pub remediation: String,
    /// Where the rule comes from (a seed document, a Cisco bug id, an RFC or the CA/B Forum).
    pub source: String,
}

impl CertInfo {
    /// Whether this certificate names `host` (SAN DNS names with `*.` wildcards for one label;
    /// the CN only when there is no SAN, as RFC 6125 and browsers do).
    pub fn covers(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let matches = |name: &str| {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            match name.strip_prefix("*.") {
                Some(suffix) => host
                    .split_once('.')
                    .is_some_and(|(first, rest)| !first.is_empty() && rest == suffix),
                None => name == host,
            }
        };
        if self.has_san {
            self.san_dns.iter().any(|n| matches(n)) || self.san_ip.contains(&host)
        } else {
            self.subject_cn.as_deref().is_some_and(matches)
        }
    }

    /// Whole days from `now` (Unix seconds) to expiry; negative once expired.
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }
}
