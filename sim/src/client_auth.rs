//! Reverse-proxy client authentication as seed 004 and DOMAIN.md §4 describe it: with
//! `utils system reverse-proxy client-auth enable`, a request that arrives from one of the
//! node's allowed hosts (a reverse proxy) is accepted only when its connection presented a
//! client certificate that is in the node's tomcat-trust; otherwise 403. Every handshake
//! offers client authentication (optional), so a proxy can present its certificate; the
//! check against the store is made per request, as the store can change under a connection.

use crate::Fleet;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::net::IpAddr;
use std::sync::Arc;

/// Accepts any client certificate whose handshake signature holds; whether it is trusted is
/// the store's business ([`Fleet::client_refused`]).
#[derive(Debug)]
pub(crate) struct Offer(pub Arc<CryptoProvider>);

impl ClientCertVerifier for Offer {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl Fleet {
    /// Whether `peer` is one of `node`'s allowed hosts: an address listed, or a listed name
    /// that the fleet's host table or its nodes give that address.
    pub(crate) fn is_allowed_host(&self, node: usize, peer: IpAddr) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        self.read(node, |s| s.allowed_hosts.clone())
            .iter()
            .any(|host| self.address_of(host) == Some(peer))
    }

    fn address_of(&self, host: &str) -> Option<IpAddr> {
        if let Ok(address) = host.parse() {
            return Some(address);
        }
        if let Some(address) = self.spec.hosts.get(host) {
            return address.parse().ok();
        }
        self.index(host)
            .and_then(|n| self.spec_of(n).address.parse().ok())
    }

    /// Why a request from `peer` that presented `certificate` is refused, if it is: client-auth
    /// is on, `peer` is an allowed host, and the certificate is missing or not in tomcat-trust.
    pub(crate) fn client_refused(
        &self,
        node: usize,
        peer: IpAddr,
        certificate: Option<&[u8]>,
    ) -> Option<&'static str> {
        if !self.read(node, |s| s.client_auth) || !self.is_allowed_host(node, peer) {
            return None;
        }
        let Some(presented) = certificate else {
            return Some("a reverse proxy must present a client certificate");
        };
        let trusted = self.read(node, |s| {
            s.trust
                .iter()
                .filter(|c| c.unit == "tomcat-trust")
                .any(|c| {
                    certs::analyze::pem_certificates(&c.cert_pem)
                        .is_ok_and(|ders| ders.first().is_some_and(|der| der == presented))
                })
        });
        (!trusted).then_some("the reverse proxy's client certificate is not in tomcat-trust")
    }
}
