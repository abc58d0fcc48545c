//! Nodes: created, changed and deleted with their audit entries, and read with their endpoints.

use super::*;
use crate::inventory::Refused;

#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn create_node(
    pool: &PgPool,
    context: &RequestContext,
    input: NodeInput,
) -> Result<NodeSaved, Error> {
    context.require_admin()?;
    let spec = parse_node(&input)?;
    let endpoints = spec
        .endpoints
        .clone()
        .unwrap_or_else(|| default_endpoints(spec.kind));
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into node (cluster_id, kind, role, fqdn, address, version, tags)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
        spec.cluster_id,
        spec.kind.as_str(),
        spec.role.as_str(),
        spec.fqdn.as_str(),
        spec.address,
        spec.version,
        &spec.tags
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| node_constraint(e, &spec))?;
    write_endpoints(&mut tx, id, &endpoints).await?;
    record(
        &mut tx,
        context
            .event("node.create", format!("node:{}", spec.fqdn))
            .after(audit_value(&spec, &endpoints)),
    )
    .await?;
    tx.commit().await?;
    Ok(NodeSaved {
        id,
        dns: check_dns(&spec.fqdn, spec.address.as_deref()).await,
    })
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn update_node(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
    input: NodeInput,
) -> Result<NodeSaved, Error> {
    context.require_admin()?;
    let spec = parse_node(&input)?;
    let before = node(pool, id).await?;
    let endpoints = spec
        .endpoints
        .clone()
        .unwrap_or_else(|| before.endpoints.clone());
    let mut tx = pool.begin().await?;
    let updated = sqlx::query!(
        "update node set cluster_id = $2, kind = $3, role = $4, fqdn = $5, address = $6, version = $7, tags = $8,
                updated_at = now()
         where id = $1",
        id,
        spec.cluster_id,
        spec.kind.as_str(),
        spec.role.as_str(),
        spec.fqdn.as_str(),
        spec.address,
        spec.version,
        &spec.tags
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| node_constraint(e, &spec))?;
    if updated.rows_affected() == 0 {
        return Err(Refused::NoSuchNode(id).into());
    }
    write_endpoints(&mut tx, id, &endpoints).await?;
    let before_spec = NodeSpec {
        cluster_id: before.cluster_id,
        kind: before.kind,
        role: before.role,
        fqdn: Fqdn::parse(&before.fqdn).map_err(internal)?,
        address: before.address.clone(),
        version: before.version.clone(),
        tags: before.tags.clone(),
        endpoints: None,
    };
    record(
        &mut tx,
        context
            .event("node.update", format!("node:{}", spec.fqdn))
            .before(audit_value(&before_spec, &before.endpoints))
            .after(audit_value(&spec, &endpoints)),
    )
    .await?;
    tx.commit().await?;
    Ok(NodeSaved {
        id,
        dns: check_dns(&spec.fqdn, spec.address.as_deref()).await,
    })
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn delete_node(pool: &PgPool, context: &RequestContext, id: i64) -> Result<(), Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        "delete from node where id = $1 returning fqdn, kind, cluster_id",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Refused::NoSuchNode(id))?;
    record(
        &mut tx,
        context
            .event("node.delete", format!("node:{}", row.fqdn))
            .before(
                json!({"id": id, "fqdn": row.fqdn, "kind": row.kind, "cluster_id": row.cluster_id}),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Nodes, optionally of one cluster, ordered by cluster, kind and FQDN, with their endpoints
/// (readers).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id = cluster_id))]
pub async fn list_nodes(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: Option<i64>,
) -> Result<Vec<Node>, Error> {
    context.require_reader()?;
    nodes(pool, cluster_id).await
}

/// One node (readers).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn get_node(pool: &PgPool, context: &RequestContext, id: i64) -> Result<Node, Error> {
    context.require_reader()?;
    node(pool, id).await
}

/// [`list_nodes`] for the domain's own use, after its caller checked the principal.
pub(crate) async fn nodes(pool: &PgPool, cluster_id: Option<i64>) -> Result<Vec<Node>, Error> {
    let rows = sqlx::query!(
        r#"select n.id, n.cluster_id, c.name as cluster, n.kind, n.role, n.fqdn, n.address, n.version, n.tags,
                  n.created_at, n.updated_at
           from node n join cluster c on c.id = n.cluster_id
           where ($1::bigint is null or n.cluster_id = $1)
           order by lower(c.name), n.kind, n.fqdn"#,
        cluster_id
    )
    .fetch_all(pool)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut endpoints: HashMap<i64, Vec<EndpointSpec>> = HashMap::new();
    for e in sqlx::query!(
        "select node_id, port, purpose from endpoint where node_id = any($1) order by port",
        &ids
    )
    .fetch_all(pool)
    .await?
    {
        let port = u16::try_from(e.port)
            .map_err(|_| internal(format!("stored port {} is out of range", e.port)))?;
        endpoints.entry(e.node_id).or_default().push(EndpointSpec {
            port,
            purpose: Some(e.purpose),
        });
    }
    rows.into_iter()
        .map(|r| {
            Ok(Node {
                id: r.id,
                cluster_id: r.cluster_id,
                cluster: r.cluster,
                kind: NodeKind::parse(&r.kind).map_err(internal)?,
                role: NodeRole::parse(&r.role).map_err(internal)?,
                fqdn: r.fqdn,
                address: r.address,
                version: r.version,
                tags: r.tags,
                endpoints: endpoints.remove(&r.id).unwrap_or_default(),
                created_at: rfc3339(r.created_at),
                updated_at: rfc3339(r.updated_at),
            })
        })
        .collect()
}

/// [`get_node`] for the domain's own use, after its caller checked the principal.
pub(crate) async fn node(pool: &PgPool, id: i64) -> Result<Node, Error> {
    let cluster_id = sqlx::query_scalar!("select cluster_id from node where id = $1", id)
        .fetch_optional(pool)
        .await?
        .ok_or(Refused::NoSuchNode(id))?;
    nodes(pool, Some(cluster_id))
        .await?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or_else(|| Refused::NoSuchNode(id).into())
}
