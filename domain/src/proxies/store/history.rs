//! A pair's plans as the pages and the REST API read them, and the sweep that keeps their
//! number (and the configuration versions') bounded.

use super::super::{ProxyPlan, Refused};
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::Error;
use sqlx::PgPool;

/// Plan `id`.
pub async fn proxy_plan(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
) -> Result<ProxyPlan, Error> {
    context.require_reader()?;
    rows(pool, None, Some(id), 1)
        .await?
        .pop()
        .ok_or_else(|| Refused::NoSuchPlan(id).into())
}

/// Pair `pair_id`'s newest plans (at most 20), newest first.
pub async fn plans(
    pool: &PgPool,
    context: &RequestContext,
    pair_id: i64,
) -> Result<Vec<ProxyPlan>, Error> {
    context.require_reader()?;
    rows(pool, Some(pair_id), None, 20).await
}

async fn rows(
    pool: &PgPool,
    pair: Option<i64>,
    id: Option<i64>,
    limit: i64,
) -> Result<Vec<ProxyPlan>, Error> {
    let rows = sqlx::query!(
        "select p.id, p.pair_id, r.name as pair, p.version, p.state, p.instances, p.created_by,
                p.created_at, p.confirmed_by, p.confirmed_at, p.finished_at, p.error
         from proxy_plan p join proxy_pair r on r.id = p.pair_id
         where ($1::bigint is null or p.pair_id = $1) and ($2::bigint is null or p.id = $2)
         order by p.id desc limit $3",
        pair,
        id,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ProxyPlan {
                id: r.id,
                pair_id: r.pair_id,
                pair: r.pair,
                version: r.version.max(0) as u64,
                state: r.state,
                instances: serde_json::from_value(r.instances).map_err(Error::internal)?,
                created_by: r.created_by,
                created_at: rfc3339(r.created_at),
                confirmed_by: r.confirmed_by,
                confirmed_at: r.confirmed_at.map(rfc3339),
                finished_at: r.finished_at.map(rfc3339),
                error: r.error,
            })
        })
        .collect()
}

/// How many finished plans of a pair are kept (the page shows 20).
const PLANS_KEPT: i64 = 50;
/// How many configuration versions of a pair are kept besides those told to an instance or
/// named by a kept plan.
const VERSIONS_KEPT: i64 = 20;

/// Deletes a pair's finished plans beyond its newest [`PLANS_KEPT`], then the configuration
/// versions beyond its newest [`VERSIONS_KEPT`] that no instance is told and no plan names:
/// `(plans, versions)` deleted.
pub async fn prune(pool: &PgPool) -> Result<(u64, u64), Error> {
    let plans = sqlx::query!(
        "delete from proxy_plan p using (
             select id, row_number() over (partition by pair_id order by id desc) as n
             from proxy_plan) ranked
         where p.id = ranked.id and ranked.n > $1 and p.state not in ('ready', 'applying')",
        PLANS_KEPT
    )
    .execute(pool)
    .await?
    .rows_affected();
    let versions = sqlx::query!(
        "delete from proxy_config c using (
             select pair_id, version,
                    row_number() over (partition by pair_id order by version desc) as n
             from proxy_config) ranked
         where c.pair_id = ranked.pair_id and c.version = ranked.version and ranked.n > $1
           and not exists (select 1 from proxy_instance i
                           where i.pair_id = c.pair_id and i.published = c.version)
           and not exists (select 1 from proxy_plan p
                           where p.pair_id = c.pair_id and p.version = c.version)",
        VERSIONS_KEPT
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok((plans, versions))
}
