//! The sign-in throttle: failed attempts per account and per client address in a sliding window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts failed sign-ins per account and per client address in a sliding window and refuses
/// further attempts once a limit is reached, until the oldest failure leaves the window.
#[derive(Debug)]
pub struct Throttle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
    pub account_limit: usize,
    pub address_limit: usize,
    pub window: Duration,
}

impl Throttle {
    pub fn new(account_limit: usize, address_limit: usize, window: Duration) -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
            account_limit,
            address_limit,
            window,
        }
    }

    fn keys(account: &str, address: &str) -> [(String, bool); 2] {
        [
            (format!("account:{}", account.trim().to_lowercase()), true),
            (format!("address:{address}"), false),
        ]
    }

    /// `Err(wait)` when either the account or the address is over its limit.
    pub fn check(&self, account: &str, address: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = None::<Duration>;
        for (key, is_account) in Self::keys(account, address) {
            let limit = if is_account {
                self.account_limit
            } else {
                self.address_limit
            };
            if let Some(times) = failures.get_mut(&key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    times.pop_front();
                }
                if times.len() >= limit {
                    if let Some(oldest) = times.front() {
                        let left = self.window.saturating_sub(now.duration_since(*oldest));
                        wait = Some(wait.map_or(left, |w| w.max(left)));
                    }
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            // Bound memory under a spray of usernames: forget windows that have passed.
            let window = self.window;
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        for (key, _) in Self::keys(account, address) {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn clear_account(&self, account: &str) {
        let [(key, _), _] = Self::keys(account, "");
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_refuses_after_the_account_limit_and_names_the_wait() {
        let throttle = Throttle::new(3, 100, Duration::from_secs(900));
        for _ in 0..3 {
            assert!(throttle.check("Alice", "10.0.0.1").is_ok());
            throttle.record_failure("alice", "10.0.0.1");
        }
        let wait = throttle.check("ALICE", "10.0.0.2").unwrap_err();
        assert!(wait > Duration::from_secs(890) && wait <= Duration::from_secs(900));
        // Another account from the same address is still allowed.
        assert!(throttle.check("bob", "10.0.0.1").is_ok());
    }

    #[test]
    fn the_throttle_limits_one_address_across_accounts() {
        let throttle = Throttle::new(100, 2, Duration::from_secs(60));
        throttle.record_failure("a", "192.0.2.7");
        throttle.record_failure("b", "192.0.2.7");
        assert!(throttle.check("c", "192.0.2.7").is_err());
        assert!(throttle.check("c", "192.0.2.8").is_ok());
    }

    #[test]
    fn a_successful_sign_in_clears_only_the_account() {
        let throttle = Throttle::new(1, 1, Duration::from_secs(60));
        throttle.record_failure("alice", "192.0.2.7");
        throttle.clear_account("alice");
        assert!(throttle.check("alice", "192.0.2.9").is_ok());
        assert!(throttle.check("alice", "192.0.2.7").is_err());
    }
}
