//! The desktop's static files, served without credentials from a bounded cache (seed 004:
//! "requests that do not require authentication, such as static files and images, are
//! configured to be served by the reverse-proxy from its cache"). Only complete 200 answers
//! of at most 4 MiB are kept, without the upstream's cookies; entries live `static_cache_secs`.

use crate::lock;
use bytes::Bytes;
use http::HeaderMap;
use proxyconf::CacheStats;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Larger files are passed through, not kept.
pub(crate) const MAX_ENTRY: usize = 4 << 20;

/// Answer headers kept with a file (its security headers too: a cached answer says what the
/// upstream's said).
const KEPT: [http::HeaderName; 10] = [
    http::header::CONTENT_TYPE,
    http::header::ETAG,
    http::header::LAST_MODIFIED,
    http::header::CACHE_CONTROL,
    http::header::CONTENT_ENCODING,
    http::header::CONTENT_SECURITY_POLICY,
    http::header::X_FRAME_OPTIONS,
    http::header::X_CONTENT_TYPE_OPTIONS,
    http::header::STRICT_TRANSPORT_SECURITY,
    http::header::REFERRER_POLICY,
];

#[derive(Default)]
pub(crate) struct Cache {
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
    ttl: Duration,
}

#[derive(Clone)]
pub(crate) struct Entry {
    pub headers: HeaderMap,
    pub body: Bytes,
    stored: Instant,
}

impl Cache {
    pub fn configure(&self, auth: &proxyconf::Auth) {
        let mut inner = lock(&self.inner);
        inner.max_entries = auth.static_cache_entries;
        inner.max_bytes = auth.static_cache_bytes;
        inner.ttl = Duration::from_secs(auth.static_cache_secs);
        shrink(&mut inner);
    }

    /// `key`: the route's external side and the path with its query.
    pub fn get(&self, key: &str) -> Option<Entry> {
        let inner = lock(&self.inner);
        let found = inner
            .entries
            .get(key)
            .filter(|e| e.stored.elapsed() < inner.ttl)
            .cloned();
        drop(inner);
        match &found {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        found
    }

    pub fn put(&self, key: String, upstream: &HeaderMap, body: Bytes) {
        if body.len() > MAX_ENTRY {
            return;
        }
        let mut headers = HeaderMap::new();
        for name in KEPT {
            if let Some(v) = upstream.get(&name) {
                headers.insert(name, v.clone());
            }
        }
        let mut inner = lock(&self.inner);
        if body.len() > inner.max_bytes {
            return;
        }
        inner.bytes += body.len();
        if let Some(old) = inner.entries.insert(
            key,
            Entry {
                headers,
                body,
                stored: Instant::now(),
            },
        ) {
            inner.bytes -= old.body.len();
        }
        shrink(&mut inner);
    }

    pub fn expire(&self) {
        let mut inner = lock(&self.inner);
        let ttl = inner.ttl;
        let mut freed = 0;
        inner.entries.retain(|_, e| {
            let keep = e.stored.elapsed() < ttl;
            if !keep {
                freed += e.body.len();
            }
            keep
        });
        inner.bytes -= freed;
    }

    pub fn stats(&self) -> CacheStats {
        let inner = lock(&self.inner);
        CacheStats {
            entries: inner.entries.len() as u64,
            bytes: inner.bytes as u64,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

/// Oldest entries out until both bounds hold.
fn shrink(inner: &mut Inner) {
    while inner.entries.len() > inner.max_entries || inner.bytes > inner.max_bytes {
        let Some(oldest) = inner
            .entries
            .iter()
            .min_by_key(|(_, e)| e.stored)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        if let Some(e) = inner.entries.remove(&oldest) {
            inner.bytes -= e.body.len();
        }
    }
}
