//! Every open client connection and WebSocket tunnel, by client address and by the users that
//! authenticated on it, so that a ban or a revoked user closes what it has open at once. Also
//! the per-address counts the connection limits read.

use crate::lock;
use proxyconf::BanTarget;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub(crate) struct Conns(Arc<Inner>);

#[derive(Default)]
struct Inner {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Entry>>,
    /// Open HTTP/1.1 connections per socket address.
    connections: Mutex<HashMap<IpAddr, u32>>,
    /// HTTP/2 requests in flight per client address.
    streams: Mutex<HashMap<IpAddr, u32>>,
}

struct Entry {
    address: IpAddr,
    users: Vec<String>,
    close: CancellationToken,
}

/// An open connection or tunnel; dropping it forgets it.
pub(crate) struct Handle {
    id: u64,
    conns: Conns,
    pub close: CancellationToken,
    counted: Option<IpAddr>,
}

impl Conns {
    /// Registers a connection from `address`; `counted`: it counts against the per-address
    /// connection limit, and the count including it is returned.
    pub fn open(&self, address: IpAddr, counted: bool) -> (Handle, u32) {
        let id = self.0.next.fetch_add(1, Ordering::Relaxed);
        let close = CancellationToken::new();
        lock(&self.0.open).insert(
            id,
            Entry {
                address,
                users: Vec::new(),
                close: close.clone(),
            },
        );
        let count = if counted {
            let mut connections = lock(&self.0.connections);
            let n = connections.entry(address).or_default();
            *n += 1;
            *n
        } else {
            0
        };
        (
            Handle {
                id,
                conns: self.clone(),
                close,
                counted: counted.then_some(address),
            },
            count,
        )
    }

    /// `user` authenticated on this connection (a revoke closes it).
    pub fn user(&self, handle: &Handle, user: &str) {
        if let Some(e) = lock(&self.0.open).get_mut(&handle.id) {
            if !e.users.iter().any(|u| u == user) && e.users.len() < 16 {
                e.users.push(user.to_owned());
            }
        }
    }

    /// Closes everything of `target` now.
    pub fn close(&self, target: &BanTarget) {
        self.close_but(target, None);
    }

    /// Closes everything of `target` now but `spared` (the connection whose request caused
    /// it: its answer is still written, then it closes).
    pub fn close_but(&self, target: &BanTarget, spared: Option<&Handle>) {
        for (id, e) in lock(&self.0.open).iter() {
            if spared.is_some_and(|h| h.id == *id) {
                continue;
            }
            let hit = match target {
                BanTarget::Address(a) => within(*a, e.address),
                BanTarget::Account(user) => e.users.iter().any(|u| u == user),
            };
            if hit {
                e.close.cancel();
            }
        }
    }

    pub fn close_all(&self) {
        for e in lock(&self.0.open).values() {
            e.close.cancel();
        }
    }

    /// One more HTTP/2 request from `address`; the count including it.
    pub fn stream(&self, address: IpAddr) -> (StreamGuard, u32) {
        let mut streams = lock(&self.0.streams);
        let n = streams.entry(address).or_default();
        *n += 1;
        let count = *n;
        drop(streams);
        (
            StreamGuard {
                conns: self.clone(),
                address,
            },
            count,
        )
    }

    pub fn open_count(&self) -> usize {
        lock(&self.0.open).len()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        lock(&self.conns.0.open).remove(&self.id);
        if let Some(address) = self.counted {
            decrement(&self.conns.0.connections, address);
        }
    }
}

pub(crate) struct StreamGuard {
    conns: Conns,
    address: IpAddr,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        decrement(&self.conns.0.streams, self.address);
    }
}

/// `address` is `net`, or in it when `net` is an IPv6 /64 (its last 64 bits zero).
pub(crate) fn within(net: IpAddr, address: IpAddr) -> bool {
    match (net, address) {
        (IpAddr::V6(n), IpAddr::V6(a)) if u128::from(n) & ((1u128 << 64) - 1) == 0 => {
            u128::from(a) >> 64 == u128::from(n) >> 64
        }
        _ => net == address,
    }
}

fn decrement(map: &Mutex<HashMap<IpAddr, u32>>, address: IpAddr) {
    let mut map = lock(map);
    if let Some(n) = map.get_mut(&address) {
        *n -= 1;
        if *n == 0 {
            map.remove(&address);
        }
    }
}
