//! What changed between two versions of a policy, one line per change, as the version history,
//! a stale save's refusal and the audit log show it.

use super::{AccessPolicy, ProductAccess};
use serde::{Deserialize, Serialize};

/// One change: `+` added, `-` removed, `~` changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Change {
    /// `+`, `-` or `~`.
    pub sign: char,
    /// What it is about: `proxy A host`, `Finesse extra origin`, `client-auth`.
    pub what: String,
    pub value: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.sign, self.what, self.value)
    }
}

/// The changes that turn `from` into `to`. Proxies are matched by name (case ignored);
/// entries compare ignoring case, as the appliances do.
pub fn diff(from: &AccessPolicy, to: &AccessPolicy) -> Vec<Change> {
    let mut changes = Vec::new();
    for proxy in &from.proxies {
        if !to
            .proxies
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(&proxy.name))
        {
            changes.push(change('-', "proxy", &proxy.name));
        }
    }
    for proxy in &to.proxies {
        let before = from
            .proxies
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(&proxy.name));
        match before {
            None => {
                changes.push(change('+', "proxy", &proxy.name));
                lists(
                    &mut changes,
                    &format!("proxy {} host", proxy.name),
                    &[],
                    &proxy.hosts,
                );
                lists(
                    &mut changes,
                    &format!("proxy {} origin", proxy.name),
                    &[],
                    &proxy.origins,
                );
            }
            Some(before) => {
                let what = format!("proxy {} host", proxy.name);
                lists(&mut changes, &what, &before.hosts, &proxy.hosts);
                let what = format!("proxy {} origin", proxy.name);
                lists(&mut changes, &what, &before.origins, &proxy.origins);
            }
        }
        let had = before.and_then(|b| b.client_certificate.as_deref());
        match (had, proxy.client_certificate.as_deref()) {
            (None, Some(_)) => changes.push(change(
                '+',
                &format!("proxy {} certificate", proxy.name),
                "given",
            )),
            (Some(_), None) => changes.push(change(
                '-',
                &format!("proxy {} certificate", proxy.name),
                "left out (kept in the nodes' tomcat-trust)",
            )),
            (Some(a), Some(b))
                if crate::reconcile::trust::der_of_pem(a)
                    != crate::reconcile::trust::der_of_pem(b) =>
            {
                changes.push(change(
                    '~',
                    &format!("proxy {} certificate", proxy.name),
                    "replaced",
                ))
            }
            _ => {}
        }
    }
    if from.client_auth != to.client_auth {
        let word = |on: bool| if on { "enabled" } else { "disabled" };
        let value = format!("{} → {}", word(from.client_auth), word(to.client_auth));
        changes.push(change('~', "client-auth", &value));
    }
    for (label, a, b) in [
        ("Finesse", &from.finesse, &to.finesse),
        ("CUIC", &from.cuic, &to.cuic),
        ("LiveData", &from.livedata, &to.livedata),
    ] {
        product(&mut changes, label, a, b);
    }
    changes
}

fn product(changes: &mut Vec<Change>, label: &str, a: &ProductAccess, b: &ProductAccess) {
    if a.cors != b.cors {
        let value = format!("{} → {}", a.cors.word(), b.cors.word());
        changes.push(change('~', &format!("{label} CORS"), &value));
    }
    let what = format!("{label} extra origin");
    lists(changes, &what, &a.extra_origins, &b.extra_origins);
    let what = format!("{label} extra frame-ancestors source");
    lists(
        changes,
        &what,
        &a.extra_frame_ancestors,
        &b.extra_frame_ancestors,
    );
}

fn lists(changes: &mut Vec<Change>, what: &str, from: &[String], to: &[String]) {
    let has = |list: &[String], v: &str| list.iter().any(|x| x.eq_ignore_ascii_case(v));
    for gone in from.iter().filter(|v| !has(to, v)) {
        changes.push(change('-', what, gone));
    }
    for new in to.iter().filter(|v| !has(from, v)) {
        changes.push(change('+', what, new));
    }
}

fn change(sign: char, what: &str, value: &str) -> Change {
    Change {
        sign,
        what: what.to_owned(),
        value: value.to_owned(),
    }
}
