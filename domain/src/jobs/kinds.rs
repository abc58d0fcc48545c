//! What each kind of job does. Adding a kind of background work is a name here, its arm in
//! [`run`] (and in [`ended`] when its own records must show how it ended), and a schedule in
//! the startup or a call to [`super::enqueue`] where it is asked for.

use super::schedule::Schedule;
use super::worker::Job;
use crate::Services;
use anyhow::{Context, Result};
use std::time::Duration;

/// Probes one scan's endpoints (payload `{"scan_id"}`); resumable: a later attempt probes what
/// the earlier ones did not record.
pub const SCAN: &str = "scan";
/// The periodic fleet scan: starts a scan of every endpoint unless a fleet scan is running.
pub const FLEET_SCAN: &str = "fleet_scan";
/// Reads the Finesse nodes' connected users (payload `{"wait_seconds"}`: how long the round
/// waits for its slowest node).
pub const SAMPLE: &str = "sample";
/// Judges the alert transitions (expiry moves with the clock between scans).
pub const JUDGE: &str = "judge";
/// Reads one node's certificate stores for whoever asked (payload `{node_id, principal,
/// source}`); at most one per node at a time (queued with a key), never retried.
pub const STORE_READ: &str = "store_read";
/// Reads the nodes of a new plan and plans each (payload `{plan_id, principal, source}`).
pub const PLAN_READ: &str = "plan_read";
/// Applies a confirmed plan and verifies each node (payload `{plan_id, principal, source}`);
/// resumable: a later attempt continues where the node stopped.
pub const PLAN_APPLY: &str = "plan_apply";
/// Restarts services on nodes, one after another (payload `{restarts, principal, source}`:
/// `service_restart` ids); never retried (a restart is not repeated behind anyone's back).
pub const RESTART: &str = "restart";
/// Reads every node under an applied access policy and records its drift.
pub const DRIFT: &str = "drift";
/// Does nothing: measures the queue itself (`./x bench queue`).
pub const PING: &str = "ping";
/// Deletes what has expired: sessions, sign-in failures outside the window, connected-user
/// samples past retention, finished jobs older than a week.
pub const SWEEP: &str = "sweep";

/// Runs one job of `kind`.
pub async fn run(services: &Services, kind: &str, job: Job) -> Result<()> {
    match kind {
        SCAN => services.scans.run_job(&job).await,
        FLEET_SCAN => crate::scans::scan::start_fleet_scan(services).await,
        SAMPLE => {
            let wait = job.payload["wait_seconds"].as_u64().unwrap_or(60);
            let failed =
                crate::appliances::store::sample_fleet(services, Duration::from_secs(wait.max(1)))
                    .await
                    .map_err(|e| anyhow::anyhow!("sampling connected users: {e}"))?;
            for (node, why) in failed {
                tracing::debug!(node, why, "connected users not read");
            }
            Ok(())
        }
        JUDGE => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            crate::webhooks::store::judge_transitions(&services.pool, now)
                .await
                .map_err(|e| anyhow::anyhow!("judging alert transitions: {e}"))?;
            Ok(())
        }
        SWEEP => sweep(services).await,
        PING => Ok(()),
        STORE_READ => crate::appliances::store::run_store_read(services, &job.payload)
            .await
            .map_err(|e| anyhow::anyhow!("{e}")),
        RESTART => crate::appliances::store::run_restarts(services, &job.payload)
            .await
            .map_err(|e| anyhow::anyhow!("{e}")),
        DRIFT => crate::access_policy::store::check_drift(services)
            .await
            .map_err(|e| anyhow::anyhow!("checking drift: {e}")),
        PLAN_READ => crate::reconcile::store::run_read(services, &job.payload)
            .await
            .map_err(|e| anyhow::anyhow!("{e}")),
        PLAN_APPLY => crate::reconcile::store::run_apply(services, &job)
            .await
            .map_err(|e| anyhow::anyhow!("{e}")),
        other => anyhow::bail!("no such kind of job: {other}"),
    }
}

/// A job of `kind` ended other than done (`cancelled`, `failed`, `interrupted`), on this
/// replica or taken back from one that stopped: its own records say so.
pub async fn ended(services: &Services, kind: &str, payload: &serde_json::Value, state: &str) {
    if kind == PLAN_READ || kind == PLAN_APPLY {
        if let Some(plan) = payload["plan_id"].as_i64() {
            if let Err(error) = crate::reconcile::store::ended(&services.pool, plan, state).await {
                tracing::error!(plan, error = %error, "recording how a plan's job ended");
            }
        }
    }
    if kind == SCAN {
        if let Some(scan) = payload["scan_id"].as_i64() {
            if let Err(error) = crate::scans::scan::ended(&services.pool, scan, state).await {
                tracing::error!(scan, error = %format!("{error:#}"), "recording how a scan ended");
            }
        }
    }
}

async fn sweep(services: &Services) -> Result<()> {
    let sessions = crate::auth::session_store::PgStore::new(services.pool.clone())
        .delete_expired()
        .await
        .context("deleting expired sessions")?;
    let failures = services
        .throttle
        .prune(&services.pool)
        .await
        .map_err(|e| anyhow::anyhow!("forgetting old sign-in failures: {e}"))?;
    let samples = crate::appliances::store::prune_samples(&services.pool)
        .await
        .map_err(|e| anyhow::anyhow!("deleting old connected-user samples: {e}"))?;
    let jobs = super::queue::prune(&services.pool, Duration::from_secs(7 * 24 * 3600)).await?;
    tracing::debug!(sessions, failures, samples, jobs, "swept");
    Ok(())
}

/// How often each periodic job runs (zero: never).
#[derive(Debug, Clone)]
pub struct Intervals {
    pub fleet_scan: Duration,
    pub sample: Duration,
    pub sweep: Duration,
    pub judge: Duration,
    pub drift: Duration,
}

/// The periodic schedules. The fleet scan is first due one interval after the last fleet scan
/// (at least a minute from now) and comes up to a tenth of the interval late each time.
pub async fn schedules(pool: &sqlx::PgPool, every: &Intervals) -> Result<Vec<Schedule>> {
    let last = sqlx::query_scalar!("select max(started_at) from scan where node_ids is null")
        .fetch_one(pool)
        .await
        .context("reading the last fleet scan")?;
    let mut fleet_scan = Schedule::new(FLEET_SCAN, every.fleet_scan);
    fleet_scan.jitter = 0.1;
    fleet_scan.first_in =
        super::schedule::fleet_scan_due_in(last, time::OffsetDateTime::now_utc(), every.fleet_scan);
    let mut sample = Schedule::new(SAMPLE, every.sample);
    // A round waits for its slowest node up to the interval (then it keeps reading).
    sample.payload = serde_json::json!({ "wait_seconds": every.sample.as_secs().max(1) });
    Ok(vec![
        fleet_scan,
        sample,
        Schedule::new(SWEEP, every.sweep),
        Schedule::new(JUDGE, every.judge),
        Schedule::new(DRIFT, every.drift),
    ])
}
