//! A map's rollout items through the driver: each read and change is one of the driver's typed
//! operations, so a node's refusal (a URI whose content is not a map, a host it does not
//! trust) is an error with the node's words, never a success.

use super::items::{ConfigUris, MapHostTrust, UpdateFrequency};
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::{change_tomcat_trust, read_tomcat_trust, Drive, Reply};
use crate::reconcile::{Op, State};
use vos::driver::{Driver, DriverError};
use vos::ssh::VosSsh;
use vos::Changed;

/// The items in planning order, as the engine drives them: [`super::items::ITEMS`] with their
/// driver operations; a test holds the two lists the same.
pub static DRIVEN: [&dyn Drive; 3] = [&MapHostTrust, &ConfigUris, &UpdateFrequency];

pub use crate::reconcile::drive::{certificate_label, entries_of_pem};

impl Drive for MapHostTrust {
    /// Every certificate in the node's tomcat-trust (one `show cert` per entry).
    fn read<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(read_tomcat_trust(driver))
    }

    fn change<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind, op: &'a Op) -> Reply<'a, Changed> {
        change_tomcat_trust(driver, op, "deleting a trusted certificate from a rollout")
    }
}

impl Drive for ConfigUris {
    fn read<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move { driver.config_uris().await.map(State::List) })
    }

    fn change<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind, op: &'a Op) -> Reply<'a, Changed> {
        Box::pin(async move {
            match op {
                Op::Add { value } => driver.add_config_uri(value).await,
                Op::Remove { value, index } => driver.delete_config_uri(value, Some(*index)).await,
                Op::Set { .. } => Err(DriverError::Unsupported("setting a list")),
            }
        })
    }
}

impl Drive for UpdateFrequency {
    fn read<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move {
            let minutes = driver.update_frequency().await?;
            Ok(State::Setting(
                minutes.map(|m| m.to_string()).unwrap_or_default(),
            ))
        })
    }

    fn change<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind, op: &'a Op) -> Reply<'a, Changed> {
        Box::pin(async move {
            let Op::Set { to, .. } = op else {
                return Err(DriverError::Unsupported("adding to a setting"));
            };
            let minutes: u32 = to.parse().map_err(|_| {
                DriverError::Unsupported("an update frequency that is not a number")
            })?;
            driver.set_update_frequency(minutes).await?;
            Ok(Changed::from_output(String::new()))
        })
    }
}
