//! The server's side: a client's hello read (the simulator answers by it) and a server's
//! first flight and alerts written.

use super::{handshake, put16, put24, record, Malformed, Reader, TLS12};

/// What a client offered, as a server reads its ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// The highest version offered (from `supported_versions` when present).
    pub version: u16,
    /// In the client's order, signalling values (SCSVs, GREASE) left out.
    pub suites: Vec<u16>,
    pub server_name: Option<String>,
}

/// Reads a ClientHello from the start of a connection; `Ok(None)`: more bytes are needed.
pub fn parse_client_hello(buf: &[u8]) -> Result<Option<ClientHello>, Malformed> {
    let Some(message) = first_handshake(buf, 1)? else {
        return Ok(None);
    };
    let mut r = Reader::new(message);
    let legacy = r.u16()?;
    r.skip(32)?;
    let session = r.u8()?;
    r.skip(session.into())?;
    let mut codes = Reader::new(r.vec16()?);
    let mut suites = Vec::new();
    while !codes.done() {
        let code = codes.u16()?;
        if code != 0x00FF && code != 0x5600 && code & 0x0F0F != 0x0A0A {
            suites.push(code);
        }
    }
    let compression = r.u8()?;
    r.skip(compression.into())?;
    let mut hello = ClientHello {
        version: legacy,
        suites,
        server_name: None,
    };
    if r.done() {
        return Ok(Some(hello));
    }
    let mut extensions = Reader::new(r.vec16()?);
    while !extensions.done() {
        let kind = extensions.u16()?;
        let mut data = Reader::new(extensions.vec16()?);
        match kind {
            0x0000 => {
                let mut list = Reader::new(data.vec16()?);
                while !list.done() {
                    let name_type = list.u8()?;
                    let name = list.vec16()?;
                    if name_type == 0 {
                        hello.server_name = std::str::from_utf8(name).ok().map(str::to_owned);
                    }
                }
            }
            0x002B => {
                let mut list = Reader::new(data.vec8()?);
                while !list.done() {
                    let version = list.u16()?;
                    if version & 0x0F0F != 0x0A0A && version > hello.version {
                        hello.version = version;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(Some(hello))
}

/// A server's first flight for `version` and `suite`: ServerHello, Certificate, a
/// CertificateRequest naming `authorities` when `request_client_certificate`, ServerHelloDone.
pub fn server_flight(
    version: u16,
    suite: u16,
    chain: &[Vec<u8>],
    request_client_certificate: bool,
    authorities: &[Vec<u8>],
    random: [u8; 32],
) -> Vec<u8> {
    let mut hello = Vec::new();
    hello.extend(version.to_be_bytes());
    hello.extend(random);
    hello.push(0);
    hello.extend(suite.to_be_bytes());
    hello.push(0);
    let mut messages = handshake(2, &hello);
    let mut list = Vec::new();
    for der in chain {
        put24(&mut list, der);
    }
    let mut certificate = Vec::new();
    put24(&mut certificate, &list);
    messages.extend(handshake(11, &certificate));
    if request_client_certificate {
        let mut request = vec![2, 1, 64]; // rsa_sign, ecdsa_sign
        if version >= TLS12 {
            put16(&mut request, &[0x04, 0x01, 0x04, 0x03]);
        }
        let mut names = Vec::new();
        for name in authorities {
            put16(&mut names, name);
        }
        put16(&mut request, &names);
        messages.extend(handshake(13, &request));
    }
    messages.extend(handshake(14, &[]));
    messages
        .chunks(1 << 14)
        .flat_map(|fragment| record(22, version, fragment))
        .collect()
}

/// A fatal alert record.
pub fn alert(version: u16, description: u8) -> Vec<u8> {
    record(21, version, &[2, description])
}

fn first_handshake(buf: &[u8], want: u8) -> Result<Option<&[u8]>, Malformed> {
    let mut r = Reader::new(buf);
    if r.left() < 5 {
        return Ok(None);
    }
    if r.u8()? != 22 {
        return Err(Malformed("not a TLS handshake"));
    }
    let _version = r.u16()?;
    let length = usize::from(r.u16()?);
    let Ok(fragment) = r.bytes(length) else {
        return Ok(None);
    };
    let mut m = Reader::new(fragment);
    if m.u8()? != want {
        return Err(Malformed("an unexpected handshake message"));
    }
    let length = m.u24()?;
    // A hello split over several records is rare enough to be refused.
    m.bytes(length)
        .map(Some)
        .map_err(|_| Malformed("a hello split over several records"))
}
