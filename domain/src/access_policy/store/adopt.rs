//! Adopting one node's state as the cluster's next policy version (drift that should stay).

use super::{current, save};
use crate::access_policy::drive::DRIVEN;
use crate::access_policy::{PolicyView, Save};
use crate::auth::principal::RequestContext;
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::read_node;
use crate::{Error, Services};

/// Reads `node_id` now and saves its state, taken into its cluster's policy, as the next
/// version (checked as any save is). Apply it to bring the other nodes along.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id))]
pub async fn adopt(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<PolicyView, Error> {
    context.require_admin()?;
    let node = sqlx::query!(
        "select fqdn, kind, cluster_id from node where id = $1",
        node_id
    )
    .fetch_optional(&services.pool)
    .await?
    .ok_or(crate::inventory::Refused::NoSuchNode(node_id))?;
    let kind = NodeKind::parse(&node.kind).map_err(Error::Unreadable)?;
    let mut connection = services.pool.acquire().await?;
    let policy = current(&mut connection, node.cluster_id, false)
        .await?
        .ok_or(crate::access_policy::Refused::NoPolicyToAdopt)?;
    drop(connection);
    let desired = crate::access_policy::desired(&policy.document, kind);
    if desired.is_empty() {
        return Err(crate::access_policy::Refused::NotUnderPolicy(node.fqdn).into());
    }
    let read = crate::appliances::store::with_node(
        services,
        context,
        node_id,
        crate::appliances::store::Purpose::Change,
        |driver| async move {
            read_node(&DRIVEN, &*driver, kind, &desired)
                .await
                .map_err(|(_, e)| e)
        },
    )
    .await?
    .map_err(|failure| crate::access_policy::Refused::ReadFailed {
        fqdn: node.fqdn.clone(),
        why: failure.to_string(),
    })?;
    let adopted = crate::access_policy::adopt(&policy.document, &node.fqdn, kind, &read);
    let reason = format!("adopted from {}", node.fqdn);
    let next = Save {
        policy: adopted,
        base_version: Some(policy.version),
        reason,
    };
    save(&services.pool, context, node.cluster_id, next).await
}
