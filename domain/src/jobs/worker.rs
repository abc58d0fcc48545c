//! The worker every replica runs: takes queued jobs while it has free slots, runs each on its
//! own task, renews the leases of those it holds and passes on cancels asked anywhere, and
//! takes back the jobs of replicas that stopped.

use super::kind::Kinds;
use super::queue::{self, Claimed, Job, Outcome};
use crate::Services;
use anyhow::Result;
use futures::FutureExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// How a replica runs jobs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Jobs this replica runs at once.
    pub slots: usize,
    /// How long a job stays this replica's without a renewal; another replica takes it over
    /// after that. Renewed every sixth of it.
    pub lease: Duration,
    /// How often the queue is looked at besides the notifications (and leases checked).
    pub poll: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            slots: 4,
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
        }
    }
}

type Running = Arc<Mutex<HashMap<i64, Arc<AtomicBool>>>>;

/// The running worker: its loops, and the tasks of the jobs it runs.
pub struct Worker {
    loops: Vec<JoinHandle<()>>,
    jobs: Arc<Mutex<JoinSet<()>>>,
}

impl Worker {
    /// Stops the loops and every job this replica runs, and returns once all of them have let
    /// go of what they held (SSH sessions, database connections). A stopped job keeps its row
    /// as `running`; another replica (or this one, restarted) takes it back when its lease runs
    /// out, as after a crash.
    pub async fn stop(mut self) {
        let loops = std::mem::take(&mut self.loops);
        for task in &loops {
            task.abort();
        }
        for task in loops {
            let _ = task.await;
        }
        let mut jobs = std::mem::take(&mut *self.jobs.lock().unwrap_or_else(|e| e.into_inner()));
        if !jobs.is_empty() {
            tracing::info!(jobs = jobs.len(), "stopping the jobs this replica runs");
        }
        jobs.shutdown().await;
    }
}

impl Drop for Worker {
    /// Without [`Worker::stop`]: the loops are aborted, and the jobs with the last of them.
    fn drop(&mut self) {
        for task in &self.loops {
            task.abort();
        }
    }
}

/// What a worker's rounds share.
struct Round {
    services: Services,
    kinds: Kinds,
    /// The names of `kinds`, as the queries take them.
    names: Vec<String>,
    owner: Arc<str>,
    settings: Settings,
    running: Running,
    wake: Arc<Notify>,
    jobs: Arc<Mutex<JoinSet<()>>>,
}

/// Starts the worker (and its lease renewal and its listener) for the jobs of `kinds`;
/// [`Worker::stop`] stops them.
pub fn spawn(services: Services, kinds: Kinds, settings: Settings, owner: &str) -> Worker {
    let owner: Arc<str> = owner.into();
    tracing::info!(%owner, slots = settings.slots, kinds = ?kinds, "job worker started");
    let running: Running = Arc::default();
    let jobs: Arc<Mutex<JoinSet<()>>> = Arc::default();
    let wake = Arc::new(Notify::new());
    let renewing = tokio::spawn(renew_leases(
        services.pool.clone(),
        owner.clone(),
        settings.lease,
        running.clone(),
    ));
    let listening = tokio::spawn(listen(services.pool.clone(), wake.clone(), running.clone()));
    let poll = settings.poll;
    let round = Arc::new(Round {
        services,
        names: kinds.names(),
        kinds,
        owner,
        settings,
        running,
        wake,
        jobs: jobs.clone(),
    });
    let working = tokio::spawn(async move {
        let mut told = std::collections::BTreeSet::new();
        for count in 0u64.. {
            if let Err(error) = take(&round).await {
                tracing::warn!(error = %format!("{error:#}"), "job queue");
            }
            // Once a minute: jobs no one here can run, said once per kind.
            if count % UNKNOWN_EVERY == 0 {
                tell_unknown(&round, &mut told).await;
            }
            tokio::select! {
                _ = round.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    });
    Worker {
        loops: vec![working, renewing, listening],
        jobs,
    }
}

/// How many rounds between two looks for jobs of kinds this replica does not know.
const UNKNOWN_EVERY: u64 = 60;

/// Says in the log, once per kind, that jobs of a kind this replica does not know are waiting
/// (a newer replica queued them; one that knows the kind runs them).
async fn tell_unknown(round: &Round, told: &mut std::collections::BTreeSet<String>) {
    match queue::unknown_due(&round.services.pool, &round.names).await {
        Ok(unknown) => {
            for (kind, jobs) in unknown {
                if told.insert(kind.clone()) {
                    tracing::warn!(%kind, jobs, "jobs of a kind this replica does not know are queued; left for a replica that knows it");
                }
            }
        }
        Err(error) => tracing::warn!(error = %format!("{error:#}"), "job queue"),
    }
}

/// Takes back stopped replicas' jobs, then claims what fits in the free slots.
async fn take(round: &Arc<Round>) -> Result<()> {
    let services = &round.services;
    for reaped in queue::reap(&services.pool, &round.names).await? {
        tracing::warn!(job = reaped.id, kind = %reaped.kind, state = %reaped.state, "took back a job whose replica stopped");
        round
            .kinds
            .ended(services, &reaped.kind, &reaped.payload, &reaped.state)
            .await;
    }
    let free = round.settings.slots.saturating_sub(
        round
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len(),
    );
    if free == 0 {
        return Ok(());
    }
    let claimed = queue::claim(
        &services.pool,
        &round.owner,
        round.settings.lease,
        free as i64,
        &round.names,
    )
    .await?;
    let mut jobs = round.jobs.lock().unwrap_or_else(|e| e.into_inner());
    // Forget the tasks that ended.
    while jobs.try_join_next().is_some() {}
    for job in claimed {
        let cancel = Arc::new(AtomicBool::new(false));
        round
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(job.id, cancel.clone());
        let round = round.clone();
        jobs.spawn(async move {
            let id = job.id;
            run(&round, job, cancel).await;
            round
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            // A slot is free: look at the queue again now.
            round.wake.notify_one();
        });
    }
    Ok(())
}

/// The message a panic was raised with, when it was text.
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Runs one job to its end and records how it ended.
async fn run(round: &Round, claimed: Claimed, cancel: Arc<AtomicBool>) {
    let (services, owner) = (&round.services, &*round.owner);
    let Claimed {
        id,
        kind,
        payload,
        attempt,
        request_id,
    } = claimed;
    let job = Job::new(id, payload, attempt, cancel.clone());
    // Its log lines name the request that queued it, on whichever replica it runs.
    let request = request_id.as_deref().unwrap_or("-");
    let span = tracing::info_span!("job", id, kind = %kind, attempt, request = %request);
    // A panic in the job's code ends the job as failed, not the worker. The job runs inside this
    // task (not a task of its own), so that stopping this task stops the job with it.
    let task = tracing::Instrument::instrument(round.kinds.run(services, &kind, &job), span);
    let outcome = match std::panic::AssertUnwindSafe(task).catch_unwind().await {
        Ok(Ok(())) if cancel.load(Ordering::Relaxed) => Outcome::Cancelled,
        Ok(Ok(())) => Outcome::Done,
        Ok(Err(error)) => Outcome::Failed {
            error: format!("{error:#}"),
            retry_in: retry_in(attempt),
        },
        Err(panic) => Outcome::Failed {
            error: format!("the job's code panicked: {}", panic_message(&panic)),
            retry_in: retry_in(attempt),
        },
    };
    if let Outcome::Failed { error, .. } = &outcome {
        tracing::error!(job = id, %kind, %error, "job failed");
    }
    // The end is recorded even when the database is away for a moment.
    for wait in [1, 2, 4, 8, 16] {
        match queue::finish(&services.pool, id, owner, &outcome).await {
            Ok(Some(state)) => {
                round
                    .kinds
                    .ended(services, &kind, &job.payload, &state)
                    .await;
                return;
            }
            Ok(None) => {
                tracing::warn!(
                    job = id,
                    "the job was taken over by another replica before it ended here"
                );
                return;
            }
            Err(error) => {
                tracing::warn!(job = id, error = %format!("{error:#}"), "recording the end of a job; retrying");
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
        }
    }
}

/// A failed job's next start: 10 s, 40 s, 160 s, ... at most 10 minutes.
fn retry_in(attempt: i32) -> Duration {
    let factor = 4u32.saturating_pow(u32::try_from(attempt.max(1) - 1).unwrap_or(0));
    Duration::from_secs(10)
        .saturating_mul(factor)
        .min(Duration::from_secs(600))
}

/// Renews the leases of the jobs this replica runs, and raises the cancel flag of those a
/// cancel was asked for or that are no longer this replica's.
async fn renew_leases(pool: sqlx::PgPool, owner: Arc<str>, lease: Duration, running: Running) {
    let mut tick = tokio::time::interval(lease / 6);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if running.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
            continue;
        }
        let held = match queue::renew(&pool, &owner, lease).await {
            Ok(held) => held,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "renewing job leases");
                continue;
            }
        };
        let held: HashMap<i64, bool> = held.into_iter().collect();
        for (id, flag) in running.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            match held.get(id) {
                Some(false) => {}
                Some(true) => {
                    if !flag.swap(true, Ordering::Relaxed) {
                        tracing::info!(job = id, "cancel asked; stopping the job");
                    }
                }
                None => {
                    if !flag.swap(true, Ordering::Relaxed) {
                        tracing::warn!(job = id, "lost the job's lease; stopping it here");
                    }
                }
            }
        }
    }
}

/// Wakes the worker when a job is queued anywhere, and stops a job of this replica's at once
/// when a cancel is announced for it. While the database is away the worker polls and the lease
/// renewal carries cancels.
async fn listen(pool: sqlx::PgPool, wake: Arc<Notify>, running: Running) {
    let channels = [queue::CHANNEL, queue::CANCEL_CHANNEL];
    crate::notify::listen(pool, &channels, |channel, payload| {
        if channel != queue::CANCEL_CHANNEL {
            wake.notify_one();
            return;
        }
        let id = payload.parse::<i64>().ok();
        let running = running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((id, flag)) = id.and_then(|id| Some((id, running.get(&id)?))) {
            tracing::info!(job = id, "cancel asked; stopping the job");
            flag.store(true, Ordering::Relaxed);
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_ten_minutes() {
        assert_eq!(retry_in(1), Duration::from_secs(10));
        assert_eq!(retry_in(2), Duration::from_secs(40));
        assert_eq!(retry_in(3), Duration::from_secs(160));
        assert_eq!(retry_in(4), Duration::from_secs(600));
        assert_eq!(retry_in(40), Duration::from_secs(600));
    }

    #[test]
    fn owners_differ_between_workers_of_one_process() {
        assert_ne!(queue::owner_name(), queue::owner_name());
        assert!(queue::owner_name().contains(&format!(":{}:", std::process::id())));
    }
}
