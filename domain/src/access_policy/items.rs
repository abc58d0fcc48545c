//! The access policy's item kinds for the reconciliation engine: what each is on a node, which
//! node kinds take it, the CLI line of each change and the restarts it needs (DOMAIN.md §4,
//! seed 004). The server reads and changes them through the driver (`drive.rs`).

use crate::inventory::model::NodeKind;
use crate::reconcile::{refused, Change, Item, Op, Refused};
use vos::driver::Product;
use vos::CorsMode;

pub const ALLOWED_HOSTS: &str = "allowed-hosts";
pub const CLIENT_AUTH: &str = "client-auth";
pub const CORS_MODE: &str = "cors-mode";
pub const CORS_ORIGINS: &str = "cors-origins";
pub const FRAME_ANCESTORS: &str = "frame-ancestors";
pub const PROXY_TRUST: &str = "proxy-trust";

/// The items in planning order: hosts first (what Finesse adds by itself for a new host is
/// then known), the proxies' certificates before client-auth needs them, their origins and
/// frame-ancestors after; removals run in reverse.
pub static ITEMS: [&dyn Item; 6] = [
    &AllowedHosts,
    &ProxyTrust,
    &CorsOrigins,
    &FrameAncestors,
    &CorsModeItem,
    &ClientAuth,
];

/// The kinds reached through the VPN-less proxy, which take allowed hosts (seed 004).
pub fn is_proxied(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Finesse | NodeKind::Ids | NodeKind::Cuic | NodeKind::LiveData
    )
}

/// The frame-ancestors entry Finesse adds by itself for a trusted host.
pub fn frame_source_for_host(host: &str) -> String {
    if host.contains(':') {
        format!("https://[{host}]")
    } else {
        format!("https://{host}")
    }
}

const WEB_PROXY: &[&str] = &["Cisco Web Proxy Service"];
const FINESSE_WEB: &[&str] = &["Cisco Finesse Tomcat", "Cisco Finesse Notification Service"];
const CUIC_WEB: &[&str] = &["Intelligence Center Reporting Service"];
/// Inferred: LiveData's CORS restart is not documented publicly.
const LIVEDATA_WEB: &[&str] = &["Cisco Unified CCE Live Data NGINX Service"];
const IDS_NEITHER: &str = "IdS takes neither CORS nor frame-ancestors (seed 004)";

fn product_restarts(kind: NodeKind) -> &'static [&'static str] {
    match kind {
        NodeKind::Finesse => FINESSE_WEB,
        NodeKind::Cuic => CUIC_WEB,
        NodeKind::LiveData => LIVEDATA_WEB,
        _ => &[],
    }
}

fn not_proxied(kind: NodeKind) -> String {
    format!("{} is not reached through the VPN-less proxy", kind.label())
}

/// The product whose `utils <product> ...` commands a node of `kind` takes.
pub fn product(kind: NodeKind) -> Option<Product> {
    match kind {
        NodeKind::Finesse => Some(Product::Finesse),
        NodeKind::Cuic => Some(Product::Cuic),
        NodeKind::LiveData => Some(Product::LiveData),
        _ => None,
    }
}

fn product_of(item: &dyn Item, kind: NodeKind) -> Result<Product, Refused> {
    product(kind).ok_or_else(|| refused(item, "CORS and frame-ancestors on this kind of node"))
}

/// A list's step: `add`, or the delete menu's entry at its planned number.
fn list_change(
    item: &dyn Item,
    op: &Op,
    add: impl FnOnce(&str) -> Result<Change, Refused>,
    delete: impl FnOnce(&str, usize) -> Change,
) -> Result<Change, Refused> {
    match op {
        Op::Add { value } => add(value),
        Op::Remove { value, index } => Ok(delete(value, *index)),
        _ => Err(refused(item, "a list is added to and deleted from")),
    }
}

/// `utils system reverse-proxy allowed-hosts`: every Finesse, IdS, CUIC and LiveData node.
pub struct AllowedHosts;

impl Item for AllowedHosts {
    fn key(&self) -> &'static str {
        ALLOWED_HOSTS
    }
    fn label(&self) -> &'static str {
        "Allowed hosts"
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        is_proxied(kind)
            .then_some(())
            .ok_or_else(|| not_proxied(kind))
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        list_change(self, op, Change::add_allowed_host, |host, at| {
            Change::delete_allowed_host(host, Some(at))
        })
    }
    fn restarts(&self, _kind: NodeKind) -> &'static [&'static str] {
        WEB_PROXY
    }
    fn adds_elsewhere(&self, kind: NodeKind, op: &Op) -> Vec<(&'static str, String)> {
        match (kind, op) {
            (NodeKind::Finesse, Op::Add { value }) => {
                vec![(FRAME_ANCESTORS, frame_source_for_host(value))]
            }
            _ => Vec::new(),
        }
    }
}

/// `set cert import trust tomcat`: each trusted proxy's client certificate in the tomcat-trust
/// of every component it forwards to (seed 004: "you must upload proxy server certificates to
/// the Tomcat trust store of the respective components ... Otherwise, the traffic from proxy
/// will be rejected"). Certificates already there are left alone, and none is ever removed.
pub struct ProxyTrust;

impl Item for ProxyTrust {
    fn key(&self) -> &'static str {
        PROXY_TRUST
    }
    fn label(&self) -> &'static str {
        "Proxy certificates in tomcat-trust"
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        is_proxied(kind)
            .then_some(())
            .ok_or_else(|| not_proxied(kind))
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        crate::reconcile::trust::import(self, "tomcat", op)
    }
    /// The service that verifies the proxy's certificate (seed 004, host verification).
    fn restarts(&self, _kind: NodeKind) -> &'static [&'static str] {
        WEB_PROXY
    }
}

/// `utils system reverse-proxy client-auth`: `enabled` or `disabled`, on Finesse (seed 004
/// runs it "on both publisher and subscriber nodes of Finesse").
pub struct ClientAuth;

impl Item for ClientAuth {
    fn key(&self) -> &'static str {
        CLIENT_AUTH
    }
    fn label(&self) -> &'static str {
        "Proxy client certificates (client-auth)"
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        match kind {
            NodeKind::Finesse => Ok(()),
            _ => Err("host verification (client-auth) is set on Finesse nodes (seed 004)".into()),
        }
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        match op {
            Op::Set { to, .. } if to == "enabled" => Ok(Change::set_client_auth(true)),
            Op::Set { to, .. } if to == "disabled" => Ok(Change::set_client_auth(false)),
            _ => Err(refused(self, "client-auth is enabled or disabled")),
        }
    }
    fn restarts(&self, _kind: NodeKind) -> &'static [&'static str] {
        WEB_PROXY
    }
}

fn cors_support(kind: NodeKind) -> Result<(), String> {
    match kind {
        NodeKind::Finesse | NodeKind::Cuic | NodeKind::LiveData => Ok(()),
        NodeKind::Ids => Err(IDS_NEITHER.into()),
        _ => Err(not_proxied(kind)),
    }
}

/// `utils <product> cors enable_all | enable | disable`.
pub struct CorsModeItem;

impl Item for CorsModeItem {
    fn key(&self) -> &'static str {
        CORS_MODE
    }
    fn label(&self) -> &'static str {
        "CORS mode"
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        cors_support(kind)
    }
    fn command(&self, kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        let mode = match op {
            Op::Set { to, .. } if to == "enable_all" => CorsMode::EnableAll,
            Op::Set { to, .. } if to == "enable" => CorsMode::Enable,
            Op::Set { to, .. } if to == "disable" => CorsMode::Disable,
            _ => {
                return Err(refused(
                    self,
                    "a CORS mode is enable_all, enable or disable",
                ))
            }
        };
        Ok(Change::set_cors(product_of(self, kind)?, mode))
    }
    fn restarts(&self, kind: NodeKind) -> &'static [&'static str] {
        product_restarts(kind)
    }
}

/// `utils <product> cors allowed_origin`.
pub struct CorsOrigins;

impl Item for CorsOrigins {
    fn key(&self) -> &'static str {
        CORS_ORIGINS
    }
    fn label(&self) -> &'static str {
        "CORS allowed origins"
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        cors_support(kind)
    }
    fn command(&self, kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        let product = product_of(self, kind)?;
        list_change(
            self,
            op,
            |origin| Change::add_allowed_origins(product, &[origin]),
            |origin, at| Change::delete_allowed_origin(product, origin, Some(at)),
        )
    }
    fn restarts(&self, kind: NodeKind) -> &'static [&'static str] {
        product_restarts(kind)
    }
}

/// `utils finesse|cuic frame_access_allowed_list` (CUIC's: Finesse's shape, inferred).
pub struct FrameAncestors;

impl Item for FrameAncestors {
    fn key(&self) -> &'static str {
        FRAME_ANCESTORS
    }
    fn label(&self) -> &'static str {
        "Frame-ancestors"
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        match kind {
            NodeKind::Finesse | NodeKind::Cuic => Ok(()),
            NodeKind::LiveData => Err("LiveData has no frame-ancestors list".into()),
            NodeKind::Ids => Err(IDS_NEITHER.into()),
            _ => Err(not_proxied(kind)),
        }
    }
    fn command(&self, kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        let product = product_of(self, kind)?;
        list_change(
            self,
            op,
            |source| Change::add_frame_sources(product, &[source]),
            |source, at| Change::delete_frame_source(product, source, Some(at)),
        )
    }
    fn restarts(&self, kind: NodeKind) -> &'static [&'static str] {
        product_restarts(kind)
    }
}

/// The item with `key`.
pub fn item(key: &str) -> Option<&'static dyn Item> {
    ITEMS.iter().copied().find(|i| i.key() == key)
}
