//! What is behind a route, and the rate class of each request (DOMAIN.md §6: the installer's
//! per-endpoint limits).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of component a route leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Finesse,
    Ids,
    /// The identity provider behind IdS (seed 004's optional `idp.internal.com:443` line).
    Idp,
    Cuic,
    LiveData,
    /// SocialMiner / CCP chat.
    Chat,
    /// Anything else the map exposes (a gadget server): Finesse's limits.
    Other,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Finesse => "finesse",
            Component::Ids => "ids",
            Component::Idp => "idp",
            Component::Cuic => "cuic",
            Component::LiveData => "livedata",
            Component::Chat => "chat",
            Component::Other => "other",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request's rate class: each has its own limit per client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Finesse,
    ClientLog,
    Sso,
    Ids,
    Cuic,
    LiveData,
    Chat,
}

impl Class {
    pub const ALL: [Class; 7] = [
        Class::Finesse,
        Class::ClientLog,
        Class::Sso,
        Class::Ids,
        Class::Cuic,
        Class::LiveData,
        Class::Chat,
    ];

    /// The class of a request for `path` to `component`.
    pub fn of(component: Component, path: &str) -> Class {
        match component {
            Component::Finesse | Component::Other => {
                if path.starts_with("/finesse/api/") && path.contains("/ClientLog") {
                    Class::ClientLog
                } else if path.starts_with("/desktop/sso/") {
                    Class::Sso
                } else {
                    Class::Finesse
                }
            }
            Component::Ids => Class::Ids,
            Component::Idp => Class::Sso,
            Component::Cuic => Class::Cuic,
            Component::LiveData => Class::LiveData,
            Component::Chat => Class::Chat,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Finesse => "finesse",
            Class::ClientLog => "client_log",
            Class::Sso => "sso",
            Class::Ids => "ids",
            Class::Cuic => "cuic",
            Class::LiveData => "livedata",
            Class::Chat => "chat",
        }
    }
}

/// Requests per second, and how many may come at once above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

const fn rate(per_second: u32, burst: u32) -> Rate {
    Rate { per_second, burst }
}

/// One rate per class; the defaults are the installer's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rates {
    pub finesse: Rate,
    pub client_log: Rate,
    pub sso: Rate,
    pub ids: Rate,
    pub cuic: Rate,
    pub livedata: Rate,
    pub chat: Rate,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            finesse: rate(90, 50),
            client_log: rate(5, 5),
            sso: rate(5, 5),
            ids: rate(5, 4),
            cuic: rate(50, 100),
            livedata: rate(25, 25),
            chat: rate(30, 10),
        }
    }
}

impl Rates {
    pub fn of(&self, class: Class) -> Rate {
        match class {
            Class::Finesse => self.finesse,
            Class::ClientLog => self.client_log,
            Class::Sso => self.sso,
            Class::Ids => self.ids,
            Class::Cuic => self.cuic,
            Class::LiveData => self.livedata,
            Class::Chat => self.chat,
        }
    }
}
