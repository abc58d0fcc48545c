//! Sends webhook deliveries: every few seconds the due ones are posted (10 s budget each); a
//! failure (no answer, or a status other than 2xx) is tried again after 30 s, 2 min, 8 min,
//! 32 min, 2 h 8 min, then every 6 h, and given up after 8 attempts; each attempt is in the
//! delivery log. The transitions are judged after every scan and by the `judge` job every 10
//! minutes (expiry moves with the clock between scans).

use crate::webhooks::store as webhooks;
use crate::webhooks::SecretUrl;
use anyhow::{Context, Result};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

pub const MAX_ATTEMPTS: i32 = 8;

#[derive(Clone)]
pub struct Notifier {
    pool: PgPool,
    client: reqwest::Client,
    /// The first retry's delay; each next one is four times longer (at most 6 hours).
    pub first_retry: Duration,
}

impl Notifier {
    pub fn new(pool: PgPool) -> Result<Self> {
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("TLS for webhooks")?
        .with_root_certificates(crate::scans::probe::system_roots())
        .with_no_client_auth();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("the webhook HTTP client")?;
        Ok(Self {
            pool,
            client,
            first_retry: Duration::from_secs(30),
        })
    }

    /// Posts `body` as JSON to `url`: the receiver's status, and why it does not count as
    /// delivered (no answer, or not 2xx).
    pub async fn post(
        &self,
        url: &SecretUrl,
        body: &serde_json::Value,
    ) -> (Option<u16>, Option<String>) {
        post(&self.client, url, body).await
    }

    /// Posts every due delivery once; returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize> {
        let due = webhooks::due(&self.pool, 50)
            .await
            .map_err(|e| anyhow::anyhow!("reading due deliveries: {e}"))?;
        let count = due.len();
        for delivery in due {
            let body = webhooks::body(&delivery.format, &delivery.detail);
            let (status, error) = post(&self.client, &delivery.url, &body).await;
            let retry = error
                .as_ref()
                .and_then(|_| retry_in(self.first_retry, delivery.attempts + 1));
            if let Some(error) = &error {
                tracing::warn!(delivery = delivery.id, url = %delivery.url, %error, "webhook delivery failed");
            }
            webhooks::attempted(&self.pool, delivery.id, status, error, retry)
                .await
                .map_err(|e| anyhow::anyhow!("recording a delivery: {e}"))?;
        }
        Ok(count)
    }

    /// Sends what is due every `every` (`None` when it is zero). Every replica sends; each
    /// delivery is claimed by one of them (`due`).
    pub fn spawn(self, every: Duration) -> Option<JoinHandle<()>> {
        if every.is_zero() {
            tracing::info!("webhook deliveries are off (GATEHOUSE_WEBHOOK_POLL_SECONDS=0)");
            return None;
        }
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(error) = self.deliver_due().await {
                    tracing::error!(error = %format!("{error:#}"), "sending webhooks");
                }
            }
        }))
    }
}

/// Posts `body` to `url`: the receiver's status, and why it does not count as delivered.
async fn post(
    client: &reqwest::Client,
    url: &SecretUrl,
    body: &serde_json::Value,
) -> (Option<u16>, Option<String>) {
    match client.post(url.expose()).json(body).send().await {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
        Ok(response) => (
            Some(response.status().as_u16()),
            Some(format!("the receiver answered {}", response.status())),
        ),
        Err(error) => (None, Some(describe(&error))),
    }
}

/// When to try again after `attempts` failed attempts (`None`: give up).
pub fn retry_in(first_retry: Duration, attempts: i32) -> Option<Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let factor = 4u32.saturating_pow(u32::try_from(attempts - 1).unwrap_or(0));
    Some(
        first_retry
            .saturating_mul(factor)
            .min(Duration::from_secs(6 * 3600)),
    )
}

/// A transport error in a sentence (reqwest's own text hides the cause).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "no answer within 10 s".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_by_four_up_to_six_hours_then_give_up() {
        let minutes: Vec<Option<u64>> = (1..=8)
            .map(|a| retry_in(Duration::from_secs(30), a).map(|d| d.as_secs() / 60))
            .collect();
        assert_eq!(
            minutes,
            [
                Some(0),
                Some(2),
                Some(8),
                Some(32),
                Some(128),
                Some(360),
                Some(360),
                None
            ]
        );
    }
}
