//! Inventory queries. Input is parsed into valid values first (every bad field named at once),
//! uniqueness is left to the database's constraints and turned into field errors, and every
//! change is written with its audit entry in one transaction.

use super::model::{Fqdn, NodeKind, NodeRole};
use super::{ClusterInput, ClusterSummary, DnsCheck, EndpointSpec, Node, NodeInput, NodeSaved};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::{Error, FieldErrors};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use std::time::Duration;

fn internal(message: String) -> Error {
    Error::internal(anyhow::anyhow!(message))
}

// ---------------------------------------------------------------------------------------------
// Clusters

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
    .ok_or_else(|| Error::NotFound(format!("no cluster with id {id}")))?;
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
        .ok_or_else(|| Error::NotFound(format!("no cluster with id {id}")))?;
    let nodes = sqlx::query_scalar!(
        r#"select count(*) as "count!" from node where cluster_id = $1"#,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    if nodes > 0 {
        return Err(Error::Conflict(format!(
            "the cluster {name} still has {nodes} node(s); delete or move them first"
        )));
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

// ---------------------------------------------------------------------------------------------
// Nodes

/// A node's fields after parsing: every value valid.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub cluster_id: i64,
    pub kind: NodeKind,
    pub role: NodeRole,
    pub fqdn: Fqdn,
    pub address: Option<String>,
    pub version: String,
    pub tags: Vec<String>,
    /// `None`: keep (update) or use the kind's defaults (create).
    pub endpoints: Option<Vec<EndpointSpec>>,
}

/// Checks a management address: an IP address or a host name.
fn check_address(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.parse::<std::net::IpAddr>().is_ok() {
        return Ok(value.to_owned());
    }
    let valid_name = !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if valid_name {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(format!(
            "'{value}' is neither an IP address nor a host name"
        ))
    }
}

/// Parses a node's input, naming every bad field at once.
pub fn parse_node(input: &NodeInput) -> Result<NodeSpec, Error> {
    let mut errors = FieldErrors::new();
    let mut fail =
        |field: &str, message: String| errors.entry(field.to_owned()).or_default().push(message);
    let fqdn = Fqdn::parse(&input.fqdn).map_err(|m| fail("fqdn", m)).ok();
    let role = input.role.unwrap_or(NodeRole::None);
    if !input.kind.roles().contains(&role) {
        let allowed: Vec<&str> = input.kind.roles().iter().map(|r| r.as_str()).collect();
        fail(
            "role",
            format!(
                "a {} node cannot be {}; use {}",
                input.kind.label(),
                role.as_str(),
                allowed.join(" or ")
            ),
        );
    }
    let address = match input
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        Some(a) => check_address(a).map_err(|m| fail("address", m)).ok(),
        None => None,
    };
    let version = input
        .version
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if version.chars().count() > 64 {
        fail("version", "use at most 64 characters".into());
    }
    let mut tags: Vec<String> = input
        .tags
        .iter()
        .flatten()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    tags.sort();
    tags.dedup();
    if let Some(bad) = tags
        .iter()
        .find(|t| t.chars().count() > 40 || t.contains(','))
    {
        fail(
            "tags",
            format!("'{bad}': a tag has at most 40 characters and no comma"),
        );
    }
    if let Some(endpoints) = &input.endpoints {
        let mut seen = std::collections::HashSet::new();
        for e in endpoints {
            if e.port == 0 {
                fail("endpoints", "port 0 is not a port".into());
            } else if !seen.insert(e.port) {
                fail("endpoints", format!("port {} is listed twice", e.port));
            }
        }
    }
    match (fqdn, errors.is_empty()) {
        (Some(fqdn), true) => Ok(NodeSpec {
            cluster_id: input.cluster_id,
            kind: input.kind,
            role,
            fqdn,
            address,
            version,
            tags,
            endpoints: input.endpoints.clone(),
        }),
        _ => Err(Error::Validation(errors)),
    }
}

/// Resolves the FQDN from here (2 s at most). Never fails: what it finds is advice, which says
/// whether probes can still reach the node (through its management address).
pub async fn check_dns(fqdn: &Fqdn, address: Option<&str>) -> DnsCheck {
    let consequence = match address {
        Some(address) => format!("Gatehouse connects to the management address {address} instead"),
        None => "probes will fail unless a management address is set".to_owned(),
    };
    let lookup = tokio::net::lookup_host((fqdn.as_str(), 443));
    match tokio::time::timeout(Duration::from_secs(2), lookup).await {
        Ok(Ok(addresses)) => {
            let mut resolved: Vec<String> = addresses.map(|a| a.ip().to_string()).collect();
            resolved.sort();
            resolved.dedup();
            DnsCheck {
                resolved,
                warning: None,
            }
        }
        Ok(Err(error)) => DnsCheck {
            resolved: Vec::new(),
            warning: Some(format!(
                "{fqdn} does not resolve from Gatehouse ({error}); {consequence}"
            )),
        },
        Err(_) => DnsCheck {
            resolved: Vec::new(),
            warning: Some(format!(
                "resolving {fqdn} took longer than 2 s; {consequence}"
            )),
        },
    }
}

fn node_constraint(error: sqlx::Error, spec: &NodeSpec) -> Error {
    if let sqlx::Error::Database(db) = &error {
        match db.constraint() {
            Some("node_fqdn_key") => {
                return Error::field("fqdn", format!("{} is already in this cluster", spec.fqdn))
            }
            Some("node_unique_role_key") => {
                return Error::field(
                    "role",
                    format!(
                        "the cluster already has a {} {}; a cluster has one",
                        spec.kind.role_label(spec.role),
                        spec.kind.label()
                    ),
                )
            }
            Some("node_cluster_id_fkey") => {
                return Error::field(
                    "cluster_id",
                    format!("no cluster with id {}", spec.cluster_id),
                )
            }
            _ => {}
        }
    }
    Error::internal(error)
}

async fn write_endpoints(
    tx: &mut PgConnection,
    node_id: i64,
    endpoints: &[EndpointSpec],
) -> Result<(), Error> {
    sqlx::query!("delete from endpoint where node_id = $1", node_id)
        .execute(&mut *tx)
        .await?;
    for e in endpoints {
        sqlx::query!(
            "insert into endpoint (node_id, port, purpose) values ($1, $2, $3)",
            node_id,
            i32::from(e.port),
            e.purpose.as_deref().unwrap_or_default()
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

pub(crate) fn default_endpoints(kind: NodeKind) -> Vec<EndpointSpec> {
    kind.default_endpoints()
        .iter()
        .map(|e| EndpointSpec {
            port: e.port,
            purpose: Some(e.purpose.to_owned()),
        })
        .collect()
}

fn audit_value(spec: &NodeSpec, endpoints: &[EndpointSpec]) -> serde_json::Value {
    json!({
        "cluster_id": spec.cluster_id, "kind": spec.kind, "role": spec.role, "fqdn": spec.fqdn,
        "address": spec.address, "version": spec.version, "tags": spec.tags,
        "ports": endpoints.iter().map(|e| e.port).collect::<Vec<_>>(),
    })
}

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
        return Err(Error::NotFound(format!("no node with id {id}")));
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
    .ok_or_else(|| Error::NotFound(format!("no node with id {id}")))?;
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
        .ok_or_else(|| Error::NotFound(format!("no node with id {id}")))?;
    nodes(pool, Some(cluster_id))
        .await?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or_else(|| Error::NotFound(format!("no node with id {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(fqdn: &str, role: Option<NodeRole>) -> NodeInput {
        NodeInput {
            cluster_id: 1,
            kind: NodeKind::Finesse,
            role,
            fqdn: fqdn.into(),
            address: None,
            version: None,
            tags: Some(vec![" b ".into(), "a".into(), "b".into()]),
            endpoints: None,
        }
    }

    #[test]
    fn a_valid_node_is_normalised() {
        let spec = parse_node(&input("Finesse1.Example.com", Some(NodeRole::Primary))).unwrap();
        assert_eq!(spec.fqdn.as_str(), "finesse1.example.com");
        assert_eq!(spec.tags, ["a", "b"]);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut bad = input("10.0.0.1", Some(NodeRole::SideA));
        bad.address = Some("not an address!".into());
        bad.endpoints = Some(vec![
            EndpointSpec {
                port: 8445,
                purpose: None,
            },
            EndpointSpec {
                port: 8445,
                purpose: None,
            },
        ]);
        let error = parse_node(&bad).unwrap_err();
        for field in ["fqdn", "role", "address", "endpoints"] {
            assert_eq!(error.field_messages(field).len(), 1, "{field}: {error:?}");
        }
        assert!(error.field_messages("role")[0].contains("use primary or secondary or none"));
    }
}
