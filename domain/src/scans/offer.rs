//! Questions a full handshake cannot answer: does an endpoint accept TLS 1.0, a CBC suite, a
//! given suite at all? Each is one ClientHello offering exactly that, and the server's first
//! flight read in the clear ([`certs::hello`]); no key is ever agreed, so any protocol or suite
//! can be asked about, including those no TLS library here would speak.

use super::probe::{connect, ProbeError, Target};
use certs::hello::{self, Reply, ServerFlight};
use std::time::Duration;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// It chose a version and a suite (possibly a lower version than offered).
    Accepted(ServerFlight),
    /// It refused: an alert's name, or `closed` when it hung up without one.
    Refused(String),
}

impl Answer {
    /// Accepted at exactly `version`.
    pub fn accepts(&self, version: u16) -> bool {
        matches!(self, Answer::Accepted(flight) if flight.version == version)
    }
}

/// Offers `version` (the highest the hello names) with `suites`, SNI the target's FQDN.
pub async fn offer(
    target: &Target,
    version: u16,
    suites: &[u16],
    timeout: Duration,
) -> Result<Answer, ProbeError> {
    let deadline = Instant::now() + timeout;
    let (mut tcp, address) = connect(target, deadline).await?;
    let sni = target
        .fqdn
        .parse::<std::net::IpAddr>()
        .is_err()
        .then_some(target.fqdn.as_str());
    let hello = hello::client_hello(version, suites, sni, random());
    let exchange = async {
        tcp.write_all(&hello).await?;
        let mut buf = Vec::with_capacity(8 * 1024);
        loop {
            let mut chunk = [0u8; 8 * 1024];
            let n = match tcp.read(&mut chunk).await {
                Ok(n) => n,
                Err(e) if buf.is_empty() && is_reset(&e) => {
                    return Ok(Answer::Refused("reset".into()))
                }
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Ok(match hello::parse_server_flight(&buf) {
                    Ok(Some(Reply::Accepted(flight))) => Answer::Accepted(flight),
                    _ => Answer::Refused("closed".into()),
                });
            }
            if buf.len() + n > hello::MAX_FLIGHT {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the server's first flight is longer than a probe reads",
                ));
            }
            buf.extend_from_slice(&chunk[..n]);
            match hello::parse_server_flight(&buf) {
                Ok(None) => continue,
                Ok(Some(Reply::Accepted(flight))) => return Ok(Answer::Accepted(flight)),
                Ok(Some(Reply::Alert { description, .. })) => {
                    return Ok(Answer::Refused(hello::alert_name(description).into()))
                }
                Err(malformed) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        malformed,
                    ))
                }
            }
        }
    };
    match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), exchange).await {
        Err(_) => Err(ProbeError::new(
            "timeout",
            format!("{address} did not answer a TLS hello within {timeout:?}"),
        )),
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => Err(ProbeError::new(
            "not_tls",
            format!("{address} does not answer as a TLS server: {e}"),
        )),
        Ok(Err(e)) => Err(ProbeError::new(
            "io",
            format!("asking {address} about TLS: {e}"),
        )),
    }
}

fn is_reset(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
    )
}

/// A hello's random: unpredictable enough for a question that agrees on no key.
fn random() -> [u8; 32] {
    let mut out = [0u8; 32];
    rand::fill(&mut out);
    out
}

/// What an endpoint accepts beyond TLS 1.2 and 1.3 with AEAD suites (the rules' input).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Legacy {
    /// The old protocol versions it accepts (`TLSv1`, `TLSv1.1`).
    pub protocols: Vec<String>,
    /// The suite it chose when offered only suites without AEAD at TLS 1.2 (IANA name).
    pub weak_suite: Option<String>,
}

/// Asks `target` about TLS 1.0, TLS 1.1 and TLS 1.2 without AEAD, one hello each.
pub async fn legacy(target: &Target, timeout: Duration) -> Result<Legacy, ProbeError> {
    let every: Vec<u16> = certs::suites::SUITES
        .iter()
        .filter(|s| s.key_exchange != certs::suites::KeyExchange::Tls13)
        .map(|s| s.code)
        .collect();
    let weak: Vec<u16> = certs::suites::SUITES
        .iter()
        .filter(|s| !s.aead)
        .map(|s| s.code)
        .collect();
    let mut found = Legacy::default();
    for version in [hello::TLS10, hello::TLS11] {
        if offer(target, version, &every, timeout)
            .await?
            .accepts(version)
        {
            found.protocols.push(hello::version_name(version));
        }
    }
    if let Answer::Accepted(flight) = offer(target, hello::TLS12, &weak, timeout).await? {
        let chosen = certs::suites::by_code(flight.suite);
        if flight.version == hello::TLS12 && !chosen.is_some_and(|s| s.aead) {
            found.weak_suite = Some(certs::suites::name(flight.suite));
        }
    }
    Ok(found)
}
