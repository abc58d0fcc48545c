//! The rules' identities: each lint's stable id (an API: monitoring and the REST API name
//! them), the document it enforces and what to do about it.

use crate::{Finding, Severity};

pub(super) struct Rule {
    pub(super) id: &'static str,
    pub(super) source: &'static str,
    pub(super) remediation: &'static str,
}

pub(super) fn finding(rule: &Rule, severity: Severity, message: String) -> Finding {
    Finding {
        id: rule.id.to_owned(),
        severity,
        message,
        remediation: rule.remediation.to_owned(),
        source: rule.source.to_owned(),
    }
}

pub(super) const EXPIRED: Rule = Rule {
    id: "expired",
    source: "RFC 5280 §4.1.2.5",
    remediation: "Renew the certificate (a new CSR with `set csr gen`, signed by the CA, imported with `set cert import own`; or `set cert regen` for a self-signed one) and restart the services that use it.",
};
pub(super) const NOT_YET_VALID: Rule = Rule {
    id: "not_yet_valid",
    source: "RFC 5280 §4.1.2.5",
    remediation: "Check the clocks (NTP) of the node and of the CA; reissue the certificate if its start date is wrong.",
};
pub(super) const EXPIRING: Rule = Rule {
    id: "expiring",
    source: "operator thresholds (DOMAIN.md §2)",
    remediation: "Plan the renewal now: generate a CSR, have it signed, import it, and restart the services in a maintenance window.",
};
pub(super) const CN_NOT_IN_SAN: Rule = Rule {
    id: "cn_not_in_san",
    source: "seed 000 (Chrome 58+: NET::ERR_CERT_COMMON_NAME_INVALID)",
    remediation: "Reissue the certificate with the CN repeated in the subjectAltName (a CSR generated on the node lists it; check the CA keeps it).",
};
pub(super) const FQDN_NOT_COVERED: Rule = Rule {
    id: "fqdn_not_covered",
    source: "seed 000 (servers must be reached by FQDN); RFC 6125",
    remediation: "Reissue the certificate with the node's FQDN in the subjectAltName, and make clients use that FQDN rather than an IP address or another name.",
};
pub(super) const CRITICAL_EXTENSION: Rule = Rule {
    id: "critical_extension_not_allowed",
    source: "CSCvd56174 (UCCX to CUCM TLS fails; Finesse login says \"Invalid User ID/Password\")",
    remediation: "Reissue the CUCM certificate with only Key Usage and Basic Constraints marked critical (ask the CA for a template without other critical extensions).",
};
pub(super) const UCCX_KEY_LENGTH: Rule = Rule {
    id: "uccx_key_length",
    source: "seed 000 (UCCX accepts only 1024 or 2048-bit keys)",
    remediation: "Generate the CSR on the UCCX node with a 2048-bit key and have it signed again.",
};
pub(super) const WEAK_KEY: Rule = Rule {
    id: "weak_key",
    source: "NIST SP 800-131A; CA/Browser Forum BR §6.1.5",
    remediation: "Reissue the certificate with an RSA key of at least 2048 bits or an EC key of at least 256 bits.",
};
pub(super) const UCCX_ECDSA: Rule = Rule {
    id: "uccx_ecdsa",
    source: "seed 000 (tomcat-ECDSA removed from the UCCX solution in 11.6)",
    remediation: "Serve the RSA tomcat certificate: delete the tomcat-ECDSA certificate and restart Cisco Tomcat.",
};
pub(super) const WEAK_SIGNATURE: Rule = Rule {
    id: "weak_signature",
    source: "CA/Browser Forum BR §7.1.3; RFC 6194 (SHA-1), RFC 6151 (MD5)",
    remediation: "Reissue the certificate signed with SHA-256 or stronger.",
};
pub(super) const CHAIN_INCOMPLETE: Rule = Rule {
    id: "chain_incomplete",
    source: "seed 002 (upload order: root, then intermediate to tomcat-trust, then the application certificate)",
    remediation: "Upload the missing intermediate CA certificate to tomcat-trust (root first, then intermediates), then re-import the application certificate so the node serves the whole chain.",
};
pub(super) const UNKNOWN_ROOT: Rule = Rule {
    id: "unknown_root",
    source: "RFC 5280 §6.1 (a path ends at a trust anchor); seed 002 (CA certificates go to tomcat-trust)",
    remediation: "The chain is complete up to a private CA that the console does not trust. If that CA is yours, add its root certificate to the cluster's trusted CAs in the Inventory (and to tomcat-trust on the nodes that call this one); otherwise find out who issued this certificate.",
};
pub(super) const HANDSHAKE_SIGNATURE: Rule = Rule {
    id: "handshake_signature_unverified",
    source: "RFC 8446 §4.4.3, RFC 5246 §7.4.3 (the server signs the handshake with the certificate's key)",
    remediation: "Check that the endpoint serves the certificate that belongs to its private key (re-import the certificate and its key, or regenerate both), and that nothing between the console and the node answers in its place.",
};
pub(super) const SELF_SIGNED_PUBLIC: Rule = Rule {
    id: "self_signed_public",
    source: "seed 004 (VPN-less access: internet-facing proxy hostnames)",
    remediation: "Use a certificate from a publicly trusted CA on the proxy's public listener; agents' browsers will not trust a self-signed one.",
};
pub(super) const VALIDITY_TOO_LONG: Rule = Rule {
    id: "validity_too_long",
    source: "CA/Browser Forum BR §6.3.2 (398 days)",
    remediation: "Ask the CA for a certificate valid at most 398 days; browsers reject longer publicly trusted ones.",
};
pub(super) const NO_SAN: Rule = Rule {
    id: "no_san",
    source: "RFC 6125; CA/Browser Forum BR §7.1.2.7",
    remediation: "Reissue the certificate with a subjectAltName listing every name it serves.",
};
pub(super) const CA_WITHOUT_CERTSIGN: Rule = Rule {
    id: "ca_without_certsign",
    source: "RFC 5280 §4.2.1.3",
    remediation: "Reissue the CA certificate with keyCertSign in its Key Usage, or drop the CA flag if it is not a CA.",
};
pub(super) const NOT_V3: Rule = Rule {
    id: "not_v3",
    source: "RFC 5280 §4.1.2.1",
    remediation: "Reissue the certificate as X.509 v3 (extensions such as subjectAltName need it).",
};

/// Every lint id, in the order they are reported.
pub const IDS: [&str; 18] = [
    EXPIRED.id,
    NOT_YET_VALID.id,
    EXPIRING.id,
    CN_NOT_IN_SAN.id,
    FQDN_NOT_COVERED.id,
    CRITICAL_EXTENSION.id,
    UCCX_KEY_LENGTH.id,
    WEAK_KEY.id,
    UCCX_ECDSA.id,
    WEAK_SIGNATURE.id,
    CHAIN_INCOMPLETE.id,
    UNKNOWN_ROOT.id,
    HANDSHAKE_SIGNATURE.id,
    SELF_SIGNED_PUBLIC.id,
    VALIDITY_TOO_LONG.id,
    NO_SAN.id,
    CA_WITHOUT_CERTSIGN.id,
    NOT_V3.id,
];
