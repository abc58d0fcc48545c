//! Proxy maps (`proxymap.txt`, DOMAIN.md §3): what a map's text means for a cluster. The
//! parsing and checking is the `proxymap` crate's; here are the inventory's part of it (which
//! endpoints a cluster's map must have lines for) and the report the pages and the REST API show.

#[cfg(feature = "server")]
pub mod drive;
pub mod items;
pub mod rollout;
#[cfg(feature = "server")]
pub mod store;

#[cfg(test)]
mod tests;

use crate::inventory::model::NodeKind;
use serde::{Deserialize, Serialize};

/// A map's rollout's name as a subject of the reconciliation engine (plans, drift).
pub const SUBJECT: &str = "proxy_map";

/// The internal ports a map needs a line for, per kind (DOMAIN.md §3: Finesse 8445, IdS 8553,
/// CUIC 8444 and 8447, LiveData 12005 and 12008). IM&P's 5280 only when chat goes through
/// the proxy, and the IdP only when its name differs: neither is required.
pub fn expected_ports(kind: NodeKind) -> &'static [u16] {
    match kind {
        NodeKind::Finesse => &[8445],
        NodeKind::Ids => &[8553],
        NodeKind::Cuic => &[8444, 8447],
        NodeKind::LiveData => &[12005, 12008],
        _ => &[],
    }
}

/// A proxy map as the pages and `GET /api/v1/proxymaps/{id}` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MapView {
    pub id: i64,
    pub name: String,
    /// The served file's path is `/maps/<slug>/proxymap.txt`.
    pub slug: String,
    pub path: String,
    /// The cluster it is checked against and rolled out to.
    pub cluster_id: Option<i64>,
    /// 0 before the first save.
    pub latest_version: i32,
    /// `None`: nothing published yet (drafts are never served).
    pub published_version: Option<i32>,
    pub published_by: Option<String>,
    pub published_at: Option<String>,
}

/// A node of a map's cluster that reads proxy maps (for generating a map, the table view, and
/// importing a node's map).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapNode {
    pub id: i64,
    pub fqdn: String,
    pub kind: NodeKind,
}

/// A complete map for `nodes` from a naming pattern for the external side: `{host}` is the
/// node's first label (its whole name with dots as hyphens when another node has the same first
/// label, so two nodes never share an external name), `{port}` the internal port (e.g.
/// `{host}.example.com:{port}`); one line per node and port a map needs ([`expected_ports`]).
pub fn generate(nodes: &[MapNode], pattern: &str) -> String {
    let first = |fqdn: &str| fqdn.split('.').next().unwrap_or(fqdn).to_ascii_lowercase();
    let mut text = String::new();
    for node in nodes {
        let label = first(&node.fqdn);
        let shared = nodes.iter().filter(|n| first(&n.fqdn) == label).count() > 1;
        let host = if shared {
            node.fqdn.to_ascii_lowercase().replace('.', "-")
        } else {
            label
        };
        for port in expected_ports(node.kind) {
            let external = pattern
                .replace("{host}", &host)
                .replace("{port}", &port.to_string());
            text.push_str(&format!("{}:{port}={external}\n", node.fqdn));
        }
    }
    text
}

/// What the admins need next from a map: the SSO redirect URIs the IdS must allow (one per
/// Finesse line: `https://<external host:port>/desktop/sso/authcode`, DOMAIN.md §3) and the
/// external host names the proxies need certificates for, each once, in map order.
pub fn derived(map: &proxymap::Map, nodes: &[MapNode]) -> (Vec<String>, Vec<String>) {
    let mut redirects = Vec::new();
    let mut names = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in &map.mappings {
        let internal = m.internal.host.to_string();
        let finesse = nodes
            .iter()
            .find(|n| n.fqdn.eq_ignore_ascii_case(&internal))
            .map_or(m.internal.port == 8445, |n| n.kind == NodeKind::Finesse);
        if finesse {
            let uri = format!("https://{}/desktop/sso/authcode", m.external);
            if seen.insert(uri.clone()) {
                redirects.push(uri);
            }
        }
        let name = m.external.host.to_string();
        if seen.insert(name.clone()) {
            names.push(name);
        }
    }
    (redirects, names)
}

/// `POST /api/v1/proxymaps`: a new map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMap {
    pub name: String,
    /// Lowercase letters, digits and hyphens; from the name when left out.
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub cluster_id: Option<i64>,
}

/// One saved version (its text with `GET .../versions/{version}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MapVersion {
    pub version: i32,
    pub author: String,
    pub comment: String,
    pub saved_at: String,
    pub mappings: usize,
    pub text: String,
}

/// `POST /api/v1/proxymaps/{id}/versions`: the new text, the version it was edited from, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SaveMap {
    pub text: String,
    /// The version the edit started from (0 for the first).
    pub base_version: i32,
    #[serde(default)]
    pub comment: String,
}

/// A map's slug from its name: lowercase letters and digits, other runs become one hyphen.
pub fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    slug.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// Whether `slug` may name a served map (`^[a-z0-9][a-z0-9-]{0,62}$`).
pub fn slug_is_valid(slug: &str) -> bool {
    let bytes = slug.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// One problem of a map (a [`proxymap::Diagnostic`] as the API shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DiagnosticView {
    /// 1-based; 0: the map as a whole (a line that is missing).
    pub line: usize,
    /// 1-based, in characters; 0 with line 0.
    pub column: usize,
    /// `error` or `warning`.
    pub level: String,
    /// Stable: what tools match on (README, "Proxy maps").
    pub code: String,
    pub message: String,
}

impl From<&proxymap::Diagnostic> for DiagnosticView {
    fn from(d: &proxymap::Diagnostic) -> Self {
        Self {
            line: d.line,
            column: d.column,
            level: d.level.as_str().into(),
            code: d.code.as_str().into(),
            message: d.message.clone(),
        }
    }
}

/// What a map's text is: how many mappings, what is wrong, and the file the nodes would get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Validation {
    /// Whether it may be published (no errors; warnings allowed).
    pub valid: bool,
    pub mappings: usize,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<DiagnosticView>,
    /// The file the nodes fetch: one `internal:port=external:port` line per mapping.
    pub rendered: String,
}

impl Validation {
    pub fn of(map: &proxymap::Map) -> Self {
        let errors = map
            .diagnostics
            .iter()
            .filter(|d| d.level == proxymap::Level::Error)
            .count();
        Self {
            valid: errors == 0,
            mappings: map.mappings.len(),
            errors,
            warnings: map.diagnostics.len() - errors,
            diagnostics: map.diagnostics.iter().map(DiagnosticView::from).collect(),
            rendered: map.render(),
        }
    }
}

/// What the proxy maps refuse, in their words.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no proxy map with id {0}")]
    NoSuchMap(i64),
    #[error("proxy map {id} has no version {version}")]
    NoSuchVersion { id: i64, version: i32 },
    #[error("no published proxy map at /maps/{0}/proxymap.txt")]
    NotPublished(String),
    #[error("this map belongs to no cluster: choose its cluster first")]
    NoCluster,
    #[error("nothing is published yet: a node refuses a config URI that serves no valid map, so publish a version first")]
    NothingPublished,
    #[error("the map's cluster has no Finesse, IdS or CUIC node (the components that fetch the map): add them to the inventory first")]
    NoFetchingNodes,
    #[error("the nodes must trust {host}:{port} before they fetch the map from it, and its certificate could not be read: {why}")]
    HostUnreadable {
        host: String,
        port: u16,
        why: String,
    },
    #[error("the node's map could not be read: {0}")]
    NodeMapUnreadable(String),
}

#[cfg(feature = "server")]
impl crate::error::Refusal for Refused {
    fn failure(&self) -> crate::Failure {
        match self {
            Refused::NoSuchMap(_) | Refused::NoSuchVersion { .. } | Refused::NotPublished(_) => {
                crate::Failure::NotFound
            }
            _ => crate::Failure::Conflict,
        }
    }
}

#[cfg(feature = "server")]
crate::refusal!(Refused);
