//! A certificate verifier's reasons in words for admins (they are stored as rustls names).

/// Why a chain does not verify, in words (the verifier's reason, as stored, otherwise).
pub fn trust_words(reason: Option<&str>) -> String {
    let reason = reason.unwrap_or_default();
    // `Other(OtherError(CaUsedAsEndEntity))`: webpki's own reason, inside rustls's wrapper.
    let inner = reason.strip_prefix("Other(OtherError(").unwrap_or(reason);
    let name = inner.split(['{', ' ', '(', ')']).next().unwrap_or_default();
    match name {
        "UnknownIssuer" => {
            "no trusted CA issued it (self-signed, or a CA not among the roots)".into()
        }
        "NotValidForName" | "NotValidForNameContext" => "it is not valid for this FQDN".into(),
        "Expired" | "ExpiredContext" => "it has expired".into(),
        "NotValidYet" | "NotValidYetContext" => "it is not valid yet".into(),
        "BadSignature" => "a signature in the chain does not verify".into(),
        "Revoked" => "it is revoked".into(),
        "InvalidPurpose" | "InvalidPurposeContext" => {
            "it is not for TLS server authentication".into()
        }
        "BadEncoding" => "it cannot be decoded".into(),
        "CaUsedAsEndEntity" => "the server presents a CA certificate as its own".into(),
        "UnsupportedCertVersion" => "it is not an X.509 v3 certificate".into(),
        "UnsupportedCriticalExtension" => "it has a critical extension nobody here knows".into(),
        "UnsupportedSignatureAlgorithm" | "UnsupportedSignatureAlgorithmContext" => {
            "it is signed with an algorithm no longer accepted (MD5 or SHA-1?)".into()
        }
        // Any other webpki reason: its name in words (`NameConstraintViolation` → name
        // constraint violation); anything else as stored.
        other if inner != reason && !other.is_empty() => other
            .chars()
            .enumerate()
            .flat_map(|(i, c)| {
                let space = (i > 0 && c.is_ascii_uppercase()).then_some(' ');
                space
                    .into_iter()
                    .chain(std::iter::once(c.to_ascii_lowercase()))
            })
            .collect(),
        _ => reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::trust_words;

    #[test]
    fn webpki_reasons_inside_rustls_wrapper_read_as_words() {
        assert_eq!(
            trust_words(Some("Other(OtherError(CaUsedAsEndEntity))")),
            "the server presents a CA certificate as its own"
        );
        assert_eq!(
            trust_words(Some("Other(OtherError(NameConstraintViolation))")),
            "name constraint violation"
        );
    }

    #[test]
    fn verifier_reasons_read_as_words() {
        assert_eq!(
            trust_words(Some("UnknownIssuer")),
            "no trusted CA issued it (self-signed, or a CA not among the roots)"
        );
        assert_eq!(
            trust_words(Some(
                "ExpiredContext { time: UnixTime(1), not_after: UnixTime(0) }"
            )),
            "it has expired"
        );
        assert_eq!(
            trust_words(Some("NotValidForNameContext { expected: .. }")),
            "it is not valid for this FQDN"
        );
        // An unknown reason is shown as stored, never dropped.
        assert_eq!(trust_words(Some("Other(x)")), "Other(x)");
    }
}
