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
    })
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
