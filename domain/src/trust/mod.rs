//! What each node must trust: the required-trust matrix's rules. From a cluster's inventory (and
//! what the access policy and the proxy map add), which certificate must be in which node's
//! tomcat-trust, each requirement with the seed sentence it comes from. The verification of a
//! requirement against the stores read over SSH, and the plan that fixes a red cell, build on
//! these (issue 27).

pub mod csr;
pub mod matrix;
#[cfg(feature = "server")]
pub mod store;
pub mod upload;
pub mod verify;

use crate::inventory::model::{NodeKind, NodeRole};
use serde::{Deserialize, Serialize};

/// A node of the inventory as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: i64,
    pub cluster: i64,
    pub kind: NodeKind,
    pub role: NodeRole,
    pub fqdn: String,
}

/// A certificate some node must trust.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustNeeded))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Needed {
    /// Another node's tomcat certificate: itself when self-signed, else the CA chain that
    /// issued it.
    Node { id: i64, fqdn: String },
    /// A reverse proxy's certificate (the access policy's proxy), needed while client-auth is on.
    Proxy { name: String },
    /// The server that hosts `proxymap.txt` when the nodes fetch it over HTTPS.
    MapHost { host: String },
    /// A third-party HTTPS server an admin listed (gadgets, UCCX scripts): its whole chain.
    ThirdParty { host: String },
}

impl Needed {
    /// How the matrix names its column.
    pub fn label(&self) -> String {
        match self {
            Needed::Node { fqdn, .. } => fqdn.clone(),
            Needed::Proxy { name } if name.to_lowercase().contains("proxy") => name.clone(),
            Needed::Proxy { name } => format!("proxy {name}"),
            Needed::MapHost { host } => format!("proxy-map host {host}"),
            Needed::ThirdParty { host } => host.clone(),
        }
    }
}

/// One cell the matrix must show: `holder`'s tomcat-trust must hold `needed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustRequirement))]
pub struct Requirement {
    /// The node whose tomcat-trust must hold it.
    pub holder: i64,
    pub needed: Needed,
    /// The rule's stable id (`finesse_peers`, …).
    pub rule: String,
    /// The seed and its sentence.
    pub source: String,
}

/// What the inventory alone does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extra {
    /// The access policy's proxies, when it has client-auth on.
    pub proxies_with_client_auth: Vec<String>,
    /// The hosts (`host` or `host:port`) of the proxy map's HTTPS config URIs.
    pub map_hosts: Vec<String>,
    /// Third-party HTTPS servers an admin listed for this cluster.
    pub third_party: Vec<String>,
}

const FINESSE_PEERS: &str = "seed 001: \"Valid non-expired Cisco Finesse primary certificate must be present on the secondary Cisco Finesse. Valid non-expired Cisco Finesse secondary certificate must be present on the primary Cisco Finesse.\"";
const CUCM: &str =
    "seed 001: \"Import the CUCM certificate to both the primary and secondary Finesse nodes.\"";
const IDS: &str =
    "seed 001: \"Import the IdS certificate to both the primary and secondary Finesse nodes.\"";
const SOCIALMINER_FINESSE: &str = "seed 001: \"Import the SocialMiner server certificates to both the primary and secondary Finesse nodes in the Unified CCE.\"";
const LIVEDATA_FINESSE: &str = "seed 001: \"Import the LiveData server certificates to both the primary and secondary Finesse nodes in the Unified CCE.\"";
const CLOUD_CONNECT: &str = "seed 001: \"Import the Cloud Connect server certificates to both the primary and secondary Finesse nodes in the Unified CCE.\"";
const SOCIALMINER_UCCX: &str = "seed 000: \"Upload the signed or self-signed certificate chain of the SocialMiner server to the UCCX tomcat-trust keystore.\"";
const UCCX_SOCIALMINER: &str = "seed 000: \"Upload the UCCX tomcat certificate from Publisher and Subscriber nodes to the SocialMiner server as tomcat-trust keystore.\"";
const PROXY: &str = "seed 004: \"you must upload proxy server certificates to the Tomcat trust store of the respective components. This is required for proxy authentication to work.\"";
const MAP_HOST: &str = "DOMAIN.md §2 (seed 004): the server hosting proxymap.txt over HTTPS must be trusted by the nodes that fetch it";
const THIRD_PARTY: &str = "seed 000: \"upload the signed or self-signed certificate chain of the third-party service to the UCCX tomcat-trust keystore\" (Finesse gadgets likewise)";

impl Member {
    /// A node as stored, its kind and role in words; `None` when they do not read.
    pub fn of(id: i64, cluster: i64, kind: &str, role: &str, fqdn: &str) -> Option<Member> {
        Some(Member {
            id,
            cluster,
            kind: NodeKind::parse(kind).ok()?,
            role: NodeRole::parse(role).ok()?,
            fqdn: fqdn.to_owned(),
        })
    }

    /// Whether `other` belongs to this node's deployment: its own cluster, or a node of another
    /// cluster in the same DNS domain (the FQDN without its first label). The inventory says no
    /// more of which IdS serves which Finesse; one console's sites in one domain count as one.
    pub fn works_with(&self, other: &Member) -> bool {
        let domain = |m: &Member| m.fqdn.split_once('.').map(|(_, d)| d.to_owned());
        self.id != other.id
            && (self.cluster == other.cluster
                || domain(self).is_some_and(|d| Some(d) == domain(other)))
    }
}

/// Every requirement of the inventory's nodes, by holder then column, without repeats.
pub fn requirements(members: &[Member], extra: &Extra) -> Vec<Requirement> {
    let mut out = Vec::new();
    let mut need = |holder: &Member, needed: Needed, rule: &str, source: &str| {
        let exists = out
            .iter()
            .any(|r: &Requirement| r.holder == holder.id && r.needed == needed);
        if !exists {
            out.push(Requirement {
                holder: holder.id,
                needed,
                rule: rule.into(),
                source: source.into(),
            });
        }
    };
    let node = |m: &Member| Needed::Node {
        id: m.id,
        fqdn: m.fqdn.clone(),
    };
    let all = |kind: NodeKind| members.iter().filter(move |m| m.kind == kind);
    // The nodes of `kind` that `holder` works with.
    let of = |kind: NodeKind, holder: &Member| {
        let holder = holder.clone();
        members
            .iter()
            .filter(move |m| m.kind == kind && holder.works_with(m))
    };
    // UCCX's Finesse is co-resident on the UCCX nodes: a Finesse node of the inventory is
    // Unified CCE's.
    for finesse in all(NodeKind::Finesse) {
        // The primary and secondary of one Finesse cluster.
        for peer in of(NodeKind::Finesse, finesse).filter(|p| p.cluster == finesse.cluster) {
            need(finesse, node(peer), "finesse_peers", FINESSE_PEERS);
        }
        for cucm in of(NodeKind::Cucm, finesse) {
            need(finesse, node(cucm), "finesse_cucm", CUCM);
        }
        for ids in of(NodeKind::Ids, finesse) {
            need(finesse, node(ids), "finesse_ids", IDS);
        }
        for sm in of(NodeKind::SocialMiner, finesse) {
            need(
                finesse,
                node(sm),
                "finesse_socialminer",
                SOCIALMINER_FINESSE,
            );
        }
        for ld in of(NodeKind::LiveData, finesse) {
            need(finesse, node(ld), "finesse_livedata", LIVEDATA_FINESSE);
        }
        for cc in of(NodeKind::CloudConnect, finesse) {
            need(finesse, node(cc), "finesse_cloud_connect", CLOUD_CONNECT);
        }
    }
    // UCCX's Finesse is co-resident: the UCCX nodes trust CUCM and IdS as Finesse nodes do.
    for uccx in all(NodeKind::Uccx) {
        for cucm in of(NodeKind::Cucm, uccx) {
            need(uccx, node(cucm), "uccx_cucm", CUCM);
        }
        for ids in of(NodeKind::Ids, uccx) {
            need(uccx, node(ids), "uccx_ids", IDS);
        }
    }
    for uccx in all(NodeKind::Uccx) {
        for sm in of(NodeKind::SocialMiner, uccx) {
            need(uccx, node(sm), "uccx_socialminer", SOCIALMINER_UCCX);
            need(sm, node(uccx), "socialminer_uccx", UCCX_SOCIALMINER);
        }
    }
    // Behind the proxies: Finesse, IdS, CUIC and LiveData (seed 004).
    let behind = |m: &&Member| {
        matches!(
            m.kind,
            NodeKind::Finesse | NodeKind::Ids | NodeKind::Cuic | NodeKind::LiveData
        )
    };
    for member in members.iter().filter(behind) {
        for proxy in &extra.proxies_with_client_auth {
            let needed = Needed::Proxy {
                name: proxy.clone(),
            };
            need(member, needed, "proxy_client_auth", PROXY);
        }
        for host in &extra.map_hosts {
            let needed = Needed::MapHost { host: host.clone() };
            need(member, needed, "proxymap_https", MAP_HOST);
        }
    }
    for member in members
        .iter()
        .filter(|m| matches!(m.kind, NodeKind::Uccx | NodeKind::Finesse))
    {
        for host in &extra.third_party {
            let needed = Needed::ThirdParty { host: host.clone() };
            need(member, needed, "third_party", THIRD_PARTY);
        }
    }
    out.sort_by(|a, b| (a.holder, &a.needed).cmp(&(b.holder, &b.needed)));
    out
}

#[cfg(test)]
mod tests;
