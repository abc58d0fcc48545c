//! What an HTTPS port of a node answers that rustls would not: a hello for TLS 1.0 or 1.1, or
//! one offering only CBC suites at TLS 1.2, on a node whose `tls min-version` is below 1.2.
//! The node answers such a hello with its first flight (ServerHello, its certificate, a
//! certificate request while client-auth is on, ServerHelloDone: [`certs::hello`]) and no
//! more; a legacy session is never completed, which a probe does not need. A hello below the
//! minimum gets the `protocol_version` alert, as a real server's would.

use crate::Fleet;
use certs::hello::{self, ClientHello};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Suites the node chooses for a legacy hello, in its order of preference.
const LEGACY: [u16; 4] = [0xC013, 0xC014, 0x002F, 0x0035];
/// And for a TLS 1.2 hello without an AEAD suite.
const CBC12: [u16; 4] = [0xC027, 0xC013, 0x003C, 0x002F];
/// What rustls here speaks: a hello offering one of these goes to it.
const RUSTLS: [u16; 9] = [
    0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA8, 0xCCA9,
];

/// Whether the connection was answered here (`true`) or is rustls's to take.
pub(crate) async fn screen(fleet: &Arc<Fleet>, node: usize, tcp: &mut TcpStream) -> bool {
    let Some(hello) = peek_hello(tcp).await else {
        return false;
    };
    let min = match fleet.tls_min(node).as_str() {
        "1.0" => hello::TLS10,
        "1.1" => hello::TLS11,
        "1.3" => hello::TLS13,
        _ => hello::TLS12,
    };
    let speaks_rustls = hello.suites.iter().any(|s| RUSTLS.contains(s));
    let answer = if hello.version < min {
        hello::alert(hello.version.min(hello::TLS12), hello::PROTOCOL_VERSION)
    } else if hello.version < hello::TLS12 {
        flight(fleet, node, &hello, hello.version, &LEGACY)
    } else if min < hello::TLS12 && !speaks_rustls {
        flight(fleet, node, &hello, hello::TLS12, &CBC12)
    } else {
        return false;
    };
    if tcp.write_all(&answer).await.is_ok() {
        // The client hangs up (or gives up) next; wait a little for it, then close.
        let mut sink = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut sink)).await;
    }
    true
}

fn flight(fleet: &Fleet, node: usize, hello: &ClientHello, version: u16, ours: &[u16]) -> Vec<u8> {
    let Some(suite) = ours.iter().find(|s| hello.suites.contains(s)) else {
        return hello::alert(version, hello::HANDSHAKE_FAILURE);
    };
    let chain: Vec<Vec<u8>> = fleet.served(node).cert.iter().map(|c| c.to_vec()).collect();
    let ask = fleet.read(node, |s| s.client_auth);
    let mut random = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
        .unwrap_or_default();
    hello::server_flight(version, *suite, &chain, ask, &[], random)
}

/// The client's hello, once it has all arrived (within a few seconds), without taking it off
/// the connection; `None` when it is none (rustls then says so to the client).
pub(crate) async fn peek_hello(tcp: &TcpStream) -> Option<ClientHello> {
    let mut buf = vec![0u8; 16 * 1024 + 5];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let n = tokio::time::timeout_at(deadline, tcp.peek(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        match hello::parse_client_hello(&buf[..n]) {
            Ok(Some(hello)) => return Some(hello),
            Err(_) => return None,
            Ok(None) if n == buf.len() => return None,
            Ok(None) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}
