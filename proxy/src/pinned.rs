//! How upstream certificates are believed: as webpki verifies them against the trust, and,
//! beside that, a certificate that is itself in the trust although it is a CA certificate.

use proxyconf::Problem;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;

/// Upstream certificates: verified against the trust as webpki does it; besides, a certificate
/// that is itself in the trust, byte for byte, is believed although webpki refuses it as a CA
/// certificate used as a server's (`openssl req -x509` makes those, as may an appliance's
/// self-signed certificate): its name must still be the upstream's and today within its
/// validity. OpenSSL (nginx) believes such a certificate likewise.
#[derive(Debug)]
pub(crate) struct Pinned {
    /// `None`: nothing is trusted (a configuration without routes): every upstream refused.
    webpki: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl Pinned {
    pub(crate) fn new(
        roots: rustls::RootCertStore,
        provider: Arc<CryptoProvider>,
        trust: &[String],
    ) -> Result<Pinned, Problem> {
        let pinned = trust
            .iter()
            .flat_map(|text| CertificateDer::pem_slice_iter(text.as_bytes()).flatten())
            .collect();
        let webpki = if roots.is_empty() {
            None
        } else {
            let built = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| Problem::new("upstream.trust", e.to_string()))?;
            Some(built)
        };
        Ok(Pinned {
            webpki,
            pinned,
            provider,
        })
    }
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ));
        };
        let verdict = webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        match verdict {
            Err(refused)
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                let named = webpki::EndEntityCert::try_from(end_entity)
                    .is_ok_and(|c| c.verify_is_valid_for_subject_name(server_name).is_ok());
                let current = validity(end_entity)
                    .is_some_and(|(from, until)| (from..=until).contains(&now.as_secs()));
                if named && current {
                    Ok(rustls::client::danger::ServerCertVerified::assertion())
                } else {
                    Err(refused)
                }
            }
            verdict => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A certificate's validity (not before, not after) in Unix seconds, read from its DER:
/// `Certificate ::= SEQUENCE { tbs SEQUENCE { [0] version?, serial, signature, issuer,
/// validity SEQUENCE { notBefore, notAfter }, ... }, ... }`.
fn validity(der: &[u8]) -> Option<(u64, u64)> {
    /// The next element of `input`: its tag, its contents, what follows it.
    fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (length, rest) = if first < 0x80 {
            (first as usize, rest)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let length = rest[..n].iter().fold(0usize, |l, b| (l << 8) | *b as usize);
            (length, &rest[n..])
        };
        (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
    }
    let (0x30, certificate, _) = element(der)? else {
        return None;
    };
    let (0x30, mut tbs, _) = element(certificate)? else {
        return None;
    };
    if tbs.first() == Some(&0xa0) {
        tbs = element(tbs)?.2;
    }
    // serial, signature algorithm, issuer
    for _ in 0..3 {
        tbs = element(tbs)?.2;
    }
    let (0x30, validity, _) = element(tbs)? else {
        return None;
    };
    let (tag, from, rest) = element(validity)?;
    let from = time(tag, from)?;
    let (tag, until, _) = element(rest)?;
    Some((from, time(tag, until)?))
}

/// UTCTime (`YYMMDDHHMMSSZ`, 1950-2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) in Unix seconds.
fn time(tag: u8, text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 if text.len() == 12 => {
            let yy: u64 = text[..2].parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &text[2..])
        }
        0x18 if text.len() == 14 => (text[..4].parse().ok()?, &text[4..]),
        _ => return None,
    };
    let field = |i: usize| rest.get(i..i + 2)?.parse::<u64>().ok();
    let (month, day, hour, minute, second) =
        (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), from 1970-01-01.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::provider;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::UnixTime;
    use std::time::Duration;

    #[test]
    fn der_times_read_as_unix_seconds() {
        assert_eq!(time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(0x18, b"20261206101500Z"), Some(1_796_552_100));
        assert_eq!(time(0x18, b"20261306101500Z"), None);
        assert_eq!(time(0x17, b"2612061015Z"), None);
    }

    /// A self-signed certificate with CA:TRUE (openssl's default for `req -x509`) for
    /// `name`, made by the openssl CLI: its PEM.
    fn openssl_self_signed(name: &str, days: &str) -> Option<String> {
        let dir =
            std::env::temp_dir().join(format!("gatehouse-pinned-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let status = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
            ])
            .args(["-days", days, "-subj", &format!("/CN={name}")])
            .args(["-addext", &format!("subjectAltName=DNS:{name}")])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        let pem = std::fs::read_to_string(dir.join("cert.pem")).ok();
        let _ = std::fs::remove_dir_all(&dir);
        status.success().then_some(pem).flatten()
    }

    #[test]
    fn a_trusted_self_signed_ca_certificate_is_believed_for_its_name_and_time_only() {
        let pem = openssl_self_signed("upstream.example.com", "30").expect("the openssl CLI");
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        let (from, until) = validity(&der).unwrap();
        assert!(until - from >= 29 * 86_400 && until - from <= 31 * 86_400);
        let trust = [pem.clone()];
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der.clone()).unwrap();
        let verifier = Pinned::new(roots, provider(), &trust).unwrap();
        let name = ServerName::try_from("upstream.example.com").unwrap();
        let now = UnixTime::now();
        assert!(verifier
            .verify_server_cert(&der, &[], &name, &[], now)
            .is_ok());
        let other = ServerName::try_from("other.example.com").unwrap();
        assert!(verifier
            .verify_server_cert(&der, &[], &other, &[], now)
            .is_err());
        let later = UnixTime::since_unix_epoch(Duration::from_secs(until + 1));
        assert!(verifier
            .verify_server_cert(&der, &[], &name, &[], later)
            .is_err());
        // Not pinned: webpki's refusal stands.
        let stranger = openssl_self_signed("upstream.example.com", "30").unwrap();
        let stranger = CertificateDer::from_pem_slice(stranger.as_bytes()).unwrap();
        assert!(verifier
            .verify_server_cert(&stranger, &[], &name, &[], now)
            .is_err());
    }
}
