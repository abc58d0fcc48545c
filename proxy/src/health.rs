//! How each upstream answered lately: written by every forwarded request, reported to the
//! console and on the status port.

use crate::{lock, now};
use proxyconf::{Health, HostPort};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// How each upstream answered lately.
#[derive(Default)]
pub(crate) struct HealthBook(Mutex<HashMap<HostPort, Health>>);

impl HealthBook {
    pub fn ok(&self, upstream: &HostPort) {
        let mut book = lock(&self.0);
        // Every forwarded request passes here: no allocation once the upstream is known.
        let h = match book.get_mut(upstream) {
            Some(h) => h,
            None => book
                .entry(upstream.clone())
                .or_insert_with(|| fresh(upstream)),
        };
        h.up = true;
        h.last_ok = Some(now());
    }

    pub fn failed(&self, upstream: &HostPort, error: String) {
        let mut book = lock(&self.0);
        let h = book
            .entry(upstream.clone())
            .or_insert_with(|| fresh(upstream));
        h.up = false;
        h.last_error = Some(error);
    }

    /// By upstream name.
    pub fn list(&self) -> Vec<Health> {
        let book = lock(&self.0);
        let sorted: BTreeMap<&str, &Health> =
            book.values().map(|h| (h.upstream.as_str(), h)).collect();
        sorted.into_values().cloned().collect()
    }
}

fn fresh(upstream: &HostPort) -> Health {
    Health {
        upstream: upstream.to_string(),
        up: false,
        last_ok: None,
        last_error: None,
    }
}
