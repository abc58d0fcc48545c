//! What every server-side request handler can reach: the database pool, the login throttle and
//! the settings that shape sessions. Built once by the server and shared by the REST API and
//! the server functions (which find it in the Leptos context).

use crate::auth::ssr::Throttle;
use crate::error::AppError;
use leptos::prelude::*;
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Settings that shape sign-in and sessions.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: Duration,
    /// Whether the console is served over TLS (cookies get `Secure`, responses get HSTS).
    pub tls: bool,
}

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub sessions: Arc<SessionSettings>,
    pub throttle: Arc<Throttle>,
    /// The one-time setup token printed at first start when no user exists; taken on use.
    pub setup_token: Arc<Mutex<Option<String>>>,
    /// Addresses that may read `/metrics` without a token.
    pub metrics_allow: Arc<AddressList>,
    /// The fleet as the overview pages show it, judged once per change.
    pub fleet: Arc<crate::certificates::cache::FleetCache>,
    /// Posts webhook messages (the server's HTTP client).
    pub webhooks: Arc<dyn crate::webhooks::ssr::Post>,
    /// The appliances' SSH drivers and the key that seals their passwords.
    pub appliances: Arc<crate::appliances::ssr::Appliances>,
    /// Starts and stops certificate scans (the server's scanner).
    pub scans: Arc<dyn crate::certificates::ssr::ScanControl>,
    pub leptos: LeptosOptions,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// The state, from inside a server function.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("AppState missing from the Leptos context"))
    })
}

/// A list of networks (`10.0.0.0/8`, `::1`, `192.0.2.7`): who may read `/metrics` without a token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressList(Vec<(std::net::IpAddr, u8)>);

impl AddressList {
    /// Comma- or space-separated addresses and CIDR networks; empty means none.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut networks = Vec::new();
        for item in text
            .split([',', ' '])
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            let (address, prefix) = item.split_once('/').unwrap_or((item, ""));
            let address: std::net::IpAddr = address
                .parse()
                .map_err(|_| format!("'{item}' is not an IP address or CIDR network"))?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                "" => max,
                p => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| format!("'{item}': the prefix length must be 0 to {max}"))?,
            };
            networks.push((address, prefix));
        }
        Ok(Self(networks))
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|(network, prefix)| match (network, ip) {
            (std::net::IpAddr::V4(n), std::net::IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                u32::from(*n) & mask == u32::from(a) & mask
            }
            (std::net::IpAddr::V6(n), std::net::IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(*n) & mask == u128::from(a) & mask
            }
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::AddressList;

    #[test]
    fn networks_contain_their_addresses_and_nothing_else() {
        let list = AddressList::parse("10.0.0.0/8, 192.0.2.7 ::1").unwrap();
        for inside in ["10.1.2.3", "192.0.2.7", "::1", "::ffff:10.9.9.9"] {
            assert!(list.contains(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["11.0.0.1", "192.0.2.8", "::2"] {
            assert!(!list.contains(outside.parse().unwrap()), "{outside}");
        }
        assert!(AddressList::parse("").unwrap().0.is_empty());
        assert!(AddressList::parse("0.0.0.0/0")
            .unwrap()
            .contains("203.0.113.9".parse().unwrap()));
        assert_eq!(
            AddressList::parse("10.0.0.0/33"),
            Err("'10.0.0.0/33': the prefix length must be 0 to 32".into())
        );
        assert_eq!(
            AddressList::parse("prometheus.example.com"),
            Err("'prometheus.example.com' is not an IP address or CIDR network".into())
        );
    }
}
