//! What follows an apply: drift found by the periodic check (API, metrics, webhooks once per
//! transition) and resolved by applying again or by adopting the node's state; restarts left
//! pending by applied changes, run one at a time.

use crate::reconcile::{apply, commands, node, pair_policy, plan, save, site};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use testkit::app::*;

async fn transitions(app: &TestApp, to: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from transition where detail->>'event' = 'policy_drift' and to_state = $1",
    )
    .bind(to)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_hand_edit_is_drift_in_the_api_and_metrics_notified_once_and_resolved_by_applying_again()
{
    let app = spawn_admin().await;
    let site = site(&app).await;
    save(&app, site.cluster, pair_policy()).await;
    let checked = app.post_ok("/api/v1/drift/check").await;
    assert_eq!(
        checked,
        json!([]),
        "never applied: not managed yet, so no drift"
    );
    assert_eq!(
        apply(&app, &plan(&app, site.cluster).await).await["state"],
        "applied"
    );
    assert_eq!(app.post_ok("/api/v1/drift/check").await, json!([]));

    let finesse2 = site.running.fleet.index("finesse2.vpnless.test").unwrap();
    site.running.fleet.change_by_hand(finesse2, |s| {
        s.allowed_hosts.push("10.66.0.1".into());
        s.client_auth = false;
    });
    let drift = app.post_ok("/api/v1/drift/check").await;
    let items: Vec<(&str, &str, &str)> = drift
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["item"].as_str().unwrap(),
                d["expected"].as_str().unwrap(),
                d["actual"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            (
                "allowed-hosts",
                "proxy-a.vpnless.test, 192.0.2.10, proxy-b.vpnless.test",
                "proxy-a.vpnless.test, 192.0.2.10, proxy-b.vpnless.test, 10.66.0.1"
            ),
            ("client-auth", "enabled", "disabled"),
        ]
    );
    assert_eq!(drift[0]["fqdn"], "finesse2.vpnless.test");
    app.post_ok("/api/v1/drift/check").await;
    assert_eq!(
        transitions(&app, "drifted").await,
        2,
        "once per transition, not per check"
    );
    let token = app.create_token("prometheus", "monitor").await;
    assert_eq!(
        app.get_json_as(&token, "/api/v1/drift")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let metrics = client()
        .get(app.url("/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"gatehouse_policy_drift{cluster="VPN-less",node="finesse2.vpnless.test",item="client-auth"} 1"#),
        "{metrics}"
    );

    let fixed = apply(&app, &plan(&app, site.cluster).await).await;
    assert_eq!(fixed["state"], "applied");
    assert_eq!(app.get_json("/api/v1/drift").await, json!([]));
    assert_eq!(transitions(&app, "resolved").await, 2);
    assert!(site.running.fleet.state(finesse2).client_auth);
}

#[tokio::test]
async fn a_drifted_node_adopted_becomes_the_next_version_and_the_other_nodes_follow() {
    let app = spawn_admin().await;
    let site = site(&app).await;
    save(&app, site.cluster, pair_policy()).await;
    apply(&app, &plan(&app, site.cluster).await).await;
    let cuic1 = site.running.fleet.index("cuic1.vpnless.test").unwrap();
    site.running.fleet.change_by_hand(cuic1, |s| {
        let cors = s.cors.get_mut("cuic").unwrap();
        cors.origins.push("https://wfm.example.com".into());
    });
    assert_eq!(
        app.post_ok("/api/v1/drift/check")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let nodes: Value = app
        .get_json(&format!("/api/v1/nodes?cluster_id={}", site.cluster))
        .await;
    let id = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["fqdn"] == "cuic1.vpnless.test")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let adopted = app
        .post_ok(&format!("/api/v1/nodes/{id}/adopt-policy"))
        .await;
    assert_eq!(adopted["version"], 2);
    assert_eq!(adopted["reason"], "adopted from cuic1.vpnless.test");
    assert_eq!(
        adopted["policy"]["cuic"]["extra_origins"],
        json!(["https://wfm.example.com"])
    );

    let planned = plan(&app, site.cluster).await;
    assert_eq!(node(&planned, "cuic1.vpnless.test")["state"], "in_sync");
    assert_eq!(
        commands(node(&planned, "cuic2.vpnless.test")),
        ["utils cuic cors allowed_origin add https://wfm.example.com"]
    );
    assert_eq!(apply(&app, &planned).await["state"], "applied");
    assert_eq!(app.post_ok("/api/v1/drift/check").await, json!([]));
}

#[tokio::test]
async fn applied_changes_leave_restarts_pending_until_a_restart_or_a_rolling_restart_clears_them() {
    let app = spawn_admin().await;
    let site = site(&app).await;
    save(&app, site.cluster, pair_policy()).await;
    apply(&app, &plan(&app, site.cluster).await).await;
    let path = format!("/api/v1/clusters/{}/restarts", site.cluster);
    let pending: Value = app.get_json(&path).await;
    let of = |fqdn: &str| -> Vec<String> {
        pending
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["fqdn"] == fqdn)
            .map(|p| p["service"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        of("finesse1.vpnless.test"),
        [
            "Cisco Finesse Notification Service",
            "Cisco Finesse Tomcat",
            "Cisco Web Proxy Service"
        ]
    );
    assert_eq!(of("ids1.vpnless.test"), ["Cisco Web Proxy Service"]);
    assert_eq!(
        pending.as_array().unwrap().len(),
        3 + 3 + 2 + 2 + 2 + 2 + 1 + 1
    );

    let id = pending[0]["node_id"].as_i64().unwrap();
    let service = pending[0]["service"].as_str().unwrap();
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/nodes/{id}/restart"),
            &json!({"service": service}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let restarted: Value = response.json().await.unwrap();
    assert_eq!(restarted["state"], "done", "{restarted}");
    let lines: Vec<&str> = restarted["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines.contains(&format!("{service}[STARTED]").as_str()),
        "{lines:?}"
    );
    assert_eq!(app.get_json(&path).await.as_array().unwrap().len(), 15);

    let unknown = app
        .send_json(
            Method::POST,
            &format!("/api/v1/nodes/{id}/restart"),
            &json!({"service": "No Such Service"}),
        )
        .await;
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(unknown["state"], "failed", "{unknown}");

    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/clusters/{}/rolling-restart", site.cluster),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let ids: Vec<i64> = response.json::<Value>().await.unwrap()["restarts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 15);
    let mut ended = Vec::new();
    for id in &ids {
        for _ in 0..200 {
            let restart: Value = app.get_json(&format!("/api/v1/restarts/{id}")).await;
            if restart["state"] == "done" || restart["state"] == "failed" {
                ended.push(restart);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(ended.iter().all(|r| r["state"] == "done"), "{ended:#?}");
    let finished: Vec<&str> = ended
        .iter()
        .map(|r| r["finished_at"].as_str().unwrap())
        .collect();
    assert!(
        finished.windows(2).all(|w| w[0] <= w[1]),
        "one after another: {finished:?}"
    );
    assert_eq!(app.get_json(&path).await, json!([]));
}
