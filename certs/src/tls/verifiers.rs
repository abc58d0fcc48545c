//! rustls server-certificate verifiers. [`Verifier`]: the verdict on the certificate is the
//! caller's (the REST client accepts one pinned leaf), while the handshake's signatures are
//! always checked with the provider's algorithms, so the peer holds the key of the certificate
//! it presented. [`Observer`]: the probe's, which records whatever is served and notes a
//! handshake signature that does not verify instead of failing on it.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// Accepts the leaf certificates `accept` says yes to.
pub struct Verifier<F> {
    provider: Arc<CryptoProvider>,
    accept: F,
}

impl<F> Verifier<F>
where
    F: Fn(&CertificateDer<'_>) -> bool + Send + Sync,
{
    pub fn new(provider: Arc<CryptoProvider>, accept: F) -> Self {
        Self { provider, accept }
    }
}

impl<F> std::fmt::Debug for Verifier<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

impl<F> ServerCertVerifier for Verifier<F>
where
    F: Fn(&CertificateDer<'_>) -> bool + Send + Sync,
{
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match (self.accept)(end_entity) {
            true => Ok(ServerCertVerified::assertion()),
            false => Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
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
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The probe's verifier: every certificate is accepted so that whatever the endpoint serves is
/// recorded and judged afterwards, and the handshake's signature is checked with the leaf's key
/// however weak or old the leaf is (RSA-1024, X.509 v1, an unknown critical extension: the
/// very certificates the lints exist to report, which rustls's own check refuses to read).
/// A signature that still does not verify is remembered, not fatal: see
/// [`Observer::signature_problem`].
pub struct Observer {
    /// Accepts every certificate; checks signatures strictly.
    strict: Verifier<fn(&CertificateDer<'_>) -> bool>,
    provider: Arc<CryptoProvider>,
    problem: std::sync::Mutex<Option<String>>,
}

impl Observer {
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        Self {
            strict: Verifier::new(provider.clone(), |_| true),
            provider,
            problem: std::sync::Mutex::new(None),
        }
    }

    /// Why the server's handshake signature did not verify with its leaf's key, if it did not.
    pub fn signature_problem(&self) -> Option<String> {
        self.problem.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// After the strict check: a signature it refused is checked again with any key, and one
    /// that still does not verify is remembered. The handshake goes on either way.
    fn judge(
        &self,
        strict: Result<HandshakeSignatureValid, rustls::Error>,
        cert: &CertificateDer<'_>,
        message: &[u8],
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if strict.is_err() {
            let signature = dss.signature();
            if let Err(reason) =
                verify_with_any_key(cert, dss.scheme, message, signature, &self.provider)
            {
                if let Ok(mut problem) = self.problem.lock() {
                    *problem = Some(reason);
                }
            }
        }
        Ok(HandshakeSignatureValid::assertion())
    }
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer").finish_non_exhaustive()
    }
}

impl ServerCertVerifier for Observer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.strict
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let strict = self.strict.verify_tls12_signature(message, cert, dss);
        self.judge(strict, cert, message, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let strict = self.strict.verify_tls13_signature(message, cert, dss);
        self.judge(strict, cert, message, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.strict.supported_verify_schemes()
    }
}

/// Verifies a `scheme` signature over `message` with the public key of `cert`, reading the
/// certificate leniently (any X.509 version, any extension) and accepting RSA keys of any size.
/// The error says why in words.
pub fn verify_with_any_key(
    cert: &CertificateDer<'_>,
    scheme: SignatureScheme,
    message: &[u8],
    signature: &[u8],
    provider: &CryptoProvider,
) -> Result<(), String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| format!("the certificate cannot be read ({e})"))?;
    let spki = &parsed.tbs_certificate.subject_pki;
    let key = spki.subject_public_key.data.as_ref();
    if spki.algorithm.algorithm == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION {
        return verify_rsa(key, scheme, message, signature);
    }
    let algorithm_id =
        algorithm_identifier(spki.raw).ok_or("the certificate's public key cannot be read")?;
    let algorithm = provider
        .signature_verification_algorithms
        .mapping
        .iter()
        .filter(|(s, _)| *s == scheme)
        .flat_map(|(_, algorithms)| algorithms.iter())
        .find(|a| a.public_key_alg_id().as_ref() == algorithm_id)
        .ok_or_else(|| {
            format!("the server signed with {scheme:?}, which does not fit the certificate's key")
        })?;
    algorithm
        .verify_signature(key, message, signature)
        .map_err(|_| format!("the {scheme:?} signature does not verify"))
}

fn verify_rsa(
    key: &[u8],
    scheme: SignatureScheme,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::sha2::{Digest, Sha256, Sha384, Sha512};
    use rsa::{Pkcs1v15Sign, Pss};
    let key = rsa::RsaPublicKey::from_pkcs1_der(key)
        .map_err(|e| format!("the certificate's RSA key cannot be read ({e})"))?;
    let result = match scheme {
        SignatureScheme::RSA_PKCS1_SHA256 => key.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(message),
            signature,
        ),
        SignatureScheme::RSA_PKCS1_SHA384 => key.verify(
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(message),
            signature,
        ),
        SignatureScheme::RSA_PKCS1_SHA512 => key.verify(
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(message),
            signature,
        ),
        SignatureScheme::RSA_PSS_SHA256 => {
            key.verify(Pss::<Sha256>::new(), &Sha256::digest(message), signature)
        }
        SignatureScheme::RSA_PSS_SHA384 => {
            key.verify(Pss::<Sha384>::new(), &Sha384::digest(message), signature)
        }
        SignatureScheme::RSA_PSS_SHA512 => {
            key.verify(Pss::<Sha512>::new(), &Sha512::digest(message), signature)
        }
        other => {
            return Err(format!(
                "the server signed with {other:?}, which does not fit an RSA key"
            ))
        }
    };
    result.map_err(|_| format!("the {scheme:?} signature does not verify"))
}

/// The contents of the AlgorithmIdentifier of a DER SubjectPublicKeyInfo (what webpki's
/// algorithms compare with their `public_key_alg_id`).
fn algorithm_identifier(spki: &[u8]) -> Option<&[u8]> {
    let (body, _) = der_element(spki, 0x30)?;
    let (algorithm, _) = der_element(body, 0x30)?;
    Some(algorithm)
}

/// The contents of the DER element with `tag` at the start of `input`, and what follows it.
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&length, rest) = rest.split_first()?;
    let (length, rest) = if length < 0x80 {
        (usize::from(length), rest)
    } else {
        let count = usize::from(length & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        (
            bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b)),
            rest,
        )
    };
    (rest.len() >= length).then(|| rest.split_at(length))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::PrivateKeyDer;

    fn provider() -> CryptoProvider {
        rustls::crypto::ring::default_provider()
    }

    /// A self-signed certificate, and a signature over `message` by its key.
    fn signed(message: &[u8]) -> (CertificateDer<'static>, SignatureScheme, Vec<u8>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["finesse1.example.com".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let signing = provider()
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(key.serialize_der().into()))
            .unwrap();
        let signer = signing
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
            .unwrap();
        let scheme = signer.scheme();
        let signature = signer.sign(message).unwrap();
        (cert.der().clone(), scheme, signature)
    }

    #[test]
    fn a_signature_by_the_certificates_key_verifies() {
        let (cert, scheme, signature) = signed(b"handshake");
        assert_eq!(
            verify_with_any_key(&cert, scheme, b"handshake", &signature, &provider()),
            Ok(())
        );
    }

    #[test]
    fn a_signature_by_another_key_or_over_other_bytes_does_not() {
        let (cert, scheme, signature) = signed(b"handshake");
        let (other_cert, _, _) = signed(b"handshake");
        let error = verify_with_any_key(&other_cert, scheme, b"handshake", &signature, &provider())
            .unwrap_err();
        assert!(error.contains("does not verify"), "{error}");
        assert!(verify_with_any_key(&cert, scheme, b"tampered", &signature, &provider()).is_err());
        let error = verify_with_any_key(
            &cert,
            SignatureScheme::RSA_PSS_SHA256,
            b"handshake",
            &signature,
            &provider(),
        )
        .unwrap_err();
        assert!(error.contains("does not fit"), "{error}");
    }

    #[test]
    fn garbage_instead_of_a_certificate_is_an_error_in_words() {
        let error = verify_with_any_key(
            &CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]),
            SignatureScheme::ECDSA_NISTP256_SHA256,
            b"m",
            b"s",
            &provider(),
        )
        .unwrap_err();
        assert!(
            error.starts_with("the certificate cannot be read"),
            "{error}"
        );
    }
}
