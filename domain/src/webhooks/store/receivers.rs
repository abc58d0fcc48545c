//! Webhooks as admins manage them (listed, added, removed) and the log of their deliveries.

use super::*;
use crate::Services;

#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn list(pool: &PgPool, context: &RequestContext) -> Result<Vec<Webhook>, Error> {
    let whole = context.require_reader()?.role == crate::auth::Role::Admin;
    Ok(sqlx::query!(
        "select id, name, url, format, created_by, created_at from webhook order by lower(name)"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| Webhook {
        id: r.id,
        name: r.name,
        // Auditors manage nothing: the URL's secret is an admin's alone.
        url: if whole { r.url } else { redacted(&r.url) },
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
        return Err(Error::Invalid(errors));
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
            .after(json!({"name": name, "url": redacted(&url), "format": format})),
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
        .ok_or(crate::webhooks::Refused::NoSuchWebhook(id))?;
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
        .ok_or(crate::webhooks::Refused::NoSuchWebhook(id))?;
    let detail = json!({
        "event": "test",
        "webhook": hook.name,
        "sent_by": actor,
        "sent_at": rfc3339(OffsetDateTime::now_utc()),
    });
    let (status, error) = app
        .webhooks
        .post(&SecretUrl::new(hook.url), &body(&hook.format, &detail))
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
