//! A certificate that must be in a node's trust store, as the engine carries it: the DER that is
//! imported and compared, and the name plans show. Item kinds that keep certificates trusted
//! (a map host's, a trusted proxy's) have a [`State::Certificates`](super::State::Certificates)
//! and plan an [`Op::Import`](super::Op::Import) of each one missing; the server reads and
//! imports them through `drive::read_trust` and [`import`].

use super::{Change, Item, Op, Refused};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// A certificate to trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trusted {
    /// Its subject and the start of its fingerprint, or what the feature calls it.
    pub label: String,
    /// The certificate, as parsed (stored in base64).
    #[serde(with = "vos::driver::base64_der")]
    pub der: Vec<u8>,
}

impl Trusted {
    /// A certificate named `name` in plans, with the start of its SHA-256 fingerprint so that
    /// what is confirmed says which certificate is pasted.
    pub fn named(name: &str, der: Vec<u8>) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(&der);
        let start: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Trusted {
            label: format!("{name} (SHA-256 {start}…)"),
            der,
        }
    }

    /// Whether both are the same certificate, whatever names them.
    pub fn same(&self, other: &Trusted) -> bool {
        self.der == other.der
    }

    /// A trust entry an earlier Gatehouse stored as text: a line that names it, then its PEM.
    pub(super) fn from_text(entry: &str) -> Option<Self> {
        let (label, pem) = entry.split_once('\n')?;
        Some(Trusted {
            label: label.to_owned(),
            der: der_of_pem(pem)?,
        })
    }
}

/// The DER of a PEM text holding one certificate (validated where it was given), or `None`.
pub fn der_of_pem(pem: &str) -> Option<Vec<u8>> {
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return None;
    }
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    (!der.is_empty()).then_some(der)
}

/// A trust item's step: `set cert import trust <unit>`, pasting the certificate as parsed
/// (re-encoded from its DER, never text anyone gave). Trust items plan nothing else.
pub fn import(item: &dyn Item, unit: &str, op: &Op) -> Result<Change, Refused> {
    match op {
        Op::Import { certificate } => {
            Change::import_trust(unit, &certificate.der, &certificate.label)
        }
        _ => Err(super::refused(
            item,
            "a trust store's certificates are only ever imported",
        )),
    }
}
