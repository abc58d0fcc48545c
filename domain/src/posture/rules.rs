//! The posture rules: what was observed on a node → findings, each with the sentence of the
//! vendor's guidance it comes from and its fix; and the score.
//!
//! Score: `max(0, 100 − 20·critical − 10·high − 4·medium − 1·low)`, over the cluster's
//! findings of one scan; grade A from 90, B from 75, C from 50, D below. A node that could not
//! be looked at (a gap) scores nothing either way: the report lists it instead.

use super::{Finding, Fix, Observed, Severity};
use serde::{Deserialize, Serialize};

/// Item keys of the settings the rules read (the posture plan's and the access policy's).
pub const TRUST_ALL: &str = "trustAllCertificates";
pub const SECURE_SYSTEM_INFO: &str = "secureSystemInfo";
pub const INSECURE_OPENFIRE: &str = "enableInsecureOpenfirePort";
pub const TLS_MIN: &str = "tls-min-version";
pub const HTTPS_REDIRECT: &str = "https-redirect";
pub const GADGET_CHECK: &str = "gadget-source-check";
pub const CLIENT_AUTH: &str = crate::access_policy::items::CLIENT_AUTH;
pub const CORS_MODE: &str = crate::access_policy::items::CORS_MODE;

/// The cluster's letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum Grade {
    A,
    B,
    C,
    D,
}

/// The score of a set of findings and its grade (see the module's formula).
pub fn score(findings: &[Finding]) -> (u32, Grade) {
    let lost: u32 = findings
        .iter()
        .map(|f| match f.severity {
            Severity::Critical => 20,
            Severity::High => 10,
            Severity::Medium => 4,
            Severity::Low => 1,
        })
        .sum();
    let score = 100u32.saturating_sub(lost);
    let grade = match score {
        90.. => Grade::A,
        75..=89 => Grade::B,
        50..=74 => Grade::C,
        _ => Grade::D,
    };
    (score, grade)
}

const SEED_001: &str = "seed 001 (Finesse: Manage Security)";
const SEED_002: &str = "seed 002 (Finesse administration: HTTPS redirect)";
const SEED_004: &str = "seed 004 (VPN-less reverse proxy)";

/// Everything the rules find on one node; `cluster` links to the cluster's pages.
pub fn judge(node: &Observed, cluster: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |rule: &str,
                   severity,
                   port,
                   title: &str,
                   observed: String,
                   (source, sentence): (&str, &str),
                   fix| {
        out.push(Finding {
            rule: rule.into(),
            severity,
            node_id: node.node_id,
            node: node.fqdn.clone(),
            port,
            title: title.into(),
            observed,
            source: source.into(),
            sentence: sentence.into(),
            fix,
            advice: None,
        })
    };
    let setting = |key: &str| node.settings.get(key).map(String::as_str);
    let plan = |item: &str, to: &str| Fix::Plan {
        item: item.into(),
        to: to.into(),
    };
    let command = |c: &str| Fix::Command { command: c.into() };
    let policy = Fix::Page {
        label: "the cluster's access policy".into(),
        href: format!("/clusters/{cluster}/access"),
    };

    if setting(TRUST_ALL) == Some("true") {
        add("trust_all_certificates", Severity::High, None,
            "Finesse trusts every certificate (trustAllCertificates is true)",
            "utils finesse show_property webservices trustAllCertificates: true".into(),
            (SEED_001, "Validation of the X.509 certificate is enforced. ... You can override the trust certificate enforcement by using the CLI command utils finesse set_property webservices trustAllCertificates true."),
            plan(TRUST_ALL, "false"));
    }
    if setting(SECURE_SYSTEM_INFO) == Some("false") {
        add("system_info_unauthenticated", Severity::Low, None,
            "SystemInfo answers without credentials on the LAN (secureSystemInfo is false)",
            "utils finesse show_property webservices secureSystemInfo: false".into(),
            (SEED_001, "By default, SystemInfo requests within the LAN network do not require authentication. ... To enable authentication for SystemInfo API calls within LAN network: utils finesse set_property webservices secureSystemInfo true"),
            plan(SECURE_SYSTEM_INFO, "true"));
    }
    let openfire = setting(INSECURE_OPENFIRE) == Some("true");
    if openfire || !node.open_insecure.is_empty() {
        let observed = match (openfire, node.open_insecure.is_empty()) {
            (true, true) => "enableInsecureOpenfirePort is true (the ports open after the notification service restarts)".into(),
            _ => node
                .open_insecure
                .iter()
                .map(|(port, what)| format!("port {port} ({what}) accepts connections"))
                .chain(openfire.then(|| "enableInsecureOpenfirePort is true".into()))
                .collect::<Vec<_>>()
                .join("; "),
        };
        add("insecure_notification_ports", Severity::High, None,
            "Unencrypted notification ports are open (XMPP 5222, BOSH/WebSocket 7071)",
            observed,
            (SEED_001, "By default, Cisco Finesse Notification Service unsecure XMPP port 5222 and BOSH/WebSocket (HTTP) port 7071 are disabled."),
            plan(INSECURE_OPENFIRE, "false"));
    }
    let redirect_off = setting(HTTPS_REDIRECT) == Some("disabled");
    for http in &node.http {
        if !redirects_to_https(http, &node.fqdn) {
            add("http_not_redirected", Severity::Medium, Some(http.port),
                "Plain HTTP is served instead of a redirect to HTTPS",
                format!("HTTP {} on port {}{}", http.status, http.port,
                    http.location.as_deref().map(|l| format!(" → {l}")).unwrap_or_default()),
                (SEED_001, "If you access Finesse using HTTP (unsecure port: 80 or 8082), then the 301 HTTP redirect status response is issued to the secure port 8445."),
                command("utils service stop Cisco Finesse Tomcat; utils finesse application_https_redirect enable; utils service start Cisco Finesse Tomcat"));
        }
    }
    if redirect_off && node.http.is_empty() {
        add("http_not_redirected", Severity::Medium, None,
            "Cisco Finesse HTTPS Redirect is disabled",
            "utils finesse application_https_redirect status: disabled".into(),
            (SEED_002, "Enable Cisco Finesse HTTPS Redirect to enforce HTTPS to access the Finesse desktop and administration console."),
            command("utils service stop Cisco Finesse Tomcat; utils finesse application_https_redirect enable; utils service start Cisco Finesse Tomcat"));
    }
    if let Some((port, header)) = &node.hsts {
        if max_age(header).unwrap_or(0) == 0 {
            add("hsts_missing", Severity::Medium, Some(*port),
                "The desktop sends no HTTP Strict Transport Security header",
                if header.is_empty() { format!("no Strict-Transport-Security on port {port}") } else { format!("Strict-Transport-Security: {header}") },
                (SEED_002, "HSTS is automatically enabled when you enable HTTPS Redirect, in which case the Finesse server sends HTTPS responses indicating to browsers that Finesse can only be accessed using HTTPS."),
                command("utils service stop Cisco Finesse Tomcat; utils finesse application_https_redirect enable; utils service start Cisco Finesse Tomcat"));
        }
    }
    let proxied = node.allowed_hosts.as_ref().is_some_and(|h| !h.is_empty());
    match setting(CLIENT_AUTH) {
        Some("disabled") if proxied => add("client_auth_off_with_proxy", Severity::High, None,
            "Reverse-proxy hosts are trusted without verifying their client certificate",
            format!("client-auth disabled; allowed hosts: {}", node.allowed_hosts.as_deref().unwrap_or_default().join(", ")),
            (SEED_004, "You can configure SSL certificate verification for communication between reverse-proxy host and the Cisco Web Proxy Service ... By default, the host authentication is enabled."),
            policy.clone()),
        Some("enabled") if node.allowed_hosts.as_ref().is_some_and(Vec::is_empty) => add("client_auth_on_without_proxy", Severity::Low, None,
            "Client-auth is on though no reverse proxy is trusted: LAN agents are asked for a certificate",
            "client-auth enabled; no allowed hosts".into(),
            (SEED_001, "If the deployments aren’t configured for VPN-less access to Finesse, disable it by running the utils system reverse-proxy client-auth disable command on both the Finesse nodes."),
            policy.clone()),
        _ => {}
    }
    if setting(CORS_MODE) == Some("enable_all") {
        add("cors_allows_all", Severity::Medium, None,
            "CORS allows every origin (the fresh-install enable_all)",
            "cors status: enable_all".into(),
            (SEED_001, "Once CORS is enabled via the CLI utils finesse cors enable, the CORS origin request from external domains is blocked by the browser."),
            policy.clone());
    }
    if setting(GADGET_CHECK) == Some("disabled") {
        add("gadget_source_check_off", Severity::Medium, None,
            "Gadgets may make the server request any URI (gadget source allow list off: SSRF)",
            "utils finesse gadget_source_check status: disabled".into(),
            (SEED_001, "Shindig proxies requests from the Finesse desktop to external servers and this introduces the possibility of server side request forgery (SSRF). To prevent SSRF, you can choose to restrict outgoing connections requested by the gadgets to specific URIs"),
            command("utils finesse gadget_source_check allowed_list add <URI of each gadget server>; utils finesse gadget_source_check enable"));
    }
    for tls in &node.tls {
        if !tls.legacy_protocols.is_empty() {
            add(
                "legacy_tls",
                Severity::High,
                Some(tls.port),
                "The endpoint accepts TLS 1.0 or 1.1",
                format!(
                    "port {} accepts {}",
                    tls.port,
                    tls.legacy_protocols.join(" and ")
                ),
                (
                    "RFC 8996",
                    "TLS 1.0 and TLS 1.1 are deprecated: they MUST NOT be used.",
                ),
                match setting(TLS_MIN) {
                    Some("1.0" | "1.1") => plan(TLS_MIN, "1.2"),
                    Some(set) => Fix::Command {
                        command: format!("the node is set to TLS {set} already and takes it at its next reboot: utils system restart"),
                    },
                    None => command(
                        "set tls min-version 1.2 (on every node of the cluster; the node reboots)",
                    ),
                },
            );
        }
        if let Some(suite) = &tls.weak_suite {
            add("weak_cipher_suite", Severity::Medium, Some(tls.port),
                "The endpoint accepts a cipher suite without authenticated encryption (CBC, RC4 or 3DES)",
                format!("port {} chose {suite} when offered only such suites", tls.port),
                ("RFC 9325 (BCP 195)", "Implementations SHOULD prefer cipher suites that use AEAD ciphers and forward secrecy."),
                command("Cisco Unified OS Administration → Security → Cipher Management: HTTPS ciphers ECDHE with AES-GCM only; then restart Cisco Tomcat"));
        }
    }
    out
}

/// A 301, 302, 307 or 308 to `https://` on the node itself (seed 001: "the 301 HTTP redirect
/// status response is issued to the secure port 8445").
fn redirects_to_https(http: &super::Http, fqdn: &str) -> bool {
    let Some(rest) = http
        .location
        .as_deref()
        .and_then(|l| l.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    };
    matches!(http.status, 301 | 302 | 307 | 308)
        && host
            .trim_end_matches('.')
            .eq_ignore_ascii_case(fqdn.trim_end_matches('.'))
}

/// The `max-age` of a `Strict-Transport-Security` header, in seconds.
fn max_age(header: &str) -> Option<u64> {
    header.split(';').find_map(|directive| {
        let (name, value) = directive.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        value.trim().trim_matches('"').parse().ok()
    })
}
