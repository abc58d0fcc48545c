//! Why a chain is not trusted, typed: the verifier's reasons with a stable code (stored with
//! each probe, and in the REST API) and words for admins. Plain data, so the browser shows
//! them too; the conversion from rustls's errors is in the verifiers (feature `tls`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a served chain does not verify for the node's name against a set of trusted roots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum TrustFailure {
    /// No trusted CA issued it: self-signed, or a CA that is not among the roots.
    UnknownIssuer,
    NotValidForName,
    Expired,
    NotValidYet,
    BadSignature,
    Revoked,
    /// Not for TLS server authentication (extended key usage).
    InvalidPurpose,
    BadEncoding,
    /// A CA certificate served as the server's own.
    CaUsedAsEndEntity,
    /// Not X.509 v3.
    UnsupportedCertVersion,
    UnsupportedCriticalExtension,
    /// Signed with an algorithm no longer accepted (MD5, SHA-1).
    UnsupportedSignatureAlgorithm,
    /// This machine has no trusted root certificates at all.
    NoRoots,
    /// Any other reason, by the verifier's name for it (`NameConstraintViolation`) or in its
    /// own words.
    Other(String),
}

/// Every named reason with its code, in one table: the codes are an API (stored, served).
const CODES: [(TrustFailure, &str); 13] = [
    (TrustFailure::UnknownIssuer, "unknown_issuer"),
    (TrustFailure::NotValidForName, "not_valid_for_name"),
    (TrustFailure::Expired, "expired"),
    (TrustFailure::NotValidYet, "not_valid_yet"),
    (TrustFailure::BadSignature, "bad_signature"),
    (TrustFailure::Revoked, "revoked"),
    (TrustFailure::InvalidPurpose, "invalid_purpose"),
    (TrustFailure::BadEncoding, "bad_encoding"),
    (TrustFailure::CaUsedAsEndEntity, "ca_used_as_end_entity"),
    (
        TrustFailure::UnsupportedCertVersion,
        "unsupported_cert_version",
    ),
    (
        TrustFailure::UnsupportedCriticalExtension,
        "unsupported_critical_extension",
    ),
    (
        TrustFailure::UnsupportedSignatureAlgorithm,
        "unsupported_signature_algorithm",
    ),
    (TrustFailure::NoRoots, "no_roots"),
];

impl TrustFailure {
    /// The stable code (`unknown_issuer`); an [`TrustFailure::Other`] reason as it is.
    pub fn code(&self) -> &str {
        match self {
            Self::Other(reason) => reason,
            named => CODES
                .iter()
                .find(|(failure, _)| failure == named)
                .map_or("", |(_, code)| code),
        }
    }

    /// Reads a stored reason: a code, or (probes recorded before the codes) the verifier's
    /// name for it as rustls prints it (`NotValidForNameContext { .. }`,
    /// `Other(OtherError(CaUsedAsEndEntity))`). Anything else is kept as [`TrustFailure::Other`].
    pub fn parse(stored: &str) -> Self {
        if let Some((failure, _)) = CODES.iter().find(|(_, code)| *code == stored) {
            return failure.clone();
        }
        // webpki's own reasons arrive inside rustls's wrapper.
        let inner = stored.strip_prefix("Other(OtherError(").unwrap_or(stored);
        let name = inner.split(['{', ' ', '(', ')']).next().unwrap_or_default();
        match Self::from_verifier_name(name) {
            Some(failure) => failure,
            None if inner != stored && !name.is_empty() => Self::Other(name.to_owned()),
            None => Self::Other(stored.to_owned()),
        }
    }

    /// A reason by the name rustls and webpki give it (their `*Context` variants included).
    pub fn from_verifier_name(name: &str) -> Option<Self> {
        Some(match name.strip_suffix("Context").unwrap_or(name) {
            "UnknownIssuer" => Self::UnknownIssuer,
            "NotValidForName" => Self::NotValidForName,
            "Expired" => Self::Expired,
            "NotValidYet" => Self::NotValidYet,
            "BadSignature" => Self::BadSignature,
            "Revoked" => Self::Revoked,
            "InvalidPurpose" => Self::InvalidPurpose,
            "BadEncoding" => Self::BadEncoding,
            "CaUsedAsEndEntity" => Self::CaUsedAsEndEntity,
            "UnsupportedCertVersion" => Self::UnsupportedCertVersion,
            "UnsupportedCriticalExtension" => Self::UnsupportedCriticalExtension,
            "UnsupportedSignatureAlgorithm" => Self::UnsupportedSignatureAlgorithm,
            _ => return None,
        })
    }

    /// In words, for admins: what is wrong with the chain.
    pub fn words(&self) -> String {
        match self {
            Self::UnknownIssuer => {
                "no trusted CA issued it (self-signed, or a CA not among the roots)".into()
            }
            Self::NotValidForName => "it is not valid for this FQDN".into(),
            Self::Expired => "it has expired".into(),
            Self::NotValidYet => "it is not valid yet".into(),
            Self::BadSignature => "a signature in the chain does not verify".into(),
            Self::Revoked => "it is revoked".into(),
            Self::InvalidPurpose => "it is not for TLS server authentication".into(),
            Self::BadEncoding => "it cannot be decoded".into(),
            Self::CaUsedAsEndEntity => "the server presents a CA certificate as its own".into(),
            Self::UnsupportedCertVersion => "it is not an X.509 v3 certificate".into(),
            Self::UnsupportedCriticalExtension => {
                "it has a critical extension nobody here knows".into()
            }
            Self::UnsupportedSignatureAlgorithm => {
                "it is signed with an algorithm no longer accepted (MD5 or SHA-1?)".into()
            }
            Self::NoRoots => {
                "this machine has no trusted root certificates (install ca-certificates)".into()
            }
            // A verifier's name in words (`NameConstraintViolation` → name constraint
            // violation); anything else as it is.
            Self::Other(reason) if is_type_name(reason) => reason
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let space = (i > 0 && c.is_ascii_uppercase()).then_some(' ');
                    space
                        .into_iter()
                        .chain(std::iter::once(c.to_ascii_lowercase()))
                })
                .collect(),
            Self::Other(reason) => reason.clone(),
        }
    }
}

/// `NameConstraintViolation`: one word in upper camel case.
fn is_type_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_uppercase())
        && text.chars().all(|c| c.is_ascii_alphanumeric())
}

impl fmt::Display for TrustFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words())
    }
}

impl From<TrustFailure> for String {
    fn from(failure: TrustFailure) -> Self {
        failure.code().to_owned()
    }
}

impl From<String> for TrustFailure {
    fn from(stored: String) -> Self {
        Self::parse(&stored)
    }
}

#[cfg(test)]
mod tests {
    use super::TrustFailure as F;

    #[test]
    fn codes_read_back_as_the_reason_they_name() {
        for (failure, code) in super::CODES {
            assert_eq!(failure.code(), code);
            assert_eq!(F::parse(code), failure);
        }
        assert_eq!(F::Other("x".into()).code(), "x");
    }

    #[test]
    fn reasons_stored_as_rustls_printed_them_read_as_typed_reasons() {
        assert_eq!(F::parse("UnknownIssuer"), F::UnknownIssuer);
        assert_eq!(
            F::parse("ExpiredContext { time: UnixTime(1), not_after: UnixTime(0) }"),
            F::Expired
        );
        assert_eq!(
            F::parse("NotValidForNameContext { expected: .. }"),
            F::NotValidForName
        );
        assert_eq!(
            F::parse("Other(OtherError(CaUsedAsEndEntity))"),
            F::CaUsedAsEndEntity
        );
        assert_eq!(
            F::parse("Other(OtherError(NameConstraintViolation))"),
            F::Other("NameConstraintViolation".into())
        );
        // Anything unknown is kept as it was, never dropped.
        assert_eq!(F::parse("Other(x)"), F::Other("Other(x)".into()));
    }

    #[test]
    fn reasons_read_as_words() {
        assert_eq!(
            F::UnknownIssuer.words(),
            "no trusted CA issued it (self-signed, or a CA not among the roots)"
        );
        assert_eq!(
            F::parse("Other(OtherError(CaUsedAsEndEntity))").words(),
            "the server presents a CA certificate as its own"
        );
        assert_eq!(
            F::Other("NameConstraintViolation".into()).words(),
            "name constraint violation"
        );
        assert_eq!(F::Other("Other(x)".into()).words(), "Other(x)");
        assert_eq!(
            F::Other("the peer sent no certificates".into()).words(),
            "the peer sent no certificates"
        );
    }

    #[test]
    fn the_json_form_is_the_code() {
        assert_eq!(
            serde_json::to_string(&F::UnknownIssuer).unwrap(),
            "\"unknown_issuer\""
        );
        assert_eq!(
            serde_json::from_str::<F>("\"expired\"").unwrap(),
            F::Expired
        );
    }
}
