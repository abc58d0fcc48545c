//! How a map reaches its cluster's nodes: the config URIs they fetch it from, how often, and who
//! may fetch it; and what each node is found to hold (its propagation).

use super::items::{CONFIG_URIS, MAP_HOST_TRUST, MAX_URIS, UPDATE_FREQUENCY};
use crate::reconcile::{State, States, Trusted};
use crate::FieldErrors;
use serde::{Deserialize, Serialize};

/// `PUT /api/v1/proxymaps/{id}/rollout`: what the nodes are to be configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// At most two `http(s)` URLs; the first takes precedence, the second is the fallback.
    /// Empty: the nodes are to have no config URI.
    pub config_uris: Vec<String>,
    /// Minutes between fetches, 1 to 1440 (the node's default is 1).
    #[serde(default = "one_minute")]
    pub update_frequency: u32,
    /// Serve the map only to the inventory's node addresses.
    #[serde(default)]
    pub restrict_to_inventory: bool,
}

fn one_minute() -> u32 {
    1
}

impl Default for Rollout {
    fn default() -> Self {
        Self {
            config_uris: Vec::new(),
            update_frequency: 1,
            restrict_to_inventory: false,
        }
    }
}

/// A map's rollout settings as `GET /api/v1/proxymaps/{id}/rollout` shows them: what `PUT` takes,
/// field for field (not flattened: the document's `Rollout` admits no other field), and two more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RolloutView {
    pub config_uris: Vec<String>,
    pub update_frequency: u32,
    pub restrict_to_inventory: bool,
    /// Bumped by every change: a plan made from an older one is refused.
    pub version: i32,
    /// The URL this console serves the map at (from `GATEHOUSE_PUBLIC_URL`).
    pub served_at: String,
}

impl RolloutView {
    pub fn new(rollout: Rollout, version: i32, served_at: String) -> Self {
        let Rollout {
            config_uris,
            update_frequency,
            restrict_to_inventory,
        } = rollout;
        Self {
            config_uris,
            update_frequency,
            restrict_to_inventory,
            version,
            served_at,
        }
    }

    /// The settings alone, as `PUT` takes them.
    pub fn rollout(&self) -> Rollout {
        Rollout {
            config_uris: self.config_uris.clone(),
            update_frequency: self.update_frequency,
            restrict_to_inventory: self.restrict_to_inventory,
        }
    }
}

/// The problems of `rollout`, by field.
pub fn check(rollout: &Rollout) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let mut add = |field: &str, message: String| {
        errors.entry(field.to_owned()).or_default().push(message);
    };
    if rollout.config_uris.len() > MAX_URIS {
        add(
            "config_uris",
            format!("a node takes at most {MAX_URIS} config URIs"),
        );
    }
    for (at, uri) in rollout.config_uris.iter().enumerate() {
        if let Err(why) = uri_problem(uri) {
            add("config_uris", format!("URI {}: {why}", at + 1));
        }
        if rollout.config_uris[..at].contains(uri) {
            add("config_uris", format!("URI {} repeats URI 1", at + 1));
        }
    }
    if !(1..=1440).contains(&rollout.update_frequency) {
        add(
            "update_frequency",
            "a number of minutes from 1 to 1440".into(),
        );
    }
    errors
}

/// Why `uri` cannot be a config URI, if it cannot: an absolute `http` or `https` URL with a
/// host, no spaces (the CLI takes it as one word), no user or fragment.
fn uri_problem(uri: &str) -> Result<(), String> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))
        .ok_or("it must start with https:// (or http://)")?;
    if uri.len() > 2000 {
        return Err("it is longer than 2000 characters".into());
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it must not contain spaces or control characters".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err("it names no host".into());
    }
    if authority.contains('@') {
        return Err("it must not carry a user name or password".into());
    }
    if uri.contains('#') {
        return Err("it must not have a #fragment".into());
    }
    Ok(())
}

/// `(host, port)` of an `https` URI (the server whose certificate the nodes must trust);
/// `None` for `http`.
pub fn https_host(uri: &str) -> Option<(String, u16)> {
    let rest = uri.strip_prefix("https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        let port = after
            .strip_prefix(':')
            .map_or(Some(443), |p| p.parse().ok())?;
        return Some((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_owned(), port.parse().ok()?)),
        None => Some((authority.to_owned(), 443)),
    }
}

/// A node's desired state: its config URIs in order, the certificates of their HTTPS hosts
/// (`trust`) and, with URIs, the update frequency.
pub fn desired(rollout: &Rollout, trust: &[Trusted]) -> States {
    let mut states = States::new();
    if !trust.is_empty() {
        states.insert(MAP_HOST_TRUST.into(), State::Certificates(trust.to_vec()));
    }
    states.insert(CONFIG_URIS.into(), State::List(rollout.config_uris.clone()));
    if !rollout.config_uris.is_empty() {
        states.insert(
            UPDATE_FREQUENCY.into(),
            State::Setting(rollout.update_frequency.to_string()),
        );
    }
    states
}

/// Where a node stands with the published map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Propagation {
    /// Its map is the published version.
    Propagated,
    /// It fetches from here but has not had time to fetch the published version yet.
    Pending,
    /// It should have fetched the published version by now and holds something else.
    Stale,
    /// None of its config URIs is this map's.
    NotConfigured,
    /// It could not be read.
    Unknown,
}

impl Propagation {
    /// As the API writes it (`not_configured`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Propagated => "propagated",
            Self::Pending => "pending",
            Self::Stale => "stale",
            Self::NotConfigured => "not_configured",
            Self::Unknown => "unknown",
        }
    }
}

/// One node of `GET /api/v1/proxymaps/{id}/propagation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NodePropagation {
    pub node_id: i64,
    pub fqdn: String,
    pub kind: String,
    pub state: Propagation,
    /// What it says, for people ("holds version 3; version 4 was published 12 minutes ago").
    pub detail: String,
    /// As the node lists them (empty when it could not be read).
    pub config_uris: Vec<String>,
    /// Minutes; `None`: no config URI, or not read.
    pub update_frequency: Option<u32>,
    /// The saved version equal to what the node holds, when one is.
    pub holds_version: Option<i32>,
    /// The version it last fetched from this console, and when.
    pub fetched_version: Option<i32>,
    pub fetched_at: Option<String>,
}

/// A map's propagation: the published version and every node of its cluster that reads maps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PropagationView {
    pub published_version: Option<i32>,
    pub published_at: Option<String>,
    pub nodes: Vec<NodePropagation>,
    /// When these were read from the nodes.
    pub checked_at: String,
}

/// A node's state, from what it holds and when the version it should hold was published:
/// `configured` (one of its URIs is this map's), `holds_published`, and whether its update
/// frequency (plus a minute for the fetch itself) has passed since publishing.
pub fn propagation(configured: bool, holds_published: bool, had_time: bool) -> Propagation {
    match (configured, holds_published, had_time) {
        (false, _, _) => Propagation::NotConfigured,
        (true, true, _) => Propagation::Propagated,
        (true, false, false) => Propagation::Pending,
        (true, false, true) => Propagation::Stale,
    }
}

/// A map's lines compared as the node holds them: `internal=external` with the left side's
/// case folded, in any order.
pub fn same_map(a: &[(String, String)], b: &[(String, String)]) -> bool {
    let key = |m: &[(String, String)]| {
        let mut lines: Vec<(String, String)> = m
            .iter()
            .map(|(l, r)| (l.to_ascii_lowercase(), r.clone()))
            .collect();
        lines.sort();
        lines
    };
    key(a) == key(b)
}
