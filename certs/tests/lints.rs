//! One test per rule: a certificate that breaks exactly that rule, and the exact lint ids that
//! fire for it (no other lint may fire). Certificates are built here with rcgen, or shipped as
//! openssl-made PEMs where rcgen cannot make them (RSA keys, SHA-1; see fixtures/README.md).

use certs::analyze::{parse, signed_by};
use certs::lints::{lint, lint_chain, Context};
use certs::{CertInfo, Severity};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

const FQDN: &str = "finesse1.example.com";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap() // 2026-11-18
}

/// A leaf valid from `from` to `to` days around now, CN and SAN as given.
fn params(cn: &str, sans: &[&str], from: i64, to: i64) -> CertificateParams {
    let mut p =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = now() + Duration::days(from);
    p.not_after = now() + Duration::days(to);
    p
}

fn self_signed(p: CertificateParams) -> (CertInfo, Vec<u8>) {
    let key = KeyPair::generate().unwrap();
    let der = p.self_signed(&key).unwrap().der().to_vec();
    (parse(&der).unwrap(), der)
}

fn context() -> Context<'static> {
    Context {
        now: now().unix_timestamp(),
        fqdn: Some(FQDN),
        ..Default::default()
    }
}

fn ids(cert: &CertInfo, context: &Context<'_>) -> Vec<String> {
    lint(cert, context).into_iter().map(|f| f.id).collect()
}

fn pem_fixture(name: &str) -> CertInfo {
    let text = std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&text).unwrap();
    parse(&pem.contents).unwrap()
}

fn uccx_context(version: &'static str) -> Context<'static> {
    Context {
        fqdn: Some("uccx1.example.com"),
        node_kind: Some("uccx"),
        node_version: Some(version),
        ..context()
    }
}

/// Fixtures are valid 90 days from 2026-11-22; judge them inside that window.
fn fixture_context(kind: Option<&'static str>) -> Context<'static> {
    Context {
        now: 1_795_400_000,
        fqdn: Some("uccx1.example.com"),
        node_kind: kind,
        node_version: Some("12.5(1)"),
        ..Default::default()
    }
}

#[test]
fn a_good_certificate_breaks_no_rule() {
    let (cert, _) = self_signed(params(FQDN, &[FQDN], -10, 200));
    assert_eq!(ids(&cert, &context()), Vec::<String>::new());
    assert_eq!(cert.key.algorithm, "EC");
    assert_eq!(cert.key.curve.as_deref(), Some("P-256"));
    assert_eq!(cert.sha256.len(), 64);
    assert!(cert.self_signed);
}

/// RFC 5280 §4.1.2.5.
#[test]
fn expired() {
    let (cert, _) = self_signed(params(FQDN, &[FQDN], -100, -3));
    assert_eq!(ids(&cert, &context()), ["expired"]);
}

/// RFC 5280 §4.1.2.5.
#[test]
fn not_yet_valid() {
    let (cert, _) = self_signed(params(FQDN, &[FQDN], 2, 100));
    assert_eq!(ids(&cert, &context()), ["not_yet_valid"]);
}

/// Thresholds: critical under 14 days, warning under 30 or under 20 % of the lifetime.
#[test]
fn expiring_by_days_and_by_share_of_lifetime() {
    let (ten, _) = self_signed(params(FQDN, &[FQDN], -80, 10));
    let findings = lint(&ten, &context());
    assert_eq!(
        (
            findings.len(),
            findings[0].id.as_str(),
            findings[0].severity
        ),
        (1, "expiring", Severity::Critical)
    );
    let (twenty, _) = self_signed(params(FQDN, &[FQDN], -80, 20));
    assert_eq!(lint(&twenty, &context())[0].severity, Severity::Warning);
    // A 200-day certificate with 35 days left (17 %): a warning although past 30 days.
    let (short_lived, _) = self_signed(params(FQDN, &[FQDN], -165, 35));
    let findings = lint(&short_lived, &context());
    assert_eq!(
        findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        ["expiring"]
    );
    assert!(findings[0].message.contains("20%"));
}

/// Seed 000: Chrome 58+ needs the CN in the SAN.
#[test]
fn cn_not_in_san() {
    let (cert, _) = self_signed(params("Finesse Primary", &[FQDN], -1, 200));
    assert_eq!(ids(&cert, &context()), ["cn_not_in_san"]);
}

/// Seed 000: the node's FQDN must be named.
#[test]
fn fqdn_not_covered() {
    let (cert, _) = self_signed(params(
        "finesse2.example.com",
        &["finesse2.example.com"],
        -1,
        200,
    ));
    assert_eq!(ids(&cert, &context()), ["fqdn_not_covered"]);
    let (wildcard, _) = self_signed(params("*.example.com", &["*.example.com"], -1, 200));
    assert_eq!(ids(&wildcard, &context()), Vec::<String>::new());
}

/// CSCvd56174: on CUCM certificates consumed by UCCX, only Key Usage and Basic Constraints may
/// be critical.
#[test]
fn critical_extension_not_allowed() {
    let mut p = params("cucm1.example.com", &["cucm1.example.com"], -1, 200);
    let mut extension =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![0x05, 0x00]);
    extension.set_criticality(true);
    p.custom_extensions.push(extension);
    let (cert, _) = self_signed(p);
    let cucm = Context {
        fqdn: Some("cucm1.example.com"),
        node_kind: Some("cucm"),
        ..context()
    };
    assert_eq!(ids(&cert, &cucm), ["critical_extension_not_allowed"]);
    let finesse = Context {
        fqdn: Some("cucm1.example.com"),
        ..context()
    };
    assert_eq!(
        ids(&cert, &finesse),
        Vec::<String>::new(),
        "only where UCCX consumes it"
    );
}

/// Seed 000: UCCX accepts only 1024 or 2048-bit keys.
#[test]
fn uccx_key_length() {
    let cert = pem_fixture("rsa4096.pem");
    assert_eq!(cert.key.bits, Some(4096));
    assert_eq!(
        ids(&cert, &fixture_context(Some("uccx"))),
        ["uccx_key_length"]
    );
    assert_eq!(
        ids(&cert, &fixture_context(Some("finesse"))),
        Vec::<String>::new()
    );
}

/// NIST SP 800-131A: RSA under 2048 bits is weak (UCCX still accepts 1024, so no uccx_key_length).
#[test]
fn weak_key() {
    let cert = pem_fixture("rsa1024.pem");
    assert_eq!(ids(&cert, &fixture_context(Some("uccx"))), ["weak_key"]);
}

/// Seed 000: tomcat-ECDSA is not supported on UCCX 11.6 and later.
#[test]
fn uccx_ecdsa() {
    let (cert, _) = self_signed(params("uccx1.example.com", &["uccx1.example.com"], -1, 200));
    assert_eq!(ids(&cert, &uccx_context("12.5(1)")), ["uccx_ecdsa"]);
    assert_eq!(ids(&cert, &uccx_context("11.5(1)")), Vec::<String>::new());
}

/// CA/Browser Forum BR §7.1.3: no SHA-1 signatures.
#[test]
fn weak_signature() {
    let cert = pem_fixture("rsa2048-sha1.pem");
    assert_eq!(cert.signature_algorithm, "sha1WithRSAEncryption");
    assert_eq!(ids(&cert, &fixture_context(None)), ["weak_signature"]);
}

/// RFC 5280 §4.1.2.1: certificates with extensions are v3; a v1 certificate cannot carry a SAN.
#[test]
fn not_v3() {
    let cert = pem_fixture("v1.pem");
    assert_eq!(cert.version, 1);
    assert!(cert.extensions.is_empty());
    assert_eq!(ids(&cert, &fixture_context(None)), ["no_san", "not_v3"]);
}

/// Seed 004: self-signed certificates on internet-facing proxy hostnames.
#[test]
fn self_signed_public() {
    let (cert, _) = self_signed(params(FQDN, &[FQDN], -1, 200));
    let public = Context {
        public_endpoint: true,
        ..context()
    };
    assert_eq!(ids(&cert, &public), ["self_signed_public"]);
}

/// CA/Browser Forum BR §6.3.2: at most 398 days for publicly trusted leaves.
#[test]
fn validity_too_long() {
    let (cert, _) = self_signed(params(FQDN, &[FQDN], -1, 730));
    let trusted = Context {
        publicly_trusted: true,
        ..context()
    };
    assert_eq!(ids(&cert, &trusted), ["validity_too_long"]);
    assert_eq!(
        ids(&cert, &context()),
        Vec::<String>::new(),
        "private CAs may issue longer"
    );
}

/// RFC 6125: names belong in the subjectAltName.
#[test]
fn no_san() {
    let (cert, _) = self_signed(params(FQDN, &[], -1, 200));
    assert!(!cert.has_san);
    assert_eq!(ids(&cert, &context()), ["no_san"]);
}

/// RFC 5280 §4.2.1.3: a CA key signs certificates.
#[test]
fn ca_without_certsign() {
    let mut p = params("Issuing CA", &[], -1, 2000);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let (cert, _) = self_signed(p);
    let intermediate = Context {
        chain_position: 1,
        fqdn: None,
        ..context()
    };
    assert_eq!(ids(&cert, &intermediate), ["ca_without_certsign"]);
}

/// Seed 002: the whole chain up to a trusted root must be served.
#[test]
fn chain_incomplete() {
    let mut root_params = params("Root CA", &[], -1, 3000);
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_key = KeyPair::generate().unwrap();
    let root = root_params.clone().self_signed(&root_key).unwrap();
    let root_issuer = rcgen::Issuer::new(root_params, root_key);

    let mut mid_params = params("Issuing CA", &[], -1, 2000);
    mid_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let mid_key = KeyPair::generate().unwrap();
    let mid = mid_params
        .clone()
        .signed_by(&mid_key, &root_issuer)
        .unwrap();
    let mid_issuer = rcgen::Issuer::new(mid_params, mid_key);

    let leaf_key = KeyPair::generate().unwrap();
    let leaf = params(FQDN, &[FQDN], -1, 200)
        .signed_by(&leaf_key, &mid_issuer)
        .unwrap();

    let entry = |der: &[u8]| (parse(der).unwrap(), der.to_vec());
    let anchors = [entry(root.der())];
    let issued_by = |child: &Vec<u8>, parent: &Vec<u8>| signed_by(child, parent);

    let missing_intermediate = [entry(leaf.der())];
    let finding = lint_chain(&missing_intermediate, &anchors, issued_by).expect("incomplete");
    assert_eq!(finding.id, "chain_incomplete");
    assert!(
        finding.message.contains("Issuing CA"),
        "{}",
        finding.message
    );

    let complete = [entry(leaf.der()), entry(mid.der())];
    assert_eq!(lint_chain(&complete, &anchors, issued_by), None);

    // The same complete chain where nobody trusts its root: a different problem, another fix.
    let finding = lint_chain(&complete, &[], issued_by).expect("unknown root");
    assert_eq!(finding.id, "unknown_root");
    assert!(finding.message.contains("Root CA"), "{}", finding.message);
    assert!(
        finding.remediation.contains("trusted CAs"),
        "{}",
        finding.remediation
    );
    // The leaf is not a self-signed certificate, and was signed by the intermediate.
    assert!(
        !complete[0].0.self_signed
            && signed_by(leaf.der(), mid.der())
            && !signed_by(leaf.der(), root.der())
    );
}

#[test]
fn every_lint_id_is_unique_and_snake_case() {
    let ids = certs::lints::IDS;
    let mut sorted = ids.to_vec();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len());
    assert!(ids.iter().all(|id| id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())));
}

#[test]
fn garbage_is_a_parse_error_not_a_panic() {
    assert!(parse(b"").is_err());
    assert!(parse(&[0x30, 0x82, 0xff, 0xff, 0x00]).is_err());
    let (_, der) = self_signed(params(FQDN, &[FQDN], -1, 10));
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(parse(&trailing)
        .unwrap_err()
        .0
        .contains("after the certificate"));
}
