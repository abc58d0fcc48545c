//! The job table's queries: queue, claim, renew, finish, reap, cancel.
//!
//! Every change of a running job names its owner (`where owner = $me`), so a replica that lost
//! its lease (it stalled, another took the job over) cannot overwrite what the new owner does.

use anyhow::{Context, Result};
use serde_json::Value;
use sqlx::PgPool;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The channel workers listen on; a queued job's kind is the payload.
pub const CHANNEL: &str = "gatehouse_job";
/// The channel on which a cancel of a running job is announced (its id), so that the replica
/// running it stops at once rather than at its next lease renewal.
pub const CANCEL_CHANNEL: &str = "gatehouse_job_cancel";

/// A job to queue: made by its kind ([`super::Kind::job`]).
#[derive(Debug, Clone)]
pub struct NewJob {
    kind: &'static str,
    /// Its payload as stored; `Err` when the payload could not be written as JSON (a bug, said
    /// when it is queued).
    payload: Result<Value, String>,
    /// How many times it may start (a job whose replica died starts again while any are left).
    max_attempts: i32,
    created_by: String,
    /// While a job with this key is queued or running, queueing another joins it (its id is
    /// returned) instead of queueing a second one.
    dedupe_key: Option<String>,
}

impl NewJob {
    pub(super) fn of(
        kind: &'static str,
        payload: serde_json::Result<Value>,
        created_by: String,
    ) -> Self {
        Self {
            kind,
            payload: payload.map_err(|e| e.to_string()),
            max_attempts: 1,
            created_by,
            dedupe_key: None,
        }
    }

    /// Its kind's name.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// At most one job with `key` queued or running at a time (see [`NewJob::dedupe_key`]).
    pub fn once_at_a_time(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    pub fn attempts(mut self, max_attempts: i32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }
}

/// Queues a job (in the caller's transaction, when it passes one) and wakes the workers when
/// it commits; with a dedupe key that a queued or running job holds, returns that job instead.
/// Returns the job's id.
pub async fn enqueue(connection: &mut sqlx::PgConnection, job: &NewJob) -> Result<i64> {
    let payload = job
        .payload
        .as_ref()
        .map_err(|e| anyhow::anyhow!("writing a {} job's payload: {e}", job.kind))?;
    // A second attempt sees a pending job that another transaction committed while this
    // statement waited on the key (the first one's snapshot predates it).
    for _ in 0..3 {
        let id = sqlx::query_scalar!(
            r#"with queued as (
                   insert into job (kind, payload, max_attempts, created_by, request_id, dedupe_key)
                   values ($1, $2, $3, $4, nullif($6, '-'), $7)
                   on conflict (dedupe_key) where state in ('queued', 'running') do nothing
                   returning id
               )
               select id as "id!" from queued, pg_notify($5, $1)
               union all
               select id from job
               where $7::text is not null and dedupe_key = $7 and state in ('queued', 'running')
                 and not exists (select 1 from queued)
               limit 1"#,
            job.kind,
            payload,
            job.max_attempts,
            job.created_by,
            CHANNEL,
            crate::trace::current_request_id(),
            job.dedupe_key
        )
        .fetch_optional(&mut *connection)
        .await
        .with_context(|| format!("queueing a {} job", job.kind))?;
        if let Some(id) = id {
            return Ok(id);
        }
    }
    anyhow::bail!(
        "queueing a {} job: its key stayed taken and free in turn",
        job.kind
    )
}

/// How a job ended, as whoever waits for it sees it.
#[derive(Debug)]
pub struct Ended {
    pub state: String,
    pub error: Option<String>,
}

/// Waits (polling every 100 ms) until the job is no longer queued or running, at most `limit`;
/// `None` when it is still going.
pub async fn wait(pool: &PgPool, id: i64, limit: Duration) -> Result<Option<Ended>> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let row = sqlx::query!("select state, error from job where id = $1", id)
            .fetch_optional(pool)
            .await
            .with_context(|| format!("reading job {id}"))?
            .with_context(|| format!("job {id} is gone"))?;
        if row.state != "queued" && row.state != "running" {
            return Ok(Some(Ended {
                state: row.state,
                error: row.error,
            }));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Queues `job` (joining the pending one with its key) and waits for it as [`wait`] does: for
/// a request that answers with the job's outcome.
pub async fn enqueue_and_wait(
    pool: &PgPool,
    job: &NewJob,
    limit: Duration,
) -> Result<Option<Ended>> {
    let mut connection = pool.acquire().await.context("queueing a job")?;
    let id = enqueue(&mut connection, job).await?;
    drop(connection);
    wait(pool, id, limit).await
}

/// A job this replica now holds.
#[derive(Debug)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    /// 1 for the first start, 2 when it is taken over after a replica died, ...
    pub attempt: i32,
    /// The request that queued it, if one did.
    pub request_id: Option<String>,
}

/// Takes up to `limit` queued jobs of the `kinds` it knows that are due, oldest first, for
/// `owner`.
pub async fn claim(
    pool: &PgPool,
    owner: &str,
    lease: Duration,
    limit: i64,
    kinds: &[String],
) -> Result<Vec<Claimed>> {
    let rows = sqlx::query!(
        "update job set state = 'running', owner = $1, lease_until = now() + make_interval(secs => $2),
                attempts = attempts + 1, started_at = coalesce(started_at, now())
         where id in (select id from job where state = 'queued' and run_after <= now() and kind = any($4)
                      order by run_after, id limit $3 for update skip locked)
         returning id, kind, payload, attempts, request_id",
        owner,
        lease.as_secs_f64(),
        limit,
        kinds
    )
    .fetch_all(pool)
    .await
    .context("claiming queued jobs")?;
    Ok(rows
        .into_iter()
        .map(|r| Claimed {
            id: r.id,
            kind: r.kind,
            payload: r.payload,
            attempt: r.attempts,
            request_id: r.request_id,
        })
        .collect())
}

/// Renews the leases of every job `owner` holds; returns each one still held and whether a
/// cancel was asked for it.
pub async fn renew(pool: &PgPool, owner: &str, lease: Duration) -> Result<Vec<(i64, bool)>> {
    let rows = sqlx::query!(
        "update job set lease_until = now() + make_interval(secs => $2)
         where owner = $1 and state = 'running'
         returning id, cancel_requested",
        owner,
        lease.as_secs_f64()
    )
    .fetch_all(pool)
    .await
    .context("renewing job leases")?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.cancel_requested))
        .collect())
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    Done,
    Cancelled,
    /// Failed; queued again after `retry_in` while attempts are left, else `failed`.
    Failed {
        error: String,
        retry_in: Duration,
    },
}

/// Records how `owner`'s run of a job ended; returns the job's state now (`None` when the job
/// is no longer this owner's: its lease ran out and another replica took it over).
pub async fn finish(
    pool: &PgPool,
    id: i64,
    owner: &str,
    outcome: &Outcome,
) -> Result<Option<String>> {
    let (state, error, retry_in) = match outcome {
        Outcome::Done => ("done", None, 0.0),
        Outcome::Cancelled => ("cancelled", None, 0.0),
        Outcome::Failed { error, retry_in } => {
            ("failed", Some(error.as_str()), retry_in.as_secs_f64())
        }
    };
    sqlx::query_scalar!(
        "update job set
             state = case when $2 = 'failed' and attempts < max_attempts then 'queued' else $2 end,
             run_after = case when $2 = 'failed' then now() + make_interval(secs => $4) else run_after end,
             finished_at = case when $2 = 'failed' and attempts < max_attempts then null else now() end,
             error = $3, owner = null, lease_until = null
         where id = $1 and owner = $5 and state = 'running'
         returning state",
        id,
        state,
        error,
        retry_in,
        owner
    )
    .fetch_optional(pool)
    .await
    .with_context(|| format!("recording the end of job {id}"))
}

/// A job whose lease ran out: queued again, or interrupted when no attempt is left.
#[derive(Debug)]
pub struct Reaped {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub state: String,
}

/// Takes back the jobs of the `kinds` it knows whose replica stopped renewing their leases (a
/// job of another kind is left to a replica that can also record how it ended).
pub async fn reap(pool: &PgPool, kinds: &[String]) -> Result<Vec<Reaped>> {
    let rows = sqlx::query!(
        "update job set
             state = case when attempts < max_attempts and not cancel_requested then 'queued'
                          when cancel_requested then 'cancelled' else 'interrupted' end,
             finished_at = case when attempts < max_attempts and not cancel_requested then null else now() end,
             error = 'the replica running it stopped (its lease ran out at ' || lease_until || ')',
             owner = null, lease_until = null, run_after = now()
         where state = 'running' and lease_until < now() and kind = any($1)
         returning id, kind, payload, state",
        kinds
    )
    .fetch_all(pool)
    .await
    .context("taking back jobs whose replica stopped")?;
    Ok(rows
        .into_iter()
        .map(|r| Reaped {
            id: r.id,
            kind: r.kind,
            payload: r.payload,
            state: r.state,
        })
        .collect())
}

/// Asks a job to stop: a queued one is cancelled at once, a running one when its replica next
/// renews its lease (announced at once on [`CANCEL_CHANNEL`]). Returns the job's state after
/// the call (`None`: no such job).
pub async fn cancel(connection: &mut sqlx::PgConnection, id: i64) -> Result<Option<String>> {
    let state = sqlx::query_scalar!(
        "update job set cancel_requested = state in ('queued', 'running') or cancel_requested,
                state = case when state = 'queued' then 'cancelled' else state end,
                finished_at = case when state = 'queued' then now() else finished_at end
         where id = $1
         returning state",
        id
    )
    .fetch_optional(&mut *connection)
    .await
    .with_context(|| format!("cancelling job {id}"))?;
    if state.as_deref() == Some("running") {
        sqlx::query!("select pg_notify($1, $2)", CANCEL_CHANNEL, id.to_string())
            .execute(&mut *connection)
            .await?;
    }
    Ok(state)
}

/// The kinds not among `kinds` that have jobs due, with how many: left for a replica that
/// knows them.
pub async fn unknown_due(pool: &PgPool, kinds: &[String]) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query!(
        r#"select kind, count(*) as "n!" from job
           where state = 'queued' and run_after <= now() and kind <> all($1)
           group by kind order by kind"#,
        kinds
    )
    .fetch_all(pool)
    .await
    .context("looking for jobs of kinds this replica does not know")?
    .into_iter()
    .map(|r| (r.kind, r.n))
    .collect())
}

/// Deletes finished jobs older than `age`; returns how many.
pub async fn prune(pool: &PgPool, age: Duration) -> Result<u64> {
    Ok(sqlx::query!(
        "delete from job where finished_at < now() - make_interval(secs => $1)",
        age.as_secs_f64()
    )
    .execute(pool)
    .await
    .context("deleting old jobs")?
    .rows_affected())
}

/// A job as its kind's code sees it (its payload is given to the kind typed).
pub struct Job {
    pub id: i64,
    pub(super) payload: Value,
    /// 1 for the first start, more when it was taken over or retried.
    pub attempt: i32,
    cancel: Arc<AtomicBool>,
}

impl Job {
    pub(super) fn new(id: i64, payload: Value, attempt: i32, cancel: Arc<AtomicBool>) -> Self {
        Self {
            id,
            payload,
            attempt,
            cancel,
        }
    }

    /// Whether a cancel was asked (on any replica) or this replica lost the job.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The flag [`Job::cancelled`] reads, for code that runs on other tasks.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }
}

/// This replica's name in the job table: host, process and a random part (a restarted process
/// with the same pid is another owner).
pub fn owner_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "gatehouse".into());
    let random = &crate::tokens::store::random_secret()[..6];
    format!("{host}:{}:{random}", std::process::id())
}
