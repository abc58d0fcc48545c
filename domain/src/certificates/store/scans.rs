//! Scans as people start, follow and cancel them.

use super::*;
use crate::Services;

struct ScanRow {
    id: i64,
    state: String,
    done: i32,
    total: i32,
    failed: i64,
    requested_by: String,
    node_ids: Option<Vec<i64>>,
    started_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
}

impl From<ScanRow> for ScanStatus {
    fn from(r: ScanRow) -> Self {
        ScanStatus {
            id: r.id,
            state: r.state,
            done: r.done,
            total: r.total,
            failed: r.failed,
            requested_by: r.requested_by,
            node_ids: r.node_ids,
            started_at: rfc3339(r.started_at),
            finished_at: r.finished_at.map(rfc3339),
        }
    }
}

/// The latest finished scan and the latest one still to finish (queued or running), in one
/// query.
pub(super) async fn latest_scans(
    pool: &PgPool,
) -> Result<(Option<ScanStatus>, Option<ScanStatus>), Error> {
    let rows = sqlx::query_as!(
        ScanRow,
        r#"select s.id, s.state, s.done, s.total, s.requested_by, s.node_ids, s.started_at, s.finished_at,
                  (select count(*) from probe p where p.scan_id = s.id and not p.ok) as "failed!"
           from scan s
           where s.id in ((select id from scan where state = 'done' order by started_at desc, id desc limit 1),
                          (select id from scan where state in ('queued', 'running') order by started_at desc, id desc limit 1))"#
    )
    .fetch_all(pool)
    .await?;
    let (mut done, mut running) = (None, None);
    for row in rows {
        let slot = if row.state != "done" {
            &mut running
        } else {
            &mut done
        };
        *slot = Some(row.into());
    }
    Ok((done, running))
}

/// A scan's state and counts (readers).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn scan_status(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
) -> Result<ScanStatus, Error> {
    context.require_reader()?;
    scan(pool, id).await
}

async fn scan(pool: &PgPool, id: i64) -> Result<ScanStatus, Error> {
    let row = sqlx::query_as!(
        ScanRow,
        r#"select s.id, s.state, s.done, s.total, s.requested_by, s.node_ids, s.started_at, s.finished_at,
                  (select count(*) from probe p where p.scan_id = s.id and not p.ok) as "failed!"
           from scan s where s.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::certificates::Refused::NoSuchScan(id))?;
    Ok(row.into())
}

/// A scan and its most recent results, for live progress.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn scan_progress(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
    now: i64,
) -> Result<ScanProgress, Error> {
    context.require_reader()?;
    let scan = scan(pool, id).await?;
    let rows = sqlx::query!(
        r#"select p.id, n.id as node_id, n.fqdn, e.port, p.ok, p.error_code, p.error_message, cert.info as "info?",
                  n.warning_days, n.critical_days, n.warning_lifetime_percent,
                  c.warning_days as c_warning, c.critical_days as c_critical, c.warning_lifetime_percent as c_percent
           from probe p
           join endpoint e on e.id = p.endpoint_id
           join node n on n.id = e.node_id
           join cluster c on c.id = n.cluster_id
           left join probe_chain pc on pc.probe_id = p.id and pc.position = 0
           left join certificate cert on cert.sha256 = pc.sha256
           where p.scan_id = $1 order by p.id desc limit 50"#,
        id
    )
    .fetch_all(pool)
    .await?;
    let mut results = Vec::with_capacity(rows.len());
    for r in rows {
        let leaf: Option<CertInfo> = r
            .info
            .map(serde_json::from_value)
            .transpose()
            .map_err(Error::internal)?;
        let thresholds = effective(
            (r.warning_days, r.critical_days, r.warning_lifetime_percent),
            (r.c_warning, r.c_critical, r.c_percent),
        );
        results.push(ScanResult {
            probe_id: r.id,
            node_id: r.node_id,
            fqdn: r.fqdn,
            port: r.port,
            ok: r.ok,
            error_code: r.error_code,
            error_message: r.error_message,
            state: leaf
                .as_ref()
                .map(|c| AlertState::of(c, now, &thresholds).as_str().to_owned()),
            subject_cn: leaf.and_then(|c| c.subject_cn),
        });
    }
    Ok(ScanProgress { scan, results })
}

/// Starts a scan of some nodes (or the fleet), audited. A second fleet scan while one runs is
/// refused, naming the running one.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_ids = ?node_ids))]
pub async fn start_scan(
    app: &Services,
    context: &RequestContext,
    node_ids: Option<Vec<i64>>,
) -> Result<i64, Error> {
    let principal = context.require_admin()?;
    let node_ids = node_ids.filter(|ids| !ids.is_empty());
    match &node_ids {
        Some(ids) => {
            let known: Vec<i64> =
                sqlx::query_scalar!("select id from node where id = any($1)", ids)
                    .fetch_all(&app.pool)
                    .await?;
            if let Some(missing) = ids.iter().find(|id| !known.contains(id)) {
                return Err(crate::inventory::Refused::NoSuchNode(*missing).into());
            }
        }
        None => {
            if let Some(running) = sqlx::query_scalar!(
                "select id from scan where state in ('queued', 'running') and node_ids is null order by id desc limit 1"
            )
            .fetch_optional(&app.pool)
            .await?
            {
                return Err(crate::certificates::Refused::FleetScanRunning(running).into());
            }
        }
    }
    let id = app
        .scans
        .start(principal.actor(), node_ids.clone())
        .await
        .map_err(Error::internal)?;
    tracing::info!(scan = id, "scan started");
    record_alone(
        &app.pool,
        context
            .event("scan.start", format!("scan:{id}"))
            .after(json!({"node_ids": node_ids})),
    )
    .await?;
    Ok(id)
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn cancel_scan(app: &Services, context: &RequestContext, id: i64) -> Result<(), Error> {
    context.require_admin()?;
    if !crate::scans::scan::cancel(&app.pool, id)
        .await
        .map_err(Error::internal)?
    {
        scan(&app.pool, id).await?;
        return Err(crate::certificates::Refused::ScanNotRunning(id).into());
    }
    record_alone(
        &app.pool,
        context.event("scan.cancel", format!("scan:{id}")),
    )
    .await?;
    Ok(())
}
