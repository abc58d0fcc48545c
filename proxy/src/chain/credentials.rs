//! The credentials a request carries: `Authorization` (Basic or Bearer), or the entries of a
//! WebSocket handshake's `Sec-WebSocket-Protocol`, which never go upstream. Checked in
//! `finesse.rs` (passwords) and `bearer.rs` (SSO tokens).

use super::*;

pub(super) enum Credentials {
    Basic(String, String),
    Bearer(String),
    Malformed,
    None,
}

pub(super) fn credentials(headers: &HeaderMap) -> Credentials {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Credentials::None;
    };
    let Ok(value) = value.to_str() else {
        return Credentials::Malformed;
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::Bearer(rest.trim().to_owned());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Credentials::Malformed;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) else {
        return Credentials::Malformed;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return Credentials::Malformed;
    };
    match text.split_once(':') {
        Some((user, password)) => Credentials::Basic(user.to_owned(), password.to_owned()),
        None => Credentials::Malformed,
    }
}

/// Credentials a WebSocket handshake carries in `Sec-WebSocket-Protocol` (a browser cannot set
/// `Authorization` on one; seed 004's later proxies read them there): an entry
/// `basic.<user:password in base64url>` or `bearer.<token>`. The entry is returned too: it is
/// taken out of the header before the request goes upstream and answered as the protocol
/// chosen when the upstream chooses none (a browser that offered protocols needs one back).
pub(super) fn protocol_credentials(headers: &HeaderMap) -> Option<(Credentials, String)> {
    for value in headers.get_all(header::SEC_WEBSOCKET_PROTOCOL) {
        let Ok(value) = value.to_str() else {
            continue;
        };
        for entry in value.split(',').map(str::trim) {
            let (kind, rest) = entry.split_once('.').unwrap_or((entry, ""));
            let found = if kind.eq_ignore_ascii_case("basic") {
                let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(rest.trim_end_matches('='))
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok());
                match decoded.as_deref().and_then(|t| t.split_once(':')) {
                    Some((user, password)) => {
                        Credentials::Basic(user.to_owned(), password.to_owned())
                    }
                    None => Credentials::Malformed,
                }
            } else if kind.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
                Credentials::Bearer(rest.to_owned())
            } else {
                continue;
            };
            return Some((found, entry.to_owned()));
        }
    }
    None
}

/// Whether a `Sec-WebSocket-Protocol` entry carries credentials (`basic.…`, `bearer.…`).
fn credential_entry(entry: &str) -> bool {
    let kind = entry.split_once('.').map_or(entry, |(kind, _)| kind);
    kind.eq_ignore_ascii_case("basic") || kind.eq_ignore_ascii_case("bearer")
}

/// Takes every credential entry out of `headers`' `Sec-WebSocket-Protocol` (the header is
/// dropped when nothing else was offered): credentials never go upstream in it. Whether
/// other entries were offered.
pub(super) fn without_credentials(headers: &mut HeaderMap) -> bool {
    if !headers.contains_key(header::SEC_WEBSOCKET_PROTOCOL) {
        return false;
    }
    let rest: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty() && !credential_entry(e))
        .map(str::to_owned)
        .collect();
    headers.remove(header::SEC_WEBSOCKET_PROTOCOL);
    match HeaderValue::from_str(&rest.join(", ")) {
        Ok(value) if !rest.is_empty() => {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_read_and_anything_else_is_told_apart() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWdlbnQxOnBhc3M6d29yZA=="),
        );
        assert!(
            matches!(credentials(&h), Credentials::Basic(u, p) if u == "agent1" && p == "pass:word")
        );
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert!(matches!(credentials(&h), Credentials::Bearer(t) if t == "abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(matches!(credentials(&h), Credentials::Malformed));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Digest x"));
        assert!(matches!(credentials(&h), Credentials::Malformed));
        h.remove(header::AUTHORIZATION);
        assert!(matches!(credentials(&h), Credentials::None));
    }

    #[test]
    fn a_websocket_handshake_carries_credentials_in_its_protocols_and_they_stay_here() {
        let mut h = HeaderMap::new();
        // base64url("agent1:p?ss") without padding.
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("xmpp, basic.YWdlbnQxOnA_c3M"),
        );
        let (found, entry) = protocol_credentials(&h).unwrap();
        assert!(matches!(found, Credentials::Basic(u, p) if u == "agent1" && p == "p?ss"));
        assert_eq!(entry, "basic.YWdlbnQxOnA_c3M");
        h.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("Bearer.x.y.z"),
        );
        assert!(without_credentials(&mut h), "xmpp was offered too");
        assert_eq!(h[header::SEC_WEBSOCKET_PROTOCOL], "xmpp");
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("basic.YWdlbnQxOnA_c3M"),
        );
        assert!(!without_credentials(&mut h));
        assert!(!h.contains_key(header::SEC_WEBSOCKET_PROTOCOL));
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("bearer.aaa.bbb.ccc"),
        );
        assert!(
            matches!(protocol_credentials(&h), Some((Credentials::Bearer(t), _)) if t == "aaa.bbb.ccc")
        );
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("basic.!!"),
        );
        assert!(matches!(
            protocol_credentials(&h),
            Some((Credentials::Malformed, _))
        ));
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("chat"),
        );
        assert!(protocol_credentials(&h).is_none());
    }
}
