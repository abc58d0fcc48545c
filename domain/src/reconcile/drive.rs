//! How the server reads items on a node: [`Drive`], the half of an item kind that reads it
//! through a driver (any `&dyn Console`: the VOS CLI over SSH, another appliance's CLI), and
//! what the engine builds on it (reading every item of a node, the state a node should be in
//! after some of its steps). Changes need no driver half: a step's [`Change`](super::Change)
//! is run as planned (`Driver::apply`).

use super::{plan, Item, State, States, Step, Trusted};
use crate::inventory::model::NodeKind;
use futures::future::BoxFuture;
use vos::driver::{Console, Driver, DriverError, Store};

/// What an item kind's read answered, or why it did not.
pub type Reply<'a, T> = BoxFuture<'a, Result<T, DriverError>>;

/// The driver half of an item kind: read it. Runs only for node kinds the item
/// [`Item::supports`].
pub trait Drive: Item {
    /// The item's state on a node of `kind`.
    fn read<'a>(&'a self, driver: &'a dyn Console, kind: NodeKind) -> Reply<'a, State>;
}

/// Reads every item of `items` that a node of `kind` takes and `wanted` names. `Err`: the
/// item whose read failed, and why.
pub async fn read_node(
    items: &[&dyn Drive],
    driver: &dyn Console,
    kind: NodeKind,
    wanted: &States,
) -> Result<States, (String, DriverError)> {
    let mut states = States::new();
    for item in items {
        if !wanted.contains_key(item.key()) || item.supports(kind).is_err() {
            continue;
        }
        let state = item
            .read(driver, kind)
            .await
            .map_err(|e| (item.key().to_owned(), e))?;
        states.insert(item.key().to_owned(), state);
    }
    Ok(states)
}

/// `states` after `steps` ran on a node of `kind` (with what each does by itself).
pub fn after(items: &[&dyn Drive], kind: NodeKind, states: &States, steps: &[Step]) -> States {
    let mut states = states.clone();
    for step in steps {
        let Some(item) = items.iter().find(|i| i.key() == step.item) else {
            continue;
        };
        plan::apply_op(&mut states, *item as &dyn Item, kind, &step.op);
    }
    states
}

/// Each managed item where `observed` differs from `expected`: `(item, expected, actual)`.
pub fn differences(
    items: &[&dyn Drive],
    kind: NodeKind,
    expected: &States,
    observed: &States,
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for item in items {
        if item.supports(kind).is_err() {
            continue;
        }
        let Some(want) = expected.get(item.key()) else {
            continue;
        };
        let empty = match want {
            State::List(_) => State::List(Vec::new()),
            State::Setting(_) => State::Setting(String::new()),
            State::Certificates(_) => State::Certificates(Vec::new()),
        };
        let have = observed.get(item.key()).unwrap_or(&empty);
        if let Some((expected, actual)) = super::difference(*item as &dyn Item, want, have) {
            out.push((item.key().to_owned(), expected, actual));
        }
    }
    out
}

/// How a certificate is named in plans: its subject's CN (else the subject) and the start of
/// its SHA-256 fingerprint.
pub fn certificate_label(der: &[u8]) -> String {
    let label = match certs::analyze::parse(der) {
        Ok(info) => format!(
            "{} (SHA-256 {}…)",
            info.subject_cn.unwrap_or(info.subject),
            &info.sha256[..info.sha256.len().min(16)]
        ),
        Err(e) => format!("an unreadable certificate ({e})"),
    };
    // A label is shown on one line as it is: a subject's own line break, bidirectional
    // override or invisible character must not change what an admin reads.
    vos::driver::shown(&label)
}

/// Each certificate of a PEM text, named as plans show it.
pub fn trusted_of_pem(pem: &str) -> Vec<Trusted> {
    certs::analyze::pem_certificates(pem)
        .unwrap_or_default()
        .into_iter()
        .map(|der| Trusted {
            label: certificate_label(&der),
            der,
        })
        .collect()
}

/// Every certificate in the node's `unit` trust store (`tomcat-trust`: one `show cert` each).
pub async fn read_trust(driver: &dyn Console, unit: &str) -> Result<State, DriverError> {
    let mut certificates = Vec::new();
    for entry in driver.cert_list(Store::Trust).await? {
        if entry.unit != unit {
            continue;
        }
        let pem = driver.cert_pem(Store::Trust, &entry).await?;
        certificates.extend(trusted_of_pem(&pem));
    }
    Ok(State::Certificates(certificates))
}
