//! The inventory as CSV: export, and import with a dry run. An import checks every row first
//! (the same rules as the forms and the REST API, plus duplicates within the file and against
//! the database) and writes nothing unless every row is valid; then all rows in one
//! transaction, with one audit entry. Clusters named in the file are created when missing.
//!
//! Columns: `cluster,kind,role,fqdn,address,version,tags,ports`; tags and ports are separated
//! by `;` (empty ports: the kind's defaults). The DNS check of the forms is not run on import.

use super::model::{NodeKind, NodeRole};
use super::store::{default_endpoints, parse_node, NodeSpec};
use super::{parse_ports, EndpointSpec, ImportReport, NodeInput, Refused, RowError};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::Error;
use serde_json::json;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};

pub const COLUMNS: [&str; 8] = [
    "cluster", "kind", "role", "fqdn", "address", "version", "tags", "ports",
];

/// At most this many data rows in one import.
pub const MAX_ROWS: usize = 100_000;

/// Errors listed in a report (the count is always complete).
const MAX_LISTED_ERRORS: usize = 1000;

/// The whole inventory as CSV, clusters and nodes by name.
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn export(pool: &PgPool, context: &RequestContext) -> Result<String, Error> {
    context.require_reader()?;
    let rows = sqlx::query!(
        r#"select c.name as cluster, n.kind, n.role, n.fqdn, n.address, n.version, n.tags,
                  coalesce(string_agg(e.port::text, ';' order by e.port), '') as "ports!"
           from node n join cluster c on c.id = n.cluster_id left join endpoint e on e.node_id = n.id
           group by c.name, n.id order by lower(c.name), n.fqdn"#
    )
    .fetch_all(pool)
    .await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Error::internal(anyhow::anyhow!(e));
    writer.write_record(COLUMNS).map_err(io)?;
    for r in rows {
        writer
            .write_record([
                r.cluster.as_str(),
                &r.kind,
                &r.role,
                &r.fqdn,
                r.address.as_deref().unwrap_or_default(),
                &r.version,
                &r.tags.join(";"),
                &r.ports,
            ])
            .map_err(io)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::internal(anyhow::anyhow!(e.to_string())))?;
    String::from_utf8(bytes).map_err(Error::internal)
}

struct Row {
    line: usize,
    cluster: String,
    spec: NodeSpec,
    endpoints: Vec<EndpointSpec>,
}

/// Checks (and unless `dry_run`, writes) a CSV inventory. A file that cannot be read as this
/// CSV at all (wrong header, too many rows) is a `BadRequest`; invalid rows are listed in the
/// report, and make a real import a 422 listing them.
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn import(
    pool: &PgPool,
    context: &RequestContext,
    text: &str,
    dry_run: bool,
) -> Result<ImportReport, Error> {
    context.require_admin()?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Refused::UnreadableHeader(e.to_string()))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    if header != COLUMNS {
        return Err(Refused::WrongHeader {
            expected: COLUMNS.join(","),
            found: header.join(","),
        }
        .into());
    }

    let clusters: HashMap<String, i64> = sqlx::query!("select id, name from cluster")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.name.to_lowercase(), r.id))
        .collect();
    let mut errors = Vec::new();
    let mut error_count = 0;
    let mut error = |row: usize, field: &str, message: String| {
        error_count += 1;
        if errors.len() < MAX_LISTED_ERRORS {
            errors.push(RowError {
                row,
                field: field.to_owned(),
                message,
            });
        }
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut new_clusters: Vec<String> = Vec::new();
    let mut read = 0;
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        read += 1;
        if read > MAX_ROWS {
            return Err(Refused::TooManyRows(MAX_ROWS).into());
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                error(line, "row", format!("cannot be read: {e}"));
                continue;
            }
        };
        if record.len() != COLUMNS.len() {
            error(
                line,
                "row",
                format!("has {} fields; expected {}", record.len(), COLUMNS.len()),
            );
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or_default().to_owned();
        let cluster = field(0);
        if cluster.is_empty() || cluster.chars().count() > 100 {
            error(
                line,
                "cluster",
                "name the cluster (1 to 100 characters)".into(),
            );
            continue;
        }
        let kind = match NodeKind::parse(&field(1)) {
            Ok(kind) => kind,
            Err(message) => {
                error(line, "kind", message);
                continue;
            }
        };
        let role = match field(2).as_str() {
            "" => None,
            text => match NodeRole::parse(text) {
                Ok(role) => Some(role),
                Err(message) => {
                    error(line, "role", message);
                    continue;
                }
            },
        };
        let endpoints = match parse_ports(kind, &field(7).replace(';', ",")) {
            Ok(endpoints) => endpoints,
            Err(message) => {
                error(line, "ports", message);
                continue;
            }
        };
        let input = NodeInput {
            cluster_id: clusters.get(&cluster.to_lowercase()).copied().unwrap_or(0),
            kind,
            role,
            fqdn: field(3),
            address: Some(field(4)),
            version: Some(field(5)),
            tags: Some(field(6).split(';').map(str::to_owned).collect()),
            endpoints,
        };
        match parse_node(&input) {
            Ok(spec) => {
                if !clusters.contains_key(&cluster.to_lowercase())
                    && !new_clusters
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(&cluster))
                {
                    new_clusters.push(cluster.clone());
                }
                let endpoints = spec
                    .endpoints
                    .clone()
                    .unwrap_or_else(|| default_endpoints(kind));
                rows.push(Row {
                    line,
                    cluster,
                    spec,
                    endpoints,
                });
            }
            Err(Error::Invalid(fields)) => {
                for (field, messages) in fields {
                    for message in messages {
                        error(line, &field, message);
                    }
                }
            }
            Err(other) => return Err(other),
        }
    }

    // Duplicates: within the file, and against what the database holds.
    let existing: HashSet<(String, String)> = sqlx::query!(
        "select lower(c.name) as \"cluster!\", n.fqdn from node n join cluster c on c.id = n.cluster_id"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.cluster, r.fqdn))
    .collect();
    let taken_roles: HashSet<(String, String, String)> = sqlx::query!(
        "select lower(c.name) as \"cluster!\", n.kind, n.role from node n join cluster c on c.id = n.cluster_id
         where n.role in ('primary', 'side_a', 'side_b')"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.cluster, r.kind, r.role))
    .collect();
    let mut fqdns: HashMap<(String, String), usize> = HashMap::new();
    let mut roles: HashMap<(String, String, String), usize> = HashMap::new();
    for row in &rows {
        let cluster = row.cluster.to_lowercase();
        let fqdn = row.spec.fqdn.as_str().to_owned();
        if existing.contains(&(cluster.clone(), fqdn.clone())) {
            error(
                row.line,
                "fqdn",
                format!("{fqdn} is already in cluster {}", row.cluster),
            );
        } else if let Some(first) = fqdns.insert((cluster.clone(), fqdn.clone()), row.line) {
            error(
                row.line,
                "fqdn",
                format!("{fqdn} is also on line {first} for this cluster"),
            );
        }
        if matches!(
            row.spec.role,
            NodeRole::Primary | NodeRole::SideA | NodeRole::SideB
        ) {
            let key = (
                cluster,
                row.spec.kind.as_str().to_owned(),
                row.spec.role.as_str().to_owned(),
            );
            let role = row.spec.kind.role_label(row.spec.role);
            if taken_roles.contains(&key) {
                error(
                    row.line,
                    "role",
                    format!(
                        "cluster {} already has a {} {role}",
                        row.cluster,
                        row.spec.kind.label()
                    ),
                );
            } else if let Some(first) = roles.insert(key, row.line) {
                error(
                    row.line,
                    "role",
                    format!(
                        "line {first} is already the {} {role} of this cluster",
                        row.spec.kind.label()
                    ),
                );
            }
        }
    }
    errors.sort_by_key(|e| e.row);

    let valid = error_count == 0;
    let mut report = ImportReport {
        dry_run,
        rows: read,
        valid,
        imported: false,
        clusters_created: new_clusters.clone(),
        nodes: rows.len(),
        endpoints: rows.iter().map(|r| r.endpoints.len()).sum(),
        error_count,
        errors,
    };
    if dry_run || !valid {
        return Ok(report);
    }
    write(pool, context, &rows, &new_clusters).await?;
    report.imported = true;
    Ok(report)
}

/// Writes every row in one transaction, in batches.
async fn write(
    pool: &PgPool,
    context: &RequestContext,
    rows: &[Row],
    new_clusters: &[String],
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    for name in new_clusters {
        sqlx::query!("insert into cluster (name) values ($1)", name)
            .execute(&mut *tx)
            .await?;
    }
    let clusters: HashMap<String, i64> = sqlx::query!("select id, name from cluster")
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.name.to_lowercase(), r.id))
        .collect();
    for batch in rows.chunks(5000) {
        let cluster_ids: Vec<i64> = batch
            .iter()
            .map(|r| {
                clusters
                    .get(&r.cluster.to_lowercase())
                    .copied()
                    .unwrap_or_default()
            })
            .collect();
        let kinds: Vec<&str> = batch.iter().map(|r| r.spec.kind.as_str()).collect();
        let roles: Vec<&str> = batch.iter().map(|r| r.spec.role.as_str()).collect();
        let fqdns: Vec<&str> = batch.iter().map(|r| r.spec.fqdn.as_str()).collect();
        let addresses: Vec<Option<String>> = batch.iter().map(|r| r.spec.address.clone()).collect();
        let versions: Vec<&str> = batch.iter().map(|r| r.spec.version.as_str()).collect();
        // Postgres arrays cannot nest unevenly: tags travel joined and are split back.
        let tags: Vec<String> = batch.iter().map(|r| r.spec.tags.join(",")).collect();
        // RETURNING does not promise the input's order: ids are matched by (cluster, fqdn).
        let ids: HashMap<(i64, String), i64> = sqlx::query!(
            r#"insert into node (cluster_id, kind, role, fqdn, address, version, tags)
               select c, k, r, f, a, v, case when t = '' then '{}'::text[] else string_to_array(t, ',') end
               from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                    as x(c, k, r, f, a, v, t)
               returning id, cluster_id, fqdn"#,
            &cluster_ids,
            &kinds[..] as &[&str],
            &roles[..] as &[&str],
            &fqdns[..] as &[&str],
            &addresses[..] as &[Option<String>],
            &versions[..] as &[&str],
            &tags
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| ((r.cluster_id, r.fqdn), r.id))
        .collect();
        let mut node_ids = Vec::new();
        let mut ports = Vec::new();
        let mut purposes = Vec::new();
        for (row, cluster_id) in batch.iter().zip(&cluster_ids) {
            let Some(id) = ids.get(&(*cluster_id, row.spec.fqdn.as_str().to_owned())) else {
                return Err(Error::internal(anyhow::anyhow!(
                    "an imported node was not returned"
                )));
            };
            for e in &row.endpoints {
                node_ids.push(*id);
                ports.push(i32::from(e.port));
                purposes.push(e.purpose.clone().unwrap_or_default());
            }
        }
        sqlx::query!(
            "insert into endpoint (node_id, port, purpose) select * from unnest($1::bigint[], $2::int[], $3::text[])",
            &node_ids,
            &ports,
            &purposes
        )
        .execute(&mut *tx)
        .await?;
    }
    record(
        &mut tx,
        context.event("inventory.import", "inventory").after(json!({
            "nodes": rows.len(),
            "clusters_created": new_clusters,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
