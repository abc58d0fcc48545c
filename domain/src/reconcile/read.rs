//! The plan-read job: reads each node of a new plan and plans it.

use super::drive::{read_node, Drive};
use super::nodes::{rows, Row, CONCURRENCY};
use super::{plan_node, Item, NodeState};
use crate::auth::principal::RequestContext;
use crate::{Error, Services};
use futures::StreamExt;

/// The plan-read job: reads every node still `reading`, plans it, and makes the plan `ready`.
pub async fn run_read(
    services: &Services,
    context: &RequestContext,
    plan_id: i64,
) -> Result<(), Error> {
    let subject = sqlx::query_scalar!("select subject from plan where id = $1", plan_id)
        .fetch_one(&services.pool)
        .await?;
    let items = services.subjects.get(&subject)?.items();
    let pending: Vec<Row> = rows(&services.pool, plan_id)
        .await?
        .into_iter()
        .filter(|r| r.state == NodeState::Reading)
        .collect();
    let results: Vec<Result<(), Error>> = futures::stream::iter(pending)
        .map(|row| read_one(services, context, items, plan_id, row))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect::<Result<(), Error>>()?;
    sqlx::query!(
        "update plan set state = 'ready' where id = $1 and state = 'reading'",
        plan_id
    )
    .execute(&services.pool)
    .await?;
    Ok(())
}

async fn read_one(
    services: &Services,
    context: &RequestContext,
    items: &'static [&'static dyn Drive],
    plan_id: i64,
    row: Row,
) -> Result<(), Error> {
    let desired = row.desired.clone();
    let kind = row.kind;
    let read = crate::appliances::store::with_node(
        services,
        context,
        row.node_id,
        crate::appliances::store::Purpose::Change,
        |driver| async move {
            read_node(items, &*driver, kind, &desired)
                .await
                .map_err(|(item, e)| {
                    vos::driver::DriverError::Session(format!("reading {item}: {e}"))
                })
        },
    )
    .await?;
    match read {
        Ok(observed) => {
            let all: Vec<&dyn Item> = items.iter().map(|i| *i as &dyn Item).collect();
            let plan = match plan_node(&all, row.kind, &observed, &row.desired) {
                Ok(plan) => plan,
                Err(refused) => {
                    let why = format!("this node cannot be planned: {refused}");
                    sqlx::query!(
                        "update plan_node set state = 'failed', observed = $3, error = $4, updated_at = now() where plan_id = $1 and node_id = $2",
                        plan_id,
                        row.node_id,
                        serde_json::to_value(&observed).map_err(Error::internal)?,
                        why
                    )
                    .execute(&services.pool)
                    .await?;
                    return Ok(());
                }
            };
            let state = if plan.is_empty() {
                NodeState::InSync
            } else {
                NodeState::Planned
            };
            let mut tx = services.pool.begin().await?;
            sqlx::query!(
                "update plan_node set state = $3, observed = $4, node_plan = $5, error = null, updated_at = now()
                 where plan_id = $1 and node_id = $2",
                plan_id,
                row.node_id,
                state.as_str(),
                serde_json::to_value(&observed).map_err(Error::internal)?,
                serde_json::to_value(&plan).map_err(Error::internal)?
            )
            .execute(&mut *tx)
            .await?;
            for (position, _) in plan.steps.iter().enumerate() {
                sqlx::query!(
                    "insert into plan_step (plan_id, node_id, position) values ($1, $2, $3) on conflict do nothing",
                    plan_id,
                    row.node_id,
                    position as i32
                )
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        Err(failure) => {
            sqlx::query!(
                "update plan_node set state = 'unreachable', error = $3, updated_at = now() where plan_id = $1 and node_id = $2",
                plan_id,
                row.node_id,
                failure.to_string()
            )
            .execute(&services.pool)
            .await?;
        }
    }
    Ok(())
}
