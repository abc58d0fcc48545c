//! The BroadWorks XSP|ADP CTI interface's settings (seed 003), read and changed through any
//! [`Driver`] whose CLI is BroadWorks': each read `cd`s into its context and parses the table
//! (`crate::broadworks`); each change is a [`Change`] with its context (and, for a trust
//! anchor, the file copied first).

use super::{Change, Command, Driver, DriverError, Refused, Upload};
use crate::{CtiInterface, TrustAnchor};
use std::future::Future;

pub const CTI_SERVER: &str = "/Interface/CTI/CTIServer";
pub const PROTOCOLS: &str = "/Interface/CTI/CTIServer/SSLSettings/Protocols";
pub const CIPHERS: &str = "/Interface/CTI/CTIServer/SSLSettings/Ciphers";
pub const TRUSTS: &str = "/Interface/CTI/SSLCommonSettings/ClientAuthentication/Trusts";
pub const CERT_AUTH: &str =
    "/System/CommunicationUtility/DefaultSettings/ExternalAuthentication/CertificateAuthentication";
pub const CLIENT_IDENTITY: &str = "/System/ClientIdentity";
/// Where trust anchor files are copied (seed 003's example).
pub use super::types::UPLOAD_DIR;

pub use super::change::context;

/// An alias BroadWorks and a file name both take: letters, digits, `-`, `_`.
pub fn check_alias(alias: &str) -> Result<(), Refused> {
    let ok = !alias.is_empty()
        && alias.len() <= 64
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Refused {
            value: alias.to_owned(),
            why: "an alias is 1 to 64 letters, digits, '-' or '_'",
        })
    }
}

/// The CTI settings of an XSP|ADP (and an AS's client identities), for every driver.
pub trait CtiSettings: Driver {
    /// `Interface/CTI/CTIServer> get`.
    fn cti_interfaces(
        &self,
    ) -> impl Future<Output = Result<Vec<CtiInterface>, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!("get")).within(context(CTI_SERVER)))
                .await?;
            Ok(crate::parse_cti_servers(&out)?)
        }
    }

    /// `.../SSLSettings/Protocols> get` or `.../Ciphers> get`: `(interface IP, value)`.
    fn cti_values(
        &self,
        ciphers: bool,
    ) -> impl Future<Output = Result<Vec<(String, String)>, DriverError>> + Send {
        async move {
            let at = if ciphers { CIPHERS } else { PROTOCOLS };
            let out = self
                .run(Command::new(crate::cli!("get")).within(context(at)))
                .await?;
            Ok(crate::parse_interface_values(&out)?)
        }
    }

    /// `.../ClientAuthentication/Trusts> get`.
    fn cti_trusts(&self) -> impl Future<Output = Result<Vec<TrustAnchor>, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!("get")).within(context(TRUSTS)))
                .await?;
            Ok(crate::parse_trusts(&out)?)
        }
    }

    /// `.../CertificateAuthentication> get`: `allowClientApp`.
    fn allow_client_app(&self) -> impl Future<Output = Result<bool, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!("get")).within(context(CERT_AUTH)))
                .await?;
            Ok(crate::parse_setting(&out, "allowClientApp")? == "true")
        }
    }

    /// `AS_CLI/System/ClientIdentity> get`.
    fn client_identities(&self) -> impl Future<Output = Result<Vec<String>, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!("get")).within(context(CLIENT_IDENTITY)))
                .await?;
            Ok(crate::parse_client_identities(&out)?)
        }
    }
}

impl<D: Driver + ?Sized> CtiSettings for D {}

/// The trust anchor file for `alias`.
pub fn anchor_upload(alias: &str, der: &[u8]) -> Result<Upload, Refused> {
    check_alias(alias)?;
    Upload::new(&format!("{UPLOAD_DIR}/{alias}.pem"), der)
}

/// The CTI checklist's changes (seed 003), each at its context.
impl Change {
    /// `Interface/CTI/CTIServer> add <ip> 8012 true true true`: a secure CTI interface with a
    /// server certificate, requiring client certificates (seed 003).
    pub fn add_cti_interface(ip: &str, port: u16) -> Result<Self, Refused> {
        let line = crate::cli!("add")
            .arg(ip)?
            .arg(&port.to_string())?
            .then(crate::cli!("true true true"));
        Ok(Self::broadworks(CTI_SERVER, line))
    }

    /// `Interface/CTI/CTIServer> set <ip> clientAuthReq true|false` (inferred).
    pub fn set_cti_client_auth(ip: &str, required: bool) -> Result<Self, Refused> {
        let value = if required {
            crate::cli!("true")
        } else {
            crate::cli!("false")
        };
        let line = crate::cli!("set")
            .arg(ip)?
            .then(crate::cli!("clientAuthReq"))
            .then(value);
        Ok(Self::broadworks(CTI_SERVER, line))
    }

    /// `.../SSLSettings/Protocols> add <ip> <protocol>`.
    pub fn add_cti_protocol(ip: &str, protocol: &str) -> Result<Self, Refused> {
        let line = crate::cli!("add").arg(ip)?.arg(protocol)?;
        Ok(Self::broadworks(PROTOCOLS, line))
    }

    /// `.../SSLSettings/Ciphers> add <ip> <IANA name>` (the CLI takes IANA names only).
    pub fn add_cti_cipher(ip: &str, iana: &str) -> Result<Self, Refused> {
        let line = crate::cli!("add").arg(ip)?.arg(iana)?;
        Ok(Self::broadworks(CIPHERS, line))
    }

    /// `.../ClientAuthentication/Trusts> updateTrust <alias> <file>`, the certificate `der`
    /// copied to the file first.
    pub fn update_cti_trust(alias: &str, der: &[u8]) -> Result<Self, Refused> {
        let upload = anchor_upload(alias, der)?;
        let line = crate::cli!("updateTrust")
            .arg(alias)?
            .arg(upload.path().as_str())?;
        Ok(Self::broadworks(TRUSTS, line).with_upload(upload))
    }

    /// `.../CertificateAuthentication> set allowClientApp true|false`.
    pub fn set_allow_client_app(allow: bool) -> Self {
        let line = if allow {
            crate::cli!("set allowClientApp true")
        } else {
            crate::cli!("set allowClientApp false")
        };
        Self::broadworks(CERT_AUTH, line)
    }

    /// `AS_CLI/System/ClientIdentity> add <identity>`.
    pub fn add_client_identity(identity: &str) -> Result<Self, Refused> {
        let line = crate::cli!("add").arg(identity)?;
        Ok(Self::broadworks(CLIENT_IDENTITY, line))
    }
}

#[cfg(test)]
mod tests {
    use crate::driver::Change;

    #[test]
    fn a_trust_anchor_change_shows_its_context_and_its_copy_and_reads_back_checked() {
        let change =
            Change::update_cti_trust("webexclientroot2023", &[0x30, 0x03, 1, 2, 3]).unwrap();
        assert_eq!(
            change.to_string(),
            "/Interface/CTI/SSLCommonSettings/ClientAuthentication/Trusts> updateTrust webexclientroot2023 /var/broadworks/tmp/webexclientroot2023.pem (the certificate copied there first)"
        );
        let stored = serde_json::to_value(&change).unwrap();
        let back: Change = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(back, change);
        // A stored path that would reach `scp -t` with a second command is refused.
        for path in [
            "/var/broadworks/tmp/a;reboot",
            "/etc/cron.d/x.pem",
            "/var/broadworks/tmp/../x.pem",
            "/var/broadworks/tmp/sub/x.pem",
            "/var/broadworks/tmp/.hidden",
            "/var/broadworks/tmpx/a.pem",
        ] {
            let mut tampered = stored.clone();
            tampered["upload"]["path"] = path.into();
            assert!(
                serde_json::from_value::<Change>(tampered).is_err(),
                "{path}"
            );
        }
        for alias in ["", "a b", "a;b", "../x", &"a".repeat(65)] {
            assert!(Change::update_cti_trust(alias, &[1]).is_err(), "{alias:?}");
        }
        assert_eq!(
            Change::add_cti_protocol("10.155.6.175", "TLSv1.2")
                .unwrap()
                .to_string(),
            "/Interface/CTI/CTIServer/SSLSettings/Protocols> add 10.155.6.175 TLSv1.2"
        );
        assert!(Change::add_cti_cipher("10.0.0.1", "A B").is_err());
    }
}
