//! rustls's reasons for refusing a chain, as [`TrustFailure`]s.

use super::TrustFailure;

/// The reason rustls gives for refusing a chain, typed.
impl From<&rustls::Error> for TrustFailure {
    fn from(error: &rustls::Error) -> Self {
        use rustls::CertificateError as C;
        let rustls::Error::InvalidCertificate(reason) = error else {
            return Self::Other(error.to_string());
        };
        match reason {
            C::UnknownIssuer => Self::UnknownIssuer,
            C::NotValidForName | C::NotValidForNameContext { .. } => Self::NotValidForName,
            C::Expired | C::ExpiredContext { .. } => Self::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => Self::NotValidYet,
            C::BadSignature => Self::BadSignature,
            C::Revoked => Self::Revoked,
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => Self::InvalidPurpose,
            C::BadEncoding => Self::BadEncoding,
            C::UnhandledCriticalExtension => Self::UnsupportedCriticalExtension,
            // The unit variant is deprecated but still a value a verifier may return.
            #[allow(deprecated)]
            C::UnsupportedSignatureAlgorithm
            | C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                Self::UnsupportedSignatureAlgorithm
            }
            // webpki's own reasons (`CaUsedAsEndEntity`, `UnsupportedCertVersion`, ...),
            // which rustls passes on by name.
            C::Other(other) => Self::parse(&other.to_string()),
            other => Self::Other(format!("{other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TrustFailure;
    use rustls::pki_types::UnixTime;

    #[test]
    fn rustls_reasons_become_typed_reasons() {
        use rustls::{CertificateError as C, Error as E, OtherError};
        use std::sync::Arc;
        #[derive(Debug)]
        struct Webpki(&'static str);
        impl std::fmt::Display for Webpki {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for Webpki {}
        let of = |reason| TrustFailure::from(&E::InvalidCertificate(reason));
        assert_eq!(of(C::UnknownIssuer), TrustFailure::UnknownIssuer);
        assert_eq!(
            of(C::ExpiredContext {
                time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(2)),
                not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1)),
            }),
            TrustFailure::Expired
        );
        assert_eq!(
            of(C::UnhandledCriticalExtension),
            TrustFailure::UnsupportedCriticalExtension
        );
        assert_eq!(
            of(C::Other(OtherError(Arc::new(Webpki("CaUsedAsEndEntity"))))),
            TrustFailure::CaUsedAsEndEntity
        );
        assert_eq!(
            of(C::Other(OtherError(Arc::new(Webpki(
                "NameConstraintViolation"
            ))))),
            TrustFailure::Other("NameConstraintViolation".into())
        );
        assert_eq!(
            TrustFailure::from(&E::NoCertificatesPresented),
            TrustFailure::Other(E::NoCertificatesPresented.to_string())
        );
    }
}
