//! Webhooks: one message per transition to a real HTTP receiver on loopback, none for a scan
//! that changes nothing, retries with backoff when the receiver fails, all in the delivery log.

use crate::scans::{node_with_ports, scan_and_wait, tls_endpoint};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use testkit::app::*;

/// An HTTP receiver that records (path, body) and answers with `status`.
pub(crate) async fn receiver(status: Arc<AtomicU16>) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, axum::Json(body): axum::Json<Value>| {
            let log = log.clone();
            let status = status.clone();
            async move {
                log.lock().unwrap().push((uri.path().to_owned(), body));
                axum::http::StatusCode::from_u16(status.load(Ordering::Relaxed)).unwrap()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, received)
}

/// `ops` (JSON, to `{base}/json`) and `chat` (Slack text, to `{base}/slack`); their ids.
async fn two_webhooks(app: &TestApp, base: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for (name, path, format) in [("ops", "/json", "json"), ("chat", "/slack", "slack")] {
        let created = app
            .send_json(
                Method::POST,
                "/api/v1/webhooks",
                &json!({"name": name, "url": format!("{base}{path}"), "format": format}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        ids.push(
            created.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    ids
}

#[tokio::test]
async fn one_message_per_transition_retried_with_backoff() {
    let app = spawn_admin().await;
    let status = Arc::new(AtomicU16::new(200));
    let (base, received) = receiver(status.clone()).await;
    two_webhooks(&app, &base).await;
    let refused = app
        .send_json(
            Method::POST,
            "/api/v1/webhooks",
            &json!({"name": "x", "url": "ftp://example.com/"}),
        )
        .await;
    assert_eq!(
        TestApp::field_message(&refused.json().await.unwrap(), "url"),
        "use an http:// or https:// URL"
    );

    let port = tls_endpoint("finesse5.example.com", &["finesse5.example.com"], 10).await;
    let node = node_with_ports(&app, "finesse5.example.com", &[port]).await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let notifier = domain::webhooks::deliver::Notifier::new(app.pool.clone()).unwrap();
    assert_eq!(notifier.deliver_due().await.unwrap(), 2);
    {
        let got = received.lock().unwrap();
        let json = &got.iter().find(|(p, _)| p == "/json").unwrap().1;
        assert_eq!(json["to"], "critical");
        assert_eq!(json["from"], Value::Null);
        assert_eq!(json["fqdn"], "finesse5.example.com");
        assert_eq!(json["port"], port);
        let slack = got.iter().find(|(p, _)| p == "/slack").unwrap().1["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            slack.contains("is now CRITICAL")
                && slack.contains(&format!("finesse5.example.com:{port}")),
            "{slack}"
        );
    }

    // The same state at the next scan: nothing new.
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    assert_eq!(notifier.deliver_due().await.unwrap(), 0);
    assert_eq!(received.lock().unwrap().len(), 2);

    // A transition (thresholds moved: critical → warning) while the receiver fails: retried later.
    status.store(500, Ordering::Relaxed);
    let moved = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/nodes/{node}/thresholds"),
            &json!({"critical_days": 5}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::NO_CONTENT);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert_eq!(
        domain::webhooks::store::judge_transitions(&app.pool, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(notifier.deliver_due().await.unwrap(), 2);
    assert_eq!(
        notifier.deliver_due().await.unwrap(),
        0,
        "not again before the backoff"
    );
    let log = app.get_json("/api/v1/webhooks/deliveries").await;
    let latest = &log[0];
    assert_eq!(latest["state"], "pending");
    assert_eq!(latest["attempts"], 1);
    assert_eq!(latest["last_status"], 500);
    assert_eq!(latest["from_state"], "critical");
    assert_eq!(latest["to_state"], "warning");
    assert_eq!(
        latest["last_error"],
        "the receiver answered 500 Internal Server Error"
    );
    let states: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["pending", "pending", "delivered", "delivered"]);
}

#[tokio::test]
async fn a_muted_alert_stays_quiet_and_an_acknowledged_one_does_not() {
    let app = spawn_admin().await;
    let port = tls_endpoint("cuic5.example.com", &["cuic5.example.com"], 10).await;
    let node = node_with_ports(&app, "cuic5.example.com", &[port]).await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let fingerprint = app.get_json("/api/v1/alerts").await[0]["fingerprint_sha256"].clone();
    let transitions = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from transition")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    assert_eq!(transitions().await, 1);
    let judge = || async {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        domain::webhooks::store::judge_transitions(&app.pool, now)
            .await
            .unwrap()
    };
    let key = json!({"node_id": node, "port": port, "fingerprint_sha256": fingerprint,
                     "owner": "pki", "until": "2999-01-01"});
    let thresholds = format!("/api/v1/nodes/{node}/thresholds");

    // Muted: the state moves (critical → warning) without a message.
    app.send_json(Method::PUT, "/api/v1/alerts/mute", &key)
        .await;
    app.send_json(Method::PUT, &thresholds, &json!({"critical_days": 5}))
        .await;
    assert_eq!(judge().await, 0);
    assert_eq!(transitions().await, 1);

    // Acknowledged: it moves back (warning → critical) with a message.
    app.send_json(Method::PUT, "/api/v1/alerts/ack", &key).await;
    app.send_json(Method::PUT, &thresholds, &json!({})).await;
    assert_eq!(judge().await, 1);
    assert_eq!(transitions().await, 2);
}

/// `POST /api/v1/webhooks/{id}/test`'s answer.
async fn send_test(app: &TestApp, id: i64) -> Value {
    app.post_ok(&format!("/api/v1/webhooks/{id}/test")).await
}

#[tokio::test]
async fn a_test_message_is_sent_at_once_and_its_outcome_reported() {
    let app = spawn_admin().await;
    let status = Arc::new(AtomicU16::new(200));
    let (base, received) = receiver(status.clone()).await;
    let ids = two_webhooks(&app, &base).await;
    let sent = send_test(&app, ids[0]).await;
    assert_eq!(sent["delivered"], true, "{sent}");
    assert_eq!(sent["status"], 200);
    let slack = send_test(&app, ids[1]).await;
    assert_eq!(slack["delivered"], true, "{slack}");
    {
        let received = received.lock().unwrap();
        assert_eq!(received.len(), 2);
        assert_eq!(received[0].0, "/json");
        assert_eq!(received[0].1["event"], "test");
        assert_eq!(received[0].1["webhook"], "ops");
        assert_eq!(received[0].1["sent_by"], ADMIN);
        assert_eq!(received[1].0, "/slack");
        let text = received[1].1["text"].as_str().unwrap();
        assert!(
            text.contains("test message") && text.contains("chat"),
            "{text}"
        );
    }

    // A receiver that refuses is reported, not retried, and nothing is queued.
    status.store(500, Ordering::Relaxed);
    let refused = send_test(&app, ids[0]).await;
    assert_eq!(refused["delivered"], false);
    assert_eq!(refused["status"], 500);
    assert!(
        refused["message"].as_str().unwrap().contains("500"),
        "{refused}"
    );
    assert_eq!(app.get_json("/api/v1/webhooks/deliveries").await, json!([]));
    assert_eq!(
        app.audit_action_names()
            .await
            .iter()
            .filter(|a| *a == "webhook.test")
            .count(),
        3
    );

    let missing = app
        .request(Method::POST, "/api/v1/webhooks/999999/test")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// The running application sends what is due by itself (the sender `Application` starts), at
/// the configured interval.
#[tokio::test]
async fn the_application_sends_due_deliveries_by_itself() {
    let app = spawn_app_with(|serve| serve.webhook_poll_seconds = 1).await;
    app.login(ADMIN, PASSWORD).await;
    let (base, received) = receiver(Arc::new(AtomicU16::new(200))).await;
    two_webhooks(&app, &base).await;
    let port = tls_endpoint("finesse6.example.com", &["finesse6.example.com"], 10).await;
    let node = node_with_ports(&app, "finesse6.example.com", &[port]).await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    for _ in 0..100 {
        if received.lock().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        received.lock().unwrap().len(),
        2,
        "both receivers got the transition"
    );
    let deliveries = app.get_json("/api/v1/webhooks/deliveries").await;
    let states: Vec<&str> = deliveries
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["delivered", "delivered"]);
}

/// Issue 24, item 4: a webhook URL's secret (user and password, a token in the path or the
/// query) is seen whole by admins only; auditors and the audit log see scheme, host and port.
#[tokio::test]
async fn a_webhook_urls_secret_stays_with_admins() {
    let app = spawn_admin().await;
    let url = "https://user:pa55word@hooks.example.com/services/T000/B000/XXXX?token=s3cret";
    app.create("/api/v1/webhooks", &json!({"name": "chat", "url": url}))
        .await;
    let listed = app.get_json("/api/v1/webhooks").await;
    assert_eq!(listed[0]["url"], url, "admins manage the whole URL");
    let auditor = app.signed_in_as("audrey", "auditor").await;
    let seen = auditor.get_json("/api/v1/webhooks").await;
    assert_eq!(seen[0]["url"], "https://hooks.example.com/…");
    let audit = app.get_json("/api/v1/audit?limit=500").await.to_string();
    assert!(audit.contains("webhook.create"), "{audit}");
    for secret in ["pa55word", "services/T000", "s3cret"] {
        assert!(
            !audit.contains(secret),
            "the audit log holds {secret}: {audit}"
        );
        assert!(!seen.to_string().contains(secret));
    }
}
