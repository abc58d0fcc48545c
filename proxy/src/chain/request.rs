//! What a request says about itself, read so that the engine and the upstream cannot read it
//! differently: its host and port, its client's address, its path, its framing.

use super::*;

/// The host and port the request is for: HTTP/2's `:authority` or HTTP/1.1's absolute target,
/// else the `Host` header; no port means the listener's. When both a target authority and a
/// `Host` header are given they must name the same host and port (the upstream reads `Host`).
pub(super) fn authority<B>(req: &Request<B>, listener_port: u16) -> Option<(String, u16)> {
    let parse = |text: &str| -> Option<(String, u16)> {
        if text.contains('@') {
            return None;
        }
        let authority: http::uri::Authority = text.parse().ok()?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return None;
        }
        Some((
            host.to_ascii_lowercase(),
            authority.port_u16().unwrap_or(listener_port),
        ))
    };
    let header = match req.headers().get(header::HOST) {
        Some(value) => Some(parse(value.to_str().ok()?)?),
        None => None,
    };
    match (req.uri().authority(), header) {
        (Some(target), header) => {
            let target = parse(target.as_str())?;
            header.is_none_or(|h| h == target).then_some(target)
        }
        (None, header) => header,
    }
}

/// Who the client is, as far as the engine can tell.
#[derive(Clone, Copy)]
pub(crate) struct Client {
    /// Its address: what the upstream and the report are told.
    pub address: IpAddr,
    /// What bans, failures and rates are counted by: the address, or its /64 for IPv6 (one
    /// host holds a whole /64, so counting single addresses would let it rotate).
    pub key: IpAddr,
    /// A listed forwarder speaking for itself (seed 004: "not blocked or rate limited").
    pub exempt: bool,
}

impl Client {
    fn new(address: IpAddr, exempt: bool) -> Client {
        let key = match address {
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
            v4 => v4,
        };
        Client {
            address,
            key,
            exempt,
        }
    }
}

/// The client: the socket's address, unless the socket is a listed forwarder. From a
/// forwarder, the configured header's address (the last of a list: the one the forwarder
/// added); a forwarder that sends no header speaks for itself (seed 004: devices without
/// header support) and is exempt. A header given twice or not holding an address is refused:
/// an address the engine cannot read would otherwise make the client the exempt forwarder.
pub(super) fn client_address(
    peer: IpAddr,
    config: &proxyconf::Config,
    headers: &HeaderMap,
) -> Result<Client, &'static str> {
    let socket = canonical(peer);
    if !config.forwarders.includes(socket) {
        return Ok(Client::new(socket, false));
    }
    let Some(name) = &config.forwarders.header else {
        return Ok(Client::new(socket, true));
    };
    let mut values = headers.get_all(name.as_str()).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(Client::new(socket, true)),
        (Some(value), None) => value
            .to_str()
            .ok()
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
            .map(|a| Client::new(canonical(a), false))
            .ok_or("the forwarder's client address header does not hold an address"),
        _ => Err("the forwarder's client address header is given twice"),
    }
}

/// A path without dot segments, empty segments, backslashes, NUL, encoded slashes and dots, or
/// `;` path parameters (Tomcat drops them, then normalises: `/a/..;/b` is `/b` there), which
/// the upstream might read differently from the engine's prefix checks.
pub(super) fn plain_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return false;
    }
    // One pass, segment by segment (between slashes).
    let mut start = 1;
    for i in 1..=bytes.len() {
        match bytes.get(i) {
            end @ (None | Some(b'/')) => {
                let segment = &bytes[start..i];
                let empty_inside = segment.is_empty() && end.is_some();
                if empty_inside || segment == b"." || segment == b".." {
                    return false;
                }
                start = i + 1;
            }
            Some(b';' | b'\\') => return false,
            // Encoded dots, slashes, backslashes and NUL, in either case.
            Some(b'%') => {
                let next = (
                    bytes.get(i + 1),
                    bytes.get(i + 2).map(u8::to_ascii_lowercase),
                );
                if matches!(
                    next,
                    (Some(b'2'), Some(b'e' | b'f'))
                        | (Some(b'5'), Some(b'c'))
                        | (Some(b'0'), Some(b'0'))
                ) {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// `path` is `prefix` or below it.
pub(super) fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| {
        rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/') || rest.starts_with('?')
    })
}

pub(super) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

pub(super) fn is_websocket<B>(req: &Request<B>) -> bool {
    req.version() == Version::HTTP_11
        && req.method() == Method::GET
        && req
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
        && req
            .headers()
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}
