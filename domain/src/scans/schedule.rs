//! The scan scheduler: scans the whole fleet every interval (default 6 hours), each time a
//! little later than due (up to a tenth of the interval, so that many consoles do not probe
//! the same appliances in step). A scan that is due while another fleet scan runs is skipped.
//! The first scan after start is due one interval after the last fleet scan, or a minute
//! after start when there is none (or it is overdue).
//!
//! The sampler reads the Finesse nodes' connected users every interval (default a minute), so
//! the Connected agents history has no gaps while nobody has the page open.

use crate::Services;
use anyhow::{Context, Result};
use rand::Rng;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Scans left `running` by a process that stopped are over: marks them cancelled. Returns how many.
pub async fn close_orphans(pool: &sqlx::PgPool) -> Result<u64> {
    let closed = sqlx::query!(
        "update scan set state = 'cancelled', finished_at = now() where state = 'running'"
    )
    .execute(pool)
    .await
    .context("closing scans left running by a previous process")?;
    Ok(closed.rows_affected())
}

/// Starts the scheduler (`None` when `interval_hours` is 0).
pub async fn spawn(state: Services, interval_hours: f64) -> Result<Option<JoinHandle<()>>> {
    let orphans = close_orphans(&state.pool).await?;
    if orphans > 0 {
        tracing::warn!(
            orphans,
            "scans left running by the previous process were marked cancelled"
        );
    }
    if interval_hours <= 0.0 {
        tracing::info!("scheduled scans are off (GATEHOUSE_SCAN_INTERVAL_HOURS=0)");
        return Ok(None);
    }
    let interval = Duration::from_secs_f64(interval_hours * 3600.0);
    Ok(Some(tokio::spawn(async move {
        loop {
            let wait = match until_due(&state.pool, interval).await {
                Ok(wait) => wait,
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "reading the last scan; retrying in a minute");
                    Duration::from_secs(60)
                }
            };
            let jitter = rand::rng().random_range(0.0..=0.1) * interval.as_secs_f64();
            tokio::time::sleep(wait + Duration::from_secs_f64(jitter)).await;
            if let Err(error) = scan_fleet(&state).await {
                tracing::error!(error = %format!("{error:#}"), "scheduled scan");
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        }
    })))
}

/// Starts the connected-users sampler (`None` when `interval` is zero). A round that is still
/// running when the next is due delays it: at most one round runs at a time.
pub fn spawn_sampler(state: Services, interval: Duration) -> Option<JoinHandle<()>> {
    if interval.is_zero() {
        tracing::info!("background sampling of connected users is off");
        return None;
    }
    // Old samples are deleted about once an hour, not every round.
    let prune_every = (3600 / interval.as_secs().max(1)).max(1);
    Some(tokio::spawn(async move {
        let mut every = tokio::time::interval(interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for round in 0u64.. {
            every.tick().await;
            // A round waits for its slowest node up to the interval (then it keeps reading).
            match crate::appliances::store::sample_fleet(&state, interval).await {
                Ok(failed) => {
                    for (node, why) in failed {
                        tracing::debug!(node, why, "connected users not read");
                    }
                }
                Err(error) => tracing::warn!(%error, "sampling connected users"),
            }
            if round % prune_every == 0 {
                if let Err(error) = crate::appliances::store::prune_samples(&state.pool).await {
                    tracing::warn!(%error, "deleting old connected-user samples");
                }
            }
        }
    }))
}

/// How long until the next fleet scan is due.
async fn until_due(pool: &sqlx::PgPool, interval: Duration) -> Result<Duration> {
    let last = sqlx::query_scalar!("select max(started_at) from scan where node_ids is null")
        .fetch_one(pool)
        .await?;
    Ok(due_in(last, time::OffsetDateTime::now_utc(), interval))
}

/// One interval after the last fleet scan, but never sooner than a minute from now (a restart
/// does not probe the fleet at once; a missed scan is made up a minute after start).
fn due_in(
    last: Option<time::OffsetDateTime>,
    now: time::OffsetDateTime,
    interval: Duration,
) -> Duration {
    let minimum = Duration::from_secs(60).min(interval);
    match last {
        None => minimum,
        Some(last) => {
            let since = Duration::try_from(now - last).unwrap_or_default();
            interval.saturating_sub(since).max(minimum)
        }
    }
}

async fn scan_fleet(state: &Services) -> Result<()> {
    let running = sqlx::query_scalar!(
        "select id from scan where state = 'running' and node_ids is null limit 1"
    )
    .fetch_optional(&state.pool)
    .await?;
    if let Some(id) = running {
        tracing::info!(
            scan = id,
            "a fleet scan is still running; skipping this scheduled one"
        );
        return Ok(());
    }
    let id = state.scans.start("system:scheduler".into(), None).await?;
    tracing::info!(scan = id, "scheduled scan started");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_next_scan_is_one_interval_after_the_last_and_never_at_once() {
        let now = datetime!(2026-11-22 12:00 UTC);
        let six_hours = Duration::from_secs(6 * 3600);
        assert_eq!(due_in(None, now, six_hours), Duration::from_secs(60));
        let two_hours_ago = datetime!(2026-11-22 10:00 UTC);
        assert_eq!(
            due_in(Some(two_hours_ago), now, six_hours),
            Duration::from_secs(4 * 3600)
        );
        let yesterday = datetime!(2026-11-21 12:00 UTC);
        assert_eq!(
            due_in(Some(yesterday), now, six_hours),
            Duration::from_secs(60)
        );
        // A clock that went backwards (last scan "in the future") waits one interval at most.
        let ahead = datetime!(2026-11-22 13:00 UTC);
        assert_eq!(due_in(Some(ahead), now, six_hours), six_hours);
        // Intervals under a minute are honoured.
        let short = Duration::from_secs(36);
        assert_eq!(due_in(None, now, short), short);
    }
}
