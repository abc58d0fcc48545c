//! The scans' jobs: a scan's probes, and the periodic fleet scan.

use super::scan::Scanner;
use crate::jobs::Job;
use crate::jobs::{Ending, Kind, Kinds, Nothing, Schedule};
use crate::Services;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::time::Duration;
use time::OffsetDateTime;

/// The scans' kinds of job.
pub fn register(kinds: &mut Kinds) {
    kinds.register::<Scan>().register::<FleetScan>();
}

/// Probes one scan's endpoints; resumable: a later attempt probes what the earlier ones did not
/// record.
pub struct Scan;

/// Which scan a scan job runs.
#[derive(Debug, Serialize, Deserialize)]
pub struct ScanId {
    pub scan_id: i64,
}

impl Kind for Scan {
    const NAME: &'static str = "scan";
    type Payload = ScanId;

    async fn run(services: &Services, job: &Job, scan: ScanId) -> Result<()> {
        services.scans.run_job(job, scan.scan_id).await
    }

    async fn ended(services: &Services, scan: ScanId, ending: Ending) {
        if let Err(error) = ended(&services.pool, scan.scan_id, ending).await {
            tracing::error!(scan = scan.scan_id, error = %format!("{error:#}"), "recording how a scan ended");
        }
    }
}

/// The periodic fleet scan: starts a scan of every endpoint unless a fleet scan is running.
pub struct FleetScan;

impl Kind for FleetScan {
    const NAME: &'static str = "fleet_scan";
    type Payload = Nothing;

    async fn run(services: &Services, _: &Job, _: Nothing) -> Result<()> {
        start_fleet_scan(services).await
    }
}

/// The scan's job ended without finishing it: the scan is cancelled or interrupted.
pub async fn ended(pool: &PgPool, id: i64, ending: Ending) -> Result<()> {
    let state = match ending {
        Ending::Cancelled => "cancelled",
        _ => "interrupted",
    };
    sqlx::query!(
        "update scan set state = $2, finished_at = now() where id = $1 and state in ('queued', 'running')",
        id,
        state
    )
    .execute(pool)
    .await
    .context("recording how the scan ended")?;
    Ok(())
}

/// The fleet-scan schedule's job: starts a scan of the whole fleet, unless one is still queued
/// or running.
pub async fn start_fleet_scan(services: &Services) -> Result<()> {
    let pending = sqlx::query_scalar!(
        "select id from scan where state in ('queued', 'running') and node_ids is null limit 1"
    )
    .fetch_optional(&services.pool)
    .await?;
    if let Some(id) = pending {
        tracing::info!(
            scan = id,
            "a fleet scan is still running; skipping this scheduled one"
        );
        return Ok(());
    }
    let id = services
        .scans
        .start("system:scheduler".into(), None)
        .await?;
    tracing::info!(scan = id, "scheduled scan started");
    Ok(())
}

/// The fleet scan every `interval` (zero: never), first due one interval after the last fleet
/// scan (at least a minute from now), up to a tenth of the interval late each time.
pub async fn fleet_scan_schedule(pool: &PgPool, interval: Duration) -> Result<Schedule> {
    let last = sqlx::query_scalar!("select max(started_at) from scan where node_ids is null")
        .fetch_one(pool)
        .await
        .context("reading the last fleet scan")?;
    let mut schedule = Schedule::of::<FleetScan>(interval, Nothing {});
    schedule.jitter = 0.1;
    schedule.first_in = fleet_scan_due_in(last, OffsetDateTime::now_utc(), interval);
    Ok(schedule)
}

/// When the fleet scan is first due at start: one interval after the last fleet scan, but
/// never sooner than a minute from now (a restart does not probe the fleet at once; a missed
/// scan is made up a minute after start).
pub fn fleet_scan_due_in(
    last: Option<OffsetDateTime>,
    now: OffsetDateTime,
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

impl Scanner {
    /// Queues a scan of the given nodes' endpoints (the whole fleet when `None` or empty);
    /// returns the scan's id at once.
    pub async fn start(&self, requested_by: String, node_ids: Option<Vec<i64>>) -> Result<i64> {
        let node_ids = node_ids.filter(|ids| !ids.is_empty());
        let mut tx = self.0.pool.begin().await?;
        let total = sqlx::query_scalar!(
            r#"select count(*) as "count!" from endpoint e where ($1::bigint[] is null or e.node_id = any($1))"#,
            node_ids.as_deref()
        )
        .fetch_one(&mut *tx)
        .await
        .context("counting the endpoints to scan")?;
        let total = i32::try_from(total).context("too many endpoints")?;
        let id = sqlx::query_scalar!(
            "insert into scan (requested_by, state, total, node_ids) values ($1, 'queued', $2, $3) returning id",
            requested_by,
            total,
            node_ids.as_deref()
        )
        .fetch_one(&mut *tx)
        .await
        .context("recording the scan")?;
        let job = crate::jobs::enqueue(
            &mut tx,
            &Scan::job(ScanId { scan_id: id }, requested_by).attempts(super::scan::ATTEMPTS),
        )
        .await?;
        sqlx::query!("update scan set job_id = $2 where id = $1", id, job)
            .execute(&mut *tx)
            .await?;
        tx.commit().await.context("recording the scan")?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_next_scan_is_one_interval_after_the_last_and_never_at_once() {
        let now = datetime!(2026-11-22 12:00 UTC);
        let six_hours = Duration::from_secs(6 * 3600);
        assert_eq!(
            fleet_scan_due_in(None, now, six_hours),
            Duration::from_secs(60)
        );
        let two_hours_ago = datetime!(2026-11-22 10:00 UTC);
        assert_eq!(
            fleet_scan_due_in(Some(two_hours_ago), now, six_hours),
            Duration::from_secs(4 * 3600)
        );
        let yesterday = datetime!(2026-11-21 12:00 UTC);
        assert_eq!(
            fleet_scan_due_in(Some(yesterday), now, six_hours),
            Duration::from_secs(60)
        );
        // A clock that went backwards (last scan "in the future") waits one interval at most.
        let ahead = datetime!(2026-11-22 13:00 UTC);
        assert_eq!(fleet_scan_due_in(Some(ahead), now, six_hours), six_hours);
        // Intervals under a minute are honoured.
        let short = Duration::from_secs(36);
        assert_eq!(fleet_scan_due_in(None, now, short), short);
    }
}
