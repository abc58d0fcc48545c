//! The first flight of a TLS 1.0-1.2 handshake, written and read without any cryptography:
//! what a probe needs to learn which protocol versions and cipher suites a server accepts and
//! whether it asks for a client certificate, the way sslscan and testssl.sh ask (one
//! ClientHello per question; the server's answer up to ServerHelloDone is in the clear).
//!
//! ```text
//! probe ── ClientHello (one version, chosen suites, SNI) ──▶ server
//!       ◀── ServerHello (version, suite) · Certificate · [ServerKeyExchange]
//!           · [CertificateRequest] · ServerHelloDone      (or an alert)
//! ```
//!
//! Both sides are here: the simulator reads a client's hello and answers a legacy protocol
//! with the same messages. Every length is checked; nothing here panics on any input.

/// Protocol versions on the wire.
pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;
pub const TLS13: u16 = 0x0304;

/// The largest server flight read (a long chain fits many times over).
pub const MAX_FLIGHT: usize = 256 * 1024;

/// `TLSv1.2`, as OpenSSL and the probe name versions.
pub fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSLv3".into(),
        TLS10 => "TLSv1".into(),
        TLS11 => "TLSv1.1".into(),
        TLS12 => "TLSv1.2".into(),
        TLS13 => "TLSv1.3".into(),
        other => format!("0x{other:04X}"),
    }
}

/// Why bytes are no TLS handshake we can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Malformed {}

/// A ClientHello as a client would send it: `version` the highest it offers (TLS 1.0 to 1.2),
/// `suites` in order of preference, `server_name` as SNI.
pub fn client_hello(
    version: u16,
    suites: &[u16],
    server_name: Option<&str>,
    random: [u8; 32],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.extend(version.to_be_bytes());
    body.extend(random);
    body.push(0); // no session id
    let mut codes: Vec<u8> = suites.iter().flat_map(|c| c.to_be_bytes()).collect();
    codes.extend([0x00, 0xFF]); // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    put16(&mut body, &codes);
    body.extend([1, 0]); // compression: null only
    let mut extensions = Vec::new();
    if let Some(name) = server_name.filter(|n| !n.is_empty() && n.len() < 256) {
        let mut list = vec![0];
        put16(&mut list, name.as_bytes());
        let mut data = Vec::new();
        put16(&mut data, &list);
        extension(&mut extensions, 0x0000, &data);
    }
    // x25519, secp256r1, secp384r1, secp521r1, ffdhe2048
    let groups: Vec<u8> = [0x001Du16, 0x0017, 0x0018, 0x0019, 0x0100]
        .iter()
        .flat_map(|g| g.to_be_bytes())
        .collect();
    let mut data = Vec::new();
    put16(&mut data, &groups);
    extension(&mut extensions, 0x000A, &data);
    extension(&mut extensions, 0x000B, &[1, 0]); // point formats: uncompressed
    if version >= TLS12 {
        // ECDSA, RSA-PSS and PKCS#1 with SHA-256/384/512, then SHA-1 (old servers).
        let schemes: Vec<u8> = [
            0x0403u16, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0603, 0x0806, 0x0601, 0x0203,
            0x0201,
        ]
        .iter()
        .flat_map(|s| s.to_be_bytes())
        .collect();
        let mut data = Vec::new();
        put16(&mut data, &schemes);
        extension(&mut extensions, 0x000D, &data);
    }
    extension(&mut extensions, 0x0017, &[]); // extended master secret
    put16(&mut body, &extensions);
    record(22, TLS10, &handshake(1, &body))
}

/// What a server answered a ClientHello with, up to ServerHelloDone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFlight {
    pub version: u16,
    pub suite: u16,
    /// The certificates it sent, leaf first, as DER (none for TLS 1.3, where they are
    /// encrypted).
    pub chain: Vec<Vec<u8>>,
    /// It sent a CertificateRequest: it asks for a client certificate.
    pub client_certificate_requested: bool,
    /// The CA names of its CertificateRequest, as DER distinguished names.
    pub certificate_authorities: Vec<Vec<u8>>,
}

/// A server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Accepted(ServerFlight),
    /// An alert instead of a ServerHello (`protocol_version`, `handshake_failure`, ...).
    Alert {
        level: u8,
        description: u8,
    },
}

/// Reads a server's answer; `Ok(None)`: more bytes are needed.
pub fn parse_server_flight(buf: &[u8]) -> Result<Option<Reply>, Malformed> {
    if buf.len() > MAX_FLIGHT {
        return Err(Malformed(
            "the server's first flight is longer than a probe reads",
        ));
    }
    let mut messages = Vec::new();
    let mut r = Reader::new(buf);
    let mut flight: Option<ServerFlight> = None;
    while r.left() >= 5 {
        let kind = r.u8()?;
        let _version = r.u16()?;
        let length = usize::from(r.u16()?);
        if length > (1 << 14) + 2048 {
            return Err(Malformed("a TLS record longer than the protocol allows"));
        }
        let Ok(fragment) = r.bytes(length) else {
            return Ok(None);
        };
        match kind {
            21 if flight.is_none() => {
                let mut alert = Reader::new(fragment);
                return Ok(Some(Reply::Alert {
                    level: alert.u8()?,
                    description: alert.u8()?,
                }));
            }
            22 => messages.extend_from_slice(fragment),
            // After the ServerHello of TLS 1.3 (or anything unexpected): what was read is all.
            _ => {
                return flight
                    .map(|f| Some(Reply::Accepted(f)))
                    .ok_or(Malformed("no ServerHello"))
            }
        }
        let mut m = Reader::new(&messages);
        while m.left() >= 4 {
            let kind = m.u8()?;
            let length = m.u24()?;
            if length > MAX_FLIGHT {
                return Err(Malformed("a handshake message longer than a probe reads"));
            }
            let Ok(body) = m.bytes(length) else { break };
            let mut b = Reader::new(body);
            match (kind, flight.as_mut()) {
                (2, None) => {
                    let version = b.u16()?;
                    b.skip(32)?;
                    let session = b.u8()?;
                    b.skip(session.into())?;
                    let suite = b.u16()?;
                    let mut hello = ServerFlight {
                        version,
                        suite,
                        chain: Vec::new(),
                        client_certificate_requested: false,
                        certificate_authorities: Vec::new(),
                    };
                    b.skip(1)?;
                    if !b.done() {
                        let mut extensions = Reader::new(b.vec16()?);
                        while !extensions.done() {
                            let kind = extensions.u16()?;
                            let mut data = Reader::new(extensions.vec16()?);
                            if kind == 0x002B {
                                hello.version = data.u16()?;
                            }
                        }
                    }
                    if hello.version >= TLS13 {
                        return Ok(Some(Reply::Accepted(hello)));
                    }
                    flight = Some(hello);
                }
                (11, Some(hello)) => {
                    let mut list = Reader::new(b.vec24()?);
                    while !list.done() {
                        hello.chain.push(list.vec24()?.to_vec());
                    }
                }
                (13, Some(hello)) => {
                    hello.client_certificate_requested = true;
                    b.vec8()?;
                    if hello.version >= TLS12 {
                        b.vec16()?;
                    }
                    let mut names = Reader::new(b.vec16()?);
                    while !names.done() {
                        hello.certificate_authorities.push(names.vec16()?.to_vec());
                    }
                }
                (14, Some(hello)) => return Ok(Some(Reply::Accepted(hello.clone()))),
                (12 | 22, Some(_)) => {}
                (_, None) => return Err(Malformed("the server's first message is no ServerHello")),
                (_, Some(_)) => return Err(Malformed("an unexpected handshake message")),
            }
            let consumed = m.at;
            messages.drain(..consumed);
            m = Reader::new(&messages);
        }
    }
    if buf.len() > MAX_FLIGHT {
        return Err(Malformed(
            "the server's first flight is longer than a probe reads",
        ));
    }
    Ok(None)
}

pub const HANDSHAKE_FAILURE: u8 = 40;
pub const PROTOCOL_VERSION: u8 = 70;

/// An alert's name as RFC 8446 spells it.
pub fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        40 => "handshake_failure",
        42 => "bad_certificate",
        47 => "illegal_parameter",
        50 => "decode_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        112 => "unrecognized_name",
        _ => "unknown",
    }
}

fn record(kind: u8, version: u16, fragment: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend(version.to_be_bytes());
    put16(&mut out, fragment);
    out
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    put24(&mut out, body);
    out
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend(kind.to_be_bytes());
    put16(out, data);
}

fn put16(out: &mut Vec<u8>, data: &[u8]) {
    out.extend((data.len() as u16).to_be_bytes());
    out.extend(data);
}

fn put24(out: &mut Vec<u8>, data: &[u8]) {
    out.extend(&(data.len() as u32).to_be_bytes()[1..]);
    out.extend(data);
}

/// Bounds-checked reading.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

const SHORT: Malformed = Malformed("a length runs past the end of its message");

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, at: 0 }
    }
    fn left(&self) -> usize {
        self.buf.len() - self.at
    }
    fn done(&self) -> bool {
        self.left() == 0
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(SHORT)?;
        let out = &self.buf[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn skip(&mut self, n: usize) -> Result<(), Malformed> {
        self.bytes(n).map(|_| ())
    }
    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Malformed> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Result<usize, Malformed> {
        let b = self.bytes(3)?;
        Ok(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
    fn vec8(&mut self) -> Result<&'a [u8], Malformed> {
        let n = self.u8()?;
        self.bytes(n.into())
    }
    fn vec16(&mut self) -> Result<&'a [u8], Malformed> {
        let n = self.u16()?;
        self.bytes(n.into())
    }
    fn vec24(&mut self) -> Result<&'a [u8], Malformed> {
        let n = self.u24()?;
        self.bytes(n)
    }
}

mod server;
pub use server::*;

#[cfg(test)]
mod tests;
