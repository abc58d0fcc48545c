//! A map's rollout in PostgreSQL (its config URIs, update frequency, fetch restriction) and the
//! plan that brings its cluster's nodes to it, made by the reconciliation engine.

use super::view;
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::inventory::model::NodeKind;
use crate::proxy_maps::items::reads_map;
use crate::proxy_maps::rollout::{check, desired, https_host, Rollout, RolloutView};
use crate::proxy_maps::MapNode;
use crate::reconcile::drive::certificate_label;
use crate::reconcile::store::PlanNode;
use crate::scans::probe::Target;
use crate::{Error, Services};
use sqlx::PgConnection;

/// The URL this console serves a map's file at.
pub fn served_at(services: &Services, slug: &str) -> String {
    format!(
        "{}/maps/{slug}/proxymap.txt",
        services.public_url.trim_end_matches('/')
    )
}

pub async fn get(
    services: &Services,
    context: &RequestContext,
    id: i64,
) -> Result<RolloutView, Error> {
    context.require_reader()?;
    load(&mut *services.pool.acquire().await?, services, id).await
}

async fn load(
    connection: &mut PgConnection,
    services: &Services,
    id: i64,
) -> Result<RolloutView, Error> {
    let row = sqlx::query!(
        "select slug, config_uris, update_frequency, restrict_to_inventory, rollout_version from proxy_map where id = $1",
        id
    )
    .fetch_optional(&mut *connection)
    .await?
    .ok_or(crate::proxy_maps::Refused::NoSuchMap(id))?;
    let rollout = Rollout {
        config_uris: row.config_uris,
        update_frequency: u32::try_from(row.update_frequency).unwrap_or(1),
        restrict_to_inventory: row.restrict_to_inventory,
    };
    Ok(RolloutView::new(
        rollout,
        row.rollout_version,
        served_at(services, &row.slug),
    ))
}

/// Saves the rollout settings (a new rollout version: plans made before are refused).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), id))]
pub async fn set(
    services: &Services,
    context: &RequestContext,
    id: i64,
    rollout: Rollout,
) -> Result<RolloutView, Error> {
    context.require_admin()?;
    let errors = check(&rollout);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let mut tx = services.pool.begin().await?;
    let frequency = i32::try_from(rollout.update_frequency).unwrap_or(1);
    let updated = sqlx::query!(
        "update proxy_map set config_uris = $2, update_frequency = $3, restrict_to_inventory = $4,
                rollout_version = rollout_version + 1
         where id = $1",
        id,
        &rollout.config_uris,
        frequency,
        rollout.restrict_to_inventory
    )
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(crate::proxy_maps::Refused::NoSuchMap(id).into());
    }
    let uris = match rollout.config_uris.as_slice() {
        [] => "no config URI".to_owned(),
        uris => uris.join(" then "),
    };
    let detail = format!(
        "{uris}, every {} minutes{}",
        rollout.update_frequency,
        if rollout.restrict_to_inventory {
            ", inventory addresses only"
        } else {
            ""
        }
    );
    record(
        &mut tx,
        context
            .event("proxy_map.rollout", format!("proxy_map:{id}"))
            .detail(detail),
    )
    .await?;
    let saved = load(&mut tx, services, id).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Makes a plan that configures every Finesse, IdS and CUIC node of the map's
/// cluster with its rollout: the certificates of its HTTPS map hosts imported into tomcat-trust
/// first (read from the hosts now; a host whose certificate cannot be read refuses the plan),
/// then the config URIs, then the update frequency. Returns the plan's id.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), id))]
pub async fn plan(services: &Services, context: &RequestContext, id: i64) -> Result<i64, Error> {
    context.require_admin()?;
    let map = view(&mut *services.pool.acquire().await?, id).await?;
    let cluster_id = map
        .cluster_id
        .ok_or(crate::proxy_maps::Refused::NoCluster)?;
    if map.published_version.is_none() {
        return Err(crate::proxy_maps::Refused::NothingPublished.into());
    }
    let settings = load(&mut *services.pool.acquire().await?, services, id).await?;
    let mut trust = Vec::new();
    for uri in &settings.config_uris {
        if let Some((host, port)) = https_host(uri) {
            trust.extend(host_certificates(services, &host, port).await?);
        }
    }
    let mut tx = services.pool.begin().await?;
    // Every node of the cluster that reads maps is to hold the same.
    let wanted = desired(&settings.rollout(), &trust);
    let planned: Vec<PlanNode> = map_nodes(&mut *tx, cluster_id)
        .await?
        .into_iter()
        .map(|n| PlanNode {
            node_id: n.id,
            desired: wanted.clone(),
        })
        .collect();
    if planned.is_empty() {
        return Err(crate::proxy_maps::Refused::NoFetchingNodes.into());
    }
    let plan_id = crate::reconcile::store::create(
        &mut tx,
        context,
        &super::subject::ProxyMapRollout,
        id,
        settings.version,
        &planned,
    )
    .await?;
    record(
        &mut tx,
        context
            .event("plan.create", format!("proxy_map:{id}"))
            .detail(format!(
                "plan {plan_id} of the rollout of {} (settings version {}) for {} nodes",
                map.name,
                settings.version,
                planned.len()
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(plan_id)
}

/// The chain `host:port` serves, as certificates to trust; refused when it cannot be read (the nodes
/// would refuse the URI for the same reason).
async fn host_certificates(
    services: &Services,
    host: &str,
    port: u16,
) -> Result<Vec<crate::reconcile::Trusted>, Error> {
    let target = Target {
        fqdn: host.to_owned(),
        address: None,
        port,
    };
    let handshake = services
        .scans
        .prober()
        .probe(&target, None)
        .await
        .map_err(|e| crate::proxy_maps::Refused::HostUnreadable {
            host: host.to_owned(),
            port,
            why: e.message,
        })?;
    Ok(handshake
        .chain
        .iter()
        .map(|der| crate::reconcile::Trusted {
            label: certificate_label(der),
            der: der.clone(),
        })
        .collect())
}

/// The nodes of `cluster_id` that read proxy maps, by FQDN.
pub async fn map_nodes(
    db: impl sqlx::PgExecutor<'_>,
    cluster_id: i64,
) -> Result<Vec<MapNode>, Error> {
    let rows = sqlx::query!(
        "select id, fqdn, kind from node where cluster_id = $1 order by fqdn",
        cluster_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let kind = NodeKind::parse(&r.kind).ok().filter(|k| reads_map(*k))?;
            Some(MapNode {
                id: r.id,
                fqdn: r.fqdn,
                kind,
            })
        })
        .collect())
}

/// The map a node holds now (`show-proxy-config-map`), one `internal=external` line each: to
/// start a map from what a node has.
pub async fn node_map(
    services: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<String, Error> {
    context.require_admin()?;
    let read = crate::appliances::store::with_node(
        services,
        context,
        node_id,
        crate::appliances::store::Purpose::Change,
        |driver| async move { vos::driver::Driver::proxy_config_map(&*driver).await },
    )
    .await?
    .map_err(|failure| crate::proxy_maps::Refused::NodeMapUnreadable(failure.to_string()))?;
    Ok(read
        .into_iter()
        .map(|(internal, external)| format!("{internal}={external}\n"))
        .collect())
}
