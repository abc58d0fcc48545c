//! How the server reads and changes items on a node: [`Drive`], the half of an item kind that
//! talks to the appliance through the driver, and what the engine builds on it (reading every
//! item of a node, the state a node should be in after some of its steps).

use super::trust::{trust_entry, trust_pem};
use super::{plan, Item, Op, State, States, Step};
use crate::inventory::model::NodeKind;
use futures::future::BoxFuture;
use vos::driver::{Driver, DriverError, Store};
use vos::ssh::VosSsh;
use vos::Changed;

/// What an item kind's command answered, or why it did not.
pub type Reply<'a, T> = BoxFuture<'a, Result<T, DriverError>>;

/// The driver half of an item kind: read it, change it. Runs only for node kinds the item
/// [`Item::supports`].
pub trait Drive: Item {
    /// The item's state on a node of `kind`.
    fn read<'a>(&'a self, driver: &'a VosSsh, kind: NodeKind) -> Reply<'a, State>;

    /// Runs one step (a `Remove` only where the menu shows the entry under the planned number).
    fn change<'a>(&'a self, driver: &'a VosSsh, kind: NodeKind, op: &'a Op) -> Reply<'a, Changed>;
}

/// Reads every item of `items` that a node of `kind` takes and `wanted` names. `Err`: the
/// item whose read failed, and why.
pub async fn read_node(
    items: &[&dyn Drive],
    driver: &VosSsh,
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
    // A label is the entry's first line: a subject's own line break must not split it.
    label.replace(
        |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'),
        " ",
    )
}

/// A trust entry for each certificate of a PEM text.
pub fn entries_of_pem(pem: &str) -> Vec<String> {
    certs::analyze::pem_certificates(pem)
        .unwrap_or_default()
        .iter()
        .map(|der| trust_entry(&certificate_label(der), &certs::analyze::pem(der)))
        .collect()
}

/// Every certificate in the node's tomcat-trust, as trust entries (one `show cert` each).
pub async fn read_tomcat_trust(driver: &VosSsh) -> Result<State, DriverError> {
    let mut entries = Vec::new();
    for entry in driver.cert_list(Store::Trust).await? {
        if entry.unit != "tomcat-trust" {
            continue;
        }
        let pem = driver.cert_pem(Store::Trust, &entry).await?;
        entries.extend(entries_of_pem(&pem));
    }
    Ok(State::List(entries))
}

/// A tomcat-trust item's step: an `Add` imports the entry's certificate; nothing is ever
/// removed or set (`never` says why, in the item's words).
pub fn change_tomcat_trust<'a>(
    driver: &'a VosSsh,
    op: &'a Op,
    never: &'static str,
) -> Reply<'a, Changed> {
    Box::pin(async move {
        match op {
            Op::Add { value } => import_trust_entry(driver, value).await,
            _ => Err(DriverError::Unsupported(never)),
        }
    })
}

/// `set cert import trust tomcat` of a trust entry's certificate, as parsed: what is pasted is
/// re-encoded from its DER, never the entry's text.
pub async fn import_trust_entry(driver: &VosSsh, value: &str) -> Result<Changed, DriverError> {
    let ders = certs::analyze::pem_certificates(trust_pem(value)).unwrap_or_default();
    let [der] = ders.as_slice() else {
        return Err(DriverError::Unsupported(
            "a trust entry that does not hold exactly one certificate",
        ));
    };
    driver.import_trust("tomcat", der).await
}
