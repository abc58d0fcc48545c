//! A plan for a cluster's access policy: every node of the clusters that follow it, with its
//! desired state, handed to the reconciliation engine.

use super::{cluster_exists, current};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::Error;
use sqlx::PgPool;

/// Makes a plan that brings every Finesse, IdS, CUIC and LiveData node of the clusters that
/// follow the cluster's policy to the version in force; the nodes are read by a job. Returns
/// the plan's id.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn plan(pool: &PgPool, context: &RequestContext, cluster_id: i64) -> Result<i64, Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    cluster_exists(&mut tx, cluster_id).await?;
    let current = current(&mut tx, cluster_id, true)
        .await?
        .ok_or(crate::access_policy::Refused::NoPolicy)?;
    let nodes = sqlx::query!(
        "select n.id, n.kind from node n join access_policy_cluster c on c.cluster_id = n.cluster_id
         where c.policy_id = $1 order by n.id",
        current.policy_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut planned = Vec::new();
    for node in nodes {
        let Ok(kind) = crate::inventory::model::NodeKind::parse(&node.kind) else {
            continue;
        };
        let desired = crate::access_policy::desired(&current.document, kind);
        if !desired.is_empty() {
            planned.push(crate::reconcile::store::PlanNode {
                node_id: node.id,
                desired,
            });
        }
    }
    if planned.is_empty() {
        return Err(crate::access_policy::Refused::NoNodes.into());
    }
    let id = crate::reconcile::store::create(
        &mut tx,
        context,
        &super::subject::AccessPolicy,
        current.policy_id,
        current.version,
        &planned,
    )
    .await?;
    let detail = format!(
        "plan {id} of the access policy version {} for {} nodes",
        current.version,
        planned.len()
    );
    record(
        &mut tx,
        context
            .event("plan.create", format!("cluster:{cluster_id}"))
            .detail(detail),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
