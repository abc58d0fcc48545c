//! Certificates the simulated appliances hold and serve, made at run time (rcgen) in the
//! profiles the console's lints must recognise.
//!
//! RSA keys come from the openssl CLI: rcgen (on ring) cannot generate RSA keys, and VOS
//! appliances serve RSA. They are made once per node and kept in the state file.

use crate::fleet::Profile;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use time::{Duration, OffsetDateTime};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("generating an RSA key with the openssl CLI: {0}")]
    Openssl(String),
    #[error("making a certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
}

/// A new RSA private key (PKCS#8 PEM) of `bits` bits.
pub fn rsa_key(bits: u32) -> Result<String, PkiError> {
    let out = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt"])
        .arg(format!("rsa_keygen_bits:{bits}"))
        .output()
        .map_err(|e| PkiError::Openssl(e.to_string()))?;
    if !out.status.success() {
        return Err(PkiError::Openssl(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| PkiError::Openssl(e.to_string()))
}

/// A certificate and its key.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

/// The tomcat certificate of `fqdn` in `profile`, as of `now`. `rsa` is the node's RSA key
/// (PKCS#8 PEM) for the profiles that use one; `rsa_4096` is asked for only by its profile.
pub fn tomcat(
    fqdn: &str,
    profile: Profile,
    now: OffsetDateTime,
    rsa: &str,
    rsa_4096: impl FnOnce() -> Result<String, PkiError>,
) -> Result<Issued, PkiError> {
    let host = fqdn.split('.').next().unwrap_or(fqdn);
    let mut cn = fqdn.to_owned();
    let sans = vec![fqdn.to_owned()];
    let (mut from, mut until) = (now - Duration::days(1), now + Duration::days(730));
    let mut key_pem = rsa.to_owned();
    match profile {
        Profile::Default | Profile::ChainMissing => {}
        Profile::Expired => (from, until) = (now - Duration::days(760), now - Duration::days(30)),
        Profile::Expiring => (from, until) = (now - Duration::days(355), now + Duration::days(10)),
        Profile::CnNotInSan => cn = format!("{host} tomcat"),
        Profile::Rsa4096 => key_pem = rsa_4096()?,
        Profile::Ecdsa => key_pem = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?.serialize_pem(),
        Profile::CriticalExtension => {}
    }
    let key = KeyPair::from_pem(&key_pem)?;
    let mut params = CertificateParams::new(sans)?;
    params.distinguished_name.push(DnType::CommonName, cn);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Cisco Systems (simulated)");
    params.not_before = from;
    params.not_after = until;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.serial_number = Some(serial(now));
    if profile == Profile::CriticalExtension {
        // A private extension marked critical, as some CA templates add.
        let mut extension =
            CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 9, 9, 99, 1], vec![0x05, 0x00]);
        extension.set_criticality(true);
        params.custom_extensions.push(extension);
    }
    if profile != Profile::ChainMissing {
        let cert = params.self_signed(&key)?;
        return Ok(Issued {
            cert_pem: cert.pem(),
            key_pem,
        });
    }
    // Issued by an intermediate CA that the endpoint does not send (nor anyone has).
    let intermediate = Issuer::new(
        ca_params("Simulated Issuing CA", now),
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?,
    );
    let cert = params.signed_by(&key, &intermediate)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem,
    })
}

fn ca_params(name: &str, now: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = now - Duration::days(400);
    params.not_after = now + Duration::days(3650);
    params
}

/// A serial unique enough for a simulator: the time in nanoseconds.
fn serial(now: OffsetDateTime) -> rcgen::SerialNumber {
    let nanos = now.unix_timestamp_nanos().unsigned_abs() ^ u128::from(std::process::id());
    rcgen::SerialNumber::from_slice(&nanos.to_be_bytes()[4..])
}

/// A self-signed ECDSA certificate for `names` (the first is its CN), valid for a year: what
/// the demo's proxy engines serve to browsers.
pub fn self_signed(names: &[&str]) -> Result<Issued, PkiError> {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("localhost"),
    );
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(365);
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let cert = params.self_signed(&key)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}
