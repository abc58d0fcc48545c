//! Everything wrong with a document, each problem with the field it is in, so that the console
//! shows it beside the field and the engine logs it when it refuses a document.

use crate::class::Class;
use crate::{Component, Config};
use std::collections::HashSet;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `routes[2].internal`, `limits.rates.ids`, empty for the document as a whole.
    pub at: String,
    pub message: String,
}

impl Problem {
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            at: at.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

/// Internal ports of protocols the proxy does not carry (seed 004 caveats: XMPP over TCP,
/// Openfire's insecure and admin ports).
const NOT_THROUGH_PROXY: [(u16, &str); 5] = [
    (5222, "XMPP over TCP"),
    (5223, "XMPP over TCP"),
    (7071, "Openfire's insecure HTTP port"),
    (9090, "Openfire's administration console"),
    (9091, "Openfire's administration console"),
];

/// Headers a forwarder may not be trusted with: they mean something to HTTP itself.
const RESERVED_HEADERS: [&str; 12] = [
    "host",
    "authorization",
    "connection",
    "content-length",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-authorization",
    "cookie",
    "sec-websocket-protocol",
];

pub(crate) fn config(c: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut say = |at: String, message: String| out.push(Problem { at, message });
    if c.schema != crate::SCHEMA {
        say(
            "schema".into(),
            format!(
                "this engine reads schema {}; the document is schema {}",
                crate::SCHEMA,
                c.schema
            ),
        );
        return out;
    }
    if c.version == 0 {
        say("version".into(), "must be 1 or more".into());
    }
    if c.listeners.is_empty() {
        say(
            "listeners".into(),
            "no listener: nothing would be served".into(),
        );
    }
    let mut bound = HashSet::new();
    for (i, l) in c.listeners.iter().enumerate() {
        let at = format!("listeners[{i}]");
        if !bound.insert(l.address) {
            say(
                format!("{at}.address"),
                format!("{} is bound twice", l.address),
            );
        }
        if l.address.port() == 0 || l.public_port == Some(0) {
            say(
                format!("{at}.address"),
                "port 0 is not a port clients can use".into(),
            );
        }
        if l.certificates.is_empty() {
            say(
                format!("{at}.certificates"),
                "a TLS listener needs a certificate".into(),
            );
        }
        for (j, pair) in l.certificates.iter().enumerate() {
            path(
                &mut say,
                format!("{at}.certificates[{j}].certificate"),
                &pair.certificate,
            );
            path(&mut say, format!("{at}.certificates[{j}].key"), &pair.key);
        }
    }
    if c.routes.is_empty() {
        say(
            "routes".into(),
            "no route: every request would be refused".into(),
        );
    }
    let ports: HashSet<u16> = c.listeners.iter().map(|l| l.port()).collect();
    let mut external = HashSet::new();
    for (i, r) in c.routes.iter().enumerate() {
        let at = format!("routes[{i}]");
        if !external.insert((r.external.host.folded().into_owned(), r.external.port)) {
            say(
                format!("{at}.external"),
                format!("{} is routed twice", r.external),
            );
        }
        if !ports.contains(&r.external.port) {
            say(
                format!("{at}.external"),
                format!("no listener takes port {}", r.external.port),
            );
        }
        if let Some((_, what)) = NOT_THROUGH_PROXY
            .iter()
            .find(|(p, _)| *p == r.internal.port)
        {
            say(
                format!("{at}.internal"),
                format!(
                    "port {} is {what}, which is not supported through the proxy (seed 004)",
                    r.internal.port
                ),
            );
        }
    }
    let finesse: Vec<_> = c
        .routes
        .iter()
        .filter(|r| r.component == Component::Finesse)
        .collect();
    if !c.routes.is_empty() && finesse.is_empty() {
        say(
            "routes".into(),
            "no Finesse route: credentials could not be checked, so every request would be refused"
                .into(),
        );
    }
    for (i, f) in c.auth.finesse.iter().enumerate() {
        if !finesse
            .iter()
            .any(|r| r.internal.host.folded() == f.host.folded() && r.internal.port == f.port)
        {
            say(
                format!("auth.finesse[{i}]"),
                format!("{f} is not the internal side of a Finesse route"),
            );
        }
    }
    if let Some(header) = &c.forwarders.header {
        let lower = header.to_ascii_lowercase();
        if header.is_empty() || !header.bytes().all(is_token) {
            say(
                "forwarders.header".into(),
                "a header name is letters, digits and - only".into(),
            );
        } else if RESERVED_HEADERS.contains(&lower.as_str()) {
            say(
                "forwarders.header".into(),
                format!("{header} means something to HTTP itself; use X-Real-IP or a header of your own"),
            );
        }
    }
    for (i, range) in c.forwarders.addresses.iter().enumerate() {
        if range.prefix() < if range.is_ipv4() { 8 } else { 32 } {
            say(
                format!("forwarders.addresses[{i}]"),
                format!("{range} is wider than any forwarder's network: every client in it could set its own address"),
            );
        }
    }
    for class in Class::ALL {
        let rate = c.limits.rates.of(class);
        if rate.per_second == 0 || rate.burst == 0 {
            say(
                format!("limits.rates.{}", class.as_str()),
                "requests per second and burst must be 1 or more".into(),
            );
        }
    }
    let l = &c.limits;
    positive(
        &mut say,
        "limits.http1_connections",
        l.http1_connections as u64,
    );
    positive(&mut say, "limits.http2_streams", l.http2_streams as u64);
    positive(&mut say, "limits.body_bytes", l.body_bytes);
    if !(1024..=1 << 20).contains(&l.head_bytes) {
        say(
            "limits.head_bytes".into(),
            "a request head limit must be between 1 KiB and 1 MiB".into(),
        );
    }
    let b = &c.bans;
    positive(&mut say, "bans.failures", b.failures as u64);
    positive(&mut say, "bans.window_secs", b.window_secs);
    positive(&mut say, "bans.ban_secs", b.ban_secs);
    let t = &c.timeouts;
    for (name, value) in [
        ("client_header_secs", t.client_header_secs),
        ("client_body_secs", t.client_body_secs),
        ("send_secs", t.send_secs),
        ("keepalive_secs", t.keepalive_secs),
        ("keepalive_requests", t.keepalive_requests as u64),
        ("upstream_connect_secs", t.upstream_connect_secs),
        ("upstream_response_secs", t.upstream_response_secs),
    ] {
        positive(&mut say, &format!("timeouts.{name}"), value);
    }
    let a = &c.auth;
    positive(
        &mut say,
        "auth.credential_cache_secs",
        a.credential_cache_secs,
    );
    positive(&mut say, "auth.token_cache_secs", a.token_cache_secs);
    prefix(&mut say, "auth.ids_key_path".into(), &a.ids_key_path, false);
    if a.users_refresh_secs < 10 {
        say(
            "auth.users_refresh_secs".into(),
            "at least 10 (seed 004 reads the users every 900)".into(),
        );
    }
    if a.users_credentials
        .as_deref()
        .is_some_and(|f| !f.starts_with('/'))
    {
        say(
            "auth.users_credentials".into(),
            "the absolute path of a file holding login:password".into(),
        );
    }
    if a.ids_key_refresh_secs < 10 {
        say(
            "auth.ids_key_refresh_secs".into(),
            "at least 10 (seed 004 polls every 300)".into(),
        );
    }
    positive(
        &mut say,
        "auth.websocket_window_secs",
        a.websocket_window_secs,
    );
    for (i, p) in a.static_prefixes.iter().enumerate() {
        prefix(&mut say, format!("auth.static_prefixes[{i}]"), p, true);
        if "/finesse/api/".starts_with(p.as_str()) || p.starts_with("/finesse/api") {
            say(
                format!("auth.static_prefixes[{i}]"),
                "the Finesse API (SystemInfo included) always needs credentials through the proxy"
                    .into(),
            );
        }
    }
    for (i, p) in a.refused_prefixes.iter().enumerate() {
        prefix(&mut say, format!("auth.refused_prefixes[{i}]"), p, false);
    }
    if c.upstream.trust.is_empty() && !c.routes.is_empty() {
        say(
            "upstream.trust".into(),
            "no trusted certificate: upstreams could not be verified, and credentials are never sent to an unverified peer".into(),
        );
    }
    for (i, pem) in c.upstream.trust.iter().enumerate() {
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            say(
                format!("upstream.trust[{i}]"),
                "not a PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            );
        }
    }
    if let Some(pair) = &c.upstream.client_certificate {
        path(
            &mut say,
            "upstream.client_certificate.certificate".into(),
            &pair.certificate,
        );
        path(
            &mut say,
            "upstream.client_certificate.key".into(),
            &pair.key,
        );
    }
    for (name, address) in [
        ("status.address", c.status.address),
        ("status.proxymap_address", c.status.proxymap_address),
    ] {
        if let Some(address) = address {
            if bound.contains(&address) || !bound.insert(address) {
                say(name.into(), format!("{address} is bound twice"));
            }
        }
    }
    if let Some(peer) = &c.peer {
        if c.upstream.client_certificate.is_none() {
            say(
                "peer".into(),
                "the peer link needs upstream.client_certificate: it is the instance's identity on the link".into(),
            );
        }
        if !peer.certificate.contains("-----BEGIN CERTIFICATE-----") {
            say(
                "peer.certificate".into(),
                "the peer's client certificate as PEM (-----BEGIN CERTIFICATE-----)".into(),
            );
        }
        if bound.contains(&peer.listen) || !bound.insert(peer.listen) {
            say(
                "peer.listen".into(),
                format!("{} is bound twice", peer.listen),
            );
        }
    }
    if !c.status.proxymap.is_empty() {
        let map = proxymap::parse(&c.status.proxymap);
        if let Some(d) = map
            .diagnostics
            .iter()
            .find(|d| d.level == proxymap::Level::Error)
        {
            say(
                "status.proxymap".into(),
                format!("line {}: {}", d.line, d.message),
            );
        }
    }
    out
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// The longest any time in the document may be (a year): larger ones would overflow the
/// clocks they are added to.
const MAX_SECS: u64 = 365 * 24 * 3600;

fn positive(say: &mut impl FnMut(String, String), at: &str, value: u64) {
    if value == 0 {
        say(at.into(), "must be 1 or more".into());
    } else if at.ends_with("_secs") && value > MAX_SECS {
        say(at.into(), format!("at most {MAX_SECS} (a year)"));
    }
}

fn path(say: &mut impl FnMut(String, String), at: String, value: &str) {
    if value.trim().is_empty() {
        say(at, "the path of a PEM file on the engine's host".into());
    } else if value.chars().any(char::is_control) {
        say(at, "a path without control characters".into());
    }
}

/// A path prefix: starts with `/`, plain characters only (no `..`, `%`, `?`, `#`, `\`).
fn prefix(say: &mut impl FnMut(String, String), at: String, value: &str, directory: bool) {
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'%' | b'?' | b'#' | b'\\'));
    if !value.starts_with('/') || !plain || value.split('/').any(|s| s == ".." || s == ".") {
        say(
            at,
            "a path starting with / in plain characters (no .., %, ?, #, \\)".into(),
        );
    } else if directory && !value.ends_with('/') {
        say(at, "a directory: end it with /".into());
    }
}
