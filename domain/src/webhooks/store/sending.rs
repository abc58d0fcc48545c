//! Sending: the deliveries that are due (claimed so that one sender takes each), their
//! outcome and retry, a test message on demand, and the body each format receives.

use super::*;

/// A delivery that is due: where to send what.
pub struct Due {
    pub id: i64,
    pub url: SecretUrl,
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
        url: SecretUrl::new(r.url),
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
    if detail["event"] == "policy_drift" {
        let node = detail["fqdn"].as_str().unwrap_or("?");
        let item = detail["item"].as_str().unwrap_or("?");
        let text = if detail["to"] == "resolved" {
            format!("✅ {node}: {item} matches the access policy again.")
        } else {
            format!(
                "⚠️ {node}: {item} differs from the access policy: expected {}, found {}.",
                detail["expected"].as_str().unwrap_or("?"),
                detail["actual"].as_str().unwrap_or("?")
            )
        };
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

#[cfg(test)]
mod tests {
    use super::body;
    use serde_json::json;

    #[test]
    fn a_drift_reads_as_a_sentence_for_slack_and_stays_json_otherwise() {
        let drifted = json!({"event": "policy_drift", "fqdn": "finesse2.example.com", "item": "allowed-hosts",
            "to": "drifted", "expected": "proxy-a.example.com", "actual": "proxy-a.example.com, 198.51.100.23"});
        assert_eq!(
            body("slack", &drifted)["text"],
            "⚠️ finesse2.example.com: allowed-hosts differs from the access policy: expected proxy-a.example.com, found proxy-a.example.com, 198.51.100.23."
        );
        let resolved = json!({"event": "policy_drift", "fqdn": "finesse2.example.com", "item": "allowed-hosts", "to": "resolved"});
        assert_eq!(
            body("slack", &resolved)["text"],
            "✅ finesse2.example.com: allowed-hosts matches the access policy again."
        );
        assert_eq!(body("json", &drifted), drifted);
    }
}
