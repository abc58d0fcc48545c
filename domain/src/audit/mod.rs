//! The tamper-evident audit log: every entry is chained to the one before it by a SHA-256 hash,
//! so an entry edited or deleted by hand breaks the chain at a place `verify` can name.

use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod export;
#[cfg(feature = "server")]
pub mod store;

/// One audit entry as readers see it (the hashes are hex).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339, UTC, microseconds.
    pub at: String,
    pub actor: String,
    pub actor_role: Option<String>,
    pub source: Option<String>,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    pub detail: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub before: Option<serde_json::Value>,
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    pub hash: String,
}

/// Filters for reading the audit log; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Exact actor name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// An action, or a prefix ending in `.` (`auth.` matches `auth.login` and `auth.logout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// A substring of the target.
    pub target: Option<String>,
    /// `success`, `failure` or `denied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD` (the whole day), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl AuditFilter {
    /// The filter as a query string (for export links that keep the page's filters).
    pub fn to_query(&self) -> String {
        let pairs = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ];
        pairs
            .iter()
            .filter_map(|(key, value)| {
                value
                    .as_deref()
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{key}={}", encode_component(v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One page of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// How many entries match the filter in all.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// The result of checking the hash chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    pub ok: bool,
    /// How many entries were checked.
    pub entries: i64,
    /// The id of the first entry whose link is broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken: Option<i64>,
    /// What is wrong there, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

pub const PAGE_SIZE: i64 = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_query_keeps_set_fields_only_and_encodes_them() {
        let filter = AuditFilter {
            actor: Some("ops admin".into()),
            action: Some("auth.".into()),
            target: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(filter.to_query(), "actor=ops%20admin&action=auth.");
    }
}
