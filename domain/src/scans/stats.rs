//! Figures about scans that monitoring reads (`/metrics`): failed probes by reason, and when the
//! last scan finished.

use crate::Error;
use sqlx::PgPool;
use time::OffsetDateTime;

/// Failed probes since records began, by reason code (`refused`, `timeout`, ...).
pub async fn probe_failures(pool: &PgPool) -> Result<Vec<(String, i64)>, Error> {
    let rows = sqlx::query!(r#"select error_code as "code!", count(*) as "count!" from probe where not ok and error_code is not null group by error_code"#)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.count)).collect())
}

/// When the last scan that ran to its end finished.
pub async fn last_finished(pool: &PgPool) -> Result<Option<OffsetDateTime>, Error> {
    Ok(
        sqlx::query_scalar!("select max(finished_at) from scan where state = 'done'")
            .fetch_one(pool)
            .await?,
    )
}
