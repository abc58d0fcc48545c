//! Requests per second per client address and rate class (governor's GCRA: a burst, then the
//! steady rate), answered 429 with `Retry-After` beyond it.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use proxyconf::{Class, Rates};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

pub struct Limits {
    by_class: HashMap<Class, DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

impl Limits {
    pub fn new(rates: &Rates) -> Limits {
        let by_class = Class::ALL
            .iter()
            .map(|&class| {
                let rate = rates.of(class);
                let per_second = NonZeroU32::new(rate.per_second).unwrap_or(NonZeroU32::MIN);
                let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
                let quota = Quota::per_second(per_second).allow_burst(burst);
                (class, RateLimiter::keyed(quota))
            })
            .collect();
        Limits {
            by_class,
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)`: over the rate; the client may come back after `wait`.
    pub fn check(&self, class: Class, client: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = self.by_class.get(&class) else {
            return Ok(());
        };
        limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Drops the addresses whose bucket is full again (memory stays bounded under a flood).
    pub fn forget_idle(&self) {
        for limiter in self.by_class.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}
