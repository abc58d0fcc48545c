//! The rules. Each lint has a stable id (an API), a severity, its source and a remediation.
//! [`lint`] judges one certificate where it is served; [`lint_chain`] judges the served chain.

use crate::{CertInfo, Finding, Severity};

/// When expiry alerts start (DOMAIN.md §2: warn 28-30 days, critical 14 days, and a share of
/// the lifetime for short-lived certificates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub warning_days: i64,
    pub critical_days: i64,
    /// Warn when less than this percentage of the lifetime remains.
    pub warning_lifetime_percent: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            warning_days: 30,
            critical_days: 14,
            warning_lifetime_percent: 20,
        }
    }
}

/// A served certificate's alert state: 0 ok, 1 warning, 2 critical, 3 expired (the numbers are
/// what `gatehouse_cert_alert_state` reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertState {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Expired = 3,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Ok => "ok",
            AlertState::Warning => "warning",
            AlertState::Critical => "critical",
            AlertState::Expired => "expired",
        }
    }

    /// Judges expiry at `now` (Unix seconds): expired; critical under `critical_days`; warning under
    /// `warning_days` or when less than `warning_lifetime_percent` of the lifetime is left.
    pub fn of(cert: &CertInfo, now: i64, t: &Thresholds) -> AlertState {
        if now > cert.not_after {
            return AlertState::Expired;
        }
        let days = cert.days_left(now);
        let lifetime = (cert.not_after - cert.not_before).max(1);
        let left_percent = (cert.not_after - now) * 100 / lifetime;
        if days < t.critical_days {
            AlertState::Critical
        } else if days < t.warning_days || left_percent < t.warning_lifetime_percent {
            AlertState::Warning
        } else {
            AlertState::Ok
        }
    }
}

/// Where a certificate is met.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// Unix seconds.
    pub now: i64,
    /// The node's FQDN, checked against the leaf.
    pub fqdn: Option<&'a str>,
    /// The node's kind (`uccx`, `cucm`, ...), for product rules.
    pub node_kind: Option<&'a str>,
    /// The product version as entered (`11.6(2)`, `12.5`), for product rules.
    pub node_version: Option<&'a str>,
    /// 0 for the leaf, 1 for the certificate that signed it, and so on.
    pub chain_position: usize,
    /// Served on a reverse proxy's public (internet-facing) listener.
    pub public_endpoint: bool,
    /// The chain verifies to a public root: CA/Browser Forum rules apply.
    pub publicly_trusted: bool,
    pub thresholds: Thresholds,
}

struct Rule {
    id: &'static str,
    source: &'static str,
    remediation: &'static str,
}

fn finding(rule: &Rule, severity: Severity, message: String) -> Finding {
    Finding {
        id: rule.id.to_owned(),
        severity,
        message,
        remediation: rule.remediation.to_owned(),
        source: rule.source.to_owned(),
    }
}

const EXPIRED: Rule = Rule {
    id: "expired",
    source: "RFC 5280 §4.1.2.5",
    remediation: "Renew the certificate (a new CSR with `set csr gen`, signed by the CA, imported with `set cert import own`; or `set cert regen` for a self-signed one) and restart the services that use it.",
};
const NOT_YET_VALID: Rule = Rule {
    id: "not_yet_valid",
    source: "RFC 5280 §4.1.2.5",
    remediation: "Check the clocks (NTP) of the node and of the CA; reissue the certificate if its start date is wrong.",
};
const EXPIRING: Rule = Rule {
    id: "expiring",
    source: "operator thresholds (DOMAIN.md §2)",
    remediation: "Plan the renewal now: generate a CSR, have it signed, import it, and restart the services in a maintenance window.",
};
const CN_NOT_IN_SAN: Rule = Rule {
    id: "cn_not_in_san",
    source: "seed 000 (Chrome 58+: NET::ERR_CERT_COMMON_NAME_INVALID)",
    remediation: "Reissue the certificate with the CN repeated in the subjectAltName (a CSR generated on the node lists it; check the CA keeps it).",
};
const FQDN_NOT_COVERED: Rule = Rule {
    id: "fqdn_not_covered",
    source: "seed 000 (servers must be reached by FQDN); RFC 6125",
    remediation: "Reissue the certificate with the node's FQDN in the subjectAltName, and make clients use that FQDN rather than an IP address or another name.",
};
const CRITICAL_EXTENSION: Rule = Rule {
    id: "critical_extension_not_allowed",
    source: "CSCvd56174 (UCCX to CUCM TLS fails; Finesse login says \"Invalid User ID/Password\")",
    remediation: "Reissue the CUCM certificate with only Key Usage and Basic Constraints marked critical (ask the CA for a template without other critical extensions).",
};
const UCCX_KEY_LENGTH: Rule = Rule {
    id: "uccx_key_length",
    source: "seed 000 (UCCX accepts only 1024 or 2048-bit keys)",
    remediation: "Generate the CSR on the UCCX node with a 2048-bit key and have it signed again.",
};
const WEAK_KEY: Rule = Rule {
    id: "weak_key",
    source: "NIST SP 800-131A; CA/Browser Forum BR §6.1.5",
    remediation: "Reissue the certificate with an RSA key of at least 2048 bits or an EC key of at least 256 bits.",
};
const UCCX_ECDSA: Rule = Rule {
    id: "uccx_ecdsa",
    source: "seed 000 (tomcat-ECDSA removed from the UCCX solution in 11.6)",
    remediation: "Serve the RSA tomcat certificate: delete the tomcat-ECDSA certificate and restart Cisco Tomcat.",
};
const WEAK_SIGNATURE: Rule = Rule {
    id: "weak_signature",
    source: "CA/Browser Forum BR §7.1.3; RFC 6194 (SHA-1), RFC 6151 (MD5)",
    remediation: "Reissue the certificate signed with SHA-256 or stronger.",
};
const CHAIN_INCOMPLETE: Rule = Rule {
    id: "chain_incomplete",
    source: "seed 002 (upload order: root, then intermediate to tomcat-trust, then the application certificate)",
    remediation: "Upload the missing intermediate CA certificate to tomcat-trust (root first, then intermediates), then re-import the application certificate so the node serves the whole chain.",
};
const UNKNOWN_ROOT: Rule = Rule {
    id: "unknown_root",
    source: "RFC 5280 §6.1 (a path ends at a trust anchor); seed 002 (CA certificates go to tomcat-trust)",
    remediation: "The chain is complete up to a private CA that the console does not trust. If that CA is yours, add its root certificate to the cluster's trusted CAs in the Inventory (and to tomcat-trust on the nodes that call this one); otherwise find out who issued this certificate.",
};
const HANDSHAKE_SIGNATURE: Rule = Rule {
    id: "handshake_signature_unverified",
    source: "RFC 8446 §4.4.3, RFC 5246 §7.4.3 (the server signs the handshake with the certificate's key)",
    remediation: "Check that the endpoint serves the certificate that belongs to its private key (re-import the certificate and its key, or regenerate both), and that nothing between the console and the node answers in its place.",
};
const SELF_SIGNED_PUBLIC: Rule = Rule {
    id: "self_signed_public",
    source: "seed 004 (VPN-less access: internet-facing proxy hostnames)",
    remediation: "Use a certificate from a publicly trusted CA on the proxy's public listener; agents' browsers will not trust a self-signed one.",
};
const VALIDITY_TOO_LONG: Rule = Rule {
    id: "validity_too_long",
    source: "CA/Browser Forum BR §6.3.2 (398 days)",
    remediation: "Ask the CA for a certificate valid at most 398 days; browsers reject longer publicly trusted ones.",
};
const NO_SAN: Rule = Rule {
    id: "no_san",
    source: "RFC 6125; CA/Browser Forum BR §7.1.2.7",
    remediation: "Reissue the certificate with a subjectAltName listing every name it serves.",
};
const CA_WITHOUT_CERTSIGN: Rule = Rule {
    id: "ca_without_certsign",
    source: "RFC 5280 §4.2.1.3",
    remediation: "Reissue the CA certificate with keyCertSign in its Key Usage, or drop the CA flag if it is not a CA.",
};
const NOT_V3: Rule = Rule {
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

/// Key Usage and Basic Constraints: the only extensions UCCX tolerates as critical.
const ALLOWED_CRITICAL: [&str; 2] = ["2.5.29.15", "2.5.29.19"];

/// `11.6(2)` → (11, 6).
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    Some((
        parts.next()?.parse().ok()?,
        parts.next().and_then(|p| p.parse().ok()).unwrap_or(0),
    ))
}

/// Judges one certificate where it is served.
pub fn lint(cert: &CertInfo, context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let leaf = context.chain_position == 0;
    let kind = context.node_kind.unwrap_or_default();

    let t = context.thresholds;
    let days = cert.days_left(context.now);
    match AlertState::of(cert, context.now, &t) {
        AlertState::Expired => findings.push(finding(
            &EXPIRED,
            Severity::Critical,
            format!("expired {} day(s) ago", -days),
        )),
        _ if context.now < cert.not_before => findings.push(finding(
            &NOT_YET_VALID,
            Severity::Critical,
            "not valid yet: its start date is in the future".into(),
        )),
        AlertState::Critical => findings.push(finding(
            &EXPIRING,
            Severity::Critical,
            format!("expires in {days} day(s)"),
        )),
        AlertState::Warning if days < t.warning_days => findings.push(finding(
            &EXPIRING,
            Severity::Warning,
            format!("expires in {days} day(s)"),
        )),
        AlertState::Warning => findings.push(finding(
            &EXPIRING,
            Severity::Warning,
            format!(
                "expires in {days} day(s): less than {}% of its lifetime is left",
                t.warning_lifetime_percent
            ),
        )),
        AlertState::Ok => {}
    }

    if leaf {
        if let Some(cn) = &cert.subject_cn {
            let in_san = cert.san_dns.iter().any(|n| n.eq_ignore_ascii_case(cn))
                || cert.san_ip.iter().any(|ip| ip == cn);
            if cert.has_san && !in_san {
                findings.push(finding(
                    &CN_NOT_IN_SAN,
                    Severity::Warning,
                    format!("the CN {cn} is not in the subjectAltName; Chrome shows NET::ERR_CERT_COMMON_NAME_INVALID"),
                ));
            }
        }
        if let Some(fqdn) = context.fqdn {
            if !cert.covers(fqdn) {
                findings.push(finding(
                    &FQDN_NOT_COVERED,
                    Severity::Critical,
                    format!("the certificate does not name {fqdn}"),
                ));
            }
        }
        if !cert.has_san {
            findings.push(finding(
                &NO_SAN,
                Severity::Warning,
                "the certificate has no subjectAltName".into(),
            ));
        }
        if cert.self_signed && context.public_endpoint {
            findings.push(finding(
                &SELF_SIGNED_PUBLIC,
                Severity::Warning,
                "a self-signed certificate on an internet-facing listener".into(),
            ));
        }
        let days = (cert.not_after - cert.not_before) / 86_400;
        if context.publicly_trusted && days > 398 {
            findings.push(finding(
                &VALIDITY_TOO_LONG,
                Severity::Warning,
                format!(
                    "valid for {days} days; publicly trusted certificates may be valid 398 at most"
                ),
            ));
        }
    }

    if matches!(kind, "cucm" | "uccx") {
        let extra: Vec<String> = cert
            .extensions
            .iter()
            .filter(|e| e.critical && !ALLOWED_CRITICAL.contains(&e.oid.as_str()))
            .map(|e| e.name.clone().unwrap_or_else(|| e.oid.clone()))
            .collect();
        if !extra.is_empty() {
            findings.push(finding(
                &CRITICAL_EXTENSION,
                Severity::Critical,
                format!(
                    "critical extension(s) other than Key Usage and Basic Constraints: {}",
                    extra.join(", ")
                ),
            ));
        }
    }

    let rsa_bits = (cert.key.algorithm == "RSA")
        .then_some(cert.key.bits)
        .flatten();
    if kind == "uccx" && leaf {
        if let Some(bits) = rsa_bits {
            if bits != 1024 && bits != 2048 {
                findings.push(finding(
                    &UCCX_KEY_LENGTH,
                    Severity::Critical,
                    format!("a {bits}-bit key; UCCX accepts only 1024 or 2048 bits"),
                ));
            }
        }
        let from_11_6 = context
            .node_version
            .and_then(major_minor)
            .is_some_and(|v| v >= (11, 6));
        if cert.key.algorithm == "EC" && from_11_6 {
            findings.push(finding(
                &UCCX_ECDSA,
                Severity::Critical,
                "an ECDSA (tomcat-ECDSA) certificate, unsupported on UCCX 11.6 and later".into(),
            ));
        }
    }
    match (cert.key.algorithm.as_str(), cert.key.bits) {
        ("RSA", Some(bits)) if bits < 2048 => {
            findings.push(finding(
                &WEAK_KEY,
                Severity::Warning,
                format!("a {bits}-bit RSA key; use at least 2048"),
            ));
        }
        ("EC", Some(bits)) if bits < 224 => {
            findings.push(finding(
                &WEAK_KEY,
                Severity::Warning,
                format!("a {bits}-bit EC key; use at least 256"),
            ));
        }
        _ => {}
    }

    // A self-signed root's own signature is not relied upon; everyone else's is.
    let weak = ["sha1", "md5", "md2"]
        .iter()
        .any(|w| cert.signature_algorithm.to_ascii_lowercase().contains(w));
    let relied_upon = leaf || !cert.self_signed;
    if weak && relied_upon {
        findings.push(finding(
            &WEAK_SIGNATURE,
            Severity::Critical,
            format!("signed with {}", cert.signature_algorithm),
        ));
    }

    if cert.is_ca {
        if let Some(usage) = &cert.key_usage {
            if !usage.iter().any(|u| u == "keyCertSign") {
                findings.push(finding(
                    &CA_WITHOUT_CERTSIGN,
                    Severity::Warning,
                    "a CA certificate whose Key Usage lacks keyCertSign".into(),
                ));
            }
        }
    }
    if cert.version != 3 {
        findings.push(finding(
            &NOT_V3,
            Severity::Warning,
            format!("an X.509 v{} certificate", cert.version),
        ));
    }
    findings
}

/// Judges the served chain (leaf first) when its last certificate is neither self-signed nor
/// issued by one of the known anchors (the system's roots, the cluster's CAs). Two problems with
/// two fixes: the last certificate is a leaf, so the server left out the CA certificates between
/// it and a root (`chain_incomplete`: serve them); or it is a CA certificate, so the chain is
/// complete as far as the server can tell and ends at a root the console does not know
/// (`unknown_root`: trust that root). `issued_by(child, parent)` says whether `parent` signed
/// `child`.
pub fn lint_chain<T>(
    chain: &[(CertInfo, T)],
    anchors: &[(CertInfo, T)],
    issued_by: impl Fn(&T, &T) -> bool,
) -> Option<Finding> {
    let (last, last_raw) = chain.last()?;
    if last.self_signed {
        return None;
    }
    let anchored = anchors
        .iter()
        .any(|(anchor, raw)| anchor.subject == last.issuer && issued_by(last_raw, raw));
    if anchored {
        return None;
    }
    Some(if last.is_ca {
        chain_finding(
            UNKNOWN_ROOT.id,
            format!(
                "the served chain ends at the CA {}, issued by {}, which is not a root the console trusts",
                last.subject, last.issuer
            ),
        )
    } else {
        chain_finding(
            CHAIN_INCOMPLETE.id,
            format!(
                "the served chain ends at {} without the CA that issued it ({})",
                last.subject, last.issuer
            ),
        )
    })
}

/// A chain finding from what was stored when the probe was recorded: its rule id
/// (`chain_incomplete` or `unknown_root`; any other is read as `chain_incomplete`) and message.
pub fn chain_finding(rule: &str, message: String) -> Finding {
    if rule == UNKNOWN_ROOT.id {
        finding(&UNKNOWN_ROOT, Severity::Warning, message)
    } else {
        finding(&CHAIN_INCOMPLETE, Severity::Warning, message)
    }
}

/// The server signed its handshake with a key that does not verify against the certificate it
/// served, or in a way that could not be checked: reported on the leaf.
pub fn handshake_signature_unverified(reason: &str) -> Finding {
    finding(
        &HANDSHAKE_SIGNATURE,
        Severity::Critical,
        format!("the server's handshake signature could not be verified with the served certificate's key: {reason}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_the_way_cisco_writes_them() {
        assert_eq!(major_minor("11.6(2)"), Some((11, 6)));
        assert_eq!(major_minor("12.5.1 SU3"), Some((12, 5)));
        assert_eq!(major_minor("15"), Some((15, 0)));
        assert_eq!(major_minor("unknown"), None);
    }
}
