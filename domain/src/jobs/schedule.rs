//! Periodic work that fires once per period across all replicas.
//!
//! Each schedule is a row (`schedule`: name, `next_at`). Every replica looks each second for
//! schedules that are due and tries to fire them: the update that moves `next_at` one period
//! (plus jitter) ahead succeeds on one replica only (the others, waiting on the row lock, then
//! find it no longer due), and that replica queues the period's job in the same transaction,
//! unless a job of that kind is still queued or running (a round that overruns delays the
//! next, it does not pile up). The job then runs on whichever replica is free.

use super::kind::Kind;
use super::queue::{enqueue, NewJob};
use anyhow::{Context, Result};
use rand::Rng;
use sqlx::PgPool;
use std::time::Duration;
use tokio::task::JoinHandle;

/// One periodic schedule: its job kind's name is its name.
#[derive(Debug, Clone)]
pub struct Schedule {
    kind: &'static str,
    every: Duration,
    /// Each next time is up to this share of `every` later than due (0.1: many consoles do not
    /// probe the same appliances in step).
    pub jitter: f64,
    /// When the first run is due if the database has no row for it yet.
    pub first_in: Duration,
    /// Each period's job.
    job: NewJob,
}

impl Schedule {
    /// A job of kind `K`, given `payload`, every `every` (zero: never), by `system:<kind>`.
    pub fn of<K: Kind>(every: Duration, payload: K::Payload) -> Self {
        Self {
            kind: K::NAME,
            every,
            jitter: 0.0,
            first_in: every,
            job: K::job(payload, format!("system:{}", K::NAME)),
        }
    }

    /// The next time after a firing now: one period, plus jitter.
    fn next_after_now(&self) -> Duration {
        let jitter = rand::rng().random_range(0.0..=self.jitter.max(0.0));
        self.every + Duration::from_secs_f64(self.every.as_secs_f64() * jitter)
    }
}

/// Makes sure each schedule has a row due at most `first_in` from now (a shorter interval than
/// the last start's applies at once), then fires the due ones every second. `owner` names this
/// replica in `last_fired_by`. A database that is away or read-only at start delays the
/// schedules, not the replica.
pub fn spawn(pool: PgPool, owner: String, schedules: Vec<Schedule>) -> Option<JoinHandle<()>> {
    let schedules: Vec<Schedule> = schedules
        .into_iter()
        .filter(|s| !s.every.is_zero())
        .collect();
    if schedules.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        while let Err(error) = prepare(&pool, &schedules).await {
            tracing::warn!(error = %format!("{error:#}"), "preparing the schedules; retrying in 5 s");
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // One read a second; a transaction only for a schedule that is due.
            let due = match due_names(&pool).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(%error, "reading the schedules");
                    continue;
                }
            };
            for schedule in schedules.iter().filter(|s| due.iter().any(|d| d == s.kind)) {
                match fire_if_due(&pool, &owner, schedule).await {
                    Ok(Some(job)) => {
                        tracing::info!(schedule = schedule.kind, job, "schedule fired")
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(schedule = schedule.kind, error = %format!("{error:#}"), "schedule")
                    }
                }
            }
        }
    }))
}

/// The names of the schedules due now.
async fn due_names(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("select name from schedule where next_at <= now()")
        .fetch_all(pool)
        .await
}

async fn prepare(pool: &PgPool, schedules: &[Schedule]) -> Result<()> {
    for schedule in schedules {
        sqlx::query!(
            "insert into schedule (name, next_at) values ($1, now() + make_interval(secs => $2))
             on conflict (name) do update set next_at = least(schedule.next_at, excluded.next_at)",
            schedule.kind,
            schedule.first_in.as_secs_f64()
        )
        .execute(pool)
        .await
        .with_context(|| format!("preparing the {} schedule", schedule.kind))?;
    }
    Ok(())
}

/// Fires the schedule if it is due and this replica wins it: moves `next_at` on and queues the
/// period's job (unless one of its kind is still pending). Returns the queued job's id.
pub async fn fire_if_due(pool: &PgPool, owner: &str, schedule: &Schedule) -> Result<Option<i64>> {
    let mut tx = pool.begin().await?;
    let fired = sqlx::query_scalar!(
        "update schedule set next_at = now() + make_interval(secs => $2), last_fired_at = now(), last_fired_by = $3
         where name = $1 and next_at <= now()
         returning name",
        schedule.kind,
        schedule.next_after_now().as_secs_f64(),
        owner
    )
    .fetch_optional(&mut *tx)
    .await?;
    if fired.is_none() {
        return Ok(None);
    }
    let pending = sqlx::query_scalar!(
        r#"select exists(select 1 from job where kind = $1 and state in ('queued', 'running')) as "pending!""#,
        schedule.kind
    )
    .fetch_one(&mut *tx)
    .await?;
    if pending {
        tracing::info!(
            schedule = schedule.kind,
            "the last round is still pending; skipping this one"
        );
        tx.commit().await?;
        return Ok(None);
    }
    let job = enqueue(&mut tx, &schedule.job).await?;
    tx.commit().await?;
    Ok(Some(job))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_only_ever_delays() {
        let mut schedule =
            Schedule::of::<super::super::kind::Ping>(Duration::from_secs(60), Default::default());
        assert_eq!(schedule.next_after_now(), Duration::from_secs(60));
        schedule.jitter = 0.1;
        for _ in 0..100 {
            let next = schedule.next_after_now();
            assert!(
                next >= Duration::from_secs(60) && next <= Duration::from_secs(66),
                "{next:?}"
            );
        }
    }
}
