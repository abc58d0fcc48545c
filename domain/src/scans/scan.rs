//! Scans: probe a set of endpoints with bounded concurrency and record what each one served.
//!
//! start → a `scan` row (queued, with its total) and its job, in one transaction → a replica's
//! worker runs the job ([`Scanner::run_job`]): the scan is running, probe tasks run at most
//! `concurrency` at a time, each within the probe timeout, parse and judge what they were
//! served → one writer records the results in batches as they complete (certificates by
//! fingerprint, the probes, their chains, the endpoints' observation history), advancing
//! `done`, which every replica's page reads → state done, or cancelled when asked (on any
//! replica). A probe's failure is a recorded result, never a failed scan. When the replica
//! running a scan dies, another takes the job over once its lease runs out and probes what was
//! not recorded yet; a scan whose job ran out of attempts is `interrupted`.

use crate::jobs::Job;
use crate::scans::probe::{Prober, Target};
use crate::scans::record::{record, Recorded};
use anyhow::{Context, Result};
use futures::StreamExt;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Runs scans: started by the API, the console and the fleet-scan schedule, run by the job
/// worker of whichever replica is free.
#[derive(Clone)]
pub struct Scanner(pub(super) Arc<Inner>);

pub(super) struct Inner {
    pub(super) pool: PgPool,
    prober: Arc<Prober>,
    concurrency: usize,
}

/// How many times a scan's job may start (a replica that died mid-scan leaves the rest to the
/// next attempt).
pub(super) const ATTEMPTS: i32 = 3;

struct Probe {
    endpoint_id: i64,
    target: Target,
    trust: Option<Arc<ClusterTrust>>,
}

/// A cluster's own CAs: a verifier for the probe and the parsed anchors for the chain check.
pub struct ClusterTrust {
    verifier: Arc<rustls::client::WebPkiServerVerifier>,
    anchors: Vec<(certs::CertInfo, Vec<u8>)>,
}

impl ClusterTrust {
    fn new(ders: Vec<Vec<u8>>) -> Option<Self> {
        let mut roots = rustls::RootCertStore::empty();
        let mut anchors = Vec::new();
        for der in ders {
            if roots
                .add(rustls::pki_types::CertificateDer::from(der.clone()))
                .is_ok()
            {
                if let Ok(info) = certs::analyze::parse(&der) {
                    anchors.push((info, der));
                }
            }
        }
        let verifier = crate::scans::probe::verifier(roots).ok()?;
        Some(Self { verifier, anchors })
    }
}

impl Scanner {
    pub fn new(pool: PgPool, prober: Prober, concurrency: usize) -> Self {
        Self(Arc::new(Inner {
            pool,
            prober: Arc::new(prober),
            concurrency: concurrency.max(1),
        }))
    }

    /// The TLS prober (also what reads a map host's certificate for a rollout).
    pub fn prober(&self) -> &Prober {
        &self.0.prober
    }

    /// The scan job of scan `id`: probes the scan's endpoints that have no result in it yet,
    /// records them, and marks the scan done, or cancelled when the job was cancelled.
    pub async fn run_job(&self, job: &Job, id: i64) -> Result<()> {
        let inner = &self.0;
        let Some(node_ids) = sqlx::query_scalar!(
            "update scan set state = 'running' where id = $1 and state in ('queued', 'running') returning node_ids",
            id
        )
        .fetch_optional(&inner.pool)
        .await?
        else {
            tracing::info!(scan = id, "the scan ended before its job started");
            return Ok(());
        };
        let probes = inner.probes(id, node_ids).await?;
        tracing::info!(
            scan = id,
            endpoints = probes.len(),
            attempt = job.attempt,
            "scan started"
        );
        let cancel = job.cancel_flag();
        inner.run(id, probes, &cancel).await?;
        // Judged before the scan reads as finished, so that a caller who sees it done also
        // sees its transitions queued.
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Err(error) = crate::webhooks::store::judge_transitions(&inner.pool, now).await {
            tracing::error!(scan = id, %error, "judging alert transitions");
        }
        let state = match cancel.load(Ordering::Relaxed) {
            true => "cancelled",
            false => "done",
        };
        sqlx::query!(
            "update scan set state = $2, finished_at = now() where id = $1 and state = 'running'",
            id,
            state
        )
        .execute(&inner.pool)
        .await
        .context("recording the end of the scan")?;
        tracing::info!(scan = id, state, "scan finished");
        Ok(())
    }
}

/// Asks a queued or running scan to stop, wherever it runs; `false` when it is not queued or
/// running.
pub async fn cancel(pool: &PgPool, id: i64) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let job = sqlx::query_scalar!(
        "select job_id from scan where id = $1 and state in ('queued', 'running') for update",
        id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(job) = job else {
        return Ok(false);
    };
    let state = match job {
        Some(job) => crate::jobs::queue::cancel(&mut tx, job).await?,
        None => None,
    };
    // A queued job is cancelled at once; its scan with it (a running one ends when its replica
    // sees the cancel).
    if state.as_deref() != Some("running") {
        sqlx::query!(
            "update scan set state = 'cancelled', finished_at = now() where id = $1",
            id
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

impl Inner {
    /// The scan's endpoints that have no result in it yet, with their clusters' CAs.
    async fn probes(&self, scan_id: i64, node_ids: Option<Vec<i64>>) -> Result<Vec<Probe>> {
        let rows = sqlx::query!(
            "select e.id, e.port, n.fqdn, n.address, n.cluster_id from endpoint e join node n on n.id = e.node_id
             where ($1::bigint[] is null or n.id = any($1))
               and not exists (select 1 from probe p where p.scan_id = $2 and p.endpoint_id = e.id)
             order by n.id, e.port",
            node_ids.as_deref(),
            scan_id
        )
        .fetch_all(&self.pool)
        .await
        .context("listing the endpoints to scan")?;
        let trust: HashMap<i64, Arc<ClusterTrust>> =
            crate::certificates::store::cluster_anchors(&self.pool)
                .await
                .map_err(|e| anyhow::anyhow!("reading the clusters' CAs: {e}"))?
                .into_iter()
                .filter_map(|(cluster, ders)| Some((cluster, Arc::new(ClusterTrust::new(ders)?))))
                .collect();
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let port = u16::try_from(r.port).ok()?;
                Some(Probe {
                    trust: trust.get(&r.cluster_id).cloned(),
                    endpoint_id: r.id,
                    target: Target {
                        fqdn: r.fqdn,
                        address: r.address,
                        port,
                    },
                })
            })
            .collect())
    }

    /// Probes every endpoint, `concurrency` at a time, each on its own task (so that parsing and
    /// judging the chains uses every core), and records the results in batches: whatever has
    /// completed while the last batch was written goes into the next one, so a slow database
    /// never holds the probes back and a quiet scan still records each result at once.
    async fn run(&self, scan_id: i64, probes: Vec<Probe>, cancel: &AtomicBool) -> Result<()> {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Recorded>(BATCH);
        let prober = self.prober.clone();
        let concurrency = self.concurrency;
        let probing = AbortOnDrop(tokio::spawn(async move {
            let mut results = futures::stream::iter(probes)
                .map(|job| {
                    let prober = prober.clone();
                    tokio::spawn(async move {
                        let verifier = job.trust.as_ref().map(|t| &*t.verifier);
                        let result = prober.probe(&job.target, verifier).await;
                        let anchors = job.trust.as_ref().map_or(&[][..], |t| &t.anchors[..]);
                        Recorded::new(job.endpoint_id, result, anchors)
                    })
                })
                .buffer_unordered(concurrency);
            while let Some(done) = results.next().await {
                match done {
                    Ok(recorded) => {
                        if sender.send(recorded).await.is_err() {
                            return;
                        }
                    }
                    Err(error) => tracing::error!(%error, "a probe task failed"),
                }
            }
        }));
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            // A cancel is looked at five times a second, also while every probe still waits.
            let received = tokio::select! {
                received = receiver.recv_many(&mut batch, BATCH) => Some(received),
                _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => None,
            };
            if cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            match received {
                Some(0) => break,
                Some(_) => {
                    record(&self.pool, scan_id, &batch)
                        .await
                        .with_context(|| format!("recording {} probe results", batch.len()))?;
                    batch.clear();
                }
                None => {}
            }
        }
        drop(probing);
        Ok(())
    }
}

/// At most this many probe results are written in one transaction.
const BATCH: usize = 256;

/// Aborts the task when dropped (a cancelled or failed scan stops probing).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
