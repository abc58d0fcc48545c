//! A map's rollout items through the driver: each read and change is one of the driver's typed
//! operations, so a node's refusal (a URI whose content is not a map, a host it does not
//! trust) is an error with the node's words, never a success.

use super::items::{trust_entry, trust_pem, ConfigUris, MapHostTrust, UpdateFrequency};
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::{Drive, Reply};
use crate::reconcile::{Op, State};
use vos::driver::{Driver, DriverError, Store};
use vos::ssh::VosSsh;
use vos::Changed;

/// The items in planning order, as the engine drives them: [`super::items::ITEMS`] with their
/// driver operations; a test holds the two lists the same.
pub static DRIVEN: [&dyn Drive; 3] = [&MapHostTrust, &ConfigUris, &UpdateFrequency];

/// How a certificate is named in plans: its subject's CN (else the subject) and the start of
/// its SHA-256 fingerprint.
pub fn certificate_label(der: &[u8]) -> String {
    match certs::analyze::parse(der) {
        Ok(info) => format!(
            "{} (SHA-256 {}…)",
            info.subject_cn.unwrap_or(info.subject),
            &info.sha256[..info.sha256.len().min(16)]
        ),
        Err(e) => format!("an unreadable certificate ({e})"),
    }
}

/// A trust entry for each certificate of a PEM text.
pub fn entries_of_pem(pem: &str) -> Vec<String> {
    certs::analyze::pem_certificates(pem)
        .unwrap_or_default()
        .iter()
        .map(|der| trust_entry(&certificate_label(der), &certs::analyze::pem(der)))
        .collect()
}

impl Drive for MapHostTrust {
    /// Every certificate in the node's tomcat-trust (one `show cert` per entry).
    fn read<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move {
            let mut entries = Vec::new();
            for entry in driver.cert_list(Store::Trust).await? {
                if entry.unit != "tomcat-trust" {
                    continue;
                }
                let pem = driver.cert_pem(Store::Trust, &entry).await?;
                entries.extend(entries_of_pem(&pem));
            }
            Ok(State::List(entries))
        })
    }

    fn change<'a>(&'a self, driver: &'a VosSsh, _kind: NodeKind, op: &'a Op) -> Reply<'a, Changed> {
        Box::pin(async move {
            match op {
                Op::Add { value } => {
                    // The entry's certificate as parsed (what is pasted is re-encoded from it).
                    let ders =
                        certs::analyze::pem_certificates(trust_pem(value)).unwrap_or_default();
                    let [der] = ders.as_slice() else {
                        return Err(DriverError::Unsupported(
                            "a trust entry that does not hold exactly one certificate",
                        ));
                    };
                    driver.import_trust("tomcat", der).await
                }
                _ => Err(DriverError::Unsupported(
                    "deleting a trusted certificate from a rollout",
                )),
            }
        })
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
