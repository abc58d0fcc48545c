//! A plan as the page and the REST API show it.

use super::nodes::stored;
use super::{NodePlan, PlanNodeView, PlanView, Remaining, StepState, StepView};
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::{Error, Services};

/// The plan as the page shows it.
pub async fn view(
    services: &Services,
    context: &RequestContext,
    plan_id: i64,
) -> Result<PlanView, Error> {
    context.require_reader()?;
    let pool = &services.pool;
    let plan = sqlx::query!(
        "select id, subject, subject_id, subject_version, state, created_by, created_at, confirmed_by, confirmed_at, finished_at
         from plan where id = $1",
        plan_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(super::refused::PlanRefused::NoSuchPlan(plan_id))?;
    let nodes = sqlx::query!(
        "select p.node_id, n.fqdn, n.kind, n.role, n.cluster_id, c.name as cluster, p.state, p.error, p.node_plan, p.remaining
         from plan_node p join node n on n.id = p.node_id join cluster c on c.id = n.cluster_id
         where p.plan_id = $1 order by c.name, p.position, n.fqdn",
        plan_id
    )
    .fetch_all(pool)
    .await?;
    let steps = sqlx::query!(
        "select node_id, position, state, output, error, started_at, finished_at from plan_step where plan_id = $1 order by node_id, position",
        plan_id
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(nodes.len());
    for node in nodes {
        let plan: NodePlan = match node.node_plan {
            Some(v) => serde_json::from_value(v).map_err(Error::internal)?,
            None => NodePlan::default(),
        };
        let remaining: Vec<Remaining> = match node.remaining {
            Some(v) => serde_json::from_value(v).map_err(Error::internal)?,
            None => Vec::new(),
        };
        let mut views = Vec::with_capacity(plan.steps.len());
        for (position, step) in plan.steps.iter().enumerate() {
            let ran = steps
                .iter()
                .find(|s| s.node_id == node.node_id && s.position == position as i32);
            views.push(StepView {
                position: position as i32,
                item: step.item.clone(),
                op: step.op.clone(),
                command: step.command.to_string(),
                state: match ran {
                    Some(step) => stored(&step.state)?,
                    None => StepState::Pending,
                },
                output: ran.and_then(|s| s.output.clone()),
                error: ran.and_then(|s| s.error.clone()),
                started_at: ran.and_then(|s| s.started_at).map(rfc3339),
                finished_at: ran.and_then(|s| s.finished_at).map(rfc3339),
            });
        }
        out.push(PlanNodeView {
            node_id: node.node_id,
            fqdn: node.fqdn,
            kind: node.kind,
            role: node.role,
            cluster_id: node.cluster_id,
            cluster: node.cluster,
            state: stored(&node.state)?,
            error: node.error,
            steps: views,
            skipped: plan.skipped,
            restarts: plan.restarts,
            remaining,
        });
    }
    let about = services
        .subjects
        .get(&plan.subject)?
        .about(plan.subject_id, out.first().map(|n| n.cluster_id));
    Ok(PlanView {
        about,
        id: plan.id,
        subject: plan.subject,
        subject_id: plan.subject_id,
        version: plan.subject_version,
        state: stored(&plan.state)?,
        created_by: plan.created_by,
        created_at: rfc3339(plan.created_at),
        confirmed_by: plan.confirmed_by,
        confirmed_at: plan.confirmed_at.map(rfc3339),
        finished_at: plan.finished_at.map(rfc3339),
        nodes: out,
    })
}
