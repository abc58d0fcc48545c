//! Server functions for proxy maps: the list, one map's page (its versions, its cluster's
//! nodes and what the inventory checks need), creating, saving, publishing, and importing a
//! node's map.

use crate::error::AppError;
use domain::proxy_maps::rollout::{PropagationView, RolloutView};
use domain::proxy_maps::{MapNode, MapVersion, MapView};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {
    crate::state::{app_state, request_context},
    domain::proxy_maps::rollout::Rollout,
    domain::proxy_maps::store as maps,
};

/// The maps, and the clusters a new one may belong to (id, name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapsPage {
    pub maps: Vec<MapView>,
    pub clusters: Vec<(i64, String)>,
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_maps")]
pub async fn load_maps() -> Result<MapsPage, AppError> {
    let app = app_state()?;
    let context = request_context();
    let maps = maps::list(&app.pool, &context).await?;
    let clusters = domain::inventory::store::list_clusters(&app.pool, &context)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    Ok(MapsPage { maps, clusters })
}

/// `cluster_id`: empty for a map checked alone.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_map_create")]
pub async fn create_map(name: String, cluster_id: String) -> Result<MapView, AppError> {
    let app = app_state()?;
    let cluster_id = match cluster_id.trim() {
        "" => None,
        id => Some(
            id.parse()
                .map_err(|_| AppError::unreadable(format!("'{id}' is not a cluster id")))?,
        ),
    };
    let new = domain::proxy_maps::NewMap {
        name,
        slug: None,
        cluster_id,
    };
    Ok(maps::create(&app.pool, &request_context(), new).await?)
}

/// One map's page: the map, the newest version's text (empty before the first save), every
/// version without its text (newest first: a long map's history would otherwise travel with
/// every visit; [`load_version`] and [`compare_versions`] fetch what is asked), its cluster's
/// nodes that read maps, and the inventory, proxies and certificates its text is checked
/// against (`None`: no cluster), so the browser checks as the server does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapPage {
    pub map: MapView,
    pub cluster: Option<String>,
    pub latest: String,
    pub versions: Vec<VersionRow>,
    pub nodes: Vec<MapNode>,
    pub context: Option<proxymap::Context>,
    pub rollout: RolloutView,
}

/// A version as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    pub version: i32,
    pub author: String,
    pub comment: String,
    pub saved_at: String,
    pub mappings: usize,
}

impl From<MapVersion> for VersionRow {
    fn from(v: MapVersion) -> Self {
        Self {
            version: v.version,
            author: v.author,
            comment: v.comment,
            saved_at: v.saved_at,
            mappings: v.mappings,
        }
    }
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_map")]
pub async fn load_map(id: i64) -> Result<MapPage, AppError> {
    let app = app_state()?;
    let context = request_context();
    let map = maps::get(&app.pool, &context, id).await?;
    let versions = maps::versions(&app.pool, &context, id).await?;
    let (cluster, nodes, checks) = match map.cluster_id {
        Some(cluster_id) => {
            let name = domain::inventory::store::list_clusters(&app.pool, &context)
                .await?
                .into_iter()
                .find(|c| c.id == cluster_id)
                .map(|c| c.name);
            (
                name,
                maps::rollout::map_nodes(&app.pool, cluster_id).await?,
                Some(maps::checked_against(&app.pool, cluster_id).await?),
            )
        }
        None => (None, Vec::new(), None),
    };
    let rollout = maps::rollout::get(&app, &context, id).await?;
    let latest = versions.first().map(|v| v.text.clone()).unwrap_or_default();
    Ok(MapPage {
        map,
        cluster,
        latest,
        versions: versions.into_iter().map(VersionRow::from).collect(),
        nodes,
        context: checks,
        rollout,
    })
}

/// One version's text, to load into the editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionText {
    pub version: i32,
    pub text: String,
}

#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_map_version")]
pub async fn load_version(id: i64, version: i32) -> Result<VersionText, AppError> {
    let app = app_state()?;
    let text = maps::version_text(&app.pool, &request_context(), id, version).await?;
    Ok(VersionText { version, text })
}

/// The mappings that differ between two versions (`proxymap::diff`: `+` added, `-` removed,
/// `~` changed).
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_map_compare")]
pub async fn compare_versions(id: i64, from: i32, to: i32) -> Result<Vec<String>, AppError> {
    let app = app_state()?;
    let context = request_context();
    let (a, b) = (
        maps::version_text(&app.pool, &context, id, from).await?,
        maps::version_text(&app.pool, &context, id, to).await?,
    );
    Ok(proxymap::diff(&proxymap::parse(&a), &proxymap::parse(&b)))
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_map_save")]
pub async fn save_map(
    id: i64,
    text: String,
    base_version: i32,
    comment: String,
) -> Result<MapView, AppError> {
    let app = app_state()?;
    let save = domain::proxy_maps::SaveMap {
        text,
        base_version,
        comment,
    };
    Ok(maps::save(&app.pool, &request_context(), id, save).await?)
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_map_publish")]
pub async fn publish_map(id: i64, version: i32) -> Result<MapView, AppError> {
    let app = app_state()?;
    Ok(maps::publish(&app.pool, &request_context(), id, version).await?)
}

/// What a node's `show-proxy-config-map` says now, as map text.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_map_of_node")]
pub async fn node_map(node_id: i64) -> Result<String, AppError> {
    let app = app_state()?;
    Ok(maps::rollout::node_map(&app, &request_context(), node_id).await?)
}

/// The rollout settings from the map page's form: the first and the fallback URI (either may
/// be empty), minutes between fetches, and the fetch restriction (a checkbox: present when
/// ticked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutForm {
    pub first_uri: String,
    pub fallback_uri: String,
    pub update_frequency: String,
    pub restrict_to_inventory: Option<String>,
}

#[cfg(feature = "ssr")]
impl RolloutForm {
    fn rollout(self) -> Result<Rollout, AppError> {
        let update_frequency = self.update_frequency.trim().parse().map_err(|_| {
            AppError::field("update_frequency", "a number of minutes from 1 to 1440")
        })?;
        Ok(Rollout {
            config_uris: [self.first_uri, self.fallback_uri]
                .iter()
                .map(|uri| uri.trim().to_owned())
                .filter(|uri| !uri.is_empty())
                .collect(),
            update_frequency,
            restrict_to_inventory: self.restrict_to_inventory.is_some(),
        })
    }
}

#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_map_rollout")]
pub async fn save_rollout(id: i64, form: RolloutForm) -> Result<RolloutView, AppError> {
    let app = app_state()?;
    Ok(maps::rollout::set(&app, &request_context(), id, form.rollout()?).await?)
}

/// Plans the rollout of the form's settings (saved first when they differ from the saved ones)
/// to the cluster's nodes; the plan's id.
#[server(output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_map_plan")]
pub async fn plan_rollout(id: i64, form: RolloutForm) -> Result<i64, AppError> {
    let app = app_state()?;
    let context = request_context();
    let rollout = form.rollout()?;
    let saved = maps::rollout::get(&app, &context, id).await?.rollout() != rollout;
    if saved {
        maps::rollout::set(&app, &context, id, rollout).await?;
    }
    // A refused plan after the form was saved says so: the settings are not lost.
    maps::rollout::plan(&app, &context, id)
        .await
        .map_err(|e| match AppError::from(e) {
            refused if saved && refused.failure == crate::error::Failure::Conflict => {
                AppError::new(
                    refused.failure,
                    format!(
                        "The rollout settings were saved, but no plan was made: {}",
                        refused.message
                    ),
                )
            }
            other => other,
        })
}

/// Every node's propagation, read from the nodes now.
#[server(input = server_fn::codec::GetUrl, output = crate::server_fns::Answer, prefix = "/api/fn", endpoint = "proxy_map_propagation")]
pub async fn load_propagation(id: i64) -> Result<PropagationView, AppError> {
    let app = app_state()?;
    Ok(maps::serve::propagation_of(&app, &request_context(), id).await?)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn form(first: &str, fallback: &str, frequency: &str, restrict: bool) -> RolloutForm {
        RolloutForm {
            first_uri: first.to_owned(),
            fallback_uri: fallback.to_owned(),
            update_frequency: frequency.to_owned(),
            restrict_to_inventory: restrict.then(|| "on".to_owned()),
        }
    }

    #[test]
    fn the_form_becomes_the_rollout_it_shows() {
        let rollout = form(" https://a.example.com/m.txt ", "", " 5 ", true)
            .rollout()
            .unwrap();
        assert_eq!(rollout.config_uris, ["https://a.example.com/m.txt"]);
        assert_eq!(rollout.update_frequency, 5);
        assert!(rollout.restrict_to_inventory);
        let both = form("", "http://b.example.com/m.txt", "1", false)
            .rollout()
            .unwrap();
        assert_eq!(both.config_uris, ["http://b.example.com/m.txt"]);
        assert!(!both.restrict_to_inventory);
    }

    #[test]
    fn a_frequency_that_is_no_number_is_a_field_error() {
        for frequency in ["", "abc", "-5", "2.5"] {
            match form("", "", frequency, false).rollout() {
                Err(error) if error.is_invalid() => assert_eq!(
                    error.fields["update_frequency"],
                    ["a number of minutes from 1 to 1440"],
                    "{frequency:?}"
                ),
                other => panic!("{frequency:?}: {other:?}"),
            }
        }
    }
}
