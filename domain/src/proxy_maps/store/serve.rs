//! The published map as the nodes fetch it (`/maps/<slug>/proxymap.txt`, no session), every
//! fetch recorded by source address, and the propagation view: what each node of the cluster
//! holds, read over SSH, against what is published.

pub use super::names::Names;
use super::rollout::served_at;
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::inventory::model::NodeKind;
use crate::proxy_maps::items::reads_map;
use crate::proxy_maps::rollout::{
    propagation, same_map, NodePropagation, Propagation, PropagationView,
};
use crate::reconcile::store::CONCURRENCY;
use crate::{Error, Services};
use futures::StreamExt;
use sqlx::PgPool;
use std::net::IpAddr;
use time::OffsetDateTime;
use vos::driver::Driver;

/// A map's published version as served.
#[derive(Debug, Clone)]
pub struct Published {
    pub map_id: i64,
    pub version: i32,
    pub published_at: OffsetDateTime,
    /// The file: one `internal:port=external:port` line per mapping (comments left out).
    pub text: String,
    /// Only the inventory's addresses may fetch it.
    pub restricted: bool,
    pub cluster_id: Option<i64>,
}

impl Published {
    /// A strong validator: the map and the version (a republished older version is another
    /// representation, with its own `Last-Modified`, but the same bytes and so the same tag).
    pub fn etag(&self) -> String {
        format!("\"{}-{}\"", self.map_id, self.version)
    }
}

/// The published version of the map at `slug`; `NotFound` when there is no such map or
/// nothing of it is published (drafts are never served).
pub async fn published(pool: &PgPool, slug: &str) -> Result<Published, Error> {
    let row = sqlx::query!(
        r#"select m.id, m.published_version as "version!", m.published_at as "published_at!",
                  m.restrict_to_inventory, m.cluster_id, v.text
           from proxy_map m join proxy_map_version v on v.map_id = m.id and v.version = m.published_version
           where m.slug = $1"#,
        slug
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| crate::proxy_maps::Refused::NotPublished(slug.to_owned()))?;
    Ok(Published {
        map_id: row.id,
        version: row.version,
        published_at: row.published_at,
        text: proxymap::parse(&row.text).render(),
        restricted: row.restrict_to_inventory,
        cluster_id: row.cluster_id,
    })
}

/// The node of the map's cluster at `source` (of the whole inventory for a map of no
/// cluster): one whose management address it is; for a restricted map also one without an
/// address whose FQDN resolves to it (through `names`). An unrestricted map resolves nothing.
pub async fn node_at(
    pool: &PgPool,
    source: IpAddr,
    published: &Published,
    names: &Names,
) -> Result<Option<i64>, Error> {
    let text = source.to_string();
    if let Some(id) = sqlx::query_scalar!(
        "select id from node where address = $1 and ($2::bigint is null or cluster_id = $2) order by id limit 1",
        text,
        published.cluster_id
    )
    .fetch_optional(pool)
    .await?
    {
        return Ok(Some(id));
    }
    let (true, Some(cluster_id)) = (published.restricted, published.cluster_id) else {
        return Ok(None);
    };
    let nodes = sqlx::query!(
        "select id, fqdn from node where cluster_id = $1 and address is null order by id",
        cluster_id
    )
    .fetch_all(pool)
    .await?;
    // All at once, 2 s at most each: a name that does not resolve must not hold the answer up
    // once per node.
    let found = futures::future::join_all(nodes.iter().map(|n| names.resolve(&n.fqdn))).await;
    Ok(nodes
        .iter()
        .zip(found)
        .find(|(_, addresses)| addresses.contains(&source))
        .map(|(node, _)| node.id))
}

/// Records one fetch of `map_id`'s content from `source` (a GET answered with the map: 304s
/// and HEADs send no content and are not recorded, so the status kept is always 200).
pub async fn record_fetch(
    pool: &PgPool,
    map_id: i64,
    source: IpAddr,
    node_id: Option<i64>,
    version: i32,
) -> Result<(), Error> {
    sqlx::query!(
        "insert into proxy_map_fetch (map_id, source, node_id, version, status) values ($1, $2, $3, $4, $5)
         on conflict (map_id, source) do update
         set node_id = coalesce($3, proxy_map_fetch.node_id), version = $4, status = $5,
             fetches = proxy_map_fetch.fetches + 1, last_at = now()",
        map_id,
        source.to_string(),
        node_id,
        version,
        200_i16
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// What one node showed: its config URIs, update frequency and map.
type Read = (Vec<String>, Option<u32>, Vec<(String, String)>);

/// Reads every Finesse, IdS and CUIC node of the map's cluster and says where each
/// stands with the published version.
pub async fn propagation_of(
    services: &Services,
    context: &RequestContext,
    id: i64,
) -> Result<PropagationView, Error> {
    context.require_reader()?;
    let pool = &services.pool;
    let map = sqlx::query!(
        "select slug, cluster_id, published_version, published_at, config_uris, update_frequency from proxy_map where id = $1",
        id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::proxy_maps::Refused::NoSuchMap(id))?;
    let mut ours = map.config_uris.clone();
    ours.push(served_at(services, &map.slug));
    let nodes = sqlx::query!(
        r#"select n.id, n.fqdn, n.kind, f.version as "fetched_version?", f.last_at as "fetched_at?"
           from node n left join lateral (
               select version, last_at from proxy_map_fetch f
               where f.map_id = $2 and (f.node_id = n.id or f.source = n.address)
               order by last_at desc limit 1) f on true
           where n.cluster_id = $1 order by n.fqdn"#,
        map.cluster_id,
        id
    )
    .fetch_all(pool)
    .await?;
    let nodes: Vec<_> = nodes
        .into_iter()
        .filter_map(|n| {
            let kind = NodeKind::parse(&n.kind).ok().filter(|k| reads_map(*k))?;
            Some((n, kind))
        })
        .collect();
    // The versions a node may be found holding: the latest 50 and the published one, however
    // old (none to compare when no node reads the map).
    let versions = match nodes.is_empty() {
        true => Vec::new(),
        false => sqlx::query!(
            "select version, text from proxy_map_version where map_id = $1
               and (version = $2 or version > (select max(version) - 50 from proxy_map_version where map_id = $1))
             order by version desc",
            id,
            map.published_version
        )
        .fetch_all(pool)
        .await?,
    };
    let lines = |text: &str| -> Vec<(String, String)> {
        vos::parse_proxy_config_map(&proxymap::parse(text).render()).unwrap_or_default()
    };
    let saved: Vec<(i32, Vec<(String, String)>)> = versions
        .iter()
        .map(|v| (v.version, lines(&v.text)))
        .collect();
    let published: Option<&Vec<(String, String)>> = map
        .published_version
        .and_then(|p| saved.iter().find(|(v, _)| *v == p).map(|(_, l)| l));
    let ids: Vec<i64> = nodes.iter().map(|(node, _)| node.id).collect();
    let reads: Vec<Result<Read, String>> = futures::stream::iter(ids)
        .map(|node_id| async move {
            let read = crate::appliances::store::with_node(
                services,
                context,
                node_id,
                crate::appliances::store::Purpose::Read,
                |driver| async move {
                    let uris = driver.config_uris().await?;
                    let minutes = driver.update_frequency().await?;
                    let held = driver.proxy_config_map().await?;
                    Ok((uris, minutes, held))
                },
            )
            .await;
            match read {
                Ok(Ok(read)) => Ok(read),
                Ok(Err(failure)) => Err(failure.to_string()),
                Err(error) => Err(error.to_string()),
            }
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let now = OffsetDateTime::now_utc();
    let views = nodes
        .into_iter()
        .zip(reads)
        .map(|((node, kind), read)| {
            let mut view = NodePropagation {
                node_id: node.id,
                fqdn: node.fqdn,
                kind: kind.label().into(),
                state: Propagation::Unknown,
                detail: String::new(),
                config_uris: Vec::new(),
                update_frequency: None,
                holds_version: None,
                fetched_version: node.fetched_version,
                fetched_at: node.fetched_at.map(rfc3339),
            };
            let (uris, minutes, held) = match read {
                Ok(read) => read,
                Err(why) => {
                    view.detail = format!("could not be read: {why}");
                    return view;
                }
            };
            let configured = uris.iter().any(|u| ours.contains(u));
            // The published version when the node's map is it (a later draft may map the same).
            let holds_published = published.is_some_and(|p| same_map(p, &held));
            let holds = match holds_published {
                true => map.published_version,
                false => saved
                    .iter()
                    .find(|(_, l)| same_map(l, &held))
                    .map(|(v, _)| *v),
            };
            let waited = map.published_at.map(|at| now - at);
            let due = time::Duration::minutes(i64::from(minutes.unwrap_or(1)) + 1);
            view.state = propagation(configured, holds_published, waited.is_none_or(|w| w > due));
            view.detail = detail(&view, holds, map.published_version, waited, &held);
            view.config_uris = uris;
            view.update_frequency = minutes;
            view.holds_version = holds;
            view
        })
        .collect();
    Ok(PropagationView {
        published_version: map.published_version,
        published_at: map.published_at.map(rfc3339),
        nodes: views,
        checked_at: rfc3339(now),
    })
}

fn detail(
    view: &NodePropagation,
    holds: Option<i32>,
    published: Option<i32>,
    waited: Option<time::Duration>,
    held: &[(String, String)],
) -> String {
    let holding = match (holds, held.is_empty()) {
        (_, true) => "holds no map".to_owned(),
        (Some(v), _) => format!("holds version {v}"),
        (None, _) => format!(
            "holds a map of {} lines that is no saved version",
            held.len()
        ),
    };
    let Some(published) = published else {
        return format!("{holding}; nothing is published yet");
    };
    let ago = waited.map_or(String::new(), |w| {
        format!(" {} minutes ago", w.whole_minutes())
    });
    match view.state {
        Propagation::Propagated => format!("holds version {published}, the published one"),
        Propagation::NotConfigured => format!("{holding}; none of its config URIs is this map's"),
        Propagation::Pending => format!(
            "{holding}; version {published} was published{ago} and is fetched within its update frequency"
        ),
        Propagation::Stale => {
            let fetched = match (view.fetched_version, &view.fetched_at) {
                (Some(v), Some(at)) => format!("its last fetch from this console took version {v} at {at}"),
                _ => "no fetch from its address is recorded".to_owned(),
            };
            format!("{holding}; version {published} was published{ago}; {fetched}")
        }
        Propagation::Unknown => holding,
    }
}
