//! The probe's naming of suites, reasons and alerts.

use super::*;

#[test]
fn tls13_suites_get_their_iana_names() {
    assert_eq!(
        iana_name(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256),
        "TLS_AES_128_GCM_SHA256"
    );
    assert_eq!(
        iana_name(rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    );
}

#[test]
fn rustls_reasons_read_as_words() {
    assert_eq!(
        words("NoCipherSuitesInCommon"),
        "no cipher suites in common"
    );
    assert_eq!(words("Expired"), "expired");
}

#[test]
fn alert_names_become_snake_case_codes() {
    assert_eq!(snake_case("HandshakeFailure"), "handshake_failure");
    assert_eq!(snake_case("UnrecognisedName"), "unrecognised_name");
}
