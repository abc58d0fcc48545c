//! Webhook queries, and the judge of transitions: after every scan (and periodically, since
//! expiry moves with the clock) each served certificate's state is compared with the last one
//! recorded; only a change makes a message, so a scan that finds nothing new sends nothing.

use super::{Delivery, TestResult, Webhook, WebhookInput};
use crate::audit::store::{record, record_alone, Outcome};
use crate::auth::principal::RequestContext;
use crate::certificates::store::{fleet, mutes};
use crate::dates::rfc3339;
use crate::Services;
use crate::{Error, FieldErrors};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;

/// Every webhook by name (readers).
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn list(pool: &PgPool, context: &RequestContext) -> Result<Vec<Webhook>, Error> {
    context.require_reader()?;
    Ok(sqlx::query!(
        "select id, name, url, format, created_by, created_at from webhook order by lower(name)"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| Webhook {
        id: r.id,
        name: r.name,
        url: r.url,
        format: r.format,
        created_by: r.created_by,
        created_at: rfc3339(r.created_at),
    })
    .collect())
}

/// An `http` or `https` URL with a host, or why not.
fn valid_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let parsed: http::Uri = url.parse().map_err(|_| "not a valid URL".to_owned())?;
    match (parsed.scheme_str(), parsed.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() && url.len() <= 2000 => {
            Ok(url.to_owned())
        }
        (Some("http" | "https"), _) => Err("the URL needs a host".into()),
        _ => Err("use an http:// or https:// URL".into()),
    }
}

#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn create(
    pool: &PgPool,
    context: &RequestContext,
    input: WebhookInput,
) -> Result<i64, Error> {
    let principal = context.require_admin()?;
    let mut errors = FieldErrors::new();
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        errors.insert("name".into(), vec!["use 1 to 100 characters".into()]);
    }
    let url = valid_url(&input.url)
        .map_err(|m| errors.insert("url".into(), vec![m]))
        .ok();
    let format = input
        .format
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .unwrap_or("json")
        .to_owned();
    if !["json", "slack"].contains(&format.as_str()) {
        errors.insert("format".into(), vec!["use json or slack".into()]);
    }
    let (Some(url), true) = (url, errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into webhook (name, url, format, created_by) values ($1, $2, $3, $4) returning id",
        name,
        url,
        format,
        principal.actor()
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        crate::error::on_constraint(
            e,
            "webhook_name_key",
            "name",
            "a webhook with this name exists",
        )
    })?;
    record(
        &mut tx,
        context
            .event("webhook.create", format!("webhook:{id}"))
            .after(json!({"name": name, "url": url, "format": format})),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn delete(pool: &PgPool, context: &RequestContext, id: i64) -> Result<(), Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!("delete from webhook where id = $1 returning name", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no webhook with id {id}")))?;
    record(
        &mut tx,
        context
            .event("webhook.delete", format!("webhook:{id}"))
            .before(json!({ "name": name })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The latest `limit` deliveries, newest first (readers).
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn deliveries(
    pool: &PgPool,
    context: &RequestContext,
    limit: i64,
) -> Result<Vec<Delivery>, Error> {
    context.require_reader()?;
    Ok(sqlx::query!(
        r#"select d.id, w.name as webhook, d.state, d.attempts, d.last_status, d.last_error, d.next_attempt_at,
                  d.delivered_at, d.created_at, t.from_state, t.to_state, t.detail
           from delivery d join webhook w on w.id = d.webhook_id join transition t on t.id = d.transition_id
           order by d.id desc limit $1"#,
        limit
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| Delivery {
        id: r.id,
        webhook: r.webhook,
        state: r.state,
        attempts: r.attempts,
        last_status: r.last_status,
        last_error: r.last_error,
        next_attempt_at: rfc3339(r.next_attempt_at),
        delivered_at: r.delivered_at.map(rfc3339),
        fqdn: r.detail["fqdn"].as_str().map(str::to_owned),
        port: r.detail["port"].as_i64().and_then(|p| i32::try_from(p).ok()),
        subject_cn: r.detail["subject_cn"].as_str().map(str::to_owned),
        from_state: r.from_state,
        to_state: r.to_state,
        created_at: rfc3339(r.created_at),
    })
    .collect())
}

/// One transition to record.
struct Change {
    endpoint_id: i64,
    sha256: String,
    from: Option<String>,
    to: String,
    detail: Value,
}

/// Compares every served certificate's state now with the last one recorded, records the
/// changes, and queues one delivery per change and webhook. Muted alerts change state silently.
/// A certificate an endpoint no longer serves (its latest probe succeeded with another chain)
/// is a change to `gone`; an endpoint that cannot be reached keeps its last states. Returns how
/// many transitions were recorded.
pub async fn judge_transitions(pool: &PgPool, now: i64) -> Result<usize, Error> {
    let endpoints = fleet(pool, None).await?;
    let mutes = mutes(pool).await?;
    let mut tx = pool.begin().await?;
    // One judge at a time (a scan's end and the periodic pass may meet).
    sqlx::query!("select pg_advisory_xact_lock(7261122)")
        .execute(&mut *tx)
        .await?;
    let previous: HashMap<(i64, String), String> =
        sqlx::query!("select endpoint_id, sha256, state from alert_status")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| ((r.endpoint_id, r.sha256), r.state))
            .collect();
    let mut seen = HashSet::new();
    let mut changes: Vec<Change> = Vec::new();
    for e in &endpoints {
        for (position, cert) in &e.chain {
            let key = (e.endpoint_id, cert.sha256.clone());
            let state = e.state_of(cert, now).as_str();
            let before = previous.get(&key);
            seen.insert(key.clone());
            if before.map(String::as_str) == Some(state) {
                continue;
            }
            sqlx::query!(
                "insert into alert_status (endpoint_id, sha256, state) values ($1, $2, $3)
                 on conflict (endpoint_id, sha256) do update set state = excluded.state, changed_at = now()",
                e.endpoint_id,
                cert.sha256,
                state
            )
            .execute(&mut *tx)
            .await?;
            // A certificate first seen in good health is news to nobody.
            let muted = mutes.get(&key).is_some_and(|m| m.kind == "mute");
            if (before.is_none() && state == "ok") || muted {
                continue;
            }
            let detail = json!({
                "event": "alert_state_changed",
                "node_id": e.node_id, "cluster": e.cluster, "fqdn": e.fqdn, "port": e.port, "kind": e.kind,
                "chain_position": position, "fingerprint_sha256": cert.sha256,
                "subject_cn": cert.subject_cn, "issuer_cn": cert.issuer_cn,
                "from": before, "to": state, "days_left": cert.days_left(now),
                "not_after": OffsetDateTime::from_unix_timestamp(cert.not_after).map(rfc3339).unwrap_or_default(),
            });
            changes.push(Change {
                endpoint_id: e.endpoint_id,
                sha256: cert.sha256.clone(),
                from: before.cloned(),
                to: state.to_owned(),
                detail,
            });
        }
    }
    let answered: HashMap<i64, &crate::certificates::store::EndpointNow> = endpoints
        .iter()
        .filter(|e| e.probe.as_ref().is_some_and(|p| p.ok))
        .map(|e| (e.endpoint_id, e))
        .collect();
    for ((endpoint_id, sha256), before) in &previous {
        let Some(e) = answered.get(endpoint_id) else {
            continue;
        };
        if seen.contains(&(*endpoint_id, sha256.clone())) {
            continue;
        }
        sqlx::query!(
            "delete from alert_status where endpoint_id = $1 and sha256 = $2",
            endpoint_id,
            sha256
        )
        .execute(&mut *tx)
        .await?;
        let muted = mutes
            .get(&(*endpoint_id, sha256.clone()))
            .is_some_and(|m| m.kind == "mute");
        if before == "ok" || muted {
            continue;
        }
        let subject_cn = sqlx::query_scalar!(
            "select subject_cn from certificate where sha256 = $1",
            sha256
        )
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
        let detail = json!({
            "event": "alert_state_changed",
            "node_id": e.node_id, "cluster": e.cluster, "fqdn": e.fqdn, "port": e.port, "kind": e.kind,
            "fingerprint_sha256": sha256, "subject_cn": subject_cn, "from": before, "to": "gone",
        });
        changes.push(Change {
            endpoint_id: *endpoint_id,
            sha256: sha256.clone(),
            from: Some(before.clone()),
            to: "gone".into(),
            detail,
        });
    }
    for change in &changes {
        let id = sqlx::query_scalar!(
            "insert into transition (endpoint_id, sha256, from_state, to_state, detail) values ($1, $2, $3, $4, $5) returning id",
            change.endpoint_id,
            change.sha256,
            change.from.as_deref(),
            change.to,
            change.detail
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!(
            "insert into delivery (transition_id, webhook_id, state) select $1, id, 'pending' from webhook",
            id
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(changes.len())
}

/// A delivery that is due: where to send what.
pub struct Due {
    pub id: i64,
    pub url: String,
    pub format: String,
    pub attempts: i32,
    pub detail: Value,
}

/// Deliveries due now (at most `limit`), claimed by pushing their next attempt a minute ahead
/// so that a second sender does not take them too.
pub async fn due(pool: &PgPool, limit: i64) -> Result<Vec<Due>, Error> {
    Ok(sqlx::query!(
        r#"update delivery d set next_attempt_at = now() + interval '1 minute'
           from webhook w, transition t
           where d.id in (select id from delivery where state = 'pending' and next_attempt_at <= now()
                          order by next_attempt_at limit $1 for update skip locked)
             and w.id = d.webhook_id and t.id = d.transition_id
           returning d.id, w.url, w.format, d.attempts, t.detail"#,
        limit
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| Due {
        id: r.id,
        url: r.url,
        format: r.format,
        attempts: r.attempts,
        detail: r.detail,
    })
    .collect())
}

/// Records one attempt: delivered, or the error and when to try again (`None`: give up).
pub async fn attempted(
    pool: &PgPool,
    id: i64,
    status: Option<u16>,
    error: Option<String>,
    retry_in: Option<std::time::Duration>,
) -> Result<(), Error> {
    let status = status.map(i32::from);
    match (&error, retry_in) {
        (None, _) => {
            sqlx::query!(
                "update delivery set state = 'delivered', attempts = attempts + 1, last_status = $2, last_error = null,
                        delivered_at = now() where id = $1",
                id,
                status
            )
            .execute(pool)
            .await?;
        }
        (Some(error), Some(retry_in)) => {
            let seconds = retry_in.as_secs_f64();
            sqlx::query!(
                "update delivery set attempts = attempts + 1, last_status = $2, last_error = $3,
                        next_attempt_at = now() + make_interval(secs => $4) where id = $1",
                id,
                status,
                error,
                seconds
            )
            .execute(pool)
            .await?;
        }
        (Some(error), None) => {
            sqlx::query!(
                "update delivery set state = 'failed', attempts = attempts + 1, last_status = $2, last_error = $3 where id = $1",
                id,
                status,
                error
            )
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// Sends a test message to one webhook now (not queued, not retried) and says what happened;
/// audited with the outcome.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), id = id))]
pub async fn send_test(
    app: &Services,
    context: &RequestContext,
    id: i64,
) -> Result<TestResult, Error> {
    let actor = context.require_admin()?.actor();
    let hook = sqlx::query!("select name, url, format from webhook where id = $1", id)
        .fetch_optional(&app.pool)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no webhook with id {id}")))?;
    let detail = json!({
        "event": "test",
        "webhook": hook.name,
        "sent_by": actor,
        "sent_at": rfc3339(OffsetDateTime::now_utc()),
    });
    let (status, error) = app
        .webhooks
        .post(&hook.url, &body(&hook.format, &detail))
        .await;
    let result = TestResult {
        delivered: error.is_none(),
        status,
        message: match (&error, status) {
            (None, Some(status)) => format!(
                "Test message to {} delivered: the receiver answered {status}.",
                hook.name
            ),
            (None, None) => format!("Test message to {} delivered.", hook.name),
            (Some(error), _) => format!("Test message to {} not delivered: {error}.", hook.name),
        },
    };
    let outcome = Outcome::of(result.delivered);
    record_alone(
        &app.pool,
        context
            .event("webhook.test", format!("webhook:{}", hook.name))
            .outcome(outcome)
            .detail(result.message.clone()),
    )
    .await?;
    Ok(result)
}

/// The message a webhook receives: Gatehouse's JSON, or Slack's `{"text"}`.
pub fn body(format: &str, detail: &Value) -> Value {
    if format != "slack" {
        return detail.clone();
    }
    if detail["event"] == "test" {
        let text = format!(
            "👋 Gatehouse test message for the webhook {}, sent by {}. Alert transitions will arrive here.",
            detail["webhook"].as_str().unwrap_or_default(),
            detail["sent_by"].as_str().unwrap_or_default()
        );
        return json!({ "text": text });
    }
    let place = format!(
        "{}:{}",
        detail["fqdn"].as_str().unwrap_or("?"),
        detail["port"].as_i64().unwrap_or_default()
    );
    let subject = detail["subject_cn"].as_str().unwrap_or("(no CN)");
    let from = detail["from"].as_str().unwrap_or("new");
    let text = match detail["to"].as_str().unwrap_or_default() {
        "gone" => format!("✅ {place} no longer serves the certificate {subject} (was {from})."),
        "ok" => format!("✅ {place}: the certificate {subject} is ok again (was {from})."),
        to => format!(
            "{} {place}: the certificate {subject} is now {} (was {from}), {} days left, expires {}.",
            if to == "warning" { "⚠️" } else { "🚨" },
            to.to_uppercase(),
            detail["days_left"].as_i64().unwrap_or_default(),
            detail["not_after"].as_str().unwrap_or_default(),
        ),
    };
    json!({ "text": text })
}
