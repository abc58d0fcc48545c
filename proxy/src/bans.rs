//! Brute force: failed authentications counted per client address and per account; `failures`
//! of them within `window_secs` ban the target for `ban_secs` (installer: 5, 30 s, 30 min).
//! Each ban is logged in the installer's words, which fail2ban rules already match:
//! `<ip> will be blocked for 30 minutes for exceeding retry limit.`

use crate::{lock, now};
use proxyconf::{Ban, BanOrigin, BanPolicy, BanTarget};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// At most this many targets with recent failures are remembered, and this many bans: a flood
/// of addresses cannot grow memory without bound. Beyond it, failures outside the window are
/// dropped, then a tenth of the rest (a flood's own entries, mostly); bans, the one ending
/// soonest. (IPv6 clients are counted by /64, see `chain::Client`.)
const MAX_COUNTED: usize = 100_000;
const MAX_BANS: usize = 100_000;

pub struct Bans {
    inner: Mutex<Inner>,
    /// Every new ban (the HA peer and the console hear of it).
    pub events: broadcast::Sender<Ban>,
}

#[derive(Default)]
struct Inner {
    bans: HashMap<BanTarget, Ban>,
    failures: HashMap<BanTarget, VecDeque<Instant>>,
}

impl Default for Bans {
    fn default() -> Self {
        Bans {
            inner: Mutex::default(),
            events: broadcast::channel(1024).0,
        }
    }
}

impl Bans {
    /// Whether `target` is banned now.
    pub fn banned(&self, target: &BanTarget) -> bool {
        let now = now();
        lock(&self.inner)
            .bans
            .get(target)
            .is_some_and(|b| b.until > now)
    }

    /// Counts a failed authentication from `address` for `account`; returns the bans it
    /// caused (each already logged and announced).
    pub fn failed(&self, targets: &[BanTarget], policy: &BanPolicy) -> Vec<Ban> {
        let window = Duration::from_secs(policy.window_secs);
        let at = Instant::now();
        let mut made = Vec::new();
        let mut inner = lock(&self.inner);
        if inner.failures.len() >= MAX_COUNTED {
            inner
                .failures
                .retain(|_, times| times.back().is_some_and(|t| at.duration_since(*t) < window));
            if inner.failures.len() >= MAX_COUNTED {
                let drop: Vec<BanTarget> = inner
                    .failures
                    .keys()
                    .take(MAX_COUNTED / 10)
                    .cloned()
                    .collect();
                for target in drop {
                    inner.failures.remove(&target);
                }
            }
        }
        for target in targets {
            let times = inner.failures.entry(target.clone()).or_default();
            while times
                .front()
                .is_some_and(|t| at.duration_since(*t) >= window)
            {
                times.pop_front();
            }
            times.push_back(at);
            if times.len() as u32 >= policy.failures {
                inner.failures.remove(target);
                let since = now();
                made.push(Ban {
                    target: target.clone(),
                    reason: format!(
                        "{} failed authentications within {} s",
                        policy.failures, policy.window_secs
                    ),
                    since,
                    until: since + policy.ban_secs,
                    origin: BanOrigin::Here,
                });
            }
        }
        for ban in &made {
            insert(&mut inner.bans, ban.clone());
        }
        drop(inner);
        for ban in &made {
            log(ban, policy.ban_secs);
            let _ = self.events.send(ban.clone());
        }
        made
    }

    /// A ban decided elsewhere (the peer, an administrator); a longer one already in force stays.
    pub fn add(&self, ban: Ban) {
        let mut inner = lock(&self.inner);
        let keep = inner
            .bans
            .get(&ban.target)
            .is_some_and(|b| b.until >= ban.until);
        if !keep {
            if ban.origin == BanOrigin::Console {
                log(&ban, ban.until.saturating_sub(ban.since));
            }
            insert(&mut inner.bans, ban);
        }
    }

    /// Lifts a ban and its counted failures; `false`: there was none.
    pub fn lift(&self, target: &BanTarget) -> bool {
        let mut inner = lock(&self.inner);
        inner.failures.remove(target);
        let lifted = inner.bans.remove(target).is_some();
        if lifted {
            tracing::warn!(target: "bans", "{target} is unblocked");
        }
        lifted
    }

    /// A successful authentication forgets the account's and address's failures.
    pub fn succeeded(&self, targets: &[BanTarget]) {
        let mut inner = lock(&self.inner);
        for target in targets {
            inner.failures.remove(target);
        }
    }

    pub fn list(&self) -> Vec<Ban> {
        let now = now();
        let mut bans: Vec<Ban> = lock(&self.inner)
            .bans
            .values()
            .filter(|b| b.until > now)
            .cloned()
            .collect();
        bans.sort_by(|a, b| a.target.cmp(&b.target));
        bans
    }

    pub fn expire(&self) {
        let now = now();
        lock(&self.inner).bans.retain(|_, b| b.until > now);
    }
}

/// Puts `ban` in, making room by expiry, then by the ban ending soonest.
fn insert(bans: &mut HashMap<BanTarget, Ban>, ban: Ban) {
    if bans.len() >= MAX_BANS && !bans.contains_key(&ban.target) {
        let now = now();
        bans.retain(|_, b| b.until > now);
        if bans.len() >= MAX_BANS {
            if let Some(soonest) = bans
                .values()
                .min_by_key(|b| b.until)
                .map(|b| b.target.clone())
            {
                bans.remove(&soonest);
            }
        }
    }
    bans.insert(ban.target.clone(), ban);
}

/// The installer's line (minutes rounded up), at warn level on the `bans` target.
fn log(ban: &Ban, secs: u64) {
    tracing::warn!(target: "bans", "{}", line(&ban.target, secs));
}

/// `<ip> will be blocked for 30 minutes for exceeding retry limit.` (an account's name quoted
/// with its control characters escaped: it is the client's text).
pub fn line(target: &BanTarget, secs: u64) -> String {
    let minutes = secs.div_ceil(60);
    match target {
        BanTarget::Address(ip) => {
            format!("{ip} will be blocked for {minutes} minutes for exceeding retry limit.")
        }
        BanTarget::Account(user) => format!(
            "account {user:?} will be blocked for {minutes} minutes for exceeding retry limit."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BanPolicy {
        BanPolicy::default()
    }

    #[test]
    fn the_log_line_is_the_installers() {
        let ip = BanTarget::Address("203.0.113.9".parse().unwrap());
        assert_eq!(
            line(&ip, 1800),
            "203.0.113.9 will be blocked for 30 minutes for exceeding retry limit."
        );
        let account = BanTarget::Account("evil\nname".into());
        assert!(!line(&account, 1800).contains('\n'));
    }

    #[test]
    fn five_failures_within_the_window_ban_and_a_success_forgets_them() {
        let bans = Bans::default();
        let ip = BanTarget::Address("203.0.113.9".parse().unwrap());
        let account = BanTarget::Account("agent1".into());
        for _ in 0..4 {
            assert!(bans
                .failed(&[ip.clone(), account.clone()], &policy())
                .is_empty());
        }
        bans.succeeded(std::slice::from_ref(&ip));
        assert!(bans.failed(&[ip.clone(), account.clone()], &policy()).len() == 1);
        assert!(bans.banned(&account));
        assert!(!bans.banned(&ip));
        let ban = &bans.list()[0];
        assert_eq!(ban.origin, BanOrigin::Here);
        assert_eq!(ban.until - ban.since, 1800);
        assert!(bans.lift(&account));
        assert!(!bans.banned(&account));
        assert!(!bans.lift(&account));
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let bans = Bans::default();
        let ip = BanTarget::Address("203.0.113.9".parse().unwrap());
        let quick = BanPolicy {
            failures: 2,
            window_secs: 1,
            ban_secs: 60,
        };
        assert!(bans.failed(std::slice::from_ref(&ip), &quick).is_empty());
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(bans.failed(std::slice::from_ref(&ip), &quick).is_empty());
        assert_eq!(bans.failed(std::slice::from_ref(&ip), &quick).len(), 1);
    }
}
