//! What the pages and the API read from the fleet's view (`Services::fleet`, judged once per
//! change): the overview, the served certificates, the alerts monitoring polls.

use super::*;
use crate::Services;

/// The fleet overview, narrowed by `filter`.
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn dashboard(
    app: &Services,
    context: &RequestContext,
    filter: Filter,
) -> Result<Dashboard, Error> {
    Ok(overview(app, context, filter, 0).await?.0)
}

/// The overview and the first `limit` served certificates in the filter, soonest expiry first
/// (the Certificates page shows both), and how many there are in all.
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn overview(
    app: &Services,
    context: &RequestContext,
    filter: Filter,
    limit: usize,
) -> Result<(Dashboard, Vec<ServedCertificate>, usize), Error> {
    context.require_reader()?;
    let view = app.fleet.view(&app.pool).await?;
    let overview = view.overview(&filter);
    let mut dashboard = overview.dashboard.clone();
    (dashboard.last_scan, dashboard.running) = latest_scans(&app.pool).await?;
    let rows = overview
        .rows
        .iter()
        .take(limit)
        .map(|&i| view.rows[i].clone())
        .collect();
    Ok((dashboard, rows, overview.rows.len()))
}

/// `GET /api/v1/certificates`: served certificates in the filter, soonest expiry first.
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn certificates(
    app: &Services,
    context: &RequestContext,
    filter: &Filter,
) -> Result<Vec<ServedCertificate>, Error> {
    context.require_reader()?;
    let view = app.fleet.view(&app.pool).await?;
    let overview = view.overview(filter);
    Ok(overview
        .rows
        .iter()
        .map(|&i| view.rows[i].clone())
        .collect())
}

/// `GET /api/v1/alerts`: one entry per served certificate that is not ok.
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn alerts(app: &Services, context: &RequestContext) -> Result<Vec<Alert>, Error> {
    context.require_monitor()?;
    let view = app.fleet.view(&app.pool).await?;
    Ok(view
        .rows
        .iter()
        .filter(|r| r.state != AlertState::Ok.as_str())
        .map(|r| Alert {
            node_id: r.node_id,
            cluster: r.cluster.clone(),
            fqdn: r.fqdn.clone(),
            port: r.port,
            chain_position: r.chain_position,
            fingerprint_sha256: r.fingerprint_sha256.clone(),
            subject_cn: r.subject_cn.clone(),
            state: r.state.clone(),
            days_left: r.days_left,
            not_after: r.not_after.clone(),
            muted: r.mute.as_ref().is_some_and(|m| m.kind == "mute"),
            acknowledged: r.mute.as_ref().is_some_and(|m| m.kind == "ack"),
            mute: r.mute.clone(),
        })
        .collect())
}
