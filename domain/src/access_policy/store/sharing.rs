//! Clusters behind one proxy pair share one policy: a cluster follows another's policy, or
//! leaves a shared policy with a copy of its own.
//!
//! Either change saves a new version of every policy it touches (same document, the reason
//! saying who joined or left): plans made before it were for other nodes, and the version check
//! of `apply` refuses them; the history shows when the group changed and who changed it.

use super::{cluster_exists, current, insert_version, view, Current};
use crate::access_policy::PolicyView;
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::Error;
use sqlx::{PgConnection, PgPool};

/// `cluster_id` follows the policy of `leader_id` from now on (its own policy, if it had one,
/// stays in the history of the clusters that keep it).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id, leader_id))]
pub async fn follow(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
    leader_id: i64,
) -> Result<PolicyView, Error> {
    context.require_admin()?;
    if cluster_id == leader_id {
        return Err(crate::access_policy::Refused::FollowsItself.into());
    }
    let mut tx = pool.begin().await?;
    cluster_exists(&mut tx, cluster_id).await?;
    cluster_exists(&mut tx, leader_id).await?;
    let leader = current(&mut tx, leader_id, true)
        .await?
        .ok_or(crate::access_policy::Refused::NoPolicyToFollow(leader_id))?;
    let own = current(&mut tx, cluster_id, true).await?;
    if own.as_ref().map(|c| c.policy_id) == Some(leader.policy_id) {
        let unchanged = view(&mut tx, cluster_id).await?;
        tx.commit().await?;
        return Ok(unchanged);
    }
    let (name, leader_name) = (
        name(&mut tx, cluster_id).await?,
        name(&mut tx, leader_id).await?,
    );
    sqlx::query!(
        "insert into access_policy_cluster (cluster_id, policy_id) values ($1, $2)
         on conflict (cluster_id) do update set policy_id = excluded.policy_id",
        cluster_id,
        leader.policy_id
    )
    .execute(&mut *tx)
    .await?;
    if let Some(own) = own {
        let reason = format!("{name} left to follow the policy of {leader_name}");
        bump(&mut tx, context, &own, &reason).await?;
    }
    let reason = format!("{name} follows this policy");
    bump(&mut tx, context, &leader, &reason).await?;
    record(
        &mut tx,
        context
            .event("access_policy.follow", format!("cluster:{cluster_id}"))
            .detail(format!("{name} follows the policy of {leader_name}")),
    )
    .await?;
    let followed = view(&mut tx, cluster_id).await?;
    tx.commit().await?;
    Ok(followed)
}

/// `cluster_id` stops sharing its policy: it gets a policy of its own, a copy of the shared
/// one (version 1), which changes only when it is saved there.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn leave(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<PolicyView, Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    cluster_exists(&mut tx, cluster_id).await?;
    let shared = current(&mut tx, cluster_id, true)
        .await?
        .ok_or(crate::access_policy::Refused::NoPolicyToLeave)?;
    let members = sqlx::query_scalar!(
        "select count(*) as \"n!\" from access_policy_cluster where policy_id = $1",
        shared.policy_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if members < 2 {
        return Err(crate::access_policy::Refused::NotShared.into());
    }
    let name = name(&mut tx, cluster_id).await?;
    let own = sqlx::query_scalar!("insert into access_policy default values returning id")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query!(
        "update access_policy_cluster set policy_id = $2 where cluster_id = $1",
        cluster_id,
        own
    )
    .execute(&mut *tx)
    .await?;
    let copy = Current {
        policy_id: own,
        version: 0,
        document: shared.document.clone(),
    };
    bump(&mut tx, context, &copy, "copied from the policy it shared").await?;
    bump(
        &mut tx,
        context,
        &shared,
        &format!("{name} left with a copy"),
    )
    .await?;
    record(
        &mut tx,
        context
            .event("access_policy.leave", format!("cluster:{cluster_id}"))
            .detail(format!("{name} left its shared policy with a copy")),
    )
    .await?;
    let left = view(&mut tx, cluster_id).await?;
    tx.commit().await?;
    Ok(left)
}

async fn name(connection: &mut PgConnection, cluster_id: i64) -> Result<String, Error> {
    Ok(
        sqlx::query_scalar!("select name from cluster where id = $1", cluster_id)
            .fetch_one(&mut *connection)
            .await?,
    )
}

/// Saves `policy`'s document unchanged as its next version, for `reason`.
async fn bump(
    connection: &mut PgConnection,
    context: &RequestContext,
    policy: &Current,
    reason: &str,
) -> Result<(), Error> {
    let next = policy.version + 1;
    insert_version(
        connection,
        context,
        policy.policy_id,
        next,
        &policy.document,
        reason,
    )
    .await?;
    Ok(())
}
