//! What a cluster's map is checked against (its nodes' endpoints, its proxies' public names,
//! the names their served certificates cover), and validating a text.

use crate::auth::principal::RequestContext;
use crate::inventory::model::NodeKind;
use crate::proxy_maps::{expected_ports, Validation};
use crate::Error;
use sqlx::PgPool;

/// Checks `bytes` as a proxy map; with `cluster_id`, against that cluster too.
pub async fn validate(
    pool: &PgPool,
    context: &RequestContext,
    bytes: &[u8],
    cluster_id: Option<i64>,
) -> Result<Validation, Error> {
    context.require_reader()?;
    let mut map = proxymap::parse_bytes(bytes);
    if let Some(cluster_id) = cluster_id {
        let against = checked_against(pool, cluster_id).await?;
        proxymap::check_with(&mut map, &against);
    }
    Ok(Validation::of(&map))
}

/// What a cluster's map is checked against.
pub async fn checked_against(pool: &PgPool, cluster_id: i64) -> Result<proxymap::Context, Error> {
    sqlx::query_scalar!("select id from cluster where id = $1", cluster_id)
        .fetch_optional(pool)
        .await?
        .ok_or(crate::inventory::Refused::NoSuchCluster(cluster_id))?;
    let nodes = sqlx::query!(
        r#"select n.fqdn, n.address, n.kind,
                  array(select e.port from endpoint e where e.node_id = n.id order by e.port) as "ports!"
           from node n where n.cluster_id = $1 order by n.fqdn"#,
        cluster_id
    )
    .fetch_all(pool)
    .await?;
    let mut endpoints = Vec::new();
    let mut proxy_names = Vec::new();
    for node in &nodes {
        let Ok(kind) = NodeKind::parse(&node.kind) else {
            continue;
        };
        if kind == NodeKind::ReverseProxy {
            proxy_names.push(node.fqdn.clone());
            continue;
        }
        let label = format!("{} ({})", node.fqdn, kind.label());
        let expected = expected_ports(kind);
        let mut ports: Vec<u16> = node
            .ports
            .iter()
            .filter_map(|p| u16::try_from(*p).ok())
            .chain(expected.iter().copied())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        for port in ports {
            let hosts = std::iter::once(node.fqdn.as_str()).chain(node.address.as_deref());
            for (i, host) in hosts.enumerate() {
                endpoints.push(proxymap::Endpoint {
                    host: host.to_owned(),
                    port,
                    label: label.clone(),
                    // The name is expected; the address is known, not required as well.
                    expected: i == 0 && expected.contains(&port),
                });
            }
        }
    }
    // The public names the access policy trusts (seed 004: public and private names).
    if let Some(document) = sqlx::query_scalar!(
        "select v.document from access_policy_cluster c join access_policy_version v on v.policy_id = c.policy_id
         where c.cluster_id = $1 order by v.version desc limit 1",
        cluster_id
    )
    .fetch_optional(pool)
    .await?
    {
        if let Ok(policy) = serde_json::from_value::<crate::access_policy::AccessPolicy>(document) {
            proxy_names.extend(
                policy
                    .allowed_hosts()
                    .into_iter()
                    .filter(|h| h.parse::<std::net::IpAddr>().is_err()),
            );
        }
    }
    Ok(proxymap::Context {
        endpoints,
        proxy_names,
        certificate_names: certificate_names(pool, cluster_id).await?,
    })
}

/// The DNS names the leaf certificates the cluster's reverse proxies last served cover; `None`
/// when none of them has been scanned yet.
async fn certificate_names(pool: &PgPool, cluster_id: i64) -> Result<Option<Vec<String>>, Error> {
    let leaves = sqlx::query_scalar!(
        r#"select c.info as "info!"
           from node n
           join endpoint e on e.node_id = n.id
           join lateral (select p.id from probe p where p.endpoint_id = e.id and p.ok
                         order by p.probed_at desc limit 1) last on true
           join probe_chain pc on pc.probe_id = last.id and pc.position = 0
           join certificate c on c.sha256 = pc.sha256
           where n.cluster_id = $1 and n.kind = 'reverse_proxy'"#,
        cluster_id
    )
    .fetch_all(pool)
    .await?;
    if leaves.is_empty() {
        return Ok(None);
    }
    let mut names = Vec::new();
    for info in leaves {
        if let Ok(info) = serde_json::from_value::<certs::CertInfo>(info) {
            names.extend(info.san_dns);
            names.extend(info.subject_cn.filter(|_| !info.has_san));
        }
    }
    Ok(Some(names))
}
