//! Reaching a node: what the appliance layer reads of it (address, port, the credentials and
//! the identity they are bound to, the pinned host key), why it may not be reached, and
//! [`with_node`], the one way an operation gets a node's driver: the identity checked first,
//! the host key pinned or flagged after, never by a read.

use super::*;
use crate::appliances::drivers::{node_row, NodeFailure, NodeRow, Purpose};

/// After a connection: pins the key on first use, records a changed one. Audited.
async fn observe(
    pool: &PgPool,
    context: &RequestContext,
    node_id: i64,
    node: &NodeRow,
    driver: &VosSsh,
    error: Option<&DriverError>,
) -> Result<(), Error> {
    let Some(seen) = driver.host_key() else {
        return Ok(());
    };
    let target = format!("node:{}", node.fqdn);
    if node.pin.is_none() {
        let mut tx = pool.begin().await?;
        let pinned = sqlx::query!(
            "insert into node_host_key (node_id, fingerprint, algorithm, public_key) values ($1, $2, $3, $4)
             on conflict (node_id) do nothing",
            node_id,
            seen.fingerprint,
            seen.algorithm,
            seen.openssh
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if pinned == 1 {
            record(
                &mut tx,
                context.event("node.host_key.pin", &target).detail(format!(
                    "pinned on first use, to be confirmed: {} {}",
                    seen.algorithm, seen.fingerprint
                )),
            )
            .await?;
        }
        tx.commit().await?;
    } else if let Some(DriverError::HostKeyChanged { presented, .. }) = error {
        let mut tx = pool.begin().await?;
        sqlx::query!(
            "update node_host_key set presented_fingerprint = $2, presented_algorithm = $3,
                    presented_public_key = $4, presented_at = now()
             where node_id = $1",
            node_id,
            presented,
            seen.algorithm,
            seen.openssh
        )
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            context
                .event("node.host_key.changed", &target)
                .outcome(Outcome::Denied)
                .detail(format!(
                    "the node presented {presented} instead of the pinned {}: operations blocked until an admin accepts it",
                    node.pin.as_deref().unwrap_or_default()
                )),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Runs `operation` with `node_id`'s driver for `purpose`: how the reconciliation engine and
/// the other areas reach a node. `Ok(Err(_))`: the node could not be reached or the
/// operation failed there.
pub async fn with_node<T, F>(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
    purpose: Purpose,
    operation: impl FnOnce(Arc<VosSsh>) -> F,
) -> Result<Result<T, NodeFailure>, Error>
where
    F: std::future::Future<Output = Result<T, DriverError>>,
{
    let node = node_row(&state.pool, node_id).await?;
    with_driver(state, context, node_id, &node, purpose, operation).await
}

/// Runs `operation` with the node's driver, unless its identity changed since the credentials
/// were bound (but for [`Purpose::Confirm`]) or a read finds no pinned key; pins or flags the
/// host key as seen, but for a read.
pub(super) async fn with_driver<T, F>(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
    node: &NodeRow,
    purpose: Purpose,
    operation: impl FnOnce(Arc<VosSsh>) -> F,
) -> Result<Result<T, NodeFailure>, Error>
where
    F: std::future::Future<Output = Result<T, DriverError>>,
{
    // A test may confirm a node at its new address only through a pinned host key: without one
    // the password would go to whatever answers there.
    match (purpose, node.identity_changed()) {
        (Purpose::Confirm, Some(NodeFailure::IdentityChanged { pinned: true, .. })) | (_, None) => {
        }
        (_, Some(changed)) => return Ok(Err(changed)),
    }
    if purpose == Purpose::Read && node.pin.is_none() && node.credentials.is_some() {
        return Ok(Err(NodeFailure::NotConfirmed));
    }
    let driver = match state.appliances.driver(node_id, node) {
        Ok(driver) => driver,
        Err(blocked) => return Ok(Err(blocked)),
    };
    let result = operation(driver.clone()).await;
    if purpose != Purpose::Read {
        observe(
            &state.pool,
            context,
            node_id,
            node,
            &driver,
            result.as_ref().err(),
        )
        .await?;
    }
    if matches!(
        result,
        Err(DriverError::HostKeyChanged { .. } | DriverError::Authentication)
    ) {
        state.appliances.forget(node_id);
    }
    Ok(result.map_err(NodeFailure::Driver))
}
