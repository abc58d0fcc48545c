//! A map's rollout items as the engine reads them: each read is one of the driver's typed
//! operations, so an answer none of the documented shapes match is an error, never a state.
//! Their changes are the [`Change`](vos::driver::Change)s of `items.rs`, so a node's refusal
//! (a URI whose content is not a map, a host it does not trust) fails the step with its words.

use super::items::{ConfigUris, MapHostTrust, UpdateFrequency};
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::{read_trust, Drive, Reply};
use crate::reconcile::State;
use vos::driver::{Console, Driver};

/// The items in planning order, as the engine drives them: [`super::items::ITEMS`] with their
/// driver operations; a test holds the two lists the same.
pub static DRIVEN: [&dyn Drive; 3] = [&MapHostTrust, &ConfigUris, &UpdateFrequency];

impl Drive for MapHostTrust {
    /// Every certificate in the node's tomcat-trust (one `show cert` per entry).
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(read_trust(driver, "tomcat-trust"))
    }
}

impl Drive for ConfigUris {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move { driver.config_uris().await.map(State::List) })
    }
}

impl Drive for UpdateFrequency {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move {
            let minutes = driver.update_frequency().await?;
            Ok(State::Setting(
                minutes.map(|m| m.to_string()).unwrap_or_default(),
            ))
        })
    }
}
