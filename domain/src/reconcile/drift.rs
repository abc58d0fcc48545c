//! Drift: what a managed node has that its desired state does not say, as the periodic drift
//! job last read it. A drifted item is one row; a new row and a removed row are transitions,
//! sent to the webhooks once each (a node that stays drifted sends nothing more).

use super::Drift;
use crate::dates::rfc3339;
use crate::webhooks::store::notify;
use crate::Error;
use sqlx::PgPool;

/// What one check of a node's `items` (keys) found: `Ok` its differences `(item, expected,
/// actual)`, `Err` why it could not be read (its drift rows stay as they were). Drift of other
/// items (another feature's) is left as it is.
pub async fn record(
    pool: &PgPool,
    node_id: i64,
    items: &[&str],
    found: Result<Vec<(String, String, String)>, String>,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let error = found.as_ref().err().cloned();
    sqlx::query!(
        "insert into drift_check (node_id, checked_at, error) values ($1, now(), $2)
         on conflict (node_id) do update set checked_at = now(), error = $2",
        node_id,
        error
    )
    .execute(&mut *tx)
    .await?;
    let Ok(found) = found else {
        return Ok(tx.commit().await?);
    };
    let node = sqlx::query!(
        "select n.fqdn, n.cluster_id, c.name as cluster from node n join cluster c on c.id = n.cluster_id where n.id = $1",
        node_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let before = sqlx::query!(
        "select item from drift where node_id = $1 and item = any($2) for update",
        node_id,
        &items.iter().map(|i| (*i).to_owned()).collect::<Vec<_>>()
    )
    .fetch_all(&mut *tx)
    .await?;
    let message = |item: &str, expected: &str, actual: &str, to: &str| {
        serde_json::json!({
            "event": "policy_drift", "to": to, "node_id": node_id, "fqdn": node.fqdn,
            "cluster_id": node.cluster_id, "cluster": node.cluster,
            "item": item, "expected": expected, "actual": actual,
        })
    };
    for (item, expected, actual) in &found {
        let new = sqlx::query_scalar!(
            "insert into drift (node_id, item, expected, actual) values ($1, $2, $3, $4)
             on conflict (node_id, item) do update set expected = $3, actual = $4, checked_at = now()
             returning (xmax = 0) as \"inserted!\"",
            node_id,
            item,
            expected,
            actual
        )
        .fetch_one(&mut *tx)
        .await?;
        if new {
            let detail = message(item, expected, actual, "drifted");
            notify(&mut tx, None, None, Some("in_sync"), "drifted", &detail).await?;
        }
    }
    for gone in before
        .iter()
        .filter(|b| !found.iter().any(|(item, ..)| *item == b.item))
    {
        sqlx::query!(
            "delete from drift where node_id = $1 and item = $2",
            node_id,
            gone.item
        )
        .execute(&mut *tx)
        .await?;
        let detail = message(&gone.item, "", "", "resolved");
        notify(&mut tx, None, None, Some("drifted"), "resolved", &detail).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every drifted item, for a reader or a monitor.
pub async fn drift(
    pool: &PgPool,
    context: &crate::auth::principal::RequestContext,
) -> Result<Vec<Drift>, Error> {
    context.require_monitor()?;
    list(pool).await
}

/// Checks every managed node now (the drift job, queued once across replicas, waited for up to
/// a minute), then lists the drift.
pub async fn check_now(
    services: &crate::Services,
    context: &crate::auth::principal::RequestContext,
) -> Result<Vec<Drift>, Error> {
    context.require_admin()?;
    use crate::jobs::Kind;
    let job = crate::access_policy::store::Drift::job(crate::jobs::Nothing {}, context.actor())
        .once_at_a_time("drift");
    let ended = crate::jobs::queue::enqueue_and_wait(
        &services.pool,
        &job,
        std::time::Duration::from_secs(60),
    )
    .await
    .map_err(Error::internal)?;
    match ended {
        Some(ended) if ended.state == "done" => list(&services.pool).await,
        Some(ended) => {
            Err(Error::Conflict(ended.error.unwrap_or_else(|| {
                format!("the drift check ended {}", ended.state)
            })))
        }
        None => Err(Error::Conflict(
            "the drift check is still running after a minute; its result shows when it ends".into(),
        )),
    }
}

/// Every drifted item, by cluster and node.
pub async fn list(pool: &PgPool) -> Result<Vec<Drift>, Error> {
    Ok(sqlx::query!(
        "select d.node_id, n.fqdn, n.cluster_id, c.name as cluster, d.item, d.expected, d.actual, d.since, d.checked_at
         from drift d join node n on n.id = d.node_id join cluster c on c.id = n.cluster_id
         order by c.name, n.fqdn, d.item"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| Drift {
        cluster_id: r.cluster_id,
        cluster: r.cluster,
        node_id: r.node_id,
        fqdn: r.fqdn,
        item: r.item,
        expected: r.expected,
        actual: r.actual,
        since: rfc3339(r.since),
        checked_at: rfc3339(r.checked_at),
    })
    .collect())
}

/// Forgets the drift of nodes no policy manages any more (their cluster left its policy, or
/// the node's kind changed).
pub async fn forget_unmanaged(pool: &PgPool, managed: &[i64]) -> Result<(), Error> {
    sqlx::query!("delete from drift where node_id <> all($1)", managed)
        .execute(pool)
        .await?;
    sqlx::query!("delete from drift_check where node_id <> all($1)", managed)
        .execute(pool)
        .await?;
    Ok(())
}
