//! Scans over REST against real TLS servers on loopback.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use testkit::app::*;
use testkit::pki::{Ca, Leaf};

/// A TLS server for `names` whose self-signed certificate (CN `cn`) expires in `days`.
pub(crate) async fn tls_endpoint(cn: &str, names: &[&str], days: i64) -> u16 {
    tls_endpoint_when(cn, names, days, Arc::new(AtomicBool::new(true))).await
}

/// Like [`tls_endpoint`], closing connections at once while `open` is false.
pub(crate) async fn tls_endpoint_when(
    cn: &str,
    names: &[&str],
    days: i64,
    open: Arc<AtomicBool>,
) -> u16 {
    let leaf = Leaf::self_signed(cn, names, days);
    let config = testkit::tls::server_config(vec![leaf.der.clone()], leaf.key());
    testkit::tls::serve_config(config, open).await
}

pub(crate) async fn node_with_ports(app: &TestApp, fqdn: &str, ports: &[u16]) -> i64 {
    let cluster = app
        .request(Method::POST, "/api/v1/clusters")
        .json(&json!({"name": format!("c-{fqdn}")}))
        .send()
        .await
        .unwrap();
    let cluster: Value = cluster.json().await.unwrap();
    let endpoints: Vec<Value> = ports.iter().map(|p| json!({"port": p})).collect();
    let node = app
        .request(Method::POST, "/api/v1/nodes")
        .json(
            &json!({"cluster_id": cluster["id"], "kind": "finesse", "role": "primary", "fqdn": fqdn,
                      "address": "127.0.0.1", "endpoints": endpoints}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(node.status(), StatusCode::CREATED);
    node.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Starts a scan of `node` (202); returns its id.
pub(crate) async fn start_scan(app: &TestApp, node: i64) -> i64 {
    let started = app
        .send_json(Method::POST, "/api/v1/scans", &json!({"node_ids": [node]}))
        .await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    started.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// Listeners that accept connections and never answer the handshake: each probe of them waits
/// for its timeout.
pub(crate) async fn silent_listeners(count: usize) -> Vec<tokio::net::TcpListener> {
    let mut listeners = Vec::new();
    for _ in 0..count {
        listeners.push(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    listeners
}

pub(crate) async fn scan_and_wait(app: &TestApp, body: Value) -> Value {
    let started = app.send_json(Method::POST, "/api/v1/scans", &body).await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let id = started.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    for _ in 0..100 {
        let status = app.get_json(&format!("/api/v1/scans/{id}")).await;
        if status["state"] != "running" && status["state"] != "queued" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("scan {id} did not finish");
}

#[tokio::test]
async fn what_a_scan_found_is_seen_as_soon_as_it_is_done() {
    // The overview pages and the API share a view of the fleet that is judged once per change;
    // the end of a scan must renew it even right after it was read.
    let app = spawn_admin().await;
    let open = Arc::new(AtomicBool::new(false));
    let port = tls_endpoint_when(
        "uccx1.example.com",
        &["uccx1.example.com"],
        10,
        open.clone(),
    )
    .await;
    let node = node_with_ports(&app, "uccx1.example.com", &[port]).await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    assert_eq!(app.get_json("/api/v1/certificates").await, json!([]));
    assert_eq!(app.get_json("/api/v1/alerts").await, json!([]));

    open.store(true, Ordering::Relaxed);
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let served = app.get_json("/api/v1/certificates").await;
    assert_eq!(served.as_array().unwrap().len(), 1, "{served}");
    assert_eq!(served[0]["state"], "critical");
    let alerts = app.get_json("/api/v1/alerts").await;
    assert_eq!(alerts[0]["state"], "critical", "{alerts}");

    // An inventory change is seen at once too.
    let deleted = app
        .request(Method::DELETE, &format!("/api/v1/nodes/{node}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get_json("/api/v1/certificates").await, json!([]));
}

#[tokio::test]
async fn a_scan_records_the_served_chain_and_its_findings() {
    let app = spawn_admin().await;
    let port = tls_endpoint("Finesse Primary", &["finesse1.example.com"], 10).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let node = node_with_ports(&app, "finesse1.example.com", &[port, closed]).await;

    let status = scan_and_wait(&app, json!({"node_ids": [node]})).await;
    assert_eq!(
        (
            status["state"].as_str(),
            status["done"].as_i64(),
            status["total"].as_i64()
        ),
        (Some("done"), Some(2), Some(2))
    );

    let report = app
        .get_json(&format!("/api/v1/nodes/{node}/certificates"))
        .await;
    let endpoints = report["endpoints"].as_array().unwrap();
    let served = endpoints.iter().find(|e| e["port"] == port).unwrap();
    assert_eq!(served["probe"]["ok"], true);
    assert_eq!(served["probe"]["protocol"], "TLSv1.3");
    assert_eq!(served["probe"]["publicly_trusted"], false);
    let leaf = &served["chain"][0];
    assert_eq!(leaf["fingerprint_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(leaf["subject_cn"], "Finesse Primary");
    let findings: Vec<(&str, &str)> = leaf["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert!(findings.contains(&("expiring", "critical")), "{findings:?}");
    assert!(
        findings.contains(&("cn_not_in_san", "warning")),
        "{findings:?}"
    );
    assert!(leaf["days_left"].as_i64().unwrap() <= 10);

    let all = app.get_json("/api/v1/certificates").await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["state"], "critical");
    assert_eq!(all[0]["fqdn"], "finesse1.example.com");
    assert_eq!(all[0]["findings"][0]["severity"], "critical");

    let refused = endpoints.iter().find(|e| e["port"] == closed).unwrap();
    assert_eq!(refused["probe"]["ok"], false);
    assert_eq!(refused["probe"]["error_code"], "refused");
    assert!(refused["chain"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn certificates_are_stored_once_and_their_history_is_kept() {
    let app = spawn_admin().await;
    let port = tls_endpoint("cuic1.example.com", &["cuic1.example.com"], 200).await;
    let node = node_with_ports(&app, "cuic1.example.com", &[port]).await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    // An empty body scans the whole fleet.
    let whole = app
        .request(Method::POST, "/api/v1/scans")
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let count = |sql: &'static str| async {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    assert_eq!(count("select count(*) from certificate").await, 1);
    assert_eq!(count("select count(*) from probe").await, 2);
    assert_eq!(count("select count(*) from observation").await, 1);
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|(_, action, _)| action == "scan.start"));
}

#[tokio::test]
async fn a_node_never_scanned_shows_its_endpoints_without_probes() {
    let app = spawn_admin().await;
    let node = node_with_ports(&app, "ids1.example.com", &[8553]).await;
    let report = app
        .get_json(&format!("/api/v1/nodes/{node}/certificates"))
        .await;
    assert_eq!(report["endpoints"][0]["port"], 8553);
    assert!(report["endpoints"][0]["probe"].is_null());
    assert_eq!(
        app.get("/api/v1/scans/424242")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// A TLS server that serves only its leaf, signed by an intermediate it does not send.
async fn endpoint_missing_its_intermediate(fqdn: &str) -> u16 {
    let issuing = Ca::new("Test Root").intermediate("Test Issuing CA");
    let leaf = issuing.leaf(&[fqdn]);
    testkit::tls::serve(vec![leaf.der.clone()], leaf.key()).await
}

#[tokio::test]
async fn a_chain_missing_its_intermediate_is_reported_on_the_leaf() {
    let app = spawn_admin().await;
    let port = endpoint_missing_its_intermediate("livedata1.example.com").await;
    let node = node_with_ports(&app, "livedata1.example.com", &[port]).await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let report = app
        .get_json(&format!("/api/v1/nodes/{node}/certificates"))
        .await;
    let leaf = &report["endpoints"][0]["chain"][0];
    let ids: Vec<&str> = leaf["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["chain_incomplete"], "{leaf}");
}

#[tokio::test]
async fn a_certificate_page_lists_where_it_is_served_and_downloads_as_pem() {
    let app = spawn_admin().await;
    let port = tls_endpoint("la1.example.com", &["la1.example.com"], 200).await;
    let node = node_with_ports(&app, "la1.example.com", &[port]).await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let sha = app.get_json("/api/v1/certificates").await[0]["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .to_owned();

    let report = app.get_json(&format!("/api/v1/certificates/{sha}")).await;
    assert_eq!(report["details"]["subject_cn"], "la1.example.com");
    assert_eq!(report["details"]["sha256"], sha.as_str());
    let placement = &report["placements"][0];
    assert_eq!(placement["node_id"], node);
    assert_eq!(placement["port"], port);
    assert_eq!(placement["current"], true);
    assert_eq!(placement["state"], "ok");

    let pem = app
        .get(&format!("/api/v1/certificates/{sha}/pem"))
        .send()
        .await
        .unwrap();
    assert_eq!(pem.status(), StatusCode::OK);
    assert_eq!(pem.headers()["content-type"], "application/x-pem-file");
    assert_eq!(
        pem.headers()["content-disposition"],
        "attachment; filename=\"la1.example.com.pem\""
    );
    let text = pem.text().await.unwrap();
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"), "{text}");
    assert_eq!(text, report["pem"].as_str().unwrap());

    for missing in ["0".repeat(64), "not-a-fingerprint".to_owned()] {
        let status = app
            .get(&format!("/api/v1/certificates/{missing}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn certificates_can_be_narrowed_and_unknown_nodes_are_not_scanned() {
    let app = spawn_admin().await;
    let short = tls_endpoint("Not The Name", &["cc1.example.com"], 5).await;
    let long = tls_endpoint("cc2.example.com", &["cc2.example.com"], 300).await;
    let first = node_with_ports(&app, "cc1.example.com", &[short]).await;
    let second = node_with_ports(&app, "cc2.example.com", &[long]).await;
    scan_and_wait(&app, json!({"node_ids": [first, second]})).await;

    let fqdns = |rows: Value| -> Vec<String> {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["fqdn"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        fqdns(app.get_json("/api/v1/certificates?state=critical").await),
        ["cc1.example.com"]
    );
    assert_eq!(
        fqdns(
            app.get_json("/api/v1/certificates?lint=cn_not_in_san")
                .await
        ),
        ["cc1.example.com"]
    );
    assert_eq!(
        fqdns(app.get_json("/api/v1/certificates?state=ok&kind=").await),
        ["cc2.example.com"]
    );
    let cluster = app.get_json(&format!("/api/v1/nodes/{second}")).await["cluster_id"].clone();
    assert_eq!(
        fqdns(
            app.get_json(&format!("/api/v1/certificates?cluster={cluster}"))
                .await
        ),
        ["cc2.example.com"]
    );
    let bad = app
        .get("/api/v1/certificates?cluster=abc")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let unknown = app
        .send_json(
            Method::POST,
            "/api/v1/scans",
            &json!({"node_ids": [first, 999_999]}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_cluster_ca_makes_probes_verify_and_completes_the_chain() {
    let app = spawn_admin().await;
    let fqdn = "cuic7.example.com";
    let ca = Ca::new("Contact Center Private CA");
    let ca_pem = ca.pem();
    let leaf = ca.leaf(&[fqdn]);
    let port = testkit::tls::serve(vec![leaf.der.clone()], leaf.key()).await;
    let node = node_with_ports(&app, fqdn, &[port]).await;
    let report_path = format!("/api/v1/nodes/{node}/certificates");
    let lints = |report: &Value| -> Vec<String> {
        report["endpoints"][0]["chain"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let before = app.get_json(&report_path).await;
    assert!(before["endpoints"][0]["probe"]["cluster_trusted"].is_null());
    assert_eq!(lints(&before), ["chain_incomplete"]);

    let cluster = app.get_json(&format!("/api/v1/nodes/{node}")).await["cluster_id"].clone();
    let cas_path = format!("/api/v1/clusters/{cluster}/cas");
    // A leaf is not a CA; text without a certificate is not PEM.
    for (pem, says) in [
        (leaf.pem.clone(), "is not a CA certificate"),
        (
            "hello".to_owned(),
            "no '-----BEGIN CERTIFICATE-----' block found",
        ),
    ] {
        let refused = app
            .send_json(Method::POST, &cas_path, &json!({ "pem": pem }))
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let message = TestApp::field_message(&refused.json().await.unwrap(), "pem");
        assert!(message.contains(says), "{message}");
    }
    let added = app
        .send_json(Method::POST, &cas_path, &json!({ "pem": ca_pem }))
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let added: Value = added.json().await.unwrap();
    assert_eq!(added[0]["subject"], "CN=Contact Center Private CA");
    let sha = added[0]["fingerprint_sha256"].as_str().unwrap().to_owned();
    assert_eq!(app.get_json(&cas_path).await.as_array().unwrap().len(), 1);

    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let after = app.get_json(&report_path).await;
    assert_eq!(
        after["endpoints"][0]["probe"]["cluster_trusted"], true,
        "{after}"
    );
    assert!(lints(&after).is_empty(), "{after}");

    let removed = app
        .request(Method::DELETE, &format!("{cas_path}/{sha}"))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert!(app.get_json(&cas_path).await.as_array().unwrap().is_empty());
    let actions = app.audit_action_names().await;
    assert!(
        actions.contains(&"cluster_ca.add".to_owned())
            && actions.contains(&"cluster_ca.remove".to_owned())
    );
}

#[tokio::test]
async fn a_running_scan_can_be_cancelled_once() {
    let app = spawn_admin().await;
    let silent = silent_listeners(1).await;
    let port = silent[0].local_addr().unwrap().port();
    let node = node_with_ports(&app, "finesse8.example.com", &[port]).await;
    let id = start_scan(&app, node).await;
    let cancel = format!("/api/v1/scans/{id}/cancel");
    let first = app.request(Method::POST, &cancel).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let mut state = Value::Null;
    for _ in 0..300 {
        state = app.get_json(&format!("/api/v1/scans/{id}")).await["state"].clone();
        if state != "running" && state != "queued" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "cancelled");
    let again = app.request(Method::POST, &cancel).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let unknown = app
        .request(Method::POST, "/api/v1/scans/999999/cancel")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(app
        .audit_action_names()
        .await
        .contains(&"scan.cancel".to_owned()));
    drop(silent);
}
