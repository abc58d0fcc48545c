//! Scans: probe a set of endpoints with bounded concurrency and record what each one served.
//!
//! start → a `scan` row (state running, total) → a task probes the endpoints, at most
//! `concurrency` at a time, each within the probe timeout, and records every result as it
//! completes (certificates by fingerprint, the probe, its chain, the endpoint's observation
//! history), advancing `done` → state done, or cancelled when asked. A probe's failure is a
//! recorded result, never a failed scan; a database failure ends the scan as cancelled.

use crate::probe::{Handshake, ProbeError, Prober, Target};
use anyhow::{Context, Result};
use futures::StreamExt;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Runs scans in the background; one per process, shared by the API, the console and the
/// scheduler (through [`app::certificates::ssr::ScanControl`]).
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
        let verifier = crate::probe::verifier(roots).ok()?;
        Some(Self { verifier, anchors })
    }
}

impl app::certificates::ssr::ScanControl for Scanner {
    fn start(
        &self,
        requested_by: String,
        node_ids: Option<Vec<i64>>,
    ) -> futures::future::BoxFuture<'static, Result<i64>> {
        let inner = self.0.clone();
        Box::pin(async move { inner.start(&requested_by, node_ids).await })
    }

    fn cancel(&self, id: i64) -> bool {
        self.0.cancel(id)
    }
}

impl Scanner {
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
            app::certificates::ssr::cluster_anchors(&self.pool)
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
        tokio::spawn(async move {
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
            if let Err(error) = app::webhooks::ssr::judge_transitions(&this.pool, now).await {
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
            }
        });
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

    async fn run(&self, scan_id: i64, jobs: Vec<Job>, cancel: &AtomicBool) -> Result<()> {
        let prober = self.prober.clone();
        let mut results = futures::stream::iter(jobs)
            .map(|job| {
                let prober = prober.clone();
                async move {
                    let verifier = job.trust.as_ref().map(|t| &*t.verifier);
                    let result = prober.probe(&job.target, verifier).await;
                    (job, result)
                }
            })
            .buffer_unordered(self.concurrency);
        while let Some((job, result)) = results.next().await {
            if cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            let anchors = job.trust.as_ref().map_or(&[][..], |t| &t.anchors[..]);
            record(&self.pool, scan_id, job.endpoint_id, &result, anchors)
                .await
                .with_context(|| {
                    format!(
                        "recording the probe of {}:{}",
                        job.target.fqdn, job.target.port
                    )
                })?;
        }
        Ok(())
    }
}

/// A handshake whose chain holds a certificate that cannot be read is a failed probe
/// (`bad_certificate`), so that the scan goes on and the reason is shown.
fn readable(
    result: &Result<Handshake, ProbeError>,
) -> Result<(&Handshake, Vec<certs::CertInfo>), ProbeError> {
    let done = result.as_ref().map_err(Clone::clone)?;
    let infos = done
        .chain
        .iter()
        .enumerate()
        .map(|(position, der)| {
            certs::analyze::parse(der).map_err(|e| ProbeError {
                code: "bad_certificate".into(),
                message: format!("certificate {position} of the served chain: {e}"),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((done, infos))
}

/// Stores one probe's result in one transaction, and counts it as done.
pub async fn record(
    pool: &PgPool,
    scan_id: i64,
    endpoint_id: i64,
    result: &Result<Handshake, ProbeError>,
    cluster_anchors: &[(certs::CertInfo, Vec<u8>)],
) -> Result<()> {
    let mut tx = pool.begin().await?;
    match readable(result) {
        Err(error) => {
            sqlx::query!(
                "insert into probe (scan_id, endpoint_id, ok, error_code, error_message) values ($1, $2, false, $3, $4)",
                scan_id,
                endpoint_id,
                error.code,
                error.message
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok((done, infos)) => {
            let (cluster_trusted, cluster_trust_error) = match &done.cluster_trust {
                None => (None, None),
                Some(Ok(())) => (Some(true), None),
                Some(Err(e)) => (Some(false), Some(e.clone())),
            };
            let served: Vec<(certs::CertInfo, Vec<u8>)> = infos
                .iter()
                .cloned()
                .zip(done.chain.iter().cloned())
                .collect();
            // Complete when it reaches a system root or one of the cluster's own CAs.
            let issued_by =
                |child: &Vec<u8>, parent: &Vec<u8>| certs::analyze::signed_by(child, parent);
            let chain_incomplete = certs::lints::lint_chain(&served, anchors(), issued_by)
                .and_then(|_| certs::lints::lint_chain(&served, cluster_anchors, issued_by))
                .map(|finding| finding.message);
            let probe_id = sqlx::query_scalar!(
                "insert into probe (scan_id, endpoint_id, ok, protocol, cipher_suite, alpn, client_certificate_requested,
                                    handshake_ms, public_trust_error, cluster_trusted, cluster_trust_error, chain_incomplete)
                 values ($1, $2, true, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning id",
                scan_id,
                endpoint_id,
                done.protocol,
                done.cipher_suite,
                done.alpn,
                done.client_certificate_requested,
                done.handshake_time.as_secs_f64() * 1000.0,
                done.public_trust.as_ref().err(),
                cluster_trusted,
                cluster_trust_error,
                chain_incomplete
            )
            .fetch_one(&mut *tx)
            .await?;
            for (position, (der, info)) in done.chain.iter().zip(&infos).enumerate() {
                let sha256 = store_certificate(&mut tx, der, info).await?;
                let position = i32::try_from(position)?;
                sqlx::query!(
                    "insert into probe_chain (probe_id, position, sha256) values ($1, $2, $3)",
                    probe_id,
                    position,
                    sha256
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query!(
                    "insert into observation (endpoint_id, sha256, position, first_seen_at, last_seen_at)
                     values ($1, $2, $3, now(), now())
                     on conflict (endpoint_id, sha256, position) do update set last_seen_at = now()",
                    endpoint_id,
                    sha256,
                    position
                )
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    sqlx::query!("update scan set done = done + 1 where id = $1", scan_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Stores a certificate once, by fingerprint.
async fn store_certificate(
    tx: &mut sqlx::PgConnection,
    der: &[u8],
    info: &certs::CertInfo,
) -> Result<String> {
    let sha256 = info.sha256.clone();
    let not_before = time::OffsetDateTime::from_unix_timestamp(info.not_before)?;
    let not_after = time::OffsetDateTime::from_unix_timestamp(info.not_after)?;
    sqlx::query!(
        "insert into certificate (sha256, der, subject_cn, issuer_cn, serial, not_before, not_after, info)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (sha256) do nothing",
        sha256,
        der,
        info.subject_cn,
        info.issuer_cn,
        info.serial,
        not_before,
        not_after,
        serde_json::to_value(info)?
    )
    .execute(&mut *tx)
    .await?;
    Ok(sha256)
}

/// The system's trusted roots, parsed once: the anchors a served chain should reach.
fn anchors() -> &'static [(certs::CertInfo, Vec<u8>)] {
    static ANCHORS: std::sync::OnceLock<Vec<(certs::CertInfo, Vec<u8>)>> =
        std::sync::OnceLock::new();
    ANCHORS.get_or_init(|| {
        rustls_native_certs::load_native_certs()
            .certs
            .into_iter()
            .filter_map(|der| {
                certs::analyze::parse(der.as_ref())
                    .ok()
                    .map(|info| (info, der.as_ref().to_vec()))
            })
            .collect()
    })
}
