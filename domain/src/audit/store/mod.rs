//! Writing, reading and verifying the audit log.
//!
//! Chain: `hash = SHA-256(prev_hash || canonical(entry))`, where `prev_hash` is the previous
//! entry's hash (32 zero bytes for the first) and `canonical` is a JSON array of the entry's
//! fields in a fixed order with object keys sorted. Ids are consecutive (assigned under a
//! transaction-scoped advisory lock, never by a sequence), so a deleted entry leaves a gap that
//! `verify` reports even when the deleted entry was the last but one. The table refuses UPDATE,
//! DELETE and TRUNCATE by trigger; the chain catches what a superuser does around that.

use super::{AuditEntry, AuditFilter, AuditPage, VerifyReport};
use crate::auth::principal::RequestContext;
use crate::Error;
use futures::TryStreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub mod event;
pub use event::{redact, Event, Outcome};

/// Writes JSON with object keys sorted at every depth, whatever order the map keeps.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The fields that the hash covers, in their fixed order.
struct Canonical<'a> {
    id: i64,
    at: OffsetDateTime,
    actor: &'a str,
    actor_role: Option<&'a str>,
    source: Option<&'a str>,
    action: &'a str,
    target: Option<&'a str>,
    outcome: &'a str,
    detail: Option<&'a str>,
    before: Option<&'a Value>,
    after: Option<&'a Value>,
}

impl Canonical<'_> {
    fn hash(&self, prev_hash: &[u8]) -> Result<[u8; 32], Error> {
        let at = self.at.format(&Rfc3339).map_err(Error::internal)?;
        let fields = Value::Array(vec![
            self.id.into(),
            at.into(),
            self.actor.into(),
            self.actor_role.into(),
            self.source.into(),
            self.action.into(),
            self.target.into(),
            self.outcome.into(),
            self.detail.into(),
            self.before.cloned().unwrap_or(Value::Null),
            self.after.cloned().unwrap_or(Value::Null),
        ]);
        let mut text = String::new();
        write_canonical(&fields, &mut text);
        let mut digest = Sha256::new();
        digest.update(prev_hash);
        digest.update(text.as_bytes());
        Ok(digest.finalize().into())
    }
}

/// Any constant: the key of the advisory lock that serialises audit writers.
const AUDIT_LOCK: i64 = 0x6761_7465_6175_6474;

/// Appends an event inside the caller's transaction, so the entry exists exactly when the
/// change it describes does. Returns the new entry's id.
pub async fn record(tx: &mut PgConnection, event: Event) -> Result<i64, Error> {
    sqlx::query!("select pg_advisory_xact_lock($1)", AUDIT_LOCK)
        .execute(&mut *tx)
        .await?;
    let last = sqlx::query!("select id, hash from audit_entry order by id desc limit 1")
        .fetch_optional(&mut *tx)
        .await?;
    let (id, prev_hash) = match last {
        Some(row) => (row.id + 1, row.hash),
        None => (1, vec![0u8; 32]),
    };
    // PostgreSQL keeps microseconds; truncate first so the hashed time is the stored time.
    let now = OffsetDateTime::now_utc();
    let at = now
        .replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .map_err(Error::internal)?;
    let hash = Canonical {
        id,
        at,
        actor: &event.actor,
        actor_role: event.actor_role.as_deref(),
        source: event.source.as_deref(),
        action: &event.action,
        target: event.target.as_deref(),
        outcome: event.outcome.as_str(),
        detail: event.detail.as_deref(),
        before: event.before.as_ref(),
        after: event.after.as_ref(),
    }
    .hash(&prev_hash)?;
    sqlx::query!(
        "insert into audit_entry
           (id, at, actor, actor_role, source, action, target, outcome, detail, before, after, prev_hash, hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        id,
        at,
        event.actor,
        event.actor_role,
        event.source,
        event.action,
        event.target,
        event.outcome.as_str(),
        event.detail,
        event.before,
        event.after,
        prev_hash,
        &hash[..],
    )
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Appends an event in a transaction of its own (for events that change nothing else).
pub async fn record_alone(pool: &PgPool, event: Event) -> Result<i64, Error> {
    let mut tx = pool.begin().await?;
    let id = record(&mut tx, event).await?;
    tx.commit().await?;
    Ok(id)
}

struct Row {
    id: i64,
    at: OffsetDateTime,
    actor: String,
    actor_role: Option<String>,
    source: Option<String>,
    action: String,
    target: Option<String>,
    outcome: String,
    detail: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl Row {
    fn canonical(&self) -> Canonical<'_> {
        Canonical {
            id: self.id,
            at: self.at,
            actor: &self.actor,
            actor_role: self.actor_role.as_deref(),
            source: self.source.as_deref(),
            action: &self.action,
            target: self.target.as_deref(),
            outcome: &self.outcome,
            detail: self.detail.as_deref(),
            before: self.before.as_ref(),
            after: self.after.as_ref(),
        }
    }

    /// The entry as readers see it. A webhook URL may hold a secret: entries written before
    /// the audit log kept them redacted show theirs redacted too (the stored entry, and so its
    /// hash and `gatehouse audit verify`, are unchanged).
    fn into_entry(mut self) -> AuditEntry {
        if self.action.starts_with("webhook.") {
            for document in [&mut self.before, &mut self.after].into_iter().flatten() {
                if let Some(url) = document.get_mut("url") {
                    if let Some(text) = url.as_str() {
                        *url = serde_json::Value::String(crate::webhooks::redacted(text));
                    }
                }
            }
        }
        AuditEntry {
            id: self.id,
            at: self.at.format(&Rfc3339).unwrap_or_default(),
            actor: self.actor,
            actor_role: self.actor_role,
            source: self.source,
            action: self.action,
            target: self.target,
            outcome: self.outcome,
            detail: self.detail,
            before: self.before,
            after: self.after,
            prev_hash: hex::encode(self.prev_hash),
            hash: hex::encode(self.hash),
        }
    }
}

mod read;
mod verify;
pub use read::*;
pub use verify::*;

#[cfg(test)]
mod tests;
