//! Writing, reading and verifying the audit log.
//!
//! Chain: `hash = SHA-256(prev_hash || canonical(entry))`, where `prev_hash` is the previous
//! entry's hash (32 zero bytes for the first) and `canonical` is a JSON array of the entry's
//! fields in a fixed order with object keys sorted. Ids are consecutive (assigned under a
//! transaction-scoped advisory lock, never by a sequence), so a deleted entry leaves a gap that
//! `verify` reports even when the deleted entry was the last but one. The table refuses UPDATE,
//! DELETE and TRUNCATE by trigger; the chain catches what a superuser does around that.

use super::{AuditEntry, AuditFilter, AuditPage, VerifyReport};
use crate::auth::store::RequestContext;
use crate::auth::Role;
use crate::Error;
use futures::TryStreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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
    actor: String,
    actor_role: Option<String>,
    source: Option<String>,
    action: String,
    target: Option<String>,
    outcome: Outcome,
    detail: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
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

/// A filter turned into typed bounds, with a field error for each bad value.
#[derive(Debug)]
pub struct Bounds {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub action_prefix: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Parses `YYYY-MM-DD` or RFC 3339; a date alone means its first (or, with `end_of_day`, last)
/// microsecond in UTC.
fn parse_time(value: &str, end_of_day: bool) -> Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(value, &format)
        .map_err(|_| format!("'{value}' is not a date (YYYY-MM-DD) or an RFC 3339 time"))?;
    let time = if end_of_day {
        time::Time::from_hms_micro(23, 59, 59, 999_999).map_err(|e| e.to_string())?
    } else {
        time::Time::MIDNIGHT
    };
    Ok(date.with_time(time).assume_utc())
}

impl AuditFilter {
    pub fn bounds(&self) -> Result<Bounds, Error> {
        let mut errors = crate::FieldErrors::new();
        let mut time_field = |name: &str, value: &Option<String>, end: bool| {
            non_empty(value).and_then(|v| match parse_time(&v, end) {
                Ok(t) => Some(t),
                Err(message) => {
                    errors.entry(name.to_owned()).or_default().push(message);
                    None
                }
            })
        };
        let from = time_field("from", &self.from, false);
        let to = time_field("to", &self.to, true);
        let outcome = non_empty(&self.outcome);
        if let Some(o) = &outcome {
            if !["success", "failure", "denied"].contains(&o.as_str()) {
                errors.entry("outcome".into()).or_default().push(format!(
                    "'{o}' is not an outcome; use success, failure or denied"
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let action = non_empty(&self.action);
        let (action, action_prefix) = match action {
            Some(a) if a.ends_with('.') => (None, Some(a)),
            other => (other, None),
        };
        Ok(Bounds {
            actor: non_empty(&self.actor),
            action,
            action_prefix,
            target: non_empty(&self.target),
            outcome,
            from,
            to,
        })
    }
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

    fn into_entry(self) -> AuditEntry {
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

/// Entries matching the bounds, newest first, as a stream (exports never hold the log in memory).
/// `before_id` pages by key (an export stays consistent while entries are added).
pub fn stream<'a>(
    pool: &'a PgPool,
    b: &'a Bounds,
    before_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> impl futures::Stream<Item = Result<AuditEntry, Error>> + 'a {
    sqlx::query_as!(
        Row,
        "select id, at, actor, actor_role, source, action, target, outcome, detail, before, after, prev_hash, hash
         from audit_entry
         where ($1::text is null or actor = $1)
           and ($2::text is null or action = $2)
           and ($3::text is null or starts_with(action, $3))
           and ($4::text is null or strpos(target, $4) > 0)
           and ($5::text is null or outcome = $5)
           and ($6::timestamptz is null or at >= $6)
           and ($7::timestamptz is null or at <= $7)
           and ($10::bigint is null or id < $10)
         order by id desc
         offset $8 limit $9",
        b.actor,
        b.action,
        b.action_prefix,
        b.target,
        b.outcome,
        b.from,
        b.to,
        offset,
        limit,
        before_id
    )
    .fetch(pool)
    .map_ok(Row::into_entry)
    .map_err(Error::from)
}

async fn count(pool: &PgPool, b: &Bounds) -> Result<i64, Error> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "count!" from audit_entry
         where ($1::text is null or actor = $1)
           and ($2::text is null or action = $2)
           and ($3::text is null or starts_with(action, $3))
           and ($4::text is null or strpos(target, $4) > 0)
           and ($5::text is null or outcome = $5)
           and ($6::timestamptz is null or at >= $6)
           and ($7::timestamptz is null or at <= $7)"#,
        b.actor,
        b.action,
        b.action_prefix,
        b.target,
        b.outcome,
        b.from,
        b.to
    )
    .fetch_one(pool)
    .await?)
}

/// Records that someone read the audit log, with the filter they used.
pub async fn record_read(
    pool: &PgPool,
    context: &RequestContext,
    action: &str,
    filter: &AuditFilter,
) -> Result<(), Error> {
    let filter = serde_json::to_value(filter).map_err(Error::internal)?;
    record_alone(pool, context.event(action, "audit").after(filter)).await?;
    Ok(())
}

/// One page, for a reader; the read is recorded first (and so appears on the page itself).
pub async fn read_page(
    pool: &PgPool,
    context: &RequestContext,
    filter: &AuditFilter,
    offset: i64,
    limit: i64,
) -> Result<AuditPage, Error> {
    context.require_reader()?;
    let bounds = filter.bounds()?;
    let offset = offset.max(0);
    let limit = limit.clamp(1, 1_000);
    record_read(pool, context, "audit.read", filter).await?;
    let total = count(pool, &bounds).await?;
    let entries = stream(pool, &bounds, None, offset, limit)
        .try_collect()
        .await?;
    Ok(AuditPage {
        entries,
        total,
        offset,
        limit,
    })
}

/// Every entry matching the bounds, newest first, fetched in chunks of 500 so that an export
/// of any size holds one chunk in memory at a time.
pub fn export(
    pool: PgPool,
    bounds: Bounds,
) -> impl futures::Stream<Item = Result<AuditEntry, Error>> + Send + 'static {
    let start = (pool, bounds, None::<i64>, false);
    futures::stream::try_unfold(start, |(pool, bounds, before, done)| async move {
        if done {
            return Ok::<_, Error>(None);
        }
        let chunk: Vec<AuditEntry> = stream(&pool, &bounds, before, 0, 500).try_collect().await?;
        let next = chunk.last().map(|e| e.id);
        let done = chunk.len() < 500;
        Ok(Some((
            futures::stream::iter(chunk.into_iter().map(Ok)),
            (pool, bounds, next, done),
        )))
    })
    .try_flatten()
}

/// Walks the whole chain in id order; names the first entry whose link is broken.
pub async fn verify(pool: &PgPool) -> Result<VerifyReport, Error> {
    let mut rows = sqlx::query_as!(
        Row,
        "select id, at, actor, actor_role, source, action, target, outcome, detail, before, after, prev_hash, hash
         from audit_entry order by id"
    )
    .fetch(pool);
    let mut expected_prev = vec![0u8; 32];
    let mut expected_id = 1i64;
    let mut entries = 0i64;
    while let Some(row) = rows.try_next().await? {
        let broken = |reason: String| VerifyReport {
            ok: false,
            entries,
            first_broken: Some(row.id),
            reason: Some(reason),
        };
        if row.id != expected_id {
            return Ok(broken(format!(
                "entries {expected_id} to {} are missing (deleted)",
                row.id - 1
            )));
        }
        if row.prev_hash != expected_prev {
            return Ok(broken(
                "its link to the previous entry does not match".into(),
            ));
        }
        if row.canonical().hash(&row.prev_hash)?[..] != row.hash[..] {
            return Ok(broken(
                "its content does not match its hash (edited)".into(),
            ));
        }
        expected_prev = row.hash;
        expected_id += 1;
        entries += 1;
    }
    Ok(VerifyReport {
        ok: true,
        entries,
        first_broken: None,
        reason: None,
    })
}

/// `verify`, for a reader; the check itself is recorded after it ran.
pub async fn verify_as(pool: &PgPool, context: &RequestContext) -> Result<VerifyReport, Error> {
    context.require_reader()?;
    let report = verify(pool).await?;
    let outcome = if report.ok {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let detail = match &report.first_broken {
        Some(id) => format!("chain broken at entry {id}"),
        None => format!("{} entries verified", report.entries),
    };
    record_alone(
        pool,
        context
            .event("audit.verify", "audit")
            .outcome(outcome)
            .detail(detail),
    )
    .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let value = redact(json!({
            "username": "alice",
            "password": "hunter2hunter2",
            "nested": {"Token": "gh_abc", "list": [{"secret": 1}]},
            "after": {"password": "changed"}
        }));
        assert_eq!(
            value,
            json!({
                "username": "alice",
                "password": "[redacted]",
                "nested": {"Token": "[redacted]", "list": [{"secret": "[redacted]"}]},
                "after": {"password": "changed"}
            })
        );
    }

    #[test]
    fn canonical_json_sorts_keys_whatever_the_insertion_order() {
        let mut a = String::new();
        write_canonical(
            &json!({"b": 1, "a": {"d": [1, {"f": 2, "e": 3}], "c": null}}),
            &mut a,
        );
        assert_eq!(a, r#"{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}"#);
    }

    #[test]
    fn the_hash_changes_with_any_field_and_with_the_previous_hash() {
        let at = time::macros::datetime!(2026-11-22 10:00:00.123456 UTC);
        let entry = |actor: &'static str| Canonical {
            id: 1,
            at,
            actor,
            actor_role: Some("admin"),
            source: None,
            action: "auth.login",
            target: None,
            outcome: "success",
            detail: None,
            before: None,
            after: None,
        };
        let zero = [0u8; 32];
        let base = entry("alice").hash(&zero).unwrap();
        assert_eq!(base, entry("alice").hash(&zero).unwrap());
        assert_ne!(base, entry("mallory").hash(&zero).unwrap());
        assert_ne!(base, entry("alice").hash(&[1u8; 32]).unwrap());
    }

    #[test]
    fn dates_alone_cover_whole_days_and_bad_dates_name_the_field() {
        let filter = AuditFilter {
            from: Some("2026-11-01".into()),
            to: Some("2026-11-02".into()),
            ..Default::default()
        };
        let b = filter.bounds().unwrap();
        assert_eq!(b.from, Some(time::macros::datetime!(2026-11-01 00:00 UTC)));
        assert_eq!(
            b.to,
            Some(time::macros::datetime!(2026-11-02 23:59:59.999999 UTC))
        );

        let bad = AuditFilter {
            from: Some("yesterday".into()),
            outcome: Some("ok".into()),
            ..Default::default()
        };
        let error = bad.bounds().unwrap_err();
        assert_eq!(error.field_messages("from").len(), 1);
        assert_eq!(error.field_messages("outcome").len(), 1);
    }

    #[test]
    fn an_action_ending_in_a_dot_is_a_prefix() {
        let b = AuditFilter {
            action: Some("auth.".into()),
            ..Default::default()
        }
        .bounds()
        .unwrap();
        assert_eq!(
            (b.action, b.action_prefix.as_deref()),
            (None, Some("auth."))
        );
    }
}
