//! One client connection as every request on it sees it, and its activity (what the idle
//! timeout reads).

use crate::conns::Handle;
use crate::Engine;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One client connection, as every request on it sees it.
pub(crate) struct Conn {
    pub engine: Arc<Engine>,
    pub peer: SocketAddr,
    /// The peer's address (canonical) as a header value, for the upstream's client headers.
    pub peer_value: http::HeaderValue,
    /// The port clients connected to (the listener's public port).
    pub port: u16,
    /// The TLS server name the client asked for, lowercased.
    pub sni: Option<String>,
    pub handle: Handle,
    /// More connections from this address than the limit: every request is answered 503.
    pub over_limit: bool,
    pub requests: AtomicU32,
    pub activity: Activity,
    /// The credentials last believed on this connection.
    pub believed: crate::auth::Memo,
}

/// Requests in flight on a connection and when the last one ended.
pub(crate) struct Activity {
    in_flight: AtomicU32,
    since: std::sync::Mutex<std::time::Instant>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            in_flight: AtomicU32::new(0),
            since: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }
}

impl Activity {
    /// How long nothing has been in flight (zero while something is).
    pub fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Duration::ZERO;
        }
        crate::lock(&self.since).elapsed()
    }

    pub(super) fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self)
    }
}

pub(super) struct InFlight<'a>(&'a Activity);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        *crate::lock(&self.0.since) = std::time::Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}
