//! The rules. Each lint has a stable id (an API), a severity, its source and a remediation.
//! [`lint`] judges one certificate where it is served; [`lint_chain`] judges the served chain.

mod chain;
mod rules;

pub use chain::{chain_finding, handshake_signature_unverified, lint_chain};
pub use rules::IDS;
use rules::*;

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
