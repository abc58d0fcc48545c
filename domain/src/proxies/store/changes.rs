//! What a plan shows of a configuration change: every setting that differs between what an
//! instance was told and what it will be told, by path.

use super::super::ConfigChange;
use crate::Error;
use proxyconf::Config;
use serde_json::Value;
use std::collections::BTreeMap;

/// At most this many changes are listed per instance (the rest are counted in one line).
const CHANGES_AT_MOST: usize = 400;
/// Every setting that differs between the document an instance was told to serve (`None`:
/// none) and `new`, by path, in path order. Lists are compared by their entries (a route by
/// its external host, a listener by its address, a certificate by its subject and
/// fingerprint), the proxy map by its lines; the version number is the plan's, not a change.
pub fn changes(old: Option<&Config>, new: &Config) -> Result<Vec<ConfigChange>, Error> {
    let flat = |config: Option<&Config>| -> Result<BTreeMap<String, String>, Error> {
        let mut out = BTreeMap::new();
        if let Some(config) = config {
            let mut value = serde_json::to_value(config).map_err(Error::internal)?;
            if let Some(object) = value.as_object_mut() {
                object.remove("version");
            }
            flatten(&value, "", &mut out);
        }
        Ok(out)
    };
    let (old, new) = (flat(old)?, flat(Some(new))?);
    let none = || "none".to_owned();
    let mut out: Vec<ConfigChange> = Vec::new();
    for (path, to) in &new {
        match old.get(path) {
            Some(from) if from == to => {}
            from => out.push(ConfigChange {
                path: path.clone(),
                from: from.cloned().unwrap_or_else(none),
                to: to.clone(),
            }),
        }
    }
    for (path, from) in &old {
        if !new.contains_key(path) {
            out.push(ConfigChange {
                path: path.clone(),
                from: from.clone(),
                to: none(),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    if out.len() > CHANGES_AT_MOST {
        let more = out.len() - CHANGES_AT_MOST;
        out.truncate(CHANGES_AT_MOST);
        out.push(ConfigChange {
            path: format!("({more} more changes)"),
            from: String::new(),
            to: String::new(),
        });
    }
    Ok(out)
}

/// `value`'s settings as `path → value` lines.
fn flatten(value: &Value, path: &str, out: &mut BTreeMap<String, String>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                flatten(value, &join(key), out);
            }
        }
        Value::Array(entries) => {
            for entry in entries {
                let (name, shown) = entry_of(entry);
                out.insert(format!("{path}[{name}]"), shown);
            }
        }
        Value::String(text) if text.contains('\n') && !text.contains("-----BEGIN") => {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                out.insert(format!("{path}[{line}]"), "listed".to_owned());
            }
        }
        Value::Null => {}
        Value::String(text) if text.contains("-----BEGIN CERTIFICATE-----") => {
            out.insert(path.to_owned(), entry_of(value).0);
        }
        Value::String(text) if text.contains("-----BEGIN") => {
            out.insert(path.to_owned(), "(a PEM block, not shown)".to_owned());
        }
        Value::String(text) => {
            out.insert(path.to_owned(), text.clone());
        }
        other => {
            out.insert(path.to_owned(), other.to_string());
        }
    }
}

/// How a list entry is named in a path, and what it is.
fn entry_of(entry: &Value) -> (String, String) {
    match entry {
        Value::String(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {
            let name = certs::analyze::pem_certificates(pem)
                .ok()
                .and_then(|ders| {
                    ders.first()
                        .map(|der| crate::reconcile::drive::certificate_label(der))
                })
                .unwrap_or_else(|| "an unreadable certificate".to_owned());
            (name, "trusted".to_owned())
        }
        Value::String(text) => (vos::driver::shown(text), "listed".to_owned()),
        Value::Object(object) => {
            let name = ["external", "address", "certificate"]
                .iter()
                .find_map(|k| object.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
                .unwrap_or_else(|| entry.to_string());
            (name, entry.to_string())
        }
        other => (other.to_string(), "listed".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::changes;
    use proxyconf::Config;

    fn config() -> Config {
        serde_json::from_value(serde_json::json!({"schema": 1, "pair": "p", "version": 3, "listeners": [], "routes": []})).unwrap()
    }

    #[test]
    fn a_plan_lists_each_setting_that_changes_and_nothing_else() {
        let old = config();
        let mut new = config();
        new.version = 4;
        assert_eq!(
            changes(Some(&old), &new).unwrap(),
            vec![],
            "the version is the plan's"
        );
        new.limits.body_bytes = 1_000;
        new.status.proxymap = "a.example.com:443=b.example.com:8445\n".into();
        let found = changes(Some(&old), &new).unwrap();
        let paths: Vec<&str> = found.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "limits.body_bytes",
                "status.proxymap[a.example.com:443=b.example.com:8445]"
            ]
        );
        assert_eq!(found[0].from, old.limits.body_bytes.to_string());
        assert_eq!(found[0].to, "1000");
        assert_eq!(
            (found[1].from.as_str(), found[1].to.as_str()),
            ("none", "listed")
        );
        // Nothing told before: every setting is new.
        assert!(changes(None, &new)
            .unwrap()
            .iter()
            .all(|c| c.from == "none"));
    }
}
