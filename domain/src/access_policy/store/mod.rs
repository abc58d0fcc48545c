//! Policies in PostgreSQL: the version in force per cluster, every earlier version, saving a
//! new one from the version it started from (a stale save is refused with what changed since),
//! and the checks that need the world (names resolve, no load balancer among the hosts).

use super::{diff, validate, AccessPolicy, PolicyView, Save, VersionView};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::Error;
use sqlx::{PgConnection, PgPool};

pub(crate) struct Current {
    pub policy_id: i64,
    pub version: i32,
    pub document: AccessPolicy,
}

fn parse_document(value: serde_json::Value) -> Result<AccessPolicy, Error> {
    serde_json::from_value(value)
        .map_err(|e| Error::internal(anyhow::anyhow!("a stored policy does not read back: {e}")))
}

pub(super) async fn cluster_exists(
    connection: &mut PgConnection,
    cluster_id: i64,
) -> Result<(), Error> {
    sqlx::query_scalar!("select id from cluster where id = $1", cluster_id)
        .fetch_optional(&mut *connection)
        .await?
        .map(drop)
        .ok_or_else(|| crate::inventory::Refused::NoSuchCluster(cluster_id).into())
}

/// The cluster's policy in force (`None`: none saved yet); `lock` holds it until commit.
pub(crate) async fn current(
    connection: &mut PgConnection,
    cluster_id: i64,
    lock: bool,
) -> Result<Option<Current>, Error> {
    let Some(policy_id) = sqlx::query_scalar!(
        "select policy_id from access_policy_cluster where cluster_id = $1",
        cluster_id
    )
    .fetch_optional(&mut *connection)
    .await?
    else {
        return Ok(None);
    };
    if lock {
        sqlx::query!(
            "select id from access_policy where id = $1 for update",
            policy_id
        )
        .fetch_one(&mut *connection)
        .await?;
    }
    let row = sqlx::query!(
        "select version, document from access_policy_version where policy_id = $1 order by version desc limit 1",
        policy_id
    )
    .fetch_one(&mut *connection)
    .await?;
    Ok(Some(Current {
        policy_id,
        version: row.version,
        document: parse_document(row.document)?,
    }))
}

/// The policy in force for `cluster_id` (version 0 and an empty policy before the first save).
pub async fn policy(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<PolicyView, Error> {
    context.require_reader()?;
    let mut connection = pool.acquire().await?;
    cluster_exists(&mut connection, cluster_id).await?;
    view(&mut connection, cluster_id).await
}

async fn view(connection: &mut PgConnection, cluster_id: i64) -> Result<PolicyView, Error> {
    let row = sqlx::query!(
        r#"select v.policy_id, v.version, v.document, v.author, v.reason, v.created_at,
                  array(select cluster_id from access_policy_cluster o where o.policy_id = v.policy_id order by cluster_id) as "clusters!"
           from access_policy_cluster c
           join access_policy_version v on v.policy_id = c.policy_id
           where c.cluster_id = $1
           order by v.version desc limit 1"#,
        cluster_id
    )
    .fetch_optional(&mut *connection)
    .await?;
    Ok(match row {
        None => PolicyView {
            cluster_id,
            clusters: vec![cluster_id],
            version: 0,
            policy: AccessPolicy::default(),
            author: None,
            reason: String::new(),
            saved_at: None,
            warnings: crate::FieldErrors::new(),
        },
        Some(row) => {
            let policy = parse_document(row.document)?;
            PolicyView {
                cluster_id,
                clusters: row.clusters,
                version: row.version,
                warnings: super::warnings(&policy),
                policy,
                author: Some(row.author),
                reason: row.reason,
                saved_at: Some(rfc3339(row.created_at)),
            }
        }
    })
}

/// Every saved version, newest first, each with its changes from the one before.
pub async fn versions(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
) -> Result<Vec<VersionView>, Error> {
    context.require_reader()?;
    let mut connection = pool.acquire().await?;
    cluster_exists(&mut connection, cluster_id).await?;
    let rows = sqlx::query!(
        "select v.version, v.document, v.author, v.reason, v.created_at
         from access_policy_cluster c join access_policy_version v on v.policy_id = c.policy_id
         where c.cluster_id = $1 order by v.version",
        cluster_id
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut previous = AccessPolicy::default();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let document = parse_document(row.document)?;
        out.push(VersionView {
            version: row.version,
            author: row.author,
            reason: row.reason,
            saved_at: rfc3339(row.created_at),
            changes: diff(&previous, &document),
        });
        previous = document;
    }
    out.reverse();
    Ok(out)
}

/// One saved version's policy.
pub async fn version(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
    version: i32,
) -> Result<AccessPolicy, Error> {
    context.require_reader()?;
    let document = sqlx::query_scalar!(
        "select v.document from access_policy_cluster c join access_policy_version v on v.policy_id = c.policy_id
         where c.cluster_id = $1 and v.version = $2",
        cluster_id,
        version
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::access_policy::Refused::NoSuchVersion { cluster_id, version })?;
    parse_document(document)
}

/// Saves `save.policy` as the cluster's next version, if it was edited from the latest.
/// Valid means: [`validate`], every host name resolves from here (through the inventory's
/// addresses first), no host is a load balancer of the inventory.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), cluster_id))]
pub async fn save(
    pool: &PgPool,
    context: &RequestContext,
    cluster_id: i64,
    save: Save,
) -> Result<PolicyView, Error> {
    context.require_admin()?;
    let base = save
        .base_version
        .ok_or(crate::access_policy::Refused::BaseVersionMissing)?;
    let mut errors = validate(&save.policy);
    errors.append(&mut world_errors(pool, &save.policy).await?);
    let mut policy = crate::access_policy::canonical(save.policy);
    for (field, messages) in checks::reencode_certificates(&mut policy) {
        errors.entry(field).or_default().extend(messages);
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let save = Save { policy, ..save };
    let mut tx = pool.begin().await?;
    cluster_exists(&mut tx, cluster_id).await?;
    let current = current(&mut tx, cluster_id, true).await?;
    let (policy_id, latest, before) = match current {
        Some(c) => (Some(c.policy_id), c.version, c.document),
        None => (None, 0, AccessPolicy::default()),
    };
    if base != latest {
        let changes = diff(&before, &save.policy)
            .iter()
            .map(|c| c.to_string())
            .collect();
        return Err(Error::Outdated {
            message: format!(
                "this edit started from version {base}, but version {latest} is the latest; merge its changes and save again"
            ),
            changes,
            base: crate::failure::Base::Precondition,
        });
    }
    let policy_id = match policy_id {
        Some(id) => id,
        None => {
            let id = sqlx::query_scalar!("insert into access_policy default values returning id")
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query!(
                "insert into access_policy_cluster (cluster_id, policy_id) values ($1, $2)",
                cluster_id,
                id
            )
            .execute(&mut *tx)
            .await?;
            id
        }
    };
    let version = latest + 1;
    let document = insert_version(
        &mut tx,
        context,
        policy_id,
        version,
        &save.policy,
        save.reason.trim(),
    )
    .await?;
    let changes: Vec<String> = diff(&before, &save.policy)
        .iter()
        .map(|c| c.to_string())
        .collect();
    let detail = if changes.is_empty() {
        format!("version {version}: no change")
    } else {
        format!("version {version}: {}", changes.join("; "))
    };
    record(
        &mut tx,
        context
            .event("access_policy.save", format!("cluster:{cluster_id}"))
            .detail(detail)
            .after(document),
    )
    .await?;
    let saved = view(&mut tx, cluster_id).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Saves `document` as `version` of `policy_id`; returns it as stored.
pub(super) async fn insert_version(
    connection: &mut PgConnection,
    context: &RequestContext,
    policy_id: i64,
    version: i32,
    document: &AccessPolicy,
    reason: &str,
) -> Result<serde_json::Value, Error> {
    let document = serde_json::to_value(document).map_err(Error::internal)?;
    sqlx::query!(
        "insert into access_policy_version (policy_id, version, document, author, reason) values ($1, $2, $3, $4, $5)",
        policy_id,
        version,
        document,
        context.actor(),
        reason
    )
    .execute(&mut *connection)
    .await?;
    Ok(document)
}

mod adopt;
mod checks;
mod sharing;
pub use sharing::{follow, leave};
mod overview;
pub use adopt::adopt;
pub use overview::{overview, restore};
mod plan;
pub mod subject;
use checks::world_errors;
pub use checks::{listener_certificate, lookup, resolve};

pub use plan::plan;
