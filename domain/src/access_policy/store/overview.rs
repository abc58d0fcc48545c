//! What the access-policy pages show besides the policy: every cluster's standing, the
//! latest plan of a policy, and restoring an old version as a new one.

use super::{save, version};
use crate::access_policy::{ClusterStanding, PolicyView, Save};
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::Error;
use sqlx::PgPool;

/// Every cluster with its policy version, its latest plan, its drift and pending restarts.
pub async fn overview(
    pool: &PgPool,
    context: &RequestContext,
) -> Result<Vec<ClusterStanding>, Error> {
    context.require_reader()?;
    let rows = sqlx::query!(
        r#"select c.id, c.name,
                  (select count(*) from node n where n.cluster_id = c.id and n.kind in ('finesse', 'cuic', 'livedata', 'ids')) as "nodes!",
                  (select max(v.version) from access_policy_version v where v.policy_id = a.policy_id) as version,
                  (select count(*) from drift d join node n on n.id = d.node_id where n.cluster_id = c.id and d.subject = 'access_policy') as "drift!",
                  (select count(*) from restart_pending r join node n on n.id = r.node_id where n.cluster_id = c.id) as "restarts!",
                  array(select o.name from access_policy_cluster s join cluster o on o.id = s.cluster_id
                        where s.policy_id = a.policy_id and s.cluster_id <> c.id order by o.name) as "shared_with!",
                  p.id as "plan_id?", p.state as "plan_state?", p.created_at as "plan_at?"
           from cluster c
           left join access_policy_cluster a on a.cluster_id = c.id
           left join lateral (select id, state, created_at from plan
                              where subject = 'access_policy' and subject_id = a.policy_id
                              order by id desc limit 1) p on true
           order by c.name"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ClusterStanding {
            cluster_id: r.id,
            cluster: r.name,
            nodes: r.nodes,
            version: r.version.unwrap_or(0),
            drift: r.drift,
            restarts: r.restarts,
            shared_with: r.shared_with,
            plan_id: r.plan_id,
            plan_state: r.plan_state.and_then(|s| s.parse().ok()),
            plan_at: r.plan_at.map(rfc3339),
        })
        .collect())
}

/// Saves an earlier version's policy as the next version.
pub async fn restore(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
    from: i32,
    base_version: i32,
) -> Result<PolicyView, Error> {
    let policy = version(pool, context, cluster_id, from).await?;
    let next = Save {
        policy,
        base_version: Some(base_version),
        reason: format!("restored version {from}"),
    };
    save(pool, context, cluster_id, next).await
}
