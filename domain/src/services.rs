//! What every service reaches: the database pool, the sign-in throttle, the settings that shape
//! sessions, the fleet cache, the scanner, the webhook sender and the appliance drivers. Built
//! once at startup and shared by the REST API, the console's server functions and the
//! background tasks.

use crate::auth::throttle::Throttle;
use sqlx::PgPool;
use std::sync::Arc;
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
pub struct Services {
    pub pool: PgPool,
    pub sessions: Arc<SessionSettings>,
    pub throttle: Arc<Throttle>,
    /// The fleet as the overview pages show it, judged once per change.
    pub fleet: Arc<crate::certificates::cache::FleetCache>,
    /// Posts webhook messages (the server's HTTP client).
    pub webhooks: crate::webhooks::deliver::Notifier,
    /// The appliances' SSH drivers and the key that seals their passwords.
    pub appliances: Arc<crate::appliances::store::Appliances>,
    /// Starts and stops certificate scans (the server's scanner).
    pub scans: crate::scans::scan::Scanner,
    /// Where the appliances reach this console (`GATEHOUSE_PUBLIC_URL`): the base of the
    /// proxy maps' config URIs.
    pub public_url: Arc<str>,
    /// What the reconciliation engine reconciles (registered at startup).
    pub subjects: Arc<crate::reconcile::subject::Subjects>,
}

impl Services {
    /// Whether the database answers a query now (the server's readiness).
    pub async fn database_ready(&self) -> bool {
        sqlx::query_scalar!("select 1")
            .fetch_one(&self.pool)
            .await
            .is_ok()
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}
