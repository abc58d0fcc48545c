//! What monitoring reads and what decides it: alerts and metrics for a monitor token, probe
//! failures counted by reason, thresholds per cluster and node, and metrics without a token
//! from allowed addresses only.

use crate::scans::{node_with_ports, scan_and_wait, tls_endpoint};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::*;

#[tokio::test]
async fn monitoring_reads_alerts_and_metrics_with_a_monitor_token() {
    let app = spawn_admin().await;
    let port = tls_endpoint("finesse2.example.com", &["finesse2.example.com"], 10).await;
    let node = node_with_ports(&app, "finesse2.example.com", &[port]).await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let token = app.create_token("prometheus", "monitor").await;
    let monitor = testkit::app::client();

    let alerts = app.get_json_as(&token, "/api/v1/alerts").await;
    let alert = &alerts[0];
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(
        (alert["node_id"].as_i64(), alert["port"].as_i64()),
        (Some(node), Some(i64::from(port)))
    );
    assert_eq!(alert["fqdn"], "finesse2.example.com");
    assert_eq!(alert["state"], "critical");
    assert!(alert["days_left"].as_i64().unwrap() <= 10);
    assert_eq!(alert["muted"], false);
    assert_eq!(alert["fingerprint_sha256"].as_str().unwrap().len(), 64);

    let metrics = monitor
        .get(app.url("/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    for series in [
        "gatehouse_cert_not_after_seconds{",
        "gatehouse_cert_not_before_seconds{",
        "gatehouse_probe_success{",
        "gatehouse_probe_duration_seconds{",
        "gatehouse_last_scan_timestamp_seconds ",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    let state_line = text
        .lines()
        .find(|l| l.starts_with("gatehouse_cert_alert_state{"))
        .unwrap();
    assert!(
        state_line.contains("node=\"finesse2.example.com\"") && state_line.ends_with(" 2.0"),
        "{state_line}"
    );

    // Muting shows in the alerts, with who, why and until when; unmuting clears it.
    let key =
        json!({"node_id": node, "port": port, "fingerprint_sha256": alert["fingerprint_sha256"]});
    let mut mute = key.clone();
    mute["owner"] = json!("pki team");
    mute["note"] = json!("renewal ordered, CHG0042");
    mute["until"] = json!("2999-01-01");
    let muted = app
        .send_json(Method::PUT, "/api/v1/alerts/mute", &mute)
        .await;
    assert_eq!(muted.status(), StatusCode::NO_CONTENT);
    let alerts = app.get_json_as(&token, "/api/v1/alerts").await;
    assert_eq!(alerts[0]["muted"], true);
    assert_eq!(alerts[0]["mute"]["owner"], "pki team");
    assert!(alerts[0]["mute"]["until"]
        .as_str()
        .unwrap()
        .starts_with("2999-01-01"));
    let past = json!({"node_id": node, "port": port, "fingerprint_sha256": alert["fingerprint_sha256"], "owner": "x", "until": "2001-01-01"});
    let refused = app
        .send_json(Method::PUT, "/api/v1/alerts/mute", &past)
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unmuted = app
        .send_json(Method::DELETE, "/api/v1/alerts/mute", &key)
        .await;
    assert_eq!(unmuted.status(), StatusCode::NO_CONTENT);
    let alerts = app.get_json_as(&token, "/api/v1/alerts").await;
    assert_eq!(alerts[0]["muted"], false);
    assert_eq!(alerts[0]["acknowledged"], false);

    // Acknowledging says who is on it but does not silence it.
    let mut ack = mute.clone();
    ack["owner"] = json!("noc");
    let acked = app.send_json(Method::PUT, "/api/v1/alerts/ack", &ack).await;
    assert_eq!(acked.status(), StatusCode::NO_CONTENT);
    let alerts = app.get_json_as(&token, "/api/v1/alerts").await;
    assert_eq!(
        (
            &alerts[0]["acknowledged"],
            &alerts[0]["muted"],
            &alerts[0]["mute"]["kind"],
            &alerts[0]["mute"]["owner"]
        ),
        (&json!(true), &json!(false), &json!("ack"), &json!("noc"))
    );
    let cleared = app
        .send_json(Method::DELETE, "/api/v1/alerts/ack", &key)
        .await;
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    let again = app
        .send_json(Method::DELETE, "/api/v1/alerts/ack", &key)
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let actions = app.audit_action_names().await;
    assert!(
        ["alert.mute", "alert.unmute", "alert.ack", "alert.unack"]
            .iter()
            .all(|a| actions.contains(&a.to_string())),
        "{actions:?}"
    );

    // Without a token: refused, not redirected to the sign-in page.
    assert_eq!(
        monitor
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        monitor
            .get(app.url("/api/v1/alerts"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn probe_failures_are_counted_by_reason() {
    let app = spawn_admin().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let node = node_with_ports(&app, "cuic9.example.com", &[closed]).await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let text = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("gatehouse_probe_errors_total{reason=\"refused\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("gatehouse_probe_success{node=\"cuic9.example.com\""),
        "{text}"
    );
}

#[tokio::test]
async fn thresholds_per_cluster_and_node_decide_the_alert_state() {
    let app = spawn_admin().await;
    // 40 days left of a 120-day lifetime: ok by the defaults (30 days, 20% of the lifetime).
    let port = tls_endpoint("ids1.example.com", &["ids1.example.com"], 40).await;
    let node = node_with_ports(&app, "ids1.example.com", &[port]).await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let state = |report: Value| report["endpoints"][0]["chain"][0]["state"].clone();
    let path = format!("/api/v1/nodes/{node}/certificates");
    assert_eq!(state(app.get_json(&path).await), "ok");

    let cluster = app.get_json(&format!("/api/v1/nodes/{node}")).await["cluster_id"].clone();
    let warn_60 = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/clusters/{cluster}/thresholds"),
            &json!({"warning_days": 60}),
        )
        .await;
    assert_eq!(warn_60.status(), StatusCode::NO_CONTENT);
    let report = app.get_json(&path).await;
    assert_eq!(state(report.clone()), "warning");
    assert_eq!(report["thresholds"]["warning_days"], 60);
    assert_eq!(report["thresholds"]["warning_days_from"], "cluster");
    assert_eq!(report["thresholds"]["critical_days_from"], "default");

    // The node overrides its cluster; the alerts API follows.
    let node_path = format!("/api/v1/nodes/{node}/thresholds");
    let critical_45 = app
        .send_json(
            Method::PUT,
            &node_path,
            &json!({"critical_days": 45, "warning_days": 90}),
        )
        .await;
    assert_eq!(critical_45.status(), StatusCode::NO_CONTENT);
    assert_eq!(state(app.get_json(&path).await), "critical");
    assert_eq!(app.get_json("/api/v1/alerts").await[0]["state"], "critical");

    // Critical must stay below warning, counting inherited values; out-of-range values are named.
    let inverted = app
        .send_json(Method::PUT, &node_path, &json!({"critical_days": 70}))
        .await;
    assert_eq!(inverted.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        TestApp::field_message(&inverted.json().await.unwrap(), "critical_days"),
        "critical (70 days) must be fewer days than warning (60 days)"
    );
    let out_of_range = app
        .send_json(
            Method::PUT,
            &node_path,
            &json!({"warning_lifetime_percent": 120}),
        )
        .await;
    assert_eq!(
        TestApp::field_message(
            &out_of_range.json().await.unwrap(),
            "warning_lifetime_percent"
        ),
        "use 0 to 100, or leave empty to inherit"
    );
    // Clearing the node's own values inherits the cluster's again.
    let cleared = app.send_json(Method::PUT, &node_path, &json!({})).await;
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert_eq!(state(app.get_json(&path).await), "warning");
    let actions = app.audit_action_names().await;
    assert_eq!(actions.iter().filter(|a| *a == "thresholds.set").count(), 3);
}

#[tokio::test]
async fn metrics_without_a_token_only_from_allowed_addresses() {
    for (allow, expected) in [
        ("", StatusCode::UNAUTHORIZED),
        ("10.0.0.0/8", StatusCode::UNAUTHORIZED),
        ("10.0.0.0/8, 127.0.0.0/8", StatusCode::OK),
    ] {
        let app = spawn_app_with(|serve| {
            serve.metrics_allow = server::address_list::AddressList::parse(allow).unwrap();
        })
        .await;
        let anonymous = testkit::app::client()
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), expected, "allow '{allow}'");
    }
}
