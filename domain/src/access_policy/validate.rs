//! The policy's rules that need nothing but the policy (DOMAIN.md §4): names and addresses,
//! origins and frame-ancestors sources in the shapes the appliances take, their length limits,
//! and no entry twice in different case. Each message says what to change. What needs the
//! world (names resolve, no load balancer among the hosts) is checked by the server on save.

use super::{items, AccessPolicy, ProductAccess};
use crate::inventory::model::{Fqdn, NodeKind};
use crate::FieldErrors;
use std::net::IpAddr;

/// All allowed origins of a product together, in characters (`,`-joined as the CLI takes them).
pub const ORIGINS_LIMIT: usize = 4000;
/// All frame-ancestors sources of a product together.
pub const FRAME_LIMIT: usize = 2000;

/// Every field error of `policy` (empty: valid), keyed `proxies[0].hosts[1]`,
/// `finesse.extra_origins[2]`, `cuic.origins` (the product's list as a whole).
pub fn validate(policy: &AccessPolicy) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let mut add = |field: String, message: String| errors.entry(field).or_default().push(message);

    let mut names: Vec<&str> = Vec::new();
    let mut hosts: Vec<&str> = Vec::new();
    for (p, proxy) in policy.proxies.iter().enumerate() {
        let name = proxy.name.trim();
        if name.is_empty() {
            add(
                format!("proxies[{p}].name"),
                "name the proxy, e.g. proxy A".into(),
            );
        } else if name
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            add(
                format!("proxies[{p}].name"),
                "a name holds no line break, tab or other control character".into(),
            );
        } else if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            add(
                format!("proxies[{p}].name"),
                format!("another proxy is already named '{name}'"),
            );
        }
        names.push(name);
        if proxy.hosts.is_empty() {
            add(
                format!("proxies[{p}].hosts"),
                "add the proxy's public and private names and addresses (seed 004: both)".into(),
            );
        }
        for (h, host) in proxy.hosts.iter().enumerate() {
            let field = format!("proxies[{p}].hosts[{h}]");
            if let Err(message) = host_entry(host) {
                add(field, message);
            } else if hosts.iter().any(|x| x.eq_ignore_ascii_case(host)) {
                add(field, format!("{host} is listed twice (names ignore case)"));
            }
            hosts.push(host);
        }
        if let Some(pem) = &proxy.client_certificate {
            if let Err(message) = certificate_text(pem) {
                add(format!("proxies[{p}].client_certificate"), message);
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for (o, origin) in proxy.origins.iter().enumerate() {
            let field = format!("proxies[{p}].origins[{o}]");
            match origin_entry(origin) {
                Err(message) => add(field, message),
                Ok(()) if !origin.starts_with("https://") => add(
                    field,
                    "a proxy's origin is https:// (it is also a frame-ancestors source)".into(),
                ),
                Ok(()) if seen.iter().any(|s| s.eq_ignore_ascii_case(origin)) => add(
                    field,
                    format!("{origin} is listed twice (origins ignore case)"),
                ),
                Ok(()) => {}
            }
            seen.push(origin);
        }
    }

    for (word, kind, product) in [
        ("finesse", NodeKind::Finesse, &policy.finesse),
        ("cuic", NodeKind::Cuic, &policy.cuic),
        ("livedata", NodeKind::LiveData, &policy.livedata),
    ] {
        product_errors(policy, word, kind, product, &mut add);
    }
    errors
}

/// What [`validate`] accepts but an admin should know before applying it, keyed as its errors
/// are: a trusted proxy that serves no origin (CORS and frame-ancestors will refuse the pages
/// agents open through it, seed 004), and client-auth on while no proxy is trusted (seed 001:
/// "If the deployments aren't configured for VPN-less access to Finesse, disable it": LAN
/// agents with several client certificates are asked to pick one).
pub fn warnings(policy: &AccessPolicy) -> FieldErrors {
    let mut warnings = FieldErrors::new();
    for (p, proxy) in policy.proxies.iter().enumerate() {
        if proxy.origins.is_empty() {
            warnings.insert(
                format!("proxies[{p}].origins"),
                vec![format!(
                    "{} serves no origin: the pages agents open through it are refused by CORS and frame-ancestors; add the https:// origin agents use (seed 004)",
                    if proxy.name.trim().is_empty() { "this proxy" } else { proxy.name.trim() }
                )],
            );
        }
    }
    if policy.client_auth {
        for (p, proxy) in policy.proxies.iter().enumerate() {
            if proxy.client_certificate.is_none() {
                warnings.insert(
                    format!("proxies[{p}].client_certificate"),
                    vec!["client-auth is on, but this proxy's certificate is not given: the components refuse its traffic unless it is already in their tomcat-trust (seed 004); paste it and the policy imports it".into()],
                );
            }
        }
    }
    if policy.client_auth && policy.proxies.is_empty() {
        warnings.insert(
            "client_auth".into(),
            vec!["client-auth is on but no proxy is trusted: agents on the LAN with several client certificates are asked to choose one; turn it off unless VPN-less access is coming (seed 001)".into()],
        );
    }
    warnings
}

fn product_errors(
    policy: &AccessPolicy,
    word: &str,
    kind: NodeKind,
    product: &ProductAccess,
    add: &mut impl FnMut(String, String),
) {
    let proxies = policy.proxy_origins();
    for (i, origin) in product.extra_origins.iter().enumerate() {
        let field = format!("{word}.extra_origins[{i}]");
        if let Err(message) = origin_entry(origin) {
            add(field, message);
        } else if proxies.iter().any(|p| p.eq_ignore_ascii_case(origin)) {
            add(field, format!("{origin} is already a proxy's origin"));
        } else if product.extra_origins[..i]
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
        {
            add(
                field,
                format!("{origin} is listed twice (origins ignore case)"),
            );
        }
    }
    let origins = super::desired(policy, kind);
    if let Some(crate::reconcile::State::List(all)) = origins.get(items::CORS_ORIGINS) {
        let length = joined_length(all);
        if length > ORIGINS_LIMIT {
            add(
                format!("{word}.origins"),
                format!("the allowed origins come to {length} characters together; the appliance takes at most {ORIGINS_LIMIT}"),
            );
        }
    }
    if kind == NodeKind::LiveData {
        if !product.extra_frame_ancestors.is_empty() {
            add(
                format!("{word}.extra_frame_ancestors"),
                "LiveData has no frame-ancestors list".into(),
            );
        }
        return;
    }
    for (i, source) in product.extra_frame_ancestors.iter().enumerate() {
        let field = format!("{word}.extra_frame_ancestors[{i}]");
        if let Err(message) = frame_source(source) {
            add(field, message);
        } else if product.extra_frame_ancestors[..i]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(source))
        {
            add(
                field,
                format!("{source} is listed twice (sources ignore case)"),
            );
        }
    }
    if let Some(crate::reconcile::State::List(all)) = origins.get(items::FRAME_ANCESTORS) {
        let length = joined_length(all);
        if length > FRAME_LIMIT {
            add(
                format!("{word}.frame_ancestors"),
                format!("the frame-ancestors sources come to {length} characters together; the appliance takes at most {FRAME_LIMIT}"),
            );
        }
    }
}

fn joined_length(values: &[String]) -> usize {
    values.iter().map(String::len).sum::<usize>() + values.len().saturating_sub(1)
}

/// Whether `value` is exactly what it says: no space, tab, line break or other whitespace,
/// and no control character, anywhere in it (these values are typed at the appliances' CLI as
/// they are stored, so nothing is trimmed).
fn exact(value: &str, what: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("enter the {what}"));
    }
    match value.chars().find(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}')
    }) {
        Some(c) => Err(format!(
            "{value:?} holds {}: enter the {what} alone, without spaces, tabs or line breaks",
            match c {
                '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => "a line break",
                '\t' => "a tab",
                c if c.is_whitespace() => "a space",
                _ => "an invisible character",
            }
        )),
        None => Ok(()),
    }
}

/// `policy` as it is stored: names, origins and sources in lower case (the appliances and the
/// engine compare them ignoring case), IPv6 addresses in their short form. Valid values only
/// change case: what [`validate`] accepted is what is stored, but for that.
pub fn canonical(mut policy: AccessPolicy) -> AccessPolicy {
    let lower = |values: &mut Vec<String>| {
        for value in values {
            *value = match value.parse::<IpAddr>() {
                Ok(address) => address.to_string(),
                Err(_) => value.to_ascii_lowercase(),
            };
        }
    };
    for proxy in &mut policy.proxies {
        lower(&mut proxy.hosts);
        lower(&mut proxy.origins);
    }
    for product in [&mut policy.finesse, &mut policy.cuic, &mut policy.livedata] {
        lower(&mut product.extra_origins);
        lower(&mut product.extra_frame_ancestors);
    }
    policy
}

/// A proxy's certificate as pasted: one PEM certificate (the server parses it too, and stores
/// it re-encoded from its DER).
pub fn certificate_text(pem: &str) -> Result<(), String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    match (pem.matches(BEGIN).count(), pem.matches(END).count()) {
        (1, 1) if pem.find(BEGIN) < pem.find(END) => Ok(()),
        (0, _) | (_, 0) => Err(format!(
            "paste the proxy's certificate in PEM, from {BEGIN} to {END}"
        )),
        _ => Err(
            "paste one certificate: the proxy's own (its chain's CAs are not needed here)".into(),
        ),
    }
}

/// A trusted host: an FQDN, or an IPv4 or IPv6 address (without brackets).
pub fn host_entry(value: &str) -> Result<(), String> {
    exact(value, "name or address")?;
    if value.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    if value.starts_with('[') {
        return Err(format!(
            "write the IPv6 address without brackets: {}",
            value.trim_matches(['[', ']'])
        ));
    }
    if value.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(format!(
            "'{value}' is not an IPv4 address (four numbers 0-255)"
        ));
    }
    Fqdn::parse(value).map(|_| ())
}

/// A host in a URL: an FQDN, an IPv4 address, or an IPv6 address in brackets; `*` labels when
/// `wildcards`.
fn url_host(host: &str, wildcards: bool) -> Result<(), String> {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<std::net::Ipv6Addr>()
            .map(|_| ())
            .map_err(|_| format!("'{v6}' is not an IPv6 address"));
    }
    if host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Ok(());
    }
    if wildcards && host.contains('*') {
        let concrete = host.replace('*', "wildcard");
        return Fqdn::parse(&concrete).map(|_| ());
    }
    Fqdn::parse(host).map(|_| ())
}

/// `host[:port]` after the scheme, nothing after it; the port 1-65535 (or `*` when `wildcards`).
fn authority(rest: &str, wildcards: bool) -> Result<(), String> {
    if rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Err("an origin has no path: scheme://host[:port] only".into());
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !port.contains(']') => (host, Some(port)),
        _ => (rest, None),
    };
    url_host(host, wildcards)?;
    match port {
        None => Ok(()),
        Some("*") if wildcards => Ok(()),
        Some(port) => match port.parse::<u16>() {
            Ok(p) if p > 0 => Ok(()),
            _ => Err(format!("'{port}' is not a port (1-65535)")),
        },
    }
}

/// A CORS origin: `scheme://host[:port]`, `http` or `https`, never `*`.
pub fn origin_entry(value: &str) -> Result<(), String> {
    exact(value, "origin")?;
    if value.trim() == "*" {
        return Err("'*' is not a valid origin: name each origin (DOMAIN.md §4)".into());
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| format!("'{value}' is not an origin: write scheme://host[:port], e.g. https://finesse.example.com"))?;
    authority(rest, false)
}

/// A frame-ancestors source: `https://host[:port]`, `*` allowed in the host and the port.
pub fn frame_source(value: &str) -> Result<(), String> {
    exact(value, "source")?;
    let rest = value
        .strip_prefix("https://")
        .ok_or_else(|| format!("'{value}' is not a frame-ancestors source: write https://host[:port], e.g. https://*.example.com"))?;
    authority(rest, true)
}
