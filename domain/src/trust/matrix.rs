//! A cluster's required-trust matrix as the page and the REST API show it: its nodes (rows),
//! the certificates they must trust (columns), each cell judged against the trust stores as
//! last read over SSH, and the servers whose certificates the console reads itself.

use super::verify::Verdict;
use super::Needed;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustMatrix))]
pub struct Matrix {
    pub cluster_id: i64,
    pub cluster: String,
    /// The cluster's nodes that must trust something.
    pub rows: Vec<Holder>,
    pub columns: Vec<Column>,
    pub cells: Vec<Cell>,
    /// Third-party servers an admin listed and the proxy map's HTTPS hosts.
    pub servers: Vec<Server>,
    /// Cells not green.
    pub red: usize,
    /// Red cells a plan imports certificates for.
    pub fixable: usize,
    /// The latest plan of this matrix, if any.
    pub plan: Option<PlanRef>,
}

/// A node whose tomcat-trust the matrix judges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustHolder))]
pub struct Holder {
    pub node_id: i64,
    pub fqdn: String,
    pub kind: String,
    pub role: String,
    /// Its stores' last good read (RFC 3339); `None`: never read.
    pub stores_read_at: Option<String>,
    /// Why the last read failed, when it did.
    pub stores_error: Option<String>,
}

/// A certificate some node must trust, and what the console knows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustColumn))]
pub struct Column {
    pub needed: Needed,
    pub label: String,
    /// The certificate, its issuers above it (the issuing CA first); `None` when not known.
    pub certificate: Option<Known>,
    /// Where the certificate was learnt, or why it is not known.
    pub from: String,
}

/// A needed certificate as known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustKnown))]
pub struct Known {
    pub subject_cn: Option<String>,
    pub fingerprint_sha256: String,
    /// RFC 3339.
    pub not_after: String,
    pub self_signed: bool,
    /// The CAs above it as far as known, the issuing CA first (subject names).
    pub issuers: Vec<String>,
}

/// One requirement judged: `holder`'s tomcat-trust must hold `columns[column]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustMatrixCell))]
pub struct Cell {
    pub holder: i64,
    pub column: usize,
    pub rule: String,
    /// The seed and its sentence.
    pub source: String,
    pub verdict: Verdict,
    pub why: String,
    /// The certificates a plan imports here (SHA-256 fingerprints, the root first).
    pub import: Vec<String>,
}

/// A server whose chain the console reads itself (it is no node of the inventory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustServer))]
pub struct Server {
    pub host: String,
    pub port: u16,
    /// `admin` (listed on the matrix page) or `proxy_map` (a config URI of the cluster's map).
    pub source: String,
    /// The last read (RFC 3339); `None`: never read.
    pub read_at: Option<String>,
    pub error: Option<String>,
    /// The leaf it served.
    pub subject_cn: Option<String>,
    pub chain_length: usize,
}

impl Server {
    /// How the matrix names it: `host`, or `host:port` off 443.
    pub fn label(host: &str, port: u16) -> String {
        match (port, host.contains(':')) {
            (443, _) => host.to_owned(),
            (_, true) => format!("[{host}]:{port}"),
            (_, false) => format!("{host}:{port}"),
        }
    }
}

/// A plan of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustPlanRef))]
pub struct PlanRef {
    pub id: i64,
    pub state: crate::reconcile::PlanState,
}

/// A third-party server to list: `host` or `host:port` (443 when omitted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustServerInput))]
pub struct ServerInput {
    pub host: String,
}

/// `host` or `host:port` (443 when omitted) as a server to read: a DNS name or an IP address,
/// nothing else (it reaches a TLS handshake and the matrix's labels).
pub fn parse_server(input: &str) -> Result<(String, u16), String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("give the server as host or host:port".into());
    }
    let (host, port) = match input.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest
                .split_once(']')
                .ok_or("an IPv6 address goes in brackets: [2001:db8::1]:443")?;
            (host, after.strip_prefix(':'))
        }
        None => match input.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            _ => (input, None),
        },
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{p:?} is not a port (1 to 65535)"))?,
        None => 443,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(address) = host.parse::<std::net::IpAddr>() {
        // Never a cloud's metadata service or a non-address (loopback stays: a server on the
        // console's own host, the simulator).
        let refused = match address {
            std::net::IpAddr::V4(a) => {
                a.is_link_local() || a.is_unspecified() || a.is_multicast() || a.is_broadcast()
            }
            std::net::IpAddr::V6(a) => {
                a.is_unspecified() || a.is_multicast() || (a.segments()[0] & 0xffc0) == 0xfe80
            }
        };
        if refused {
            return Err(format!("{address} is a link-local, multicast or unspecified address: give the server's name or its own address"));
        }
        return Ok((host, port));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(format!(
            "{:?} is not a host name (letters, digits, hyphens and dots) or an IP address",
            vos::driver::shown(&host)
        ));
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_host_names_or_addresses_with_an_optional_port() {
        assert_eq!(
            parse_server(" Gadgets.Example.com. ").unwrap(),
            ("gadgets.example.com".into(), 443)
        );
        assert_eq!(
            parse_server("scripts.example.com:8443").unwrap(),
            ("scripts.example.com".into(), 8443)
        );
        assert_eq!(
            parse_server("[2001:db8::1]:9443").unwrap(),
            ("2001:db8::1".into(), 9443)
        );
        assert_eq!(
            parse_server("2001:db8::1").unwrap(),
            ("2001:db8::1".into(), 443)
        );
        for bad in [
            "",
            "a b.example.com",
            "host:0",
            "host:99999",
            "x.example.com\nshow",
            "https://x.example.com",
            "-x.example.com",
            "[::1",
            "169.254.169.254",
            "0.0.0.0:443",
            "[fe80::1]:443",
        ] {
            assert!(parse_server(bad).is_err(), "{bad:?}");
        }
    }
}
