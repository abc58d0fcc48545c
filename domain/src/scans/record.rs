//! Recording what a scan's probes found: each served chain parsed and judged (against the
//! system's roots and the cluster's CAs), then written in batches (certificates by
//! fingerprint, the probes, their chains, the endpoints' observation history), advancing the
//! scan's `done`.

use crate::scans::probe::{Handshake, ProbeError};
use anyhow::{Context, Result};
use sqlx::PgPool;
use std::collections::HashMap;

/// One probe's result, ready to store: the served chain parsed and judged.
pub struct Recorded {
    endpoint_id: i64,
    outcome: Result<Served, ProbeError>,
}

struct Served {
    handshake: Handshake,
    certificates: Vec<certs::CertInfo>,
    /// Why the chain does not reach a system root nor one of the cluster's CAs: the rule
    /// (`chain_incomplete` or `unknown_root`) and its message.
    chain: Option<(String, String)>,
}

impl Recorded {
    /// Parses the served chain (a certificate that cannot be read makes the probe a failure,
    /// `bad_certificate`, so that the scan goes on and the reason is shown) and judges whether
    /// it is complete against the system roots and `cluster_anchors`.
    pub fn new(
        endpoint_id: i64,
        result: Result<Handshake, ProbeError>,
        cluster_anchors: &[(certs::CertInfo, Vec<u8>)],
    ) -> Self {
        let outcome = result.and_then(|handshake| {
            let certificates = handshake
                .chain
                .iter()
                .enumerate()
                .map(|(position, der)| {
                    certs::analyze::parse(der).map_err(|e| ProbeError {
                        code: "bad_certificate".into(),
                        message: format!("certificate {position} of the served chain: {e}"),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let served: Vec<(certs::CertInfo, Vec<u8>)> = certificates
                .iter()
                .cloned()
                .zip(handshake.chain.iter().cloned())
                .collect();
            let issued_by =
                |child: &Vec<u8>, parent: &Vec<u8>| certs::analyze::signed_by(child, parent);
            let chain = certs::lints::lint_chain(&served, anchors(), issued_by)
                .and_then(|_| certs::lints::lint_chain(&served, cluster_anchors, issued_by))
                .map(|finding| (finding.id, finding.message));
            Ok(Served {
                handshake,
                certificates,
                chain,
            })
        });
        Self {
            endpoint_id,
            outcome,
        }
    }
}

/// Stores a batch of probe results in one transaction (certificates once by fingerprint, the
/// probes, their chains, the endpoints' observation history) and counts them as done.
/// Rows are written in a fixed order so that concurrent scans cannot deadlock.
pub async fn record(pool: &PgPool, scan_id: i64, batch: &[Recorded]) -> Result<()> {
    let mut probes = ProbeColumns::default();
    let mut certificates: Vec<(&certs::CertInfo, &[u8])> = Vec::new();
    for r in batch {
        probes.push(r);
        if let Ok(served) = &r.outcome {
            certificates.extend(
                served
                    .certificates
                    .iter()
                    .zip(served.handshake.chain.iter().map(Vec::as_slice)),
            );
        }
    }
    certificates.sort_by(|a, b| a.0.sha256.cmp(&b.0.sha256));
    certificates.dedup_by(|a, b| a.0.sha256 == b.0.sha256);

    let mut tx = pool.begin().await?;
    // First, as every writer does (see the migration that made it).
    sqlx::query!("update fleet_version set probes = probes + 1")
        .execute(&mut *tx)
        .await?;
    crate::certificates::store::insert_certificates(&mut tx, &certificates).await?;
    let ids = sqlx::query!(
        "insert into probe (scan_id, endpoint_id, ok, error_code, error_message, protocol, cipher_suite, alpn,
                            client_certificate_requested, handshake_ms, public_trust_error, cluster_trusted,
                            cluster_trust_error, chain_rule, chain_incomplete, handshake_signature_error)
         select $1, * from unnest($2::bigint[], $3::bool[], $4::text[], $5::text[], $6::text[], $7::text[],
                                  $8::text[], $9::bool[], $10::float8[], $11::text[], $12::bool[], $13::text[],
                                  $14::text[], $15::text[], $16::text[])
         returning id, endpoint_id",
        scan_id,
        &probes.endpoint_id,
        &probes.ok,
        &probes.error_code as &[Option<String>],
        &probes.error_message as &[Option<String>],
        &probes.protocol as &[Option<String>],
        &probes.cipher_suite as &[Option<String>],
        &probes.alpn as &[Option<String>],
        &probes.client_certificate_requested as &[Option<bool>],
        &probes.handshake_ms as &[Option<f64>],
        &probes.public_trust_error as &[Option<String>],
        &probes.cluster_trusted as &[Option<bool>],
        &probes.cluster_trust_error as &[Option<String>],
        &probes.chain_rule as &[Option<String>],
        &probes.chain_incomplete as &[Option<String>],
        &probes.handshake_signature_error as &[Option<String>]
    )
    .fetch_all(&mut *tx)
    .await?;
    // A scan probes each endpoint once, so the endpoint names its probe in this batch.
    let probe_of: HashMap<i64, i64> = ids.into_iter().map(|r| (r.endpoint_id, r.id)).collect();
    let mut links: Vec<(i64, i64, i32, &str)> = Vec::new();
    for r in batch {
        let Ok(served) = &r.outcome else { continue };
        let probe = *probe_of
            .get(&r.endpoint_id)
            .context("a recorded probe without its id")?;
        for (position, info) in served.certificates.iter().enumerate() {
            links.push((r.endpoint_id, probe, i32::try_from(position)?, &info.sha256));
        }
    }
    links.sort_by(|a, b| (a.0, a.3, a.2).cmp(&(b.0, b.3, b.2)));
    links.dedup_by(|a, b| (a.0, a.3, a.2) == (b.0, b.3, b.2));
    if !links.is_empty() {
        let endpoint: Vec<i64> = links.iter().map(|l| l.0).collect();
        let probe: Vec<i64> = links.iter().map(|l| l.1).collect();
        let position: Vec<i32> = links.iter().map(|l| l.2).collect();
        let sha256: Vec<String> = links.iter().map(|l| l.3.to_owned()).collect();
        sqlx::query!(
            "insert into probe_chain (probe_id, position, sha256)
             select * from unnest($1::bigint[], $2::int[], $3::text[])",
            &probe,
            &position,
            &sha256
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "insert into observation (endpoint_id, sha256, position, first_seen_at, last_seen_at)
             select e, s, p, now(), now() from unnest($1::bigint[], $2::text[], $3::int[]) as u(e, s, p)
             on conflict (endpoint_id, sha256, position) do update set last_seen_at = now()",
            &endpoint,
            &sha256,
            &position
        )
        .execute(&mut *tx)
        .await?;
    }
    let count = i32::try_from(batch.len())?;
    sqlx::query!(
        "update scan set done = done + $2 where id = $1",
        scan_id,
        count
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The probe table's columns for one batch, as arrays for `unnest`.
#[derive(Default)]
struct ProbeColumns {
    endpoint_id: Vec<i64>,
    ok: Vec<bool>,
    error_code: Vec<Option<String>>,
    error_message: Vec<Option<String>>,
    protocol: Vec<Option<String>>,
    cipher_suite: Vec<Option<String>>,
    alpn: Vec<Option<String>>,
    client_certificate_requested: Vec<Option<bool>>,
    handshake_ms: Vec<Option<f64>>,
    public_trust_error: Vec<Option<String>>,
    cluster_trusted: Vec<Option<bool>>,
    cluster_trust_error: Vec<Option<String>>,
    chain_rule: Vec<Option<String>>,
    chain_incomplete: Vec<Option<String>>,
    handshake_signature_error: Vec<Option<String>>,
}

impl ProbeColumns {
    fn push(&mut self, r: &Recorded) {
        self.endpoint_id.push(r.endpoint_id);
        self.ok.push(r.outcome.is_ok());
        let error = r.outcome.as_ref().err();
        self.error_code.push(error.map(|e| e.code.clone()));
        self.error_message.push(error.map(|e| e.message.clone()));
        let served = r.outcome.as_ref().ok();
        let done = served.map(|s| &s.handshake);
        self.protocol.push(done.map(|d| d.protocol.clone()));
        self.cipher_suite.push(done.map(|d| d.cipher_suite.clone()));
        self.alpn.push(done.and_then(|d| d.alpn.clone()));
        self.client_certificate_requested
            .push(done.map(|d| d.client_certificate_requested));
        self.handshake_ms
            .push(done.map(|d| d.handshake_time.as_secs_f64() * 1000.0));
        self.public_trust_error
            .push(done.and_then(|d| d.public_trust.as_ref().err().map(code)));
        let cluster = done.and_then(|d| d.cluster_trust.as_ref());
        self.cluster_trusted.push(cluster.map(Result::is_ok));
        self.cluster_trust_error
            .push(cluster.and_then(|c| c.as_ref().err().map(code)));
        let chain = served.and_then(|s| s.chain.clone());
        self.chain_rule.push(chain.as_ref().map(|c| c.0.clone()));
        self.chain_incomplete.push(chain.map(|c| c.1));
        self.handshake_signature_error
            .push(done.and_then(|d| d.signature_error.clone()));
    }
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

/// How a trust failure is stored: its stable code.
fn code(failure: &certs::tls::TrustFailure) -> String {
    failure.code().to_owned()
}
