//! One side of a mapping: `host[:port]`, where the host is an RFC 1123 name, an IPv4 address
//! or a bracketed IPv6 address, and no port means 443.

use crate::diagnostic::Code;
use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The port of a side written without one.
pub const DEFAULT_PORT: u16 = 443;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// As written: the internal side compares it case-insensitively, the external side exactly.
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Host {
    /// The name, lowercased (an address as written): how the internal side compares.
    pub fn folded(&self) -> Cow<'_, str> {
        match self {
            Host::Name(name) if name.bytes().any(|b| b.is_ascii_uppercase()) => {
                Cow::Owned(name.to_ascii_lowercase())
            }
            Host::Name(name) => Cow::Borrowed(name),
            other => Cow::Owned(other.to_string()),
        }
    }

    /// The name as written (an address as written): how the external side compares.
    pub fn exact(&self) -> Cow<'_, str> {
        match self {
            Host::Name(name) => Cow::Borrowed(name),
            other => Cow::Owned(other.to_string()),
        }
    }

    /// Whether it is a private, loopback or link-local address (never reachable from outside).
    pub fn is_private_address(&self) -> bool {
        match self {
            Host::Name(_) => false,
            Host::V4(a) => a.is_private() || a.is_loopback() || a.is_link_local(),
            Host::V6(a) => {
                a.is_loopback()
                    || (a.segments()[0] & 0xfe00) == 0xfc00
                    || (a.segments()[0] & 0xffc0) == 0xfe80
            }
        }
    }

    /// The name without its first label (`xyz.com` of `finesse1.xyz.com`).
    pub fn domain(&self) -> Option<&str> {
        match self {
            Host::Name(name) => split_once(name, b'.').map(|(_, d)| d),
            _ => None,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub host: Host,
    pub port: u16,
}

impl HostPort {
    /// `host[:port]` as one side of a map line is written (no port: 443); the error says what
    /// is wrong in the map's words.
    pub fn parse(text: &str) -> Result<HostPort, String> {
        parse_side(text.trim()).map_err(|(_, _, message)| message)
    }
}

impl std::str::FromStr for HostPort {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        HostPort::parse(text)
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// What is wrong with a side: the character offset in the side where it starts, the code and
/// the message.
pub(crate) type SideError = (usize, Code, String);

/// A host as the inventory writes it (a name, an IPv4 address, an IPv6 address with or without
/// brackets), or `None` when no line of a map could name it.
pub(crate) fn parse_host(text: &str) -> Option<Host> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    match bare.parse::<Ipv6Addr>() {
        Ok(address) => Some(Host::V6(address)),
        Err(_) => host(text).ok(),
    }
}

/// Parses one side (already trimmed).
pub(crate) fn parse_side(side: &str) -> Result<HostPort, SideError> {
    if side.is_empty() {
        return Err((
            0,
            Code::EmptyHost,
            "this side has no host: write `host` or `host:port`".into(),
        ));
    }
    let colon = side.bytes().position(|b| b == b':');
    if let Some(scheme) = colon.filter(|&i| side[i..].starts_with("://")) {
        return Err((
            0,
            Code::InvalidHost,
            format!(
                "write the host, not a URL: leave out `{}://` and any path",
                &side[..scheme]
            ),
        ));
    }
    let (host, port) = if side.as_bytes()[0] == b'[' {
        let rest = &side[1..];
        let Some(end) = rest.find(']') else {
            return Err((
                0,
                Code::InvalidHost,
                "an IPv6 address opened with `[` needs its closing `]`".into(),
            ));
        };
        let address = &rest[..end];
        let host = address.parse::<Ipv6Addr>().map(Host::V6).map_err(|_| {
            (
                1,
                Code::InvalidHost,
                format!("`{address}` is not an IPv6 address"),
            )
        })?;
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some((port, end + 3)),
            None if after.is_empty() => None,
            None => {
                return Err((
                    end + 2,
                    Code::InvalidHost,
                    format!("unexpected `{after}` after the IPv6 address: write `[address]:port`"),
                ))
            }
        };
        (host, port)
    } else {
        let (name, port) = match colon {
            Some(at) => (&side[..at], Some((&side[at + 1..], at + 1))),
            None => (side, None),
        };
        if port.is_some_and(|(p, _)| p.as_bytes().contains(&b':')) {
            return Err((
                0,
                Code::InvalidHost,
                "an IPv6 address must be in brackets: `[2001:db8::1]:443`".into(),
            ));
        }
        (host(name)?, port)
    };
    let port = match port {
        None => DEFAULT_PORT,
        // `at` counts bytes; the column counts characters (only worked out for an error).
        Some((text, at)) => parse_port(text)
            .map_err(|message| (side[..at].chars().count(), Code::InvalidPort, message))?,
    };
    Ok(HostPort { host, port })
}

fn parse_port(text: &str) -> Result<u16, String> {
    if text.is_empty() {
        return Err("a `:` needs a port after it (or leave both out for 443)".into());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{text}` is not a port: a port is a number from 1 to 65535"
        ));
    }
    match text.parse::<u32>() {
        Ok(port @ 1..=65535) => Ok(port as u16),
        _ => Err(format!(
            "port {text} is out of range: a port is a number from 1 to 65535"
        )),
    }
}

/// `text` split at the first `byte` (an ASCII byte: both halves are whole characters). Bytes,
/// not `str::split_once`: this runs for every line while the admin types.
pub(crate) fn split_once(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == byte)?;
    Some((&text[..at], &text[at + 1..]))
}

/// An RFC 1123 host name or an IPv4 address.
///
/// One pass over the bytes (this runs twice for every line while the admin types): the
/// characters, the labels and the last label are checked together. A character that no host
/// name has is reported first, then the length, then the first bad label.
fn host(name: &str) -> Result<Host, SideError> {
    if name.is_empty() {
        return Err((
            0,
            Code::EmptyHost,
            "this side has no host before its `:port`".into(),
        ));
    }
    let bytes = name.as_bytes();
    if bytes[0].is_ascii_digit() {
        if let Ok(address) = name.parse::<Ipv4Addr>() {
            return Ok(Host::V4(address));
        }
    }
    let mut label_start = 0;
    let mut bad_label: Option<(usize, usize, BadLabel)> = None;
    let mut check_label = |start: usize, end: usize| {
        let problem = match &bytes[start..end] {
            [] => BadLabel::Empty,
            label if label.len() > 63 => BadLabel::Long,
            [b'-', ..] | [.., b'-'] => BadLabel::Hyphen,
            _ => return,
        };
        bad_label.get_or_insert((start, end, problem));
    };
    for (at, &b) in bytes.iter().enumerate() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => {}
            b'.' => {
                check_label(label_start, at);
                label_start = at + 1;
            }
            _ => return Err(bad_character(name, at)),
        }
    }
    check_label(label_start, bytes.len());
    if name.len() > 253 {
        return Err((
            0,
            Code::InvalidHost,
            format!(
                "a host name has at most 253 characters; this one has {}",
                name.len()
            ),
        ));
    }
    // ASCII only by now: byte offsets are character offsets.
    if let Some((start, end, problem)) = bad_label {
        let label = &name[start..end];
        let problem = match problem {
            BadLabel::Empty => {
                "an empty label (two dots in a row, or a dot at the start or end)".to_owned()
            }
            BadLabel::Long => format!("the label `{label}` is longer than 63 characters"),
            BadLabel::Hyphen => format!("the label `{label}` starts or ends with a hyphen"),
        };
        return Err((
            start,
            Code::InvalidHost,
            format!("`{name}` is not a host name: {problem}"),
        ));
    }
    if bytes[label_start..].iter().all(u8::is_ascii_digit) {
        return Err((
            0,
            Code::InvalidHost,
            format!("`{name}` is neither a host name nor an IPv4 address"),
        ));
    }
    Ok(Host::Name(name.to_owned()))
}

enum BadLabel {
    Empty,
    Long,
    Hyphen,
}

/// The character at byte `at` of `name` is in no host name: where, and what to write instead.
fn bad_character(name: &str, at: usize) -> SideError {
    let c = name[at..].chars().next().unwrap_or('?');
    let hint = match c {
        '#' => ": a comment takes a whole line starting with `#`",
        '_' => {
            ": host names take letters, digits and hyphens (DNS names with `_` are not host names)"
        }
        '/' => ": write the host, not a URL (no scheme or path)",
        ' ' | '\t' => ": a host has no spaces",
        _ => "",
    };
    (
        name[..at].chars().count(),
        Code::InvalidHost,
        format!("`{c}` is not allowed in a host name{hint}"),
    )
}
