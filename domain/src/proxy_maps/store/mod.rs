//! Proxy maps in PostgreSQL: maps, every saved version (a save names the version it started
//! from; a stale one is refused with what changed since), and publishing one version.

mod check;
mod names;
pub mod rollout;
pub mod serve;
pub mod subject;
pub use check::{checked_against, validate};

use super::{slug_is_valid, slug_of, MapVersion, MapView, NewMap, SaveMap};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::{Error, FieldErrors};
use sqlx::{PgConnection, PgPool};

fn invalid(field: &str, message: String) -> Error {
    Error::Invalid(FieldErrors::from([(field.to_owned(), vec![message])]))
}

/// Every map, by name.
pub async fn list(pool: &PgPool, context: &RequestContext) -> Result<Vec<MapView>, Error> {
    context.require_reader()?;
    views(&mut *pool.acquire().await?, None).await
}

pub async fn get(pool: &PgPool, context: &RequestContext, id: i64) -> Result<MapView, Error> {
    context.require_reader()?;
    view(&mut *pool.acquire().await?, id).await
}

async fn view(connection: &mut PgConnection, id: i64) -> Result<MapView, Error> {
    views(connection, Some(id))
        .await?
        .pop()
        .ok_or_else(|| crate::proxy_maps::Refused::NoSuchMap(id).into())
}

/// One map (`Some(id)`) or every map, by name, in one query.
async fn views(connection: &mut PgConnection, id: Option<i64>) -> Result<Vec<MapView>, Error> {
    let rows = sqlx::query!(
        r#"select m.id, m.name, m.slug, m.cluster_id, m.published_version, m.published_by, m.published_at,
                  coalesce((select max(version) from proxy_map_version v where v.map_id = m.id), 0) as "latest!"
           from proxy_map m where $1::bigint is null or m.id = $1 order by m.name"#,
        id
    )
    .fetch_all(&mut *connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| MapView {
            id: row.id,
            path: format!("/maps/{}/proxymap.txt", row.slug),
            name: row.name,
            slug: row.slug,
            cluster_id: row.cluster_id,
            latest_version: row.latest,
            published_version: row.published_version,
            published_by: row.published_by,
            published_at: row.published_at.map(rfc3339),
        })
        .collect())
}

/// Creates a map (no version yet).
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn create(
    pool: &PgPool,
    context: &RequestContext,
    new: NewMap,
) -> Result<MapView, Error> {
    context.require_admin()?;
    let name = new.name.trim();
    let slug = new.slug.clone().unwrap_or_else(|| slug_of(name));
    let mut errors = FieldErrors::new();
    if name.is_empty() || name.chars().count() > 100 {
        errors
            .entry("name".into())
            .or_default()
            .push("a name of 1 to 100 characters".into());
    }
    if !slug_is_valid(&slug) {
        errors.entry("slug".into()).or_default().push(format!(
            "'{slug}' cannot be a path: lowercase letters, digits and hyphens, at most 63, not starting with a hyphen"
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = pool.begin().await?;
    if let Some(cluster_id) = new.cluster_id {
        sqlx::query_scalar!("select id from cluster where id = $1", cluster_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| invalid("cluster_id", format!("no cluster with id {cluster_id}")))?;
    }
    let id = sqlx::query_scalar!(
        "insert into proxy_map (name, slug, cluster_id) values ($1, $2, $3) returning id",
        name,
        slug,
        new.cluster_id
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(
        |e| match e.as_database_error().and_then(|d| d.constraint()) {
            Some("proxy_map_name_key") => {
                invalid("name", format!("a map named '{name}' exists already"))
            }
            Some("proxy_map_slug_key") => {
                invalid("slug", format!("the path '{slug}' is taken by another map"))
            }
            _ => e.into(),
        },
    )?;
    record(
        &mut tx,
        context
            .event("proxy_map.create", format!("proxy_map:{id}"))
            .detail(format!("{name} at /maps/{slug}/proxymap.txt")),
    )
    .await?;
    let made = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(made)
}

/// Every saved version, newest first.
pub async fn versions(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
) -> Result<Vec<MapVersion>, Error> {
    context.require_reader()?;
    let mut connection = pool.acquire().await?;
    view(&mut connection, id).await?;
    let rows = sqlx::query!(
        "select version, text, author, comment, created_at from proxy_map_version where map_id = $1 order by version desc",
        id
    )
    .fetch_all(&mut *connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MapVersion {
            version: r.version,
            mappings: proxymap::parse(&r.text).mappings.len(),
            author: r.author,
            comment: r.comment,
            saved_at: rfc3339(r.created_at),
            text: r.text,
        })
        .collect())
}

/// One saved version's text.
pub async fn version_text(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
    version: i32,
) -> Result<String, Error> {
    context.require_reader()?;
    let mut connection = pool.acquire().await?;
    view(&mut connection, id).await?;
    sqlx::query_scalar!(
        "select text from proxy_map_version where map_id = $1 and version = $2",
        id,
        version
    )
    .fetch_optional(&mut *connection)
    .await?
    .ok_or_else(|| crate::proxy_maps::Refused::NoSuchVersion { id, version }.into())
}

/// Saves `save.text` as the next version if it was edited from the latest, and if it has no
/// errors (checked against the map's cluster; warnings are saved with it).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), id))]
pub async fn save(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
    save: SaveMap,
) -> Result<MapView, Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let map = sqlx::query!(
        "select cluster_id from proxy_map where id = $1 for update",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(crate::proxy_maps::Refused::NoSuchMap(id))?;
    let latest = sqlx::query!(
        "select version, text from proxy_map_version where map_id = $1 order by version desc limit 1",
        id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let (latest_version, latest_text) = latest.map_or((0, String::new()), |l| (l.version, l.text));
    let parsed = proxymap::parse_bytes(save.text.as_bytes());
    if save.base_version != latest_version {
        let changes = proxymap::diff(&proxymap::parse(&latest_text), &parsed);
        return Err(Error::Outdated {
            message: format!(
                "this edit started from version {}, but version {latest_version} is the latest; merge its changes and save again",
                save.base_version
            ),
            changes,
            base: crate::failure::Base::Draft,
        });
    }
    let mut checked = parsed;
    if let Some(cluster_id) = map.cluster_id {
        proxymap::check_with(&mut checked, &checked_against(pool, cluster_id).await?);
    }
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.level == proxymap::Level::Error)
        .map(|d| d.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(Error::Invalid(FieldErrors::from([(
            "text".to_owned(),
            errors,
        )])));
    }
    let version = latest_version + 1;
    let changes = proxymap::diff(&proxymap::parse(&latest_text), &checked);
    sqlx::query!(
        "insert into proxy_map_version (map_id, version, text, author, comment) values ($1, $2, $3, $4, $5)",
        id,
        version,
        save.text,
        context.actor(),
        save.comment.trim()
    )
    .execute(&mut *tx)
    .await?;
    let detail = format!(
        "version {version}: {}",
        if changes.is_empty() {
            "no change to the mappings".into()
        } else {
            changes.join("; ")
        }
    );
    record(
        &mut tx,
        context
            .event("proxy_map.save", format!("proxy_map:{id}"))
            .detail(detail),
    )
    .await?;
    let saved = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Publishes `version`: from now on the nodes are served it.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), id, version))]
pub async fn publish(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
    version: i32,
) -> Result<MapView, Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    view(&mut tx, id).await?;
    sqlx::query_scalar!(
        "select version from proxy_map_version where map_id = $1 and version = $2",
        id,
        version
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(crate::proxy_maps::Refused::NoSuchVersion { id, version })?;
    sqlx::query!(
        "update proxy_map set published_version = $2, published_by = $3, published_at = now() where id = $1",
        id,
        version,
        context.actor()
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event("proxy_map.publish", format!("proxy_map:{id}"))
            .detail(format!("version {version}")),
    )
    .await?;
    let published = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(published)
}
