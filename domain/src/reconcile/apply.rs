//! The apply job: runs a confirmed plan node by node (each cluster's primary first, clusters
//! side by side up to [`super::nodes::CONCURRENCY`]), then reads each node again and compares
//! it with its desired state. Only verified nodes count as applied.
//!
//! Per node: read it and compare with what the plan read plus the steps already done (a
//! resumed plan continues where it stopped; a step whose connection dropped may or may not have
//! taken effect, and the read tells which); a node that is otherwise not as expected has
//! `changed` and waits for a new plan. Then each step in order, the cancel flag looked at before
//! each; a step the node refuses fails the node with the node's words. The restarts the done
//! steps ask for are recorded as pending.

use super::drive::{after, differences, read_node, Drive};
use super::nodes::{rows, stored, Row, CONCURRENCY};
use super::subject::Subject;
use super::{Item, NodeState, PlanState, Remaining, States, StepState};
use crate::audit::store::{record_alone, Outcome};
use crate::auth::principal::RequestContext;
use crate::{Error, Services};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use vos::driver::Driver;

/// How one node's apply ended.
enum Ended {
    Verified,
    Failed(String, Vec<Remaining>),
    Changed(String, Vec<Remaining>),
    Cancelled,
}

/// Applies plan `plan_id`'s nodes. `just_read`: the nodes were read for this plan moments ago
/// by the same job (a plan confirmed as it was made), so a node where nothing ran yet is not
/// read again before its first step.
pub async fn run_apply(
    services: &Services,
    cancel: Arc<AtomicBool>,
    context: &RequestContext,
    plan_id: i64,
    just_read: bool,
) -> Result<(), Error> {
    let plan = sqlx::query!(
        "select subject, subject_id from plan where id = $1",
        plan_id
    )
    .fetch_one(&services.pool)
    .await?;
    let subject = services.subjects.get(&plan.subject)?;
    let subject_id = plan.subject_id;
    let mut clusters: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
    for row in rows(&services.pool, plan_id).await? {
        // A node that could not be planned keeps its reason (it has nothing to run).
        if row.state.to_apply() && row.plan.is_some() {
            clusters.entry(row.cluster_id).or_default().push(row);
        }
    }
    let results: Vec<Result<(), Error>> = futures::stream::iter(clusters.into_values())
        .map(|nodes| {
            let cancel = cancel.clone();
            async move {
                for row in nodes {
                    let of = (subject, subject_id);
                    apply_node(services, context, of, plan_id, row, &cancel, just_read).await?;
                }
                Ok(())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect::<Result<(), Error>>()?;
    let states: Vec<NodeState> =
        sqlx::query_scalar!("select state from plan_node where plan_id = $1", plan_id)
            .fetch_all(&services.pool)
            .await?
            .iter()
            .map(|s| stored(s))
            .collect::<Result<_, _>>()?;
    let end = if states.contains(&NodeState::Cancelled) {
        PlanState::Cancelled
    } else if states
        .iter()
        .all(|s| matches!(s, NodeState::Verified | NodeState::InSync))
    {
        PlanState::Applied
    } else {
        PlanState::Failed
    };
    sqlx::query!(
        "update plan set state = $2, finished_at = now() where id = $1",
        plan_id,
        end.as_str()
    )
    .execute(&services.pool)
    .await?;
    if end != PlanState::Cancelled {
        if let Err(error) = subject.applied(&services.pool, context, subject_id).await {
            tracing::warn!(plan_id, error = %error, "after the plan was applied");
        }
    }
    Ok(())
}

async fn set_node(
    services: &Services,
    plan_id: i64,
    node_id: i64,
    state: NodeState,
    error: Option<&str>,
    remaining: Option<&[Remaining]>,
) -> Result<(), Error> {
    let remaining = remaining
        .map(serde_json::to_value)
        .transpose()
        .map_err(Error::internal)?;
    sqlx::query!(
        "update plan_node set state = $3, error = $4, remaining = $5, updated_at = now() where plan_id = $1 and node_id = $2",
        plan_id,
        node_id,
        state.as_str(),
        error,
        remaining
    )
    .execute(&services.pool)
    .await?;
    Ok(())
}

async fn apply_node(
    services: &Services,
    context: &RequestContext,
    (subject, subject_id): (&'static dyn Subject, i64),
    plan_id: i64,
    row: Row,
    cancel: &Arc<AtomicBool>,
    just_read: bool,
) -> Result<(), Error> {
    let items = subject.items();
    if cancel.load(Ordering::Relaxed) {
        return set_node(
            services,
            plan_id,
            row.node_id,
            NodeState::Cancelled,
            None,
            None,
        )
        .await;
    }
    set_node(
        services,
        plan_id,
        row.node_id,
        NodeState::Applying,
        None,
        None,
    )
    .await?;
    let steps = row.plan.clone().unwrap_or_default().steps;
    let done: Vec<(i32, StepState)> = sqlx::query!(
        "select position, state from plan_step where plan_id = $1 and node_id = $2 order by position",
        plan_id,
        row.node_id
    )
    .fetch_all(&services.pool)
    .await?
    .into_iter()
    .map(|r| Ok((r.position, stored::<StepState>(&r.state)?)))
    .collect::<Result<_, Error>>()?;
    let pool = services.pool.clone();
    let node_id = row.node_id;
    let kind = row.kind;
    let observed = row.observed.clone().unwrap_or_default();
    let desired = row.desired.clone();
    let cancel = cancel.clone();
    let outcome = crate::appliances::store::with_node(services, context, node_id, crate::appliances::store::Purpose::Change, |driver| async move {
        let ran = done.iter().take_while(|(_, s)| *s == StepState::Done).count();
        let untouched = done.iter().all(|(_, s)| *s == StepState::Pending);
        let now = if just_read && untouched {
            observed.clone()
        } else {
            read_node(items, &*driver, kind, &desired).await.map_err(|(_, e)| e)?
        };
        let expected = after(items, kind, &observed, &steps[..ran]);
        let mut first = ran;
        if !differences(items, kind, &expected, &now).is_empty() {
            // A step cut off mid-command may have taken effect before the connection dropped.
            let with_next = after(items, kind, &observed, &steps[..(ran + 1).min(steps.len())]);
            let interrupted = done.get(ran).is_some_and(|(_, s)| matches!(s, StepState::Running | StepState::Failed));
            if interrupted && differences(items, kind, &with_next, &now).is_empty() {
                mark(&pool, plan_id, node_id, ran as i32, StepState::Done, None, Some("(no answer: the connection dropped; the node shows the change, so it took effect)")).await?;
                first = ran + 1;
            } else {
                return Ok(Ended::Changed(
                    "the node is not as the plan read it (changed by hand or by another change since): make a new plan".into(),
                    remaining_of(items, kind, &expected, &now),
                ));
            }
        }
        for (position, step) in steps.iter().enumerate().skip(first) {
            if cancel.load(Ordering::Relaxed) {
                for rest in position..steps.len() {
                    mark(&pool, plan_id, node_id, rest as i32, StepState::Cancelled, None, None).await?;
                }
                return Ok(Ended::Cancelled);
            }
            mark(&pool, plan_id, node_id, position as i32, StepState::Running, None, None).await?;
            let ran = match step.command.change() {
                Some(change) => driver.apply(change).await,
                None => Err(vos::driver::DriverError::Unsupported(
                    "running a step an earlier version of Gatehouse planned: make a new plan",
                )),
            };
            match ran {
                Ok(changed) => {
                    mark(&pool, plan_id, node_id, position as i32, StepState::Done, None, Some(&changed.output)).await?;
                }
                Err(error) => {
                    let output = error.partial().map(str::to_owned).or_else(|| match &error {
                        vos::driver::DriverError::Output(vos::Error::Rejected { message, .. }) => Some(message.clone()),
                        _ => None,
                    });
                    let message = error.to_string();
                    mark(&pool, plan_id, node_id, position as i32, StepState::Failed, Some(&message), output.as_deref()).await?;
                    // Read again for what is left; when the node cannot be read, the plan's
                    // remaining steps say it.
                    let now = match read_node(items, &*driver, kind, &desired).await {
                        Ok(now) => now,
                        Err(_) => after(items, kind, &observed, &steps[..position]),
                    };
                    return Ok(Ended::Failed(
                        format!("{}: {message}", step.command),
                        remaining_of(items, kind, &desired, &now),
                    ));
                }
            }
        }
        let now = read_node(items, &*driver, kind, &desired).await.map_err(|(_, e)| e)?;
        let left = remaining_of(items, kind, &desired, &now);
        Ok(if left.is_empty() {
            Ended::Verified
        } else {
            Ended::Failed("the node does not show the desired state after the plan ran".into(), left)
        })
    })
    .await;
    let ended = match outcome? {
        Ok(ended) => ended,
        Err(failure) => {
            let done = after(
                items,
                row.kind,
                row.observed.as_ref().unwrap_or(&States::new()),
                &[],
            );
            Ended::Failed(
                failure.to_string(),
                remaining_of(items, row.kind, &row.desired, &done),
            )
        }
    };
    after_steps(services, context, plan_id, &row, items).await?;
    let (state, error, left, outcome) = match &ended {
        Ended::Verified => (NodeState::Verified, None, None, Outcome::Success),
        Ended::Failed(why, left) => (
            NodeState::Failed,
            Some(why.as_str()),
            Some(left.as_slice()),
            Outcome::Failure,
        ),
        Ended::Changed(why, left) => (
            NodeState::Changed,
            Some(why.as_str()),
            Some(left.as_slice()),
            Outcome::Failure,
        ),
        Ended::Cancelled => (NodeState::Cancelled, None, None, Outcome::Failure),
    };
    set_node(services, plan_id, row.node_id, state, error, left).await?;
    if matches!(ended, Ended::Verified) {
        // Read and found as desired: whatever drift it had is resolved.
        super::drift::record(
            &services.pool,
            subject,
            subject_id,
            row.node_id,
            Ok(Vec::new()),
        )
        .await?;
    }
    let detail = format!(
        "plan {plan_id}: {state}{}",
        error.map(|e| format!(": {e}")).unwrap_or_default()
    );
    record_alone(
        &services.pool,
        context
            .event("plan.node", format!("node:{}", row.fqdn))
            .outcome(outcome)
            .detail(detail),
    )
    .await?;
    Ok(())
}

fn remaining_of(
    items: &[&dyn Drive],
    kind: crate::inventory::model::NodeKind,
    expected: &States,
    observed: &States,
) -> Vec<Remaining> {
    differences(items, kind, expected, observed)
        .into_iter()
        .map(|(item, expected, actual)| Remaining {
            item,
            expected,
            actual,
        })
        .collect()
}

/// Records a step's state (and its output and error once it ends), audited when it ends.
async fn mark(
    pool: &sqlx::PgPool,
    plan_id: i64,
    node_id: i64,
    position: i32,
    state: StepState,
    error: Option<&str>,
    output: Option<&str>,
) -> Result<(), vos::driver::DriverError> {
    sqlx::query!(
        "update plan_step set state = $4, error = case when $4 = 'done' then $5 else coalesce($5, error) end,
                output = coalesce($6, output),
                started_at = case when $4 = 'running' then now() else started_at end,
                finished_at = case when $4 in ('done', 'failed', 'cancelled') then now() else finished_at end
         where plan_id = $1 and node_id = $2 and position = $3",
        plan_id,
        node_id,
        position,
        state.as_str(),
        error,
        output
    )
    .execute(pool)
    .await
    .map(drop)
    .map_err(|e| vos::driver::DriverError::Session(format!("recording the step: {e}")))
}

/// The restarts the node's done steps ask for, kept as pending until someone restarts them;
/// a read of its stores when one imported a certificate (what its page lists is stale).
async fn after_steps(
    services: &Services,
    context: &RequestContext,
    plan_id: i64,
    row: &Row,
    items: &[&dyn Drive],
) -> Result<(), Error> {
    let Some(plan) = &row.plan else { return Ok(()) };
    let done: Vec<i32> = sqlx::query_scalar!(
        "select position from plan_step where plan_id = $1 and node_id = $2 and state = 'done'",
        plan_id,
        row.node_id
    )
    .fetch_all(&services.pool)
    .await?;
    let mut services_to_restart: Vec<&str> = Vec::new();
    let mut imported = false;
    for position in done {
        let Some(step) = plan.steps.get(position as usize) else {
            continue;
        };
        imported |= matches!(step.op, super::Op::Import { .. });
        if let Some(item) = items.iter().find(|i| i.key() == step.item) {
            for service in (*item as &dyn Item).restarts(row.kind) {
                if !services_to_restart.contains(service) {
                    services_to_restart.push(service);
                }
            }
        }
    }
    for service in services_to_restart {
        sqlx::query!(
            "insert into restart_pending (node_id, service) values ($1, $2) on conflict do nothing",
            row.node_id,
            service
        )
        .execute(&services.pool)
        .await?;
    }
    if imported {
        let read = crate::appliances::store::queue_store_read(&services.pool, context, row.node_id);
        if let Err(error) = read.await {
            tracing::warn!(plan_id, error = %error, "queueing a read of the node's stores");
        }
    }
    Ok(())
}
