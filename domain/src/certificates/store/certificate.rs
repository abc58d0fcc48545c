//! One certificate: its DER for download and its report (facts and every place it is or was
//! served).

use super::*;
use crate::Services;

/// A stored certificate's DER and subject CN (for downloads).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), sha256 = %sha256))]
pub async fn certificate_der(
    pool: &PgPool,
    context: &RequestContext,
    sha256: &str,
) -> Result<(Vec<u8>, Option<String>), Error> {
    context.require_reader()?;
    let sha256 = valid_fingerprint(sha256)?;
    let row = sqlx::query!(
        "select der, subject_cn from certificate where sha256 = $1",
        sha256
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::certificates::Refused::NeverSeen)?;
    Ok((row.der, row.subject_cn))
}

/// The certificate page: its facts, and every place it is or was served.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), sha256 = %sha256))]
pub async fn certificate_report(
    app: &Services,
    context: &RequestContext,
    sha256: &str,
) -> Result<CertificateReport, Error> {
    context.require_reader()?;
    let pool = &app.pool;
    let sha256 = valid_fingerprint(sha256)?;
    let row = sqlx::query!(
        "select der, info, not_before, not_after, first_seen_at from certificate where sha256 = $1",
        sha256
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::certificates::Refused::NeverSeen)?;
    let details: CertInfo = serde_json::from_value(row.info).map_err(Error::internal)?;
    let view = app.fleet.view(pool).await?;
    let now = view.at;
    let placements = sqlx::query!(
        "select o.endpoint_id, o.position, o.first_seen_at, o.last_seen_at, e.port, n.id as node_id, n.fqdn, c.name as cluster
         from observation o join endpoint e on e.id = o.endpoint_id join node n on n.id = e.node_id join cluster c on c.id = n.cluster_id
         where o.sha256 = $1 order by o.last_seen_at desc, n.fqdn, e.port",
        sha256
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|o| {
        let now_served = view
            .endpoint(o.endpoint_id)
            .filter(|e| e.chain.iter().any(|(p, c)| *p == o.position && c.sha256 == sha256));
        Placement {
            node_id: o.node_id,
            cluster: o.cluster,
            fqdn: o.fqdn,
            port: o.port,
            chain_position: o.position,
            first_seen_at: rfc3339(o.first_seen_at),
            last_seen_at: rfc3339(o.last_seen_at),
            current: now_served.is_some(),
            findings: now_served
                .map(|e| e.findings(o.position, &details, now))
                .unwrap_or_default(),
            state: now_served.map(|e| e.state_of(&details, now).as_str().to_owned()),
        }
    })
    .collect();
    Ok(CertificateReport {
        not_before: rfc3339(row.not_before),
        not_after: rfc3339(row.not_after),
        days_left: details.days_left(now),
        first_seen_at: rfc3339(row.first_seen_at),
        pem: pem(&row.der),
        placements,
        details,
    })
}
