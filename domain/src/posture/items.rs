//! The settings a posture reads over SSH, as items of the reconciliation engine: the ones its
//! plan sets (three Finesse properties, the lowest TLS version) and the ones it only reads
//! (the HTTPS redirect and the gadget source check need a stopped Tomcat or the admin's own
//! allow list: their fix is a command). The access policy's client-auth and CORS mode are read
//! through its own items (it owns them).

use super::rules::{
    GADGET_CHECK, HTTPS_REDIRECT, INSECURE_OPENFIRE, SECURE_SYSTEM_INFO, TLS_MIN, TRUST_ALL,
};
use crate::access_policy::drive::DRIVEN as POLICY;
use crate::inventory::model::NodeKind;
use crate::reconcile::drive::{Drive, Reply};
use crate::reconcile::{refused, Change, Item, Op, Refused, State};
use vos::driver::{Console, Driver, FinesseSettings};

/// A Finesse property (`utils finesse set_property webservices <name> <value>`).
pub struct Property {
    name: &'static str,
    label: &'static str,
    restarts: &'static [&'static str],
}

pub static TRUST_ALL_ITEM: Property = Property {
    name: TRUST_ALL,
    label: "Trust all certificates (trustAllCertificates)",
    restarts: &["Cisco Finesse Tomcat"],
};
pub static SYSTEM_INFO_ITEM: Property = Property {
    name: SECURE_SYSTEM_INFO,
    label: "SystemInfo needs credentials on the LAN (secureSystemInfo)",
    restarts: &["Cisco Finesse Tomcat"],
};
pub static OPENFIRE_ITEM: Property = Property {
    name: INSECURE_OPENFIRE,
    label: "Unencrypted notification ports 5222/7071 (enableInsecureOpenfirePort)",
    restarts: &["Cisco Finesse Notification Service"],
};

fn finesse_only(kind: NodeKind) -> Result<(), String> {
    (kind == NodeKind::Finesse)
        .then_some(())
        .ok_or_else(|| "a Finesse setting".into())
}

impl Item for Property {
    fn key(&self) -> &'static str {
        self.name
    }
    fn label(&self) -> &'static str {
        self.label
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        finesse_only(kind)
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        match op {
            Op::Set { to, .. } if to == "true" || to == "false" => {
                Change::set_property(self.name, to)
            }
            _ => Err(refused(self, "a property is set to true or false")),
        }
    }
    fn restarts(&self, _kind: NodeKind) -> &'static [&'static str] {
        self.restarts
    }
}

impl Drive for Property {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move { driver.property(self.name).await.map(State::Setting) })
    }
}

/// `set tls min-version`: the lowest TLS version every service of a VOS node accepts (the
/// node reboots to apply it).
pub struct TlsMin;

impl Item for TlsMin {
    fn key(&self) -> &'static str {
        TLS_MIN
    }
    fn label(&self) -> &'static str {
        "Lowest TLS version accepted (tls min-version)"
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        kind.is_vos()
            .then_some(())
            .ok_or_else(|| "a Cisco VOS setting".into())
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        match op {
            Op::Set { to, .. } if matches!(to.as_str(), "1.2" | "1.3") => {
                Change::set_tls_min_version(to)
            }
            _ => Err(refused(
                self,
                "the posture raises the lowest TLS version to 1.2 or 1.3 only",
            )),
        }
    }
}

impl Drive for TlsMin {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move { driver.tls_min_version().await.map(State::Setting) })
    }
}

/// A setting the posture reads but never sets.
pub struct ReadOnly {
    key: &'static str,
    label: &'static str,
}

pub static HTTPS_REDIRECT_ITEM: ReadOnly = ReadOnly {
    key: HTTPS_REDIRECT,
    label: "Cisco Finesse HTTPS Redirect",
};
pub static GADGET_CHECK_ITEM: ReadOnly = ReadOnly {
    key: GADGET_CHECK,
    label: "Gadget source allow list",
};

impl Item for ReadOnly {
    fn key(&self) -> &'static str {
        self.key
    }
    fn label(&self) -> &'static str {
        self.label
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        finesse_only(kind)
    }
    fn command(&self, _kind: NodeKind, _op: &Op) -> Result<Change, Refused> {
        Err(refused(self, "read only: its fix is a command on the node"))
    }
}

impl Drive for ReadOnly {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move {
            let on = match self.key {
                HTTPS_REDIRECT => driver.https_redirect().await?,
                _ => driver.gadget_source_check().await?,
            };
            Ok(State::Setting(
                if on { "enabled" } else { "disabled" }.into(),
            ))
        })
    }
}

/// What the posture plan sets, in planning order.
pub static PLANNED: [&dyn Drive; 4] = [&TRUST_ALL_ITEM, &SYSTEM_INFO_ITEM, &OPENFIRE_ITEM, &TlsMin];

/// Everything a posture reads on a node: its own items, then the access policy's client-auth,
/// CORS mode and allowed hosts.
pub fn read_items() -> Vec<&'static dyn Drive> {
    let policy = [
        crate::access_policy::items::ALLOWED_HOSTS,
        crate::access_policy::items::CLIENT_AUTH,
        crate::access_policy::items::CORS_MODE,
    ];
    PLANNED
        .iter()
        .copied()
        .chain([&HTTPS_REDIRECT_ITEM as &dyn Drive, &GADGET_CHECK_ITEM])
        .chain(POLICY.iter().copied().filter(|i| policy.contains(&i.key())))
        .collect()
}
