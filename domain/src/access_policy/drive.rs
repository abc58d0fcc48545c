//! The access policy's items as the engine reads them: each read is one of the driver's typed
//! operations (DOMAIN.md §4), so its output is parsed and a refusal is an error with the
//! node's words. Their changes are the [`Change`](vos::driver::Change)s of `items.rs`.

use super::items::{
    product, AllowedHosts, ClientAuth, CorsModeItem, CorsOrigins, FrameAncestors, ProxyTrust,
};
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::{read_trust, Drive, Reply};
use crate::reconcile::State;
use vos::driver::{Console, Driver, DriverError, Product, WebAccess};
use vos::CorsMode;

/// The items in planning order, as the engine drives them: [`super::items::ITEMS`] (which the
/// browser has too) with their driver operations; a test holds the two lists the same.
pub static DRIVEN: [&dyn Drive; 6] = [
    &AllowedHosts,
    &ProxyTrust,
    &CorsOrigins,
    &FrameAncestors,
    &CorsModeItem,
    &ClientAuth,
];

fn product_of(kind: NodeKind) -> Result<Product, DriverError> {
    product(kind).ok_or(DriverError::Unsupported(
        "CORS and frame-ancestors on this kind of node",
    ))
}

fn list(entries: Vec<String>) -> State {
    State::List(entries)
}

impl Drive for AllowedHosts {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move { driver.allowed_hosts().await.map(list) })
    }
}

impl Drive for ProxyTrust {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(read_trust(driver, "tomcat-trust"))
    }
}

impl Drive for ClientAuth {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move {
            let on = driver.client_auth().await?;
            Ok(State::Setting(
                if on { "enabled" } else { "disabled" }.into(),
            ))
        })
    }
}

impl Drive for CorsModeItem {
    fn read<'a>(&'a self, driver: &'a dyn Console, kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move {
            let mode = driver.cors(product_of(kind)?).await?;
            Ok(State::Setting(
                match mode {
                    CorsMode::EnableAll => "enable_all",
                    CorsMode::Enable => "enable",
                    CorsMode::Disable => "disable",
                }
                .into(),
            ))
        })
    }
}

impl Drive for CorsOrigins {
    fn read<'a>(&'a self, driver: &'a dyn Console, kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move { driver.allowed_origins(product_of(kind)?).await.map(list) })
    }
}

impl Drive for FrameAncestors {
    fn read<'a>(&'a self, driver: &'a dyn Console, kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move { driver.frame_access(product_of(kind)?).await.map(list) })
    }
}
