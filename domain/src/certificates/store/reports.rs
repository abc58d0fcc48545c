//! A node's report: its endpoints, what each serves and its history, with the thresholds
//! that apply.

use super::*;

fn probe_summary(p: &NodeProbeRow) -> Option<ProbeSummary> {
    Some(ProbeSummary {
        ok: p.ok?,
        probed_at: rfc3339(p.probed_at?),
        error_code: p.error_code.clone(),
        error_message: p.error_message.clone(),
        protocol: p.protocol.clone(),
        cipher_suite: p.cipher_suite.clone(),
        alpn: p.alpn.clone(),
        client_certificate_requested: p.client_certificate_requested,
        handshake_ms: p.handshake_ms,
        publicly_trusted: p.ok == Some(true) && p.public_trust_error.is_none(),
        public_trust_error: p.public_trust_error.as_deref().map(TrustFailure::parse),
        cluster_trusted: p.cluster_trusted,
        cluster_trust_error: p.cluster_trust_error.as_deref().map(TrustFailure::parse),
    })
}

struct NodeProbeRow {
    endpoint_id: i64,
    port: i32,
    purpose: String,
    ok: Option<bool>,
    probed_at: Option<OffsetDateTime>,
    error_code: Option<String>,
    error_message: Option<String>,
    protocol: Option<String>,
    cipher_suite: Option<String>,
    alpn: Option<String>,
    client_certificate_requested: Option<bool>,
    handshake_ms: Option<f64>,
    public_trust_error: Option<String>,
    cluster_trusted: Option<bool>,
    cluster_trust_error: Option<String>,
}

/// The node page: every endpoint with its latest probe and served chain, findings judged now.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn node_report(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
    now: i64,
) -> Result<NodeReport, Error> {
    context.require_reader()?;
    let node = crate::inventory::store::node(pool, id).await?;
    let probes = sqlx::query_as!(
        NodeProbeRow,
        r#"select e.id as endpoint_id, e.port, e.purpose, l.ok as "ok?", l.probed_at as "probed_at?", l.error_code, l.error_message,
                  l.protocol, l.cipher_suite, l.alpn, l.client_certificate_requested, l.handshake_ms,
                  l.public_trust_error, l.cluster_trusted, l.cluster_trust_error
           from endpoint e
           left join lateral (
               select * from probe p where p.endpoint_id = e.id order by p.probed_at desc, p.id desc limit 1
           ) l on true
           where e.node_id = $1 order by e.port"#,
        id
    )
    .fetch_all(pool)
    .await?;
    let fleet: HashMap<i64, EndpointNow> = fleet(pool, Some(id))
        .await?
        .into_iter()
        .map(|e| (e.endpoint_id, e))
        .collect();
    let mutes = mutes(pool).await?;
    let endpoints = probes
        .iter()
        .map(|p| {
            let chain = fleet
                .get(&p.endpoint_id)
                .map(|e| {
                    e.chain
                        .iter()
                        .map(|(position, cert)| ChainCertificate {
                            position: *position,
                            fingerprint_sha256: cert.sha256.clone(),
                            subject_cn: cert.subject_cn.clone(),
                            issuer_cn: cert.issuer_cn.clone(),
                            not_after: unix_rfc3339(cert.not_after),
                            days_left: cert.days_left(now),
                            state: e.state_of(cert, now).as_str().to_owned(),
                            findings: e.findings(*position, cert, now),
                            mute: mutes.get(&(e.endpoint_id, cert.sha256.clone())).cloned(),
                            details: cert.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            EndpointReport {
                port: p.port,
                purpose: p.purpose.clone(),
                probe: probe_summary(p),
                chain,
            }
        })
        .collect();
    let history = sqlx::query!(
        r#"select p.probed_at, p.scan_id, e.port, p.ok, p.error_code, c.sha256 as "sha256?", c.subject_cn
           from probe p
           join endpoint e on e.id = p.endpoint_id
           left join probe_chain pc on pc.probe_id = p.id and pc.position = 0
           left join certificate c on c.sha256 = pc.sha256
           where e.node_id = $1 order by p.probed_at desc, p.id desc limit 50"#,
        id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| HistoryEntry {
        probed_at: rfc3339(r.probed_at),
        scan_id: r.scan_id,
        port: r.port,
        ok: r.ok,
        error_code: r.error_code,
        fingerprint_sha256: r.sha256,
        subject_cn: r.subject_cn,
    })
    .collect();
    let thresholds = node_thresholds(pool, id).await?;
    Ok(NodeReport {
        node_id: node.id,
        fqdn: node.fqdn.clone(),
        node,
        endpoints,
        history,
        thresholds,
    })
}

async fn node_thresholds(pool: &PgPool, id: i64) -> Result<EffectiveThresholds, Error> {
    let r = sqlx::query!(
        "select n.warning_days, n.critical_days, n.warning_lifetime_percent,
                c.warning_days as c_warning, c.critical_days as c_critical, c.warning_lifetime_percent as c_percent
         from node n join cluster c on c.id = n.cluster_id where n.id = $1",
        id
    )
    .fetch_one(pool)
    .await?;
    let t = effective(
        (r.warning_days, r.critical_days, r.warning_lifetime_percent),
        (r.c_warning, r.c_critical, r.c_percent),
    );
    let from = |own: Option<i32>, cluster: Option<i32>| {
        match (own, cluster) {
            (Some(_), _) => "node",
            (None, Some(_)) => "cluster",
            _ => "default",
        }
        .to_owned()
    };
    Ok(EffectiveThresholds {
        warning_days: t.warning_days,
        warning_days_from: from(r.warning_days, r.c_warning),
        critical_days: t.critical_days,
        critical_days_from: from(r.critical_days, r.c_critical),
        warning_lifetime_percent: t.warning_lifetime_percent,
        warning_lifetime_percent_from: from(r.warning_lifetime_percent, r.c_percent),
    })
}
