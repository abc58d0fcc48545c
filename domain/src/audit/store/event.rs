//! An audit event as it is built (who acted, on what, how it ended) before [`super::record`]
//! writes it, and the redaction every value passes through on its way in.

use crate::auth::Role;
use serde_json::Value;

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The action was attempted and failed (wrong password, appliance error, ...).
    Failure,
    /// The action was refused (throttled, disabled account, wrong role, ...).
    Denied,
}

impl Outcome {
    /// Success or failure, as the action went.
    pub fn of(ok: bool) -> Self {
        if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// An audit event being built; [`record`] writes it.
#[derive(Debug, Clone)]
pub struct Event {
    pub(super) actor: String,
    pub(super) actor_role: Option<String>,
    pub(super) source: Option<String>,
    pub(super) action: String,
    pub(super) target: Option<String>,
    pub(super) outcome: Outcome,
    pub(super) detail: Option<String>,
    pub(super) before: Option<Value>,
    pub(super) after: Option<Value>,
}

impl Event {
    pub fn new(action: &str, target: impl Into<String>) -> Self {
        let target = target.into();
        Self {
            actor: "-".into(),
            actor_role: None,
            source: None,
            action: action.to_owned(),
            target: (!target.is_empty()).then_some(target),
            outcome: Outcome::Success,
            detail: None,
            before: None,
            after: None,
        }
    }

    pub fn by(mut self, actor: String, role: Option<Role>, source: &str) -> Self {
        self.actor = actor;
        self.actor_role = role.map(|r| r.as_str().to_owned());
        self.source = (!source.is_empty()).then(|| source.to_owned());
        self
    }

    /// The command line (`gatehouse user add`, `gatehouse serve` bootstrap) as the actor.
    pub fn by_system(mut self, what: &str) -> Self {
        self.actor = format!("system:{what}");
        self.source = Some("local".into());
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn before(mut self, value: Value) -> Self {
        self.before = Some(redact(value));
        self
    }

    pub fn after(mut self, value: Value) -> Self {
        self.after = Some(redact(value));
        self
    }
}

/// Keys whose values never reach the audit log.
const SECRET_KEYS: [&str; 6] = [
    "password",
    "password_hash",
    "token",
    "secret",
    "private_key",
    "key",
];

/// Replaces the values of secret-looking keys, at any depth, by `"[redacted]"`, except the
/// word `"changed"`, which says that a secret changed without saying what it is.
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let secret = SECRET_KEYS.iter().any(|s| key.eq_ignore_ascii_case(s));
                    let value = match value {
                        Value::String(s) if secret && s == "changed" => Value::String(s),
                        _ if secret => Value::String("[redacted]".into()),
                        other => redact(other),
                    };
                    (key, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}
