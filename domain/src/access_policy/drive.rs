//! The access policy's items through the driver: each read and change is one of the driver's
//! typed operations (DOMAIN.md §4), so its output is parsed and a refusal is an error with
//! the node's words, never a success.

use super::items::{
    product_word, AllowedHosts, ClientAuth, CorsModeItem, CorsOrigins, FrameAncestors, ProxyTrust,
};
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::{change_tomcat_trust, read_tomcat_trust, Drive, Reply};
use crate::reconcile::{Op, State};
use vos::driver::{Driver, DriverError, Product, WebAccess};
use vos::ssh::VosSsh;
use vos::{Changed, CorsMode};

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

fn product(kind: NodeKind) -> Result<Product, DriverError> {
    match product_word(kind) {
        Some("finesse") => Ok(Product::Finesse),
        Some("cuic") => Ok(Product::Cuic),
        Some("live-data") => Ok(Product::LiveData),
        _ => Err(DriverError::Unsupported(
            "CORS and frame-ancestors on this kind of node",
        )),
    }
}

fn list(entries: Vec<String>) -> State {
    State::List(entries)
}

impl Drive for AllowedHosts {
    fn read<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move { driver.allowed_hosts().await.map(list) })
    }

    fn change<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind, op: &'a Op) -> Reply<'a, Changed> {
        Box::pin(async move {
            match op {
                Op::Add { value } => driver.add_allowed_host(value).await,
                Op::Remove { value, index } => {
                    driver.delete_allowed_host(value, Some(*index)).await
                }
                Op::Set { .. } => Err(DriverError::Unsupported("setting a list")),
            }
        })
    }
}

impl Drive for ProxyTrust {
    fn read<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(read_tomcat_trust(driver))
    }

    fn change<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind, op: &'a Op) -> Reply<'a, Changed> {
        change_tomcat_trust(
            driver,
            op,
            "removing a proxy's certificate (the policy never does)",
        )
    }
}

impl Drive for ClientAuth {
    fn read<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move {
            let on = driver.client_auth().await?;
            Ok(State::Setting(
                if on { "enabled" } else { "disabled" }.into(),
            ))
        })
    }

    fn change<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind, op: &'a Op) -> Reply<'a, Changed> {
        Box::pin(async move {
            match op {
                Op::Set { to, .. } => driver.set_client_auth(to == "enabled").await,
                _ => Err(DriverError::Unsupported("adding to a setting")),
            }
        })
    }
}

impl Drive for CorsModeItem {
    fn read<'a>(&'a self, driver: &'a VosSsh, kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move {
            let mode = driver.cors(product(kind)?).await?;
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

    fn change<'a>(&'a self, driver: &'a VosSsh, kind: NodeKind, op: &'a Op) -> Reply<'a, Changed> {
        Box::pin(async move {
            let mode = match op {
                Op::Set { to, .. } if to == "enable_all" => CorsMode::EnableAll,
                Op::Set { to, .. } if to == "enable" => CorsMode::Enable,
                Op::Set { to, .. } if to == "disable" => CorsMode::Disable,
                _ => return Err(DriverError::Unsupported("this CORS mode")),
            };
            driver.set_cors(product(kind)?, mode).await
        })
    }
}

impl Drive for CorsOrigins {
    fn read<'a>(&'a self, driver: &'a VosSsh, kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move { driver.allowed_origins(product(kind)?).await.map(list) })
    }

    fn change<'a>(&'a self, driver: &'a VosSsh, kind: NodeKind, op: &'a Op) -> Reply<'a, Changed> {
        Box::pin(async move {
            let product = product(kind)?;
            match op {
                Op::Add { value } => driver.add_allowed_origins(product, &[value]).await,
                Op::Remove { value, index } => {
                    driver
                        .delete_allowed_origin(product, value, Some(*index))
                        .await
                }
                Op::Set { .. } => Err(DriverError::Unsupported("setting a list")),
            }
        })
    }
}

impl Drive for FrameAncestors {
    fn read<'a>(&'a self, driver: &'a VosSsh, kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move { driver.frame_access(product(kind)?).await.map(list) })
    }

    fn change<'a>(&'a self, driver: &'a VosSsh, kind: NodeKind, op: &'a Op) -> Reply<'a, Changed> {
        Box::pin(async move {
            let product = product(kind)?;
            match op {
                Op::Add { value } => driver.add_frame_sources(product, &[value]).await,
                Op::Remove { value, index } => {
                    driver
                        .delete_frame_source(product, value, Some(*index))
                        .await
                }
                Op::Set { .. } => Err(DriverError::Unsupported("setting a list")),
            }
        })
    }
}
