//! Housekeeping: the periodic sweep that deletes what has expired across areas.

use crate::jobs::Job;
use crate::jobs::{Kind, Kinds, Nothing};
use crate::Services;
use anyhow::{Context, Result};
use std::time::Duration;

/// How long a finished job stays in the table.
const JOBS_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

pub fn register(kinds: &mut Kinds) {
    kinds.register::<Sweep>();
}

/// Deletes what has expired: sessions, sign-in failures outside the window, connected-user
/// samples past retention, finished jobs older than a week, proxy pairs' old plans and
/// configuration versions.
pub struct Sweep;

impl Kind for Sweep {
    const NAME: &'static str = "sweep";
    type Payload = Nothing;

    async fn run(services: &Services, _: &Job, _: Nothing) -> Result<()> {
        let sessions = crate::auth::session_store::PgStore::new(services.pool.clone())
            .delete_expired()
            .await
            .context("deleting expired sessions")?;
        let failures = services
            .throttle
            .prune(&services.pool)
            .await
            .context("forgetting old sign-in failures")?;
        let samples = crate::appliances::store::prune_samples(&services.pool)
            .await
            .context("deleting old connected-user samples")?;
        let jobs = crate::jobs::queue::prune(&services.pool, JOBS_KEPT).await?;
        let (plans, versions) = crate::proxies::store::prune(&services.pool)
            .await
            .context("deleting old proxy plans and configuration versions")?;
        tracing::debug!(sessions, failures, samples, jobs, plans, versions, "swept");
        Ok(())
    }
}
