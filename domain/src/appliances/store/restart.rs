//! Service restarts from the console: one node's service, or a rolling restart of a cluster's
//! pending restarts one node at a time (never both nodes of a pair at once). Each runs as a job;
//! the states the node streams (`Cisco Finesse Tomcat[STARTING]`) are kept as they come so the
//! page can show them. A restart that ends `STARTED` clears the node's pending restart.

use super::super::{PendingRestart, Restart};
use super::*;
use crate::jobs::Kind;

/// The restarts pending on the nodes of `cluster_id` (every cluster: `None`).
pub async fn pending_restarts(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: Option<i64>,
) -> Result<Vec<PendingRestart>, Error> {
    context.require_reader()?;
    Ok(sqlx::query!(
        "select r.node_id, n.fqdn, r.service, r.since from restart_pending r join node n on n.id = r.node_id
         where $1::bigint is null or n.cluster_id = $1 order by n.fqdn, r.service",
        cluster_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| PendingRestart {
        node_id: r.node_id,
        fqdn: r.fqdn,
        service: r.service,
        since: rfc3339(r.since),
    })
    .collect())
}

/// One restart.
pub async fn restart_view(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
) -> Result<Restart, Error> {
    context.require_reader()?;
    let r = sqlx::query!(
        "select r.id, r.node_id, n.fqdn, r.service, r.state, r.lines, r.error, r.requested_by, r.created_at, r.finished_at
         from service_restart r join node n on n.id = r.node_id where r.id = $1",
        id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::appliances::Refused::NoSuchRestart(id))?;
    Ok(Restart {
        id: r.id,
        node_id: r.node_id,
        fqdn: r.fqdn,
        service: r.service,
        state: r.state,
        lines: r.lines.lines().map(str::to_owned).collect(),
        error: r.error,
        requested_by: r.requested_by,
        created_at: rfc3339(r.created_at),
        finished_at: r.finished_at.map(rfc3339),
    })
}

fn check_service(service: &str) -> Result<(), Error> {
    let ok = !service.trim().is_empty()
        && service.len() <= 100
        && service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " .-_&".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::field(
            "service",
            "name a service as `utils service list` shows it, e.g. Cisco Web Proxy Service",
        ))
    }
}

/// Restarts `service` on `node_id` and waits for it to end (up to 10 minutes): the restart
/// with every state the node printed.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id))]
pub async fn restart_service(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
    service: &str,
) -> Result<Restart, Error> {
    context.require_admin()?;
    check_service(service)?;
    node_row(&state.pool, node_id).await?;
    let mut tx = state.pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into service_restart (node_id, service, state, requested_by) values ($1, $2, 'queued', $3) returning id",
        node_id,
        service.trim(),
        context.actor()
    )
    .fetch_one(&mut *tx)
    .await?;
    let payload = context.on_behalf(Restarts { restarts: vec![id] });
    let job = RestartServices::job(payload, context.actor());
    let job = crate::jobs::enqueue(&mut tx, &job)
        .await
        .map_err(Error::internal)?;
    tx.commit().await?;
    crate::jobs::queue::wait(&state.pool, job, Duration::from_secs(660))
        .await
        .map_err(Error::internal)?;
    restart_view(&state.pool, context, id).await
}

/// Restarts every pending service of `cluster_id`'s nodes, one node at a time, the primary
/// first: returns the restarts queued (follow them with [`restart_view`]).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn rolling_restart(
    state: &Services,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<Vec<i64>, Error> {
    context.require_admin()?;
    let mut tx = state.pool.begin().await?;
    // One rolling restart per cluster at a time (the cluster row locked while deciding).
    sqlx::query!(
        "select id from cluster where id = $1 for update",
        cluster_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(crate::inventory::Refused::NoSuchCluster(cluster_id))?;
    let busy = sqlx::query_scalar!(
        "select count(*) as \"n!\" from service_restart r join node n on n.id = r.node_id
         where n.cluster_id = $1 and r.state in ('queued', 'running')",
        cluster_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if busy > 0 {
        return Err(crate::appliances::Refused::RestartsRunning.into());
    }
    let pending = sqlx::query!(
        "select r.node_id, r.service from restart_pending r join node n on n.id = r.node_id where n.cluster_id = $1
         order by case n.role when 'primary' then 0 when 'side_a' then 0 else 1 end, n.fqdn, r.service",
        cluster_id
    )
    .fetch_all(&mut *tx)
    .await?;
    if pending.is_empty() {
        return Err(crate::appliances::Refused::NothingToRestart.into());
    }
    let mut ids: Vec<i64> = Vec::new();
    for p in pending {
        let id = sqlx::query_scalar!(
            "insert into service_restart (node_id, service, state, requested_by, batch) values ($1, $2, 'queued', $3, $4) returning id",
            p.node_id,
            p.service,
            context.actor(),
            ids.first().copied()
        )
        .fetch_one(&mut *tx)
        .await?;
        ids.push(id);
    }
    let payload = context.on_behalf(Restarts {
        restarts: ids.clone(),
    });
    let job = RestartServices::job(payload, context.actor());
    crate::jobs::enqueue(&mut tx, &job)
        .await
        .map_err(Error::internal)?;
    record(
        &mut tx,
        context
            .event("cluster.rolling_restart", format!("cluster:{cluster_id}"))
            .detail(format!("{} restarts, one node at a time", ids.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(ids)
}

/// The restart job: runs its restarts in order, one at a time; a failed one stops the rest
/// (a rolling restart never goes on to the next node while one is down).
pub(super) async fn run_restarts(
    state: &Services,
    context: &RequestContext,
    ids: Vec<i64>,
) -> Result<(), Error> {
    let mut stop: Option<String> = None;
    for id in ids {
        if let Some(why) = &stop {
            sqlx::query!("update service_restart set state = 'failed', error = $2, finished_at = now() where id = $1 and state = 'queued'", id, why)
                .execute(&state.pool)
                .await?;
            continue;
        }
        if let Err(why) = run_one(state, context, id).await? {
            stop = Some(format!(
                "not run: an earlier restart of this rolling restart failed ({why})"
            ));
        }
    }
    Ok(())
}

async fn run_one(
    state: &Services,
    context: &RequestContext,
    id: i64,
) -> Result<Result<(), String>, Error> {
    let row = sqlx::query!(
        "update service_restart set state = 'running' where id = $1 and state = 'queued' returning node_id, service",
        id
    )
    .fetch_optional(&state.pool)
    .await?;
    let Some(row) = row else { return Ok(Ok(())) };
    let node = node_row(&state.pool, row.node_id).await?;
    let (sender, receiver) = std::sync::mpsc::channel::<String>();
    let lines = Arc::new(Mutex::new(String::new()));
    let collector = {
        let lines = lines.clone();
        tokio::task::spawn_blocking(move || {
            for line in receiver {
                let mut all = lines.lock().unwrap_or_else(|e| e.into_inner());
                all.push_str(&line);
                all.push('\n');
            }
        })
    };
    let flusher = {
        let (lines, pool) = (lines.clone(), state.pool.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let now = lines.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let _ = sqlx::query!(
                    "update service_restart set lines = $2 where id = $1",
                    id,
                    now
                )
                .execute(&pool)
                .await;
            }
        })
    };
    let service = row.service.clone();
    let result = with_driver(
        state,
        context,
        row.node_id,
        &node,
        Purpose::Change,
        |driver| async move { driver.restart(&service, Some(sender)).await },
    )
    .await?;
    let _ = collector.await;
    flusher.abort();
    let lines = lines.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let error = result.as_ref().err().map(|failure| failure.to_string());
    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "update service_restart set state = $2, lines = $3, error = $4, finished_at = now() where id = $1",
        id,
        if error.is_none() { "done" } else { "failed" },
        lines,
        error
    )
    .execute(&mut *tx)
    .await?;
    if error.is_none() {
        sqlx::query!(
            "delete from restart_pending where node_id = $1 and service = $2",
            row.node_id,
            row.service
        )
        .execute(&mut *tx)
        .await?;
    }
    let outcome = if error.is_none() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let detail = format!(
        "{}: {}",
        row.service,
        error.clone().unwrap_or_else(|| "STARTED".into())
    );
    record(
        &mut tx,
        context
            .event("node.restart", format!("node:{}", node.fqdn))
            .outcome(outcome)
            .detail(detail),
    )
    .await?;
    tx.commit().await?;
    Ok(error.map_or(Ok(()), Err))
}

/// Restarts services on nodes, one after another; never retried (a restart is not repeated
/// behind anyone's back).
pub struct RestartServices;

/// The `service_restart` rows a restart job runs, in order.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Restarts {
    pub restarts: Vec<i64>,
}

impl Kind for RestartServices {
    const NAME: &'static str = "restart";
    type Payload = crate::auth::principal::OnBehalf<Restarts>;

    async fn run(
        services: &Services,
        _: &crate::jobs::Job,
        asked: crate::auth::principal::OnBehalf<Restarts>,
    ) -> anyhow::Result<()> {
        let context = asked.context();
        Ok(run_restarts(services, &context, asked.fields.restarts).await?)
    }
}
