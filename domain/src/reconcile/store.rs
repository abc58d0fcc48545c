//! Plans in PostgreSQL: made from the desired state of each node, filled in by a job that reads
//! the nodes, shown, confirmed (the apply job: `apply.rs`), cancelled.
//!
//! A feature hands the engine its subject name, the version of its desired state and each
//! node's desired [`States`]; [`items`] says which item kinds the subject's plans drive.

use super::drive::Drive;
use super::{NodePlan, States};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::inventory::model::NodeKind;
use crate::jobs::{kinds, NewJob};
use crate::Error;
use sqlx::{PgConnection, PgPool};

/// Nodes read or applied at once across clusters (each also bound by the SSH limits).
pub const CONCURRENCY: usize = 8;

pub use super::apply::run_apply;
pub use super::read::run_read;
pub use super::show::view;

/// The item kinds a subject's plans drive, in planning order.
pub fn items(subject: &str) -> Result<&'static [&'static dyn Drive], Error> {
    match subject {
        "access_policy" => Ok(&crate::access_policy::drive::DRIVEN),
        "proxy_map" => Ok(&crate::proxy_maps::drive::DRIVEN),
        other => Err(Error::internal(anyhow::anyhow!(
            "no item kinds for plans of {other}"
        ))),
    }
}

/// The newest version of a subject's desired state (a plan made from an older one is stale).
async fn latest_version(
    connection: &mut PgConnection,
    subject: &str,
    subject_id: i64,
) -> Result<i32, Error> {
    match subject {
        "access_policy" => Ok(sqlx::query_scalar!(
            "select coalesce(max(version), 0) as \"v!\" from access_policy_version where policy_id = $1",
            subject_id
        )
        .fetch_one(&mut *connection)
        .await?),
        "proxy_map" => Ok(sqlx::query_scalar!(
            "select rollout_version from proxy_map where id = $1",
            subject_id
        )
        .fetch_optional(&mut *connection)
        .await?
        .unwrap_or(-1)),
        other => Err(Error::internal(anyhow::anyhow!("no versions for plans of {other}"))),
    }
}

/// One node to plan: its id and desired state. Nodes are applied cluster by cluster, the
/// primary (publisher, side A) first.
pub struct PlanNode {
    pub node_id: i64,
    pub desired: States,
}

/// Makes a plan of `nodes` (state `reading`), supersedes the subject's earlier plans still
/// waiting for a confirmation, and queues the job that reads the nodes. Returns its id.
pub async fn create(
    tx: &mut PgConnection,
    context: &RequestContext,
    subject: &str,
    subject_id: i64,
    version: i32,
    nodes: &[PlanNode],
) -> Result<i64, Error> {
    sqlx::query!(
        "update plan set state = 'superseded', finished_at = now()
         where subject = $1 and subject_id = $2 and state in ('reading', 'ready')",
        subject,
        subject_id
    )
    .execute(&mut *tx)
    .await?;
    let id = sqlx::query_scalar!(
        "insert into plan (subject, subject_id, subject_version, state, created_by) values ($1, $2, $3, 'reading', $4) returning id",
        subject,
        subject_id,
        version,
        context.actor()
    )
    .fetch_one(&mut *tx)
    .await?;
    for node in nodes {
        let desired = serde_json::to_value(&node.desired).map_err(Error::internal)?;
        sqlx::query!(
            "insert into plan_node (plan_id, node_id, position, state, desired)
             select $1, n.id,
                    case n.role when 'primary' then 0 when 'side_a' then 0 when 'secondary' then 1 when 'side_b' then 1 else 2 end,
                    'reading', $3
             from node n where n.id = $2",
            id,
            node.node_id,
            desired
        )
        .execute(&mut *tx)
        .await?;
    }
    let payload = context.job_payload(serde_json::json!({ "plan_id": id }));
    let job = NewJob::new(kinds::PLAN_READ, payload, context.actor())
        .once_at_a_time(format!("plan:{id}"));
    crate::jobs::enqueue(tx, &job)
        .await
        .map_err(Error::internal)?;
    Ok(id)
}

/// A node of a plan as its jobs need it.
pub(super) struct Row {
    pub node_id: i64,
    pub fqdn: String,
    pub kind: NodeKind,
    pub cluster_id: i64,
    pub state: String,
    pub observed: Option<States>,
    pub desired: States,
    pub plan: Option<NodePlan>,
}

pub(super) async fn rows(pool: &PgPool, plan_id: i64) -> Result<Vec<Row>, Error> {
    let rows = sqlx::query!(
        "select p.node_id, n.fqdn, n.kind, n.cluster_id, p.state, p.observed, p.desired, p.node_plan
         from plan_node p join node n on n.id = p.node_id
         where p.plan_id = $1 order by n.cluster_id, p.position, n.fqdn",
        plan_id
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            fn json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, Error> {
                serde_json::from_value(v).map_err(Error::internal)
            }
            Ok(Row {
                node_id: r.node_id,
                fqdn: r.fqdn,
                kind: NodeKind::parse(&r.kind).map_err(|e| Error::internal(anyhow::anyhow!(e)))?,
                cluster_id: r.cluster_id,
                state: r.state,
                observed: r.observed.map(json).transpose()?,
                desired: json(r.desired)?,
                plan: r.node_plan.map(json).transpose()?,
            })
        })
        .collect()
}

/// Confirms a ready plan (or resumes a failed or cancelled one): queues its apply job.
/// Refused when the desired state has a newer version than the plan was made from.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), plan_id))]
pub async fn apply(pool: &PgPool, context: &RequestContext, plan_id: i64) -> Result<(), Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let plan = sqlx::query!(
        "select subject, subject_id, subject_version, state from plan where id = $1 for update",
        plan_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::NotFound(format!("no plan with id {plan_id}")))?;
    match plan.state.as_str() {
        "ready" | "failed" | "cancelled" => {}
        "reading" => {
            return Err(Error::Conflict(
                "the nodes are still being read; apply once the plan is ready".into(),
            ))
        }
        "applying" => return Err(Error::Conflict("this plan is already being applied".into())),
        "applied" => {
            return Err(Error::Conflict(
                "this plan was applied; make a new plan for further changes".into(),
            ))
        }
        _ => {
            return Err(Error::Conflict(
                "this plan was superseded by a newer one; apply that one".into(),
            ))
        }
    }
    let latest = latest_version(&mut tx, &plan.subject, plan.subject_id).await?;
    if latest != plan.subject_version {
        return Err(Error::Conflict(format!(
            "the plan was made from version {} but version {latest} is in force now: make a new plan",
            plan.subject_version
        )));
    }
    let payload = context.job_payload(serde_json::json!({ "plan_id": plan_id }));
    let job = NewJob::new(kinds::PLAN_APPLY, payload, context.actor())
        .once_at_a_time(format!("plan:{plan_id}"));
    let job_id = crate::jobs::enqueue(&mut tx, &job)
        .await
        .map_err(Error::internal)?;
    sqlx::query!(
        "update plan set state = 'applying', confirmed_by = $2, confirmed_at = now(), finished_at = null, job_id = $3 where id = $1",
        plan_id,
        context.actor(),
        job_id
    )
    .execute(&mut *tx)
    .await?;
    let resumed = plan.state != "ready";
    let detail = format!(
        "{} plan {plan_id} of {} {} version {}",
        if resumed { "resumed" } else { "confirmed" },
        plan.subject,
        plan.subject_id,
        plan.subject_version
    );
    record(
        &mut tx,
        context
            .event("plan.apply", format!("plan:{plan_id}"))
            .detail(detail),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Stops a plan: one not yet applied is cancelled at once; one being applied stops after the
/// command that is running.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), plan_id))]
pub async fn cancel(pool: &PgPool, context: &RequestContext, plan_id: i64) -> Result<(), Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let plan = sqlx::query!(
        "select state, job_id from plan where id = $1 for update",
        plan_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::NotFound(format!("no plan with id {plan_id}")))?;
    match (plan.state.as_str(), plan.job_id) {
        ("applying", Some(job)) => {
            crate::jobs::queue::cancel(&mut tx, job)
                .await
                .map_err(Error::internal)?;
        }
        ("reading" | "ready", _) => {
            sqlx::query!(
                "update plan set state = 'cancelled', finished_at = now() where id = $1",
                plan_id
            )
            .execute(&mut *tx)
            .await?;
        }
        (state, _) => {
            return Err(Error::Conflict(format!(
                "the plan is {state}: nothing to cancel"
            )))
        }
    }
    record(
        &mut tx,
        context.event("plan.cancel", format!("plan:{plan_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A plan's job ended other than done (`failed`, `cancelled`, `interrupted`): the plan and its
/// unfinished nodes say so.
pub async fn ended(pool: &PgPool, plan_id: i64, job_state: &str) -> Result<(), Error> {
    let (plan_state, why) = match job_state {
        "cancelled" => ("cancelled", "cancelled"),
        _ => (
            "failed",
            "the job running this plan stopped before it finished; apply again to resume",
        ),
    };
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update plan_node set state = case state when 'reading' then 'unreachable' else $2 end, error = $3, updated_at = now()
         where plan_id = $1 and state in ('reading', 'applying', 'verifying')",
        plan_id,
        plan_state,
        why
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update plan set state = $2, finished_at = now() where id = $1 and state in ('reading', 'applying')",
        plan_id,
        plan_state
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
