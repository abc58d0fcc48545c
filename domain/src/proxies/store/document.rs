//! What a pair's instances serve: the document made from the pair's settings, its map's
//! published version and the trust the console knows, and each instance's overlay over it.

use super::super::Refused;
use crate::inventory::model::NodeKind;
use crate::Error;
use proxyconf::{Component, Config, Route};
use sqlx::PgPool;
use std::net::{IpAddr, SocketAddr};

/// `target` with `patch` applied (a JSON merge patch, RFC 7386: objects merge, `null`
/// removes, anything else replaces).
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(object) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            object.remove(key);
        } else {
            merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Instance `name`'s document: the pair's with its overlay.
/// Instance `name`'s document: the pair's with its overlay.
pub(super) fn for_instance(
    document: &Config,
    overlay: &serde_json::Value,
    name: &str,
) -> Result<Config, Error> {
    let mut value = serde_json::to_value(document).map_err(Error::internal)?;
    merge_patch(&mut value, overlay);
    serde_json::from_value(value).map_err(|e| {
        Error::field(
            "overlays",
            format!("{name}'s overlay does not make a document: {e}"),
        )
    })
}

/// What an overlay may change: where the instance listens and reports, who it is upstream and
/// toward its peer. Routes, trust, limits and the version stay the pair's (the console's).
const OVERLAY_KEYS: [&str; 4] = ["listeners", "upstream", "status", "peer"];
const OVERLAY_UPSTREAM_KEYS: [&str; 2] = ["bind", "client_certificate"];
const OVERLAY_STATUS_KEYS: [&str; 2] = ["address", "proxymap_address"];

/// Why `overlay` is not an overlay, if it is not.
pub(super) fn overlay_problem(overlay: &serde_json::Value) -> Option<String> {
    let object = overlay.as_object()?;
    for (key, value) in object {
        let allowed: &[&str] = match key.as_str() {
            "upstream" => &OVERLAY_UPSTREAM_KEYS,
            "status" => &OVERLAY_STATUS_KEYS,
            k if OVERLAY_KEYS.contains(&k) => continue,
            other => {
                return Some(format!(
                    "{other} is the pair's, not an instance's: an overlay sets only {}",
                    OVERLAY_KEYS.join(", ")
                ))
            }
        };
        if let Some(inner) = value.as_object() {
            if let Some(bad) = inner.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Some(format!(
                    "{key}.{bad} is the pair's: an overlay sets only {key}.{}",
                    allowed.join(", {key}.")
                ));
            }
        }
    }
    None
}
/// The document for `version`: `settings` with the routes of the map's published version
/// (each with the component and address the inventory gives its internal host), the trust
/// (the map cluster's CAs and the certificates its nodes were last seen serving) and the map.
pub(super) async fn document(
    pool: &PgPool,
    pair: &str,
    map_id: i64,
    mut config: Config,
    version: u64,
) -> Result<Config, Error> {
    let map = sqlx::query!(
        r#"select m.name, m.cluster_id, v.text as "text?"
           from proxy_map m left join proxy_map_version v
             on v.map_id = m.id and v.version = m.published_version
           where m.id = $1"#,
        map_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Refused::NoSuchMap(map_id))?;
    let Some(text) = map.text else {
        return Err(Refused::NotPublished(map.name).into());
    };
    let parsed = proxymap::parse(&text);
    let nodes = sqlx::query!(
        "select id, fqdn, kind, address from node where cluster_id = $1",
        map.cluster_id
    )
    .fetch_all(pool)
    .await?;
    let mut routes = Vec::new();
    let mut node_ids = Vec::new();
    for m in &parsed.mappings {
        let host = m.internal.host.folded();
        let node = nodes.iter().find(|n| n.fqdn.eq_ignore_ascii_case(&host));
        let component = match node.and_then(|n| NodeKind::parse(&n.kind).ok()) {
            Some(NodeKind::Finesse) => Component::Finesse,
            Some(NodeKind::Ids) => Component::Ids,
            Some(NodeKind::Idp) => Component::Idp,
            Some(NodeKind::Cuic) => Component::Cuic,
            Some(NodeKind::LiveData) => Component::LiveData,
            Some(NodeKind::SocialMiner) => Component::Chat,
            _ => Component::Other,
        };
        let address = node
            .and_then(|n| n.address.as_deref())
            .and_then(|a| a.parse::<IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, m.internal.port));
        if let Some(n) = node {
            node_ids.push(n.id);
        }
        routes.push(Route {
            external: m.external.clone(),
            internal: m.internal.clone(),
            address,
            component,
        });
    }
    let mut trust: Vec<Vec<u8>> = sqlx::query_scalar!(
        "select der from cluster_ca where cluster_id = $1 order by sha256",
        map.cluster_id
    )
    .fetch_all(pool)
    .await?;
    trust.extend(
        sqlx::query_scalar!(
            "select distinct c.der from endpoint e
             join lateral (select p.id from probe p where p.endpoint_id = e.id and p.ok
                           order by p.probed_at desc limit 1) last on true
             join probe_chain pc on pc.probe_id = last.id
             join certificate c on c.sha256 = pc.sha256
             where e.node_id = any($1)",
            &node_ids
        )
        .fetch_all(pool)
        .await?,
    );
    trust.sort();
    trust.dedup();
    config.schema = proxyconf::SCHEMA;
    config.version = version;
    config.pair = pair.to_owned();
    config.routes = routes;
    config
        .upstream
        .trust
        .extend(trust.iter().map(|der| certs::analyze::pem(der)));
    config.status.proxymap = parsed.render();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn a_merge_patch_merges_objects_replaces_the_rest_and_removes_nulls() {
        let mut doc = json!({"listeners": [{"address": "0.0.0.0:443"}], "upstream": {"bind": "10.0.0.1", "trust": ["x"]}, "pair": "p"});
        merge_patch(
            &mut doc,
            &json!({"listeners": [{"address": "10.0.0.2:443"}], "upstream": {"bind": "10.0.0.2"}, "pair": null}),
        );
        assert_eq!(
            doc,
            json!({"listeners": [{"address": "10.0.0.2:443"}], "upstream": {"bind": "10.0.0.2", "trust": ["x"]}})
        );
        merge_patch(&mut doc, &json!({}));
        assert_eq!(doc["upstream"]["trust"], json!(["x"]));
    }
}
