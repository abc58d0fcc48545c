//! What a node is: its kind, its role in its cluster, its FQDN, and the endpoints its kind serves
//! by default (DOMAIN.md §1). Pure types, compiled for the server and the browser alike, so the
//! node form validates as you type with the same rules the server enforces.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The products Gatehouse knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NodeKind {
    Finesse,
    Cuic,
    LiveData,
    Ids,
    Idp,
    Uccx,
    SocialMiner,
    /// Webex Cloud Connect (Unified CCE).
    CloudConnect,
    MediaSense,
    Imp,
    Cucm,
    BroadWorks,
    ReverseProxy,
    LoadBalancer,
    Other,
}

/// A port a kind serves by default, and what it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultEndpoint {
    pub port: u16,
    pub purpose: &'static str,
}

/// The purpose of a proxy's or load balancer's internet-facing listener.
pub const PUBLIC_LISTENER: &str = "public listener";

const fn ep(port: u16, purpose: &'static str) -> DefaultEndpoint {
    DefaultEndpoint { port, purpose }
}

impl NodeKind {
    pub const ALL: [NodeKind; 15] = [
        NodeKind::Finesse,
        NodeKind::Cuic,
        NodeKind::LiveData,
        NodeKind::Ids,
        NodeKind::Idp,
        NodeKind::Uccx,
        NodeKind::SocialMiner,
        NodeKind::CloudConnect,
        NodeKind::MediaSense,
        NodeKind::Imp,
        NodeKind::Cucm,
        NodeKind::BroadWorks,
        NodeKind::ReverseProxy,
        NodeKind::LoadBalancer,
        NodeKind::Other,
    ];

    /// The name used in the API and in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Finesse => "finesse",
            NodeKind::Cuic => "cuic",
            NodeKind::LiveData => "livedata",
            NodeKind::Ids => "ids",
            NodeKind::Idp => "idp",
            NodeKind::Uccx => "uccx",
            NodeKind::SocialMiner => "socialminer",
            NodeKind::CloudConnect => "cloud_connect",
            NodeKind::MediaSense => "mediasense",
            NodeKind::Imp => "imp",
            NodeKind::Cucm => "cucm",
            NodeKind::BroadWorks => "broadworks",
            NodeKind::ReverseProxy => "reverse_proxy",
            NodeKind::LoadBalancer => "load_balancer",
            NodeKind::Other => "other",
        }
    }

    /// The product's name as admins know it.
    pub fn label(self) -> &'static str {
        match self {
            NodeKind::Finesse => "Finesse",
            NodeKind::Cuic => "CUIC (Unified Intelligence Center)",
            NodeKind::LiveData => "LiveData",
            NodeKind::Ids => "IdS (Identity Service)",
            NodeKind::Idp => "IdP (e.g. AD FS)",
            NodeKind::Uccx => "UCCX",
            NodeKind::SocialMiner => "SocialMiner / CCP",
            NodeKind::CloudConnect => "Cloud Connect",
            NodeKind::MediaSense => "MediaSense",
            NodeKind::Imp => "IM&P",
            NodeKind::Cucm => "CUCM",
            NodeKind::BroadWorks => "BroadWorks XSP/ADP",
            NodeKind::ReverseProxy => "Reverse proxy",
            NodeKind::LoadBalancer => "Load balancer",
            NodeKind::Other => "Other",
        }
    }

    /// Accepts the API name, and a few spellings admins use (`livedata`, `socialminer`, `ccp`,
    /// `cup`, `xsp`, `proxy`).
    pub fn parse(value: &str) -> Result<Self, String> {
        let v = value.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let alias = match v.as_str() {
            "live_data" => Some(NodeKind::LiveData),
            "social_miner" | "ccp" => Some(NodeKind::SocialMiner),
            "cloudconnect" | "webex_cloud_connect" => Some(NodeKind::CloudConnect),
            "media_sense" => Some(NodeKind::MediaSense),
            "im&p" | "cup" | "imp_presence" => Some(NodeKind::Imp),
            "broad_works" | "xsp" | "adp" => Some(NodeKind::BroadWorks),
            "proxy" | "reverseproxy" => Some(NodeKind::ReverseProxy),
            "loadbalancer" | "lb" => Some(NodeKind::LoadBalancer),
            _ => None,
        };
        alias
            .or_else(|| NodeKind::ALL.into_iter().find(|k| k.as_str() == v))
            .ok_or_else(|| {
                let names: Vec<&str> = NodeKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind '{value}'; use one of {}", names.join(", "))
            })
    }

    /// The HTTPS endpoints this kind serves by default (DOMAIN.md §1). Insecure ports that are
    /// disabled by default (Finesse 5222, 7071) and plain-HTTP redirects are not listed.
    pub fn default_endpoints(self) -> &'static [DefaultEndpoint] {
        match self {
            NodeKind::Finesse => {
                const {
                    &[
                        ep(8445, "desktop and REST"),
                        ep(7443, "notification (BOSH/WebSocket)"),
                    ]
                }
            }
            NodeKind::Cuic => {
                const {
                    &[
                        ep(8444, "web"),
                        ep(8447, "documentation"),
                        ep(12015, "live data Socket.IO"),
                    ]
                }
            }
            NodeKind::LiveData => const { &[ep(12005, "web"), ep(12008, "Socket.IO")] },
            NodeKind::Ids => const { &[ep(8553, "identity service")] },
            NodeKind::Idp => const { &[ep(443, "identity provider")] },
            NodeKind::Uccx => {
                const {
                    &[
                        ep(8443, "platform administration"),
                        ep(443, "application administration"),
                        ep(8445, "co-resident Finesse"),
                        ep(8444, "co-resident CUIC"),
                        ep(12015, "live data"),
                        ep(7443, "notification"),
                    ]
                }
            }
            NodeKind::SocialMiner => const { &[ep(443, "web, chat and email")] },
            NodeKind::CloudConnect => const { &[ep(8443, "administration (tomcat)")] },
            NodeKind::MediaSense => const { &[ep(443, "web"), ep(8440, "API")] },
            NodeKind::Imp => const { &[ep(5280, "chat (BOSH)")] },
            NodeKind::Cucm => const { &[ep(8443, "administration (tomcat)")] },
            NodeKind::BroadWorks => const { &[ep(8012, "CTI interface (TLS, mTLS)")] },
            NodeKind::ReverseProxy => {
                const {
                    &[
                        ep(443, PUBLIC_LISTENER),
                        ep(10000, "proxy map and static files"),
                        ep(10001, "status"),
                    ]
                }
            }
            NodeKind::LoadBalancer => const { &[ep(443, PUBLIC_LISTENER)] },
            NodeKind::Other => const { &[] },
        }
    }

    /// Whether an endpoint with this purpose faces the internet: on a reverse proxy (or a load
    /// balancer in front of one) every listener does (the external ports of its proxy map), but
    /// for the ones its defaults name for the inside (the proxy map's web server, the status
    /// page). An endpoint without a purpose (a port added by hand) counts as public.
    pub fn is_public_listener(self, purpose: &str) -> bool {
        matches!(self, NodeKind::ReverseProxy | NodeKind::LoadBalancer)
            && !self
                .default_endpoints()
                .iter()
                .any(|e| e.purpose == purpose && e.purpose != PUBLIC_LISTENER)
    }

    /// The roles a node of this kind can have.
    pub fn roles(self) -> &'static [NodeRole] {
        use NodeRole::*;
        match self {
            NodeKind::ReverseProxy | NodeKind::LoadBalancer => &[SideA, SideB, None],
            NodeKind::Idp
            | NodeKind::SocialMiner
            | NodeKind::Imp
            | NodeKind::BroadWorks
            | NodeKind::Other => &[None],
            // `None` for a standalone node (no HA pair).
            _ => &[Primary, Secondary, None],
        }
    }

    /// The word this product uses for the role (CUIC says publisher, Finesse primary).
    pub fn role_label(self, role: NodeRole) -> &'static str {
        match (self, role) {
            (NodeKind::Finesse | NodeKind::Uccx, NodeRole::Primary) => "primary",
            (NodeKind::Finesse | NodeKind::Uccx, NodeRole::Secondary) => "secondary",
            (_, NodeRole::Primary) => "publisher",
            (_, NodeRole::Secondary) => "subscriber",
            (_, NodeRole::SideA) => "side A",
            (_, NodeRole::SideB) => "side B",
            (_, NodeRole::None) => "—",
        }
    }

    /// Whether this kind is a Cisco VOS appliance (administered over the `admin:` SSH CLI).
    pub fn is_vos(self) -> bool {
        matches!(
            self,
            NodeKind::Finesse
                | NodeKind::Cuic
                | NodeKind::LiveData
                | NodeKind::Ids
                | NodeKind::Uccx
                | NodeKind::SocialMiner
                | NodeKind::CloudConnect
                | NodeKind::MediaSense
                | NodeKind::Imp
                | NodeKind::Cucm
        )
    }
}

impl TryFrom<String> for NodeKind {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        NodeKind::parse(&value)
    }
}

impl From<NodeKind> for String {
    fn from(value: NodeKind) -> Self {
        value.as_str().to_owned()
    }
}

impl TryFrom<String> for NodeRole {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        NodeRole::parse(&value)
    }
}

impl From<NodeRole> for String {
    fn from(value: NodeRole) -> Self {
        value.as_str().to_owned()
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A node's place in its cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NodeRole {
    /// Publisher, primary, node 1.
    Primary,
    /// Subscriber, secondary, node 2.
    Secondary,
    SideA,
    SideB,
    None,
}

impl NodeRole {
    pub const ALL: [NodeRole; 5] = [
        NodeRole::Primary,
        NodeRole::Secondary,
        NodeRole::SideA,
        NodeRole::SideB,
        NodeRole::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Primary => "primary",
            NodeRole::Secondary => "secondary",
            NodeRole::SideA => "side_a",
            NodeRole::SideB => "side_b",
            NodeRole::None => "none",
        }
    }

    /// Accepts the API names and the products' own words (`publisher`, `subscriber`, `a`, `b`).
    pub fn parse(value: &str) -> Result<Self, String> {
        let v = value.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        match v.as_str() {
            "primary" | "publisher" | "pub" | "node1" => Ok(NodeRole::Primary),
            "secondary" | "subscriber" | "sub" | "node2" => Ok(NodeRole::Secondary),
            "side_a" | "a" => Ok(NodeRole::SideA),
            "side_b" | "b" => Ok(NodeRole::SideB),
            "none" | "" => Ok(NodeRole::None),
            _ => Err(format!(
                "unknown role '{value}'; use primary (publisher), secondary (subscriber), side_a, side_b or none"
            )),
        }
    }

    /// Whether a cluster may hold only one node of a kind in this role (one publisher, one
    /// side A); subscribers can be many (CUCM).
    pub fn is_unique(self) -> bool {
        matches!(self, NodeRole::Primary | NodeRole::SideA | NodeRole::SideB)
    }
}

mod fqdn;
pub use fqdn::Fqdn;

#[cfg(test)]
mod tests;
