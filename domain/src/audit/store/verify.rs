//! Verifying the audit log's hash chain from its first entry to its last.

use super::*;

/// Walks the whole chain in id order; names the first entry whose link is broken.
pub async fn verify(pool: &PgPool) -> Result<VerifyReport, Error> {
    let mut rows = sqlx::query_as!(
        Row,
        "select id, at, actor, actor_role, source, action, target, outcome, detail, before, after, prev_hash, hash
         from audit_entry order by id"
    )
    .fetch(pool);
    let mut expected_prev = vec![0u8; 32];
    let mut expected_id = 1i64;
    let mut entries = 0i64;
    while let Some(row) = rows.try_next().await? {
        let broken = |reason: String| VerifyReport {
            ok: false,
            entries,
            first_broken: Some(row.id),
            reason: Some(reason),
        };
        if row.id != expected_id {
            return Ok(broken(format!(
                "entries {expected_id} to {} are missing (deleted)",
                row.id - 1
            )));
        }
        if row.prev_hash != expected_prev {
            return Ok(broken(
                "its link to the previous entry does not match".into(),
            ));
        }
        if row.canonical().hash(&row.prev_hash)?[..] != row.hash[..] {
            return Ok(broken(
                "its content does not match its hash (edited)".into(),
            ));
        }
        expected_prev = row.hash;
        expected_id += 1;
        entries += 1;
    }
    Ok(VerifyReport {
        ok: true,
        entries,
        first_broken: None,
        reason: None,
    })
}

/// `verify`, for a reader; the check itself is recorded after it ran.
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn verify_as(pool: &PgPool, context: &RequestContext) -> Result<VerifyReport, Error> {
    context.require_reader()?;
    let report = verify(pool).await?;
    let outcome = if report.ok {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let detail = match &report.first_broken {
        Some(id) => format!("chain broken at entry {id}"),
        None => format!("{} entries verified", report.entries),
    };
    record_alone(
        pool,
        context
            .event("audit.verify", "audit")
            .outcome(outcome)
            .detail(detail),
    )
    .await?;
    Ok(report)
}
