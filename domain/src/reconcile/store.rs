//! Plans in PostgreSQL: made from the desired state of each node, filled in by a job that reads
//! the nodes, shown, confirmed (the apply job: `apply.rs`), cancelled.
//!
//! A feature hands the engine its subject ([`Subject`]: which item kinds its plans drive, its
//! versions), the version of its desired state and each node's desired [`States`].

use super::nodes::stored;
use super::subject::Subject;
use super::{PlanState, States};
use crate::audit::store::record;
use crate::auth::principal::{OnBehalf, RequestContext};
use crate::jobs::Kind;
use crate::{Error, Services};
use sqlx::{PgConnection, PgPool};

pub use super::nodes::CONCURRENCY;
pub use super::refused::PlanRefused;
pub use super::show::view;

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
    subject: &dyn Subject,
    subject_id: i64,
    version: i32,
    nodes: &[PlanNode],
) -> Result<i64, Error> {
    sqlx::query!(
        "update plan set state = 'superseded', finished_at = now()
         where subject = $1 and subject_id = $2 and state in ('reading', 'ready')",
        subject.name(),
        subject_id
    )
    .execute(&mut *tx)
    .await?;
    let id = insert(tx, context, subject, subject_id, version, nodes).await?;
    queue::<super::jobs::PlanRead>(tx, context, id).await?;
    Ok(id)
}

/// Makes a plan that is confirmed as it is made (the admin asked for exactly this change: a
/// certificate to import) and sees it through on the job queue like every other plan (read,
/// planned, applied, verified; taken over if a replica dies, cancellable, never lost if the
/// caller goes away), waiting up to `wait` for it. Returns the plan's id; its nodes say how it
/// went (still at work when the wait ran out). Such plans of one subject and id run one at a
/// time: another one still at work is refused ([`PlanRefused::Busy`]).
pub async fn run_now(
    services: &Services,
    context: &RequestContext,
    subject: &dyn Subject,
    subject_id: i64,
    nodes: &[PlanNode],
    wait: std::time::Duration,
) -> Result<i64, Error> {
    context.require_admin()?;
    let mut tx = services.pool.begin().await?;
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended($1 || ':' || $2::bigint, 0))",
        subject.name(),
        subject_id
    )
    .execute(&mut *tx)
    .await?;
    let running = sqlx::query_scalar!(
        "select id from plan where subject = $1 and subject_id = $2 and state in ('reading', 'ready', 'applying') limit 1",
        subject.name(),
        subject_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(running) = running {
        return Err(PlanRefused::Busy(running).into());
    }
    let id = insert(&mut tx, context, subject, subject_id, 0, nodes).await?;
    let job_id = queue::<super::jobs::PlanRun>(&mut tx, context, id).await?;
    sqlx::query!(
        "update plan set confirmed_by = $2, confirmed_at = now(), job_id = $3 where id = $1",
        id,
        context.actor(),
        job_id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    crate::jobs::queue::wait(&services.pool, job_id, wait)
        .await
        .map_err(Error::internal)?;
    Ok(id)
}

/// Queues job `K` of plan `plan_id` for whoever asked (one job of a plan at a time): its id.
async fn queue<K: Kind<Payload = OnBehalf<super::jobs::OfPlan>>>(
    tx: &mut PgConnection,
    context: &RequestContext,
    plan_id: i64,
) -> Result<i64, Error> {
    let payload = context.on_behalf(super::jobs::OfPlan { plan_id });
    let job = K::job(payload, context.actor()).once_at_a_time(format!("plan:{plan_id}"));
    crate::jobs::enqueue(tx, &job)
        .await
        .map_err(Error::internal)
}

async fn insert(
    tx: &mut PgConnection,
    context: &RequestContext,
    subject: &dyn Subject,
    subject_id: i64,
    version: i32,
    nodes: &[PlanNode],
) -> Result<i64, Error> {
    let id = sqlx::query_scalar!(
        "insert into plan (subject, subject_id, subject_version, state, created_by) values ($1, $2, $3, 'reading', $4) returning id",
        subject.name(),
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
    Ok(id)
}

/// Confirms a ready plan (or resumes a failed or cancelled one): queues its apply job.
/// Refused when the desired state has a newer version than the plan was made from.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), plan_id))]
pub async fn apply(
    services: &Services,
    context: &RequestContext,
    plan_id: i64,
) -> Result<(), Error> {
    context.require_admin()?;
    let mut tx = services.pool.begin().await?;
    let plan = sqlx::query!(
        "select subject, subject_id, subject_version, state from plan where id = $1 for update",
        plan_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(PlanRefused::NoSuchPlan(plan_id))?;
    let state: PlanState = stored(&plan.state)?;
    if !state.can_apply() {
        return Err(PlanRefused::NotNow(state).into());
    }
    let latest = services
        .subjects
        .get(&plan.subject)?
        .latest_version(&mut tx, plan.subject_id)
        .await?;
    if latest != plan.subject_version {
        return Err(PlanRefused::VersionMoved {
            made_from: plan.subject_version,
            latest,
        }
        .into());
    }
    let plans = sqlx::query_scalar!(
        "select node_plan from plan_node where plan_id = $1 and node_plan is not null",
        plan_id
    )
    .fetch_all(&mut *tx)
    .await?;
    for stored_plan in plans.into_iter().flatten() {
        let node: super::NodePlan = serde_json::from_value(stored_plan).map_err(Error::internal)?;
        if node.steps.iter().any(|s| s.command.change().is_none()) {
            return Err(PlanRefused::Earlier.into());
        }
    }
    let job_id = queue::<super::jobs::PlanApply>(&mut tx, context, plan_id).await?;
    sqlx::query!(
        "update plan set state = 'applying', confirmed_by = $2, confirmed_at = now(), finished_at = null, job_id = $3 where id = $1",
        plan_id,
        context.actor(),
        job_id
    )
    .execute(&mut *tx)
    .await?;
    let resumed = state != PlanState::Ready;
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
    .ok_or(PlanRefused::NoSuchPlan(plan_id))?;
    let state: PlanState = stored(&plan.state)?;
    match (state, plan.job_id) {
        (PlanState::Applying, Some(job)) => {
            crate::jobs::queue::cancel(&mut tx, job)
                .await
                .map_err(Error::internal)?;
        }
        (PlanState::Reading | PlanState::Ready, job) => {
            // A plan confirmed as it was made (plan_run) has its job from the start: it stops
            // too, before it applies anything.
            if let Some(job) = job {
                crate::jobs::queue::cancel(&mut tx, job)
                    .await
                    .map_err(Error::internal)?;
            }
            sqlx::query!(
                "update plan set state = 'cancelled', finished_at = now() where id = $1",
                plan_id
            )
            .execute(&mut *tx)
            .await?;
        }
        (state, _) => return Err(PlanRefused::NothingToCancel(state).into()),
    }
    record(
        &mut tx,
        context.event("plan.cancel", format!("plan:{plan_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
