//! What monitoring reads (`/metrics`): the fleet as judged now, failed probes by reason, and
//! when the last scan finished.

use crate::auth::principal::RequestContext;
use crate::certificates::cache::FleetView;
use crate::{Error, Services};
use sqlx::PgPool;
use std::sync::Arc;
use time::OffsetDateTime;

/// The facts behind the metrics, for a monitor (or any signed-in reader).
pub struct MonitoringFacts {
    pub fleet: Arc<FleetView>,
    /// Failed probes since records began, by reason code (`refused`, `timeout`, ...).
    pub probe_failures: Vec<(String, i64)>,
    /// When the last scan that ran to its end finished.
    pub last_scan: Option<OffsetDateTime>,
    /// Items of managed nodes that differ from their access policy.
    pub drift: Vec<crate::reconcile::Drift>,
    /// Each Finesse node's latest connected-users sample: (cluster, node, LAN, proxy).
    pub agents: Vec<(String, String, u32, u32)>,
    /// The gatehouse-proxy instances as they last reported.
    pub proxies: Vec<crate::proxies::Instance>,
}

#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn monitoring_facts(
    app: &Services,
    context: &RequestContext,
) -> Result<MonitoringFacts, Error> {
    context.require_monitor()?;
    Ok(MonitoringFacts {
        fleet: app.fleet.view(&app.pool).await?,
        probe_failures: probe_failures(&app.pool).await?,
        last_scan: last_finished(&app.pool).await?,
        drift: crate::reconcile::drift::list(app).await?,
        agents: agents(&app.pool).await?,
        proxies: crate::proxies::store::for_monitoring(&app.pool, context).await?,
    })
}

async fn agents(pool: &PgPool) -> Result<Vec<(String, String, u32, u32)>, Error> {
    let rows = sqlx::query!(
        r#"select distinct on (s.node_id) c.name as cluster, n.fqdn, s.lan, s.proxy
           from connected_sample s join node n on n.id = s.node_id join cluster c on c.id = n.cluster_id
           order by s.node_id, s.read_at desc"#
    )
    .fetch_all(pool)
    .await?;
    let n = |v: i32| u32::try_from(v).unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|r| (r.cluster, r.fqdn, n(r.lan), n(r.proxy)))
        .collect())
}

async fn probe_failures(pool: &PgPool) -> Result<Vec<(String, i64)>, Error> {
    let rows = sqlx::query!(r#"select error_code as "code!", count(*) as "count!" from probe where not ok and error_code is not null group by error_code"#)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.count)).collect())
}

async fn last_finished(pool: &PgPool) -> Result<Option<OffsetDateTime>, Error> {
    Ok(
        sqlx::query_scalar!("select max(finished_at) from scan where state = 'done'")
            .fetch_one(pool)
            .await?,
    )
}
