//! Seed 003's checklist as items of the reconciliation engine, read and changed through the
//! BroadWorks CLI (`vos::driver::CtiSettings`): the CTI interface, client authentication on
//! it, its protocols and suites, the trust anchors, `allowClientApp`, and an Application
//! Server's ClientIdentity. Every list is only ever added to (a plan never removes what an
//! admin set); the values that name an interface carry its IP, so each node's steps say where
//! they act.

use crate::inventory::model::NodeKind;
use crate::reconcile::drive::{Drive, Reply};
use crate::reconcile::{refused, Change, Item, Op, Refused, State, Trusted};
use vos::driver::{Console, CtiSettings};

pub const INTERFACE: &str = "cti-interface";
pub const CLIENT_AUTH: &str = "cti-client-auth";
pub const PROTOCOLS: &str = "cti-protocols";
pub const CIPHERS: &str = "cti-ciphers";
pub const TRUSTS: &str = "cti-trust-anchors";
pub const ALLOW_CLIENT_APP: &str = "cti-allow-client-app";
pub const CLIENT_IDENTITY: &str = "cti-client-identity";

/// One item of the checklist.
pub struct Cti {
    key: &'static str,
    label: &'static str,
}

pub static INTERFACE_ITEM: Cti = Cti {
    key: INTERFACE,
    label: "CTI interfaces (IP and port)",
};
pub static CLIENT_AUTH_ITEM: Cti = Cti {
    key: CLIENT_AUTH,
    label: "CTI interfaces requiring client certificates",
};
pub static PROTOCOLS_ITEM: Cti = Cti {
    key: PROTOCOLS,
    label: "CTI protocols (interface and protocol)",
};
pub static CIPHERS_ITEM: Cti = Cti {
    key: CIPHERS,
    label: "CTI cipher suites (interface and IANA name)",
};
pub static TRUSTS_ITEM: Cti = Cti {
    key: TRUSTS,
    label: "CTI client authentication trust anchors",
};
pub static ALLOW_CLIENT_APP_ITEM: Cti = Cti {
    key: ALLOW_CLIENT_APP,
    label: "Certificate authentication of clients (allowClientApp)",
};
pub static CLIENT_IDENTITY_ITEM: Cti = Cti {
    key: CLIENT_IDENTITY,
    label: "Application Server client identities",
};

/// In planning order: the anchors before client certificates are required, the interface
/// before what is set on it.
pub static DRIVEN: [&dyn Drive; 7] = [
    &TRUSTS_ITEM,
    &INTERFACE_ITEM,
    &PROTOCOLS_ITEM,
    &CIPHERS_ITEM,
    &CLIENT_AUTH_ITEM,
    &ALLOW_CLIENT_APP_ITEM,
    &CLIENT_IDENTITY_ITEM,
];

/// `"<ip> <value>"`, the shape of a list entry that belongs to one interface.
pub fn pair(ip: &str, value: &str) -> String {
    format!("{ip} {value}")
}

/// An interface's IP as the CLI takes it (what a node answered is checked again here).
fn ip<'a>(item: &dyn Item, value: &'a str) -> Result<&'a str, Refused> {
    value
        .parse::<std::net::IpAddr>()
        .map(|_| value)
        .map_err(|_| refused(item, "an interface is named by its IP address"))
}

fn unpair<'a>(item: &dyn Item, entry: &'a str) -> Result<(&'a str, &'a str), Refused> {
    let (at, value) = entry
        .split_once(' ')
        .ok_or_else(|| refused(item, "an entry is an interface IP and a value"))?;
    Ok((ip(item, at)?, value))
}

impl Item for Cti {
    fn key(&self) -> &'static str {
        self.key
    }
    fn label(&self) -> &'static str {
        self.label
    }
    fn supports(&self, kind: NodeKind) -> Result<(), String> {
        (kind == NodeKind::BroadWorks)
            .then_some(())
            .ok_or_else(|| "a BroadWorks CTI setting (seed 003)".into())
    }
    fn command(&self, _kind: NodeKind, op: &Op) -> Result<Change, Refused> {
        match (self.key, op) {
            (TRUSTS, Op::Import { certificate }) => {
                Change::update_cti_trust(&certificate.label, &certificate.der)
            }
            (ALLOW_CLIENT_APP, Op::Set { to, .. }) if to == "true" => {
                Ok(Change::set_allow_client_app(true))
            }
            (INTERFACE, Op::Add { value }) => {
                let (ip, port) = unpair(self, value)?;
                let port = port
                    .parse()
                    .map_err(|_| refused(self, "a CTI interface's port is a number"))?;
                Change::add_cti_interface(ip, port)
            }
            (CLIENT_AUTH, Op::Add { value }) => Change::set_cti_client_auth(ip(self, value)?, true),
            (PROTOCOLS, Op::Add { value }) => {
                let (ip, protocol) = unpair(self, value)?;
                if !matches!(protocol, "TLSv1.2" | "TLSv1.3") {
                    return Err(refused(self, "the plan adds TLSv1.2 or TLSv1.3 only"));
                }
                Change::add_cti_protocol(ip, protocol)
            }
            (CIPHERS, Op::Add { value }) => {
                let (ip, suite) = unpair(self, value)?;
                if certs::suites::by_iana(suite).is_none() {
                    return Err(refused(self, "a suite is given by its IANA name"));
                }
                Change::add_cti_cipher(ip, suite)
            }
            (CLIENT_IDENTITY, Op::Add { value }) => Change::add_client_identity(value),
            _ => Err(refused(
                self,
                "the CTI plan only adds (an anchor, an interface, a value) and turns allowClientApp on",
            )),
        }
    }
    /// A trust anchor is known by its alias: the CLI lists names, not certificates (the plan
    /// derives each alias from the certificate's fingerprint).
    fn same_certificate(&self, a: &Trusted, b: &Trusted) -> bool {
        a.label == b.label
    }
    /// A new interface is made requiring client certificates (`add <ip> <port> true true
    /// true`).
    fn adds_elsewhere(&self, _kind: NodeKind, op: &Op) -> Vec<(&'static str, String)> {
        match (self.key, op) {
            (INTERFACE, Op::Add { value }) => value
                .split_once(' ')
                .map(|(ip, _)| vec![(CLIENT_AUTH, ip.to_owned())])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

impl Drive for Cti {
    fn read<'a>(&'a self, driver: &'a dyn Console, _kind: NodeKind) -> Reply<'a, State> {
        Box::pin(async move {
            Ok(match self.key {
                INTERFACE | CLIENT_AUTH => {
                    let interfaces = driver.cti_interfaces().await?;
                    State::List(
                        interfaces
                            .into_iter()
                            .filter(|i| self.key == INTERFACE || i.client_auth_required)
                            .map(|i| match self.key {
                                INTERFACE => pair(&i.ip, &i.port.to_string()),
                                _ => i.ip,
                            })
                            .collect(),
                    )
                }
                PROTOCOLS | CIPHERS => State::List(
                    driver
                        .cti_values(self.key == CIPHERS)
                        .await?
                        .iter()
                        .map(|(ip, value)| pair(ip, value))
                        .collect(),
                ),
                // The CLI lists an anchor's alias and names, not the certificate: an anchor is
                // known by its alias, which the plan derives from the certificate's fingerprint.
                TRUSTS => State::Certificates(
                    driver
                        .cti_trusts()
                        .await?
                        .into_iter()
                        .map(|t| Trusted {
                            label: t.alias,
                            der: Vec::new(),
                        })
                        .collect(),
                ),
                ALLOW_CLIENT_APP => State::Setting(driver.allow_client_app().await?.to_string()),
                _ => State::List(driver.client_identities().await?),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_read_from_a_node_reaches_its_cli_only_as_one_checked_argument() {
        let kind = NodeKind::BroadWorks;
        let add = |value: &str| Op::Add {
            value: value.into(),
        };
        let typed =
            |item: &Cti, value: &str| item.command(kind, &add(value)).map(|c| c.to_string());
        assert_eq!(
            typed(&PROTOCOLS_ITEM, "10.0.0.5 TLSv1.2").unwrap(),
            "/Interface/CTI/CTIServer/SSLSettings/Protocols> add 10.0.0.5 TLSv1.2"
        );
        for hostile in [
            "1.2.3.4;reboot 8012",
            "xsp.example.com 8012",
            "10.0.0.5\n 8012",
            "10.0.0.5 80 12",
        ] {
            assert!(typed(&INTERFACE_ITEM, hostile).is_err(), "{hostile:?}");
        }
        assert!(typed(&CLIENT_AUTH_ITEM, "10.0.0.5;x").is_err());
        assert!(
            typed(&PROTOCOLS_ITEM, "10.0.0.5 SSLv3").is_err(),
            "only TLS 1.2 or 1.3 added"
        );
        assert!(
            typed(&CIPHERS_ITEM, "10.0.0.5 ECDHE-RSA-AES128-GCM-SHA256").is_err(),
            "IANA names only"
        );
        assert!(typed(&CLIENT_IDENTITY_ITEM, "a b").is_err());
        let remove = Op::Remove {
            value: "10.0.0.5 TLSv1.1".into(),
            index: 1,
        };
        assert!(
            PROTOCOLS_ITEM.command(kind, &remove).is_err(),
            "the plan never removes"
        );
        let anchor = |label: &str, der: Vec<u8>| Trusted {
            label: label.into(),
            der,
        };
        assert!(
            TRUSTS_ITEM.same_certificate(&anchor("root-01", vec![]), &anchor("root-01", vec![1]))
        );
        assert!(
            !TRUSTS_ITEM.same_certificate(&anchor("root-01", vec![1]), &anchor("root-02", vec![1]))
        );
        assert!(TRUSTS_ITEM.supports(NodeKind::Finesse).is_err());
    }
}
