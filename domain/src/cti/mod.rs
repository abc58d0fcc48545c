//! A BroadWorks XSP|ADP's CTI interface facing Webex (seed 003, DOMAIN.md §7), judged two
//! ways: its configuration as read over SSH against the seed's checklist, and what a TLS 1.2
//! client meets on its port (the probe's findings). Plain types and rules, shared with the
//! browser; the reads, the probe and the plan come with the server.

use serde::{Deserialize, Serialize};
pub use vos::{CtiInterface, TrustAnchor};

#[cfg(feature = "server")]
pub mod items;
#[cfg(feature = "server")]
pub mod plan;
#[cfg(feature = "server")]
pub mod store;
#[cfg(test)]
mod tests;

/// The common name of the Webex for Cisco BroadWorks CTI client certificate (seed 003).
pub const WEBEX_CLIENT: &str = "bwcticlient.webex.com";

/// The CTI port the Webex cloud connects to.
pub const CTI_PORT: u16 = 8012;

const SEED_003: &str = "seed 003 (CTI Interface and Related Configuration)";

/// What the console read of a node's CTI settings.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtiRead {
    /// Each: `ip`, `port`, `secure`, `server_certificate`, `client_auth_required`.
    #[cfg_attr(feature = "server", schema(value_type = Vec<Object>))]
    pub interfaces: Vec<CtiInterface>,
    /// `(interface IP, protocol)` set at the CTI interface level.
    #[cfg_attr(feature = "server", schema(value_type = Vec<Vec<String>>))]
    pub protocols: Vec<(String, String)>,
    /// `(interface IP, IANA name)`; none: the system's default list applies.
    #[cfg_attr(feature = "server", schema(value_type = Vec<Vec<String>>))]
    pub ciphers: Vec<(String, String)>,
    /// Each: `alias`, `owner`, `issuer`, `self_signed`.
    #[cfg_attr(feature = "server", schema(value_type = Vec<Object>))]
    pub trusts: Vec<TrustAnchor>,
    pub allow_client_app: Option<bool>,
    /// An Application Server's ClientIdentity entries (`None` on an XSP|ADP).
    pub client_identities: Option<Vec<String>>,
}

/// One step of seed 003's checklist, as the node stands.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Stable: `client_identity`, `cti_interface`, `tls12`, `recommended_cipher`,
    /// `trust_anchors`, `allow_client_app`.
    pub key: String,
    pub title: String,
    pub done: bool,
    /// What was read.
    pub observed: String,
    pub source: String,
    pub sentence: String,
    /// What the admin (or the plan) runs where it is not done, as the seed writes it.
    pub command: Option<String>,
}

fn step(
    key: &str,
    title: &str,
    done: bool,
    observed: String,
    sentence: &str,
    command: Option<String>,
) -> Step {
    Step {
        key: key.into(),
        title: title.into(),
        done,
        observed,
        source: SEED_003.into(),
        sentence: sentence.into(),
        command: (!done).then_some(command).flatten(),
    }
}

/// Whether `name` is one of the recommended suites (ECDHE with an AEAD cipher).
pub fn recommended(name: &str) -> bool {
    certs::suites::by_iana(name).is_some_and(certs::suites::Suite::recommended)
}

/// The checklist, inmost to outmost as the seed orders it.
pub fn checklist(read: &CtiRead) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some(identities) = &read.client_identities {
        let done = identities
            .iter()
            .any(|i| i.eq_ignore_ascii_case(WEBEX_CLIENT));
        steps.push(step(
            "client_identity",
            "The Application Server knows the Webex CTI client's identity",
            done,
            format!("ClientIdentity: {}", list(identities)),
            "Update the ClientIdentity on Application Server with the common name (CN) of the Webex for Cisco BroadWorks CTI client certificate.",
            Some(format!("AS_CLI/System/ClientIdentity> add {WEBEX_CLIENT}")),
        ));
        return steps;
    }
    let interface = read
        .interfaces
        .iter()
        .find(|i| i.port == CTI_PORT)
        .or(read.interfaces.first());
    let observed = match interface {
        None => "no CTI interface".to_owned(),
        Some(i) => format!(
            "{}:{} secure {}, server certificate {}, client authentication required {}",
            i.ip, i.port, i.secure, i.server_certificate, i.client_auth_required
        ),
    };
    let command = match interface {
        None => Some(format!(
            "XSP|ADP_CLI/Interface/CTI/CTIServer> add <Interface IP> {CTI_PORT} true true true"
        )),
        Some(i) => Some(format!(
            "XSP|ADP_CLI/Interface/CTI/CTIServer> set {} clientAuthReq true",
            i.ip
        )),
    };
    steps.push(step(
        "cti_interface",
        "A secure CTI interface that requires client certificates (mTLS)",
        interface.is_some_and(|i| i.secure && i.client_auth_required),
        observed,
        "The command creates a self-signed server certificate on the interface, and forces the interface to require a client certificate.",
        command,
    ));
    let ip = interface.map_or("<interfaceIp>", |i| i.ip.as_str());
    let values = |of: &[(String, String)]| -> Vec<String> {
        of.iter()
            .filter(|(at, _)| at == ip)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let protocols = values(&read.protocols);
    steps.push(step(
        "tls12",
        "TLS 1.2 on the CTI interface",
        protocols.iter().any(|p| p == "TLSv1.2"),
        format!("protocols: {}", list(&protocols)),
        "The XSP|ADP CTI interface that is interacting with the Webex Cloud must be configured for TLS v1.2. The cloud does not negotiate earlier versions of the TLS protocol.",
        Some(format!("XSP|ADP_CLI/Interface/CTI/CTIServer/SSLSettings/Protocols> add {ip} TLSv1.2")),
    ));
    let ciphers = values(&read.ciphers);
    let (done, observed) = if ciphers.is_empty() {
        let any = certs::suites::BROADWORKS_DEFAULTS
            .iter()
            .any(|n| recommended(n));
        (
            any,
            "none set on the interface: the system's default list applies".to_owned(),
        )
    } else {
        (
            ciphers.iter().any(|c| recommended(c)),
            format!("ciphers: {}", list(&ciphers)),
        )
    };
    steps.push(step(
        "recommended_cipher",
        "At least one recommended cipher suite (ECDHE with AES-GCM or ChaCha20)",
        done,
        observed,
        "There must be at least one from the Cisco recommended suites",
        Some(format!("XSP|ADP_CLI/Interface/CTI/CTIServer/SSLSettings/Ciphers> add {ip} TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")),
    ));
    let aliases: Vec<String> = read.trusts.iter().map(|t| t.alias.clone()).collect();
    let unique = aliases
        .iter()
        .enumerate()
        .all(|(i, a)| !aliases[..i].contains(a));
    steps.push(step(
        "trust_anchors",
        "The Webex CA chain as trust anchors, one file per certificate, root included",
        !read.trusts.is_empty() && unique && read.trusts.iter().any(|t| t.self_signed),
        format!("trust anchors: {}", list(&aliases)),
        "Upload the certificate files to new trust anchors ... All aliases must have a different name.",
        Some("XSP|ADP_CLI/Interface/CTI/SSLCommonSettings/ClientAuthentication/Trusts> updateTrust <alias> <file> (each certificate of the split chain)".into()),
    ));
    steps.push(step(
        "allow_client_app",
        "Clients may authenticate with certificates (allowClientApp)",
        read.allow_client_app == Some(true),
        match read.allow_client_app {
            Some(on) => format!("allowClientApp = {on}"),
            None => "not read".into(),
        },
        "Allow clients to authenticate with certificates",
        Some("XSP|ADP_CLI/System/CommunicationUtility/DefaultSettings/ExternalAuthentication/CertificateAuthentication> set allowClientApp true".into()),
    ));
    steps
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// What a TLS 1.2 client met on the CTI port.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtiProbe {
    pub port: u16,
    /// Offered TLS 1.2 with every suite: `{"Ok": Negotiated}` or `{"Err": "why refused"}`.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub tls12: Result<Negotiated, String>,
    /// Offered only the recommended suites: the one chosen (IANA name), if any.
    pub recommended: Option<String>,
}

/// A TLS 1.2 handshake's first flight as the probe read it.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Negotiated {
    /// `TLSv1.2`, or the lower version the server fell back to.
    pub protocol: String,
    pub iana: String,
    pub openssl: String,
    pub client_certificate_requested: bool,
    /// The chain sent ends at a self-signed certificate (or at one whose issuer it holds).
    pub chain_complete: bool,
}

/// One thing the Webex cloud would meet that it should not.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeFinding {
    /// `tls12_refused`, `no_recommended_suite`, `client_auth_not_required`,
    /// `chain_incomplete`.
    pub rule: String,
    pub message: String,
}

/// The probe's findings.
pub fn probe_findings(probe: &CtiProbe) -> Vec<ProbeFinding> {
    let finding = |rule: &str, message: String| ProbeFinding {
        rule: rule.into(),
        message,
    };
    let mut out = Vec::new();
    match &probe.tls12 {
        Err(why) => out.push(finding(
            "tls12_refused",
            format!(
                "port {} refused TLS 1.2 ({why}): the Webex cloud negotiates nothing earlier",
                probe.port
            ),
        )),
        Ok(n) if n.protocol != "TLSv1.2" => out.push(finding(
            "tls12_refused",
            format!(
                "offered TLS 1.2, port {} answered {}: the Webex cloud negotiates nothing earlier",
                probe.port, n.protocol
            ),
        )),
        Ok(n) => {
            if !n.client_certificate_requested {
                out.push(finding(
                    "client_auth_not_required",
                    format!(
                        "port {} asks for no client certificate: mTLS is required",
                        probe.port
                    ),
                ));
            }
            if !n.chain_complete {
                out.push(finding(
                    "chain_incomplete",
                    format!("port {} sends a chain that does not reach its root: send the issuing CAs too (sslUpdate ... chainFile)", probe.port),
                ));
            }
        }
    }
    if probe.tls12.as_ref().is_ok_and(|n| n.protocol == "TLSv1.2") && probe.recommended.is_none() {
        out.push(finding(
            "no_recommended_suite",
            format!(
                "port {} accepts none of the recommended suites (ECDHE with AES-GCM or ChaCha20)",
                probe.port
            ),
        ));
    }
    out
}

/// A BroadWorks node's CTI interface as the console finds it now: its settings read over SSH
/// against the checklist, and what a TLS 1.2 client meets on its port
/// (`GET /api/v1/nodes/{id}/cti`).
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtiView {
    pub node_id: i64,
    pub fqdn: String,
    pub cluster_id: i64,
    pub cluster: String,
    /// `XSP|ADP`, `AS` (an Application Server has the client identity step only), or
    /// `unknown` when nothing could be read.
    pub server: String,
    /// Where the probe knocked: the node's address and its CTI port.
    pub address: String,
    pub port: u16,
    pub read: Option<CtiRead>,
    /// Why the settings could not be read (the checklist is then empty).
    pub read_error: Option<String>,
    pub checklist: Vec<Step>,
    /// `None` on an Application Server, which has no CTI interface.
    pub probe: Option<CtiProbe>,
    /// Why the port could not be probed (nothing answered).
    pub probe_error: Option<String>,
    pub findings: Vec<ProbeFinding>,
    /// RFC 3339.
    pub checked_at: String,
}

impl CtiView {
    /// Steps not done yet.
    pub fn missing(&self) -> usize {
        self.checklist.iter().filter(|s| !s.done).count()
    }
}
