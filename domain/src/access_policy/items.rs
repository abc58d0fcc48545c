//! The access policy's item kinds for the reconciliation engine: what each is on a node, which
//! node kinds take it, the CLI line of each change and the restarts it needs (DOMAIN.md §4,
//! seed 004). The server reads and changes them through the driver (`drive.rs`).

use crate::inventory::model::NodeKind;
use crate::reconcile::{Item, Op};

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

/// `finesse`, `cuic`, `live-data`: the word in `utils <product> ...`.
pub fn product_word(kind: NodeKind) -> Option<&'static str> {
    match kind {
        NodeKind::Finesse => Some("finesse"),
        NodeKind::Cuic => Some("cuic"),
        NodeKind::LiveData => Some("live-data"),
        _ => None,
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

/// `add <value>` / `delete → <n>` after `prefix`.
fn list_command(prefix: &str, op: &Op) -> String {
    match op {
        Op::Add { value } => format!("{prefix} add {value}"),
        Op::Remove { index, .. } => format!("{prefix} delete → {index}"),
        Op::Set { to, .. } => format!("{prefix} {to}"),
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
    fn command(&self, _kind: NodeKind, op: &Op) -> String {
        list_command("utils system reverse-proxy allowed-hosts", op)
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
    fn command(&self, _kind: NodeKind, op: &Op) -> String {
        crate::reconcile::trust::import_command(op)
    }
    /// The service that verifies the proxy's certificate (seed 004, host verification).
    fn restarts(&self, _kind: NodeKind) -> &'static [&'static str] {
        WEB_PROXY
    }
    fn same(&self, a: &str, b: &str) -> bool {
        crate::reconcile::trust::same_certificate(a, b)
    }
    fn keeps_others(&self) -> bool {
        true
    }
    fn show(&self, value: &str) -> String {
        crate::reconcile::trust::trust_label(value).to_owned()
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
    fn command(&self, _kind: NodeKind, op: &Op) -> String {
        let word = match op {
            Op::Set { to, .. } if to == "enabled" => "enable",
            _ => "disable",
        };
        format!("utils system reverse-proxy client-auth {word}")
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
    fn command(&self, kind: NodeKind, op: &Op) -> String {
        let product = product_word(kind).unwrap_or("finesse");
        list_command(&format!("utils {product} cors"), op)
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
    fn command(&self, kind: NodeKind, op: &Op) -> String {
        let product = product_word(kind).unwrap_or("finesse");
        list_command(&format!("utils {product} cors allowed_origin"), op)
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
    fn command(&self, kind: NodeKind, op: &Op) -> String {
        let product = product_word(kind).unwrap_or("finesse");
        list_command(&format!("utils {product} frame_access_allowed_list"), op)
    }
    fn restarts(&self, kind: NodeKind) -> &'static [&'static str] {
        product_restarts(kind)
    }
}

/// The item with `key`.
pub fn item(key: &str) -> Option<&'static dyn Item> {
    ITEMS.iter().copied().find(|i| i.key() == key)
}
