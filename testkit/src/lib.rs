//! What Gatehouse's tests share, so that no test file writes it again: a free port
//! ([`free_port`]), a child process stopped when dropped ([`Reaped`]), a CA that issues
//! certificates ([`pki`]), TLS servers on loopback ([`tls`]) and, with the `app` feature, the
//! whole application on a fresh database with an HTTP client signed in to it ([`app`]).
//!
//! A dev-dependency only: nothing here is built into Gatehouse.

#[cfg(feature = "app")]
pub mod app;
pub mod modules;
pub mod openssl;
pub mod pki;
pub mod tls;

use std::process::Child;

/// A loopback port nobody listens on now (for a child process that must be told its port). The
/// server's embedded PostgreSQL finds its own (`server::pg`): production code does not depend on
/// this test kit, and it reports a failure where a test may panic.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// A child process that is killed and reaped when this is dropped, so that a test that fails
/// half-way leaves nothing running.
pub struct Reaped(pub Child);

impl Reaped {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
