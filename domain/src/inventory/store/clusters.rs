//! Clusters: listed with their node counts and thresholds, created, renamed and deleted.

use super::*;
use crate::inventory::Refused;

/// Every cluster with its node count and thresholds (readers).
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn list_clusters(
    pool: &PgPool,
    context: &RequestContext,
) -> Result<Vec<ClusterSummary>, Error> {
    context.require_reader()?;
    let rows = sqlx::query!(
        r#"select c.id, c.name, c.description, c.created_at, count(n.id) as "nodes!",
                  c.warning_days, c.critical_days, c.warning_lifetime_percent
           from cluster c left join node n on n.cluster_id = c.id
           group by c.id order by lower(c.name)"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ClusterSummary {
            id: r.id,
            name: r.name,
            description: r.description,
            nodes: r.nodes,
            created_at: rfc3339(r.created_at),
            warning_days: r.warning_days,
            critical_days: r.critical_days,
            warning_lifetime_percent: r.warning_lifetime_percent,
        })
        .collect())
}

fn cluster_fields(input: &ClusterInput) -> Result<(String, String), Error> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::field("name", "use 1 to 100 characters"));
    }
    let description = input
        .description
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if description.chars().count() > 1000 {
        return Err(Error::field("description", "use at most 1000 characters"));
    }
    Ok((name, description))
}

fn cluster_constraint(error: sqlx::Error) -> Error {
    crate::error::on_constraint(
        error,
        "cluster_name_key",
        "name",
        "a cluster with this name exists",
    )
}

#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn create_cluster(
    pool: &PgPool,
    context: &RequestContext,
    input: ClusterInput,
) -> Result<i64, Error> {
    context.require_admin()?;
    let (name, description) = cluster_fields(&input)?;
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into cluster (name, description) values ($1, $2) returning id",
        name,
        description
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(cluster_constraint)?;
    record(
        &mut tx,
        context
            .event("cluster.create", format!("cluster:{name}"))
            .after(json!({"id": id, "name": name, "description": description})),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn update_cluster(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
    input: ClusterInput,
) -> Result<(), Error> {
    context.require_admin()?;
    let (name, description) = cluster_fields(&input)?;
    let mut tx = pool.begin().await?;
    let before = sqlx::query!(
        "select name, description from cluster where id = $1 for update",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Refused::NoSuchCluster(id))?;
    sqlx::query!(
        "update cluster set name = $2, description = $3, updated_at = now() where id = $1",
        id,
        name,
        description
    )
    .execute(&mut *tx)
    .await
    .map_err(cluster_constraint)?;
    record(
        &mut tx,
        context
            .event("cluster.update", format!("cluster:{name}"))
            .before(json!({"name": before.name, "description": before.description}))
            .after(json!({"name": name, "description": description})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn delete_cluster(pool: &PgPool, context: &RequestContext, id: i64) -> Result<(), Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!("select name from cluster where id = $1 for update", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Refused::NoSuchCluster(id))?;
    let nodes = sqlx::query_scalar!(
        r#"select count(*) as "count!" from node where cluster_id = $1"#,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    if nodes > 0 {
        return Err(Refused::ClusterNotEmpty { name, nodes }.into());
    }
    sqlx::query!("delete from cluster where id = $1", id)
        .execute(&mut *tx)
        .await?;
    record(
        &mut tx,
        context
            .event("cluster.delete", format!("cluster:{name}"))
            .before(json!({"id": id, "name": name})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
