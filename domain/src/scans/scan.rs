//! Scans: probe a set of endpoints with bounded concurrency and record what each one served.
//!
//! start → a `scan` row (state running, total) → probe tasks, at most `concurrency` at a time,
//! each within the probe timeout, parse and judge what they were served → one writer records
//! the results in batches as they complete (certificates by fingerprint, the probes, their
//! chains, the endpoints' observation history), advancing `done` → state done, or cancelled
//! when asked. A probe's failure is a recorded result, never a failed scan; a database failure
//! ends the scan as cancelled.

use crate::scans::probe::{Prober, Target};
use crate::scans::record::{record, Recorded};
use anyhow::{Context, Result};
use futures::StreamExt;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tracing::Instrument;

/// Runs scans in the background; one per process, shared by the API, the console and the
/// scheduler.
#[derive(Clone)]
pub struct Scanner(Arc<Inner>);

struct Inner {
    pool: PgPool,
    prober: Arc<Prober>,
    concurrency: usize,
    running: Mutex<HashMap<i64, Arc<AtomicBool>>>,
}

struct Job {
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
    /// Starts probing the given nodes' endpoints (the whole fleet when `None` or empty);
    /// returns the scan's id at once.
    pub async fn start(&self, requested_by: String, node_ids: Option<Vec<i64>>) -> Result<i64> {
        self.0.start(&requested_by, node_ids).await
    }

    /// Asks a running scan to stop; `false` when no such scan runs in this process.
    pub fn cancel(&self, id: i64) -> bool {
        self.0.cancel(id)
    }

    pub fn new(pool: PgPool, prober: Prober, concurrency: usize) -> Self {
        Self(Arc::new(Inner {
            pool,
            prober: Arc::new(prober),
            concurrency: concurrency.max(1),
            running: Mutex::new(HashMap::new()),
        }))
    }
}

impl Inner {
    /// Starts a scan of the given nodes' endpoints (all nodes when `None` or empty) and returns
    /// its id at once.
    async fn start(
        self: &Arc<Self>,
        requested_by: &str,
        node_ids: Option<Vec<i64>>,
    ) -> Result<i64> {
        let node_ids = node_ids.filter(|ids| !ids.is_empty());
        let rows = sqlx::query!(
            "select e.id, e.port, n.fqdn, n.address, n.cluster_id from endpoint e join node n on n.id = e.node_id
             where ($1::bigint[] is null or n.id = any($1)) order by n.id, e.port",
            node_ids.as_deref()
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
        let jobs: Vec<Job> = rows
            .into_iter()
            .filter_map(|r| {
                let port = u16::try_from(r.port).ok()?;
                Some(Job {
                    trust: trust.get(&r.cluster_id).cloned(),
                    endpoint_id: r.id,
                    target: Target {
                        fqdn: r.fqdn,
                        address: r.address,
                        port,
                    },
                })
            })
            .collect();
        let total = i32::try_from(jobs.len()).context("too many endpoints")?;
        let id = sqlx::query_scalar!(
            "insert into scan (requested_by, state, total, node_ids) values ($1, 'running', $2, $3) returning id",
            requested_by,
            total,
            node_ids.as_deref()
        )
        .fetch_one(&self.pool)
        .await
        .context("recording the scan")?;
        let cancel = Arc::new(AtomicBool::new(false));
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, cancel.clone());
        let this = self.clone();
        tokio::spawn(
            async move {
                let outcome = this.run(id, jobs, &cancel).await;
                this.running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
                let state = match (&outcome, cancel.load(Ordering::Relaxed)) {
                    (Ok(()), false) => "done",
                    _ => "cancelled",
                };
                if let Err(error) = &outcome {
                    tracing::error!(scan = id, error = %format!("{error:#}"), "scan stopped");
                }
                // Judged before the scan reads as finished, so that a caller who sees it done
                // also sees its transitions queued.
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                if let Err(error) = crate::webhooks::store::judge_transitions(&this.pool, now).await
                {
                    tracing::error!(scan = id, %error, "judging alert transitions");
                }
                if let Err(error) = sqlx::query!(
                    "update scan set state = $2, finished_at = now() where id = $1",
                    id,
                    state
                )
                .execute(&this.pool)
                .await
                {
                    tracing::error!(scan = id, %error, "recording the end of a scan");
                } else {
                    tracing::info!(state, "scan finished");
                }
            }
            // The scan outlives the request that started it; its log lines keep that request's id.
            .instrument(tracing::info_span!("scan", id)),
        );
        Ok(id)
    }

    /// Asks a running scan to stop; `false` when no such scan runs here.
    fn cancel(&self, id: i64) -> bool {
        match self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            Some(flag) => {
                flag.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Probes every job, `concurrency` at a time, each on its own task (so that parsing and
    /// judging the chains uses every core), and records the results in batches: whatever has
    /// completed while the last batch was written goes into the next one, so a slow database
    /// never holds the probes back and a quiet scan still records each result at once.
    async fn run(&self, scan_id: i64, jobs: Vec<Job>, cancel: &AtomicBool) -> Result<()> {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Recorded>(BATCH);
        let prober = self.prober.clone();
        let concurrency = self.concurrency;
        let probing = AbortOnDrop(tokio::spawn(async move {
            let mut results = futures::stream::iter(jobs)
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
        while receiver.recv_many(&mut batch, BATCH).await > 0 {
            if cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            record(&self.pool, scan_id, &batch)
                .await
                .with_context(|| format!("recording {} probe results", batch.len()))?;
            batch.clear();
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
