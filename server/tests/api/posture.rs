//! A cluster's security posture through the REST API, against simulated nodes over real SSH
//! and real sockets: the findings a fleet carries, the printable report, the trend, and the
//! plan that clears the fixable ones.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::{spawn_admin, TestApp};

const PASSWORD: &str = "Plat-form!9";

/// A Finesse pair: the primary trusts every certificate, the secondary still accepts TLS 1.0.
/// Registered with credentials, endpoints and the ports of its plain services.
async fn finesse_pair(app: &TestApp) -> (i64, Vec<i64>, sim::Running) {
    let toml = format!(
        r#"
[[cluster]]
name = "Finesse"
[[cluster.node]]
fqdn = "finesse1.posture.test"
kind = "finesse"
role = "primary"
password = "{PASSWORD}"
restart_ms = 30
https_ports = [0, 0]
http_ports = [0, 0]
insecure_ports = [0, 0]
properties = {{ trustAllCertificates = "true" }}
[[cluster.node]]
fqdn = "finesse2.posture.test"
kind = "finesse"
role = "secondary"
password = "{PASSWORD}"
restart_ms = 30
https_ports = [0]
tls_min = "1.0"
"#
    );
    let running = sim::start_toml(&toml, None).await.unwrap();
    let cluster = app.create_cluster("Finesse").await;
    let mut ids = Vec::new();
    for spec in &running.fleet.spec.clusters[0].nodes {
        let node = running.node(&spec.fqdn).unwrap();
        let endpoints: Vec<Value> = node
            .https
            .iter()
            .map(|a| json!({"port": a.port()}))
            .collect();
        let body = json!({"cluster_id": cluster, "kind": spec.kind, "role": spec.role,
                          "fqdn": spec.fqdn, "address": "127.0.0.1", "endpoints": endpoints});
        let id = app.create("/api/v1/nodes", &body).await;
        let credentials =
            json!({"username": "admin", "password": PASSWORD, "port": node.ssh.port()});
        let response = app
            .send_json(
                Method::PUT,
                &format!("/api/v1/nodes/{id}/credentials"),
                &credentials,
            )
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        app.post_ok(&format!("/api/v1/nodes/{id}/test-connection"))
            .await;
        let mut ports = serde_json::Map::new();
        let named = [
            ("http", node.http.first()),
            ("http_alt", node.http.get(1)),
            ("xmpp", node.insecure.first()),
            ("bosh", node.insecure.get(1)),
            ("desktop", node.https.first()),
        ];
        for (service, at) in named {
            if let Some(at) = at {
                ports.insert(service.into(), json!(at.port()));
            }
        }
        let response = app
            .send_json(
                Method::PUT,
                &format!("/api/v1/nodes/{id}/ports"),
                &Value::Object(ports),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        ids.push(id);
    }
    crate::scans::scan_and_wait(app, json!({"node_ids": ids})).await;
    for id in &ids {
        app.post_ok(&format!("/api/v1/nodes/{id}/stores/read"))
            .await;
    }
    (cluster, ids, running)
}

fn rules<'a>(report: &'a Value, node: &str) -> Vec<&'a str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["node"] == node)
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

fn finding<'a>(report: &'a Value, node: &str, rule: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["node"] == node && f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} on {node}: {report}"))
}

async fn scan(app: &TestApp, cluster: i64) -> Value {
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/clusters/{cluster}/posture/scan"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_posture_finds_what_the_nodes_carry_and_its_plan_clears_the_fixable_ones() {
    let app = spawn_admin().await;
    let (cluster, _, running) = finesse_pair(&app).await;
    let path = format!("/api/v1/clusters/{cluster}/posture");
    let never = app.request(Method::GET, &path).send().await.unwrap();
    assert_eq!(never.status(), StatusCode::NOT_FOUND, "never scanned");

    let report = scan(&app, cluster).await;
    assert!(report["gaps"].as_array().unwrap().is_empty(), "{report}");
    assert_eq!(report["complete"], true);
    let primary = rules(&report, "finesse1.posture.test");
    assert!(primary.contains(&"trust_all_certificates"), "{primary:?}");
    let trust_all = finding(&report, "finesse1.posture.test", "trust_all_certificates");
    assert_eq!(trust_all["severity"], "high");
    assert_eq!(
        trust_all["fix"],
        json!({"kind": "plan", "item": "trustAllCertificates", "to": "false"})
    );
    // A fresh install's defaults (seed 001), on both nodes.
    for rule in [
        "system_info_unauthenticated",
        "cors_allows_all",
        "gadget_source_check_off",
    ] {
        assert!(primary.contains(&rule), "{rule}: {primary:?}");
    }
    // HTTP answers a 301 to HTTPS, the desktop sends HSTS, the notification ports are shut.
    for rule in [
        "http_not_redirected",
        "hsts_missing",
        "insecure_notification_ports",
        "legacy_tls",
    ] {
        assert!(!primary.contains(&rule), "{rule}: {primary:?}");
    }
    // The secondary's endpoint still accepts TLS 1.0 and 1.1, and a CBC suite at 1.2.
    let legacy = finding(&report, "finesse2.posture.test", "legacy_tls");
    assert!(
        legacy["observed"]
            .as_str()
            .unwrap()
            .contains("TLSv1 and TLSv1.1"),
        "{legacy}"
    );
    assert_eq!(legacy["fix"]["item"], "tls-min-version");
    let weak = finding(&report, "finesse2.posture.test", "weak_cipher_suite");
    assert!(weak["observed"].as_str().unwrap().contains("CBC"), "{weak}");
    let first_score = report["score"].as_u64().unwrap();
    assert!(first_score < 60, "{report}");

    // The notification ports opened by hand are seen open by the probe.
    let index = running.fleet.index("finesse1.posture.test").unwrap();
    running.fleet.change_by_hand(index, |s| {
        s.properties
            .insert("enableInsecureOpenfirePort".into(), "true".into());
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let report = scan(&app, cluster).await;
    let open = finding(
        &report,
        "finesse1.posture.test",
        "insecure_notification_ports",
    );
    assert!(
        open["observed"]
            .as_str()
            .unwrap()
            .contains("(XMPP) accepts connections"),
        "{open}"
    );

    // An auditor reads the report, its trend and its printable form; scans and plans nothing.
    let auditor = app.signed_in_as("auditor1", "auditor").await;
    assert_eq!(auditor.get_json(&path).await["score"], report["score"]);
    let history = auditor.get_json(&format!("{path}/history")).await;
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    let printable = auditor
        .request(Method::GET, &format!("{path}?format=html"))
        .send()
        .await
        .unwrap();
    assert_eq!(printable.status(), StatusCode::OK);
    let policy = printable.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-"),
        "{policy}"
    );
    assert!(printable.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = printable.text().await.unwrap();
    assert!(
        html.contains("trust_all_certificates") && html.contains("<h2>Trend</h2>"),
        "{html}"
    );
    assert!(!html.contains("<script"));
    let unknown = auditor
        .request(Method::GET, &format!("{path}?format=xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for action in ["scan", "plan"] {
        let refused = auditor
            .request(Method::POST, &format!("{path}/{action}"))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{action}");
    }

    // The plan sets what the console can: three properties and the lowest TLS version.
    let made = app
        .request(Method::POST, &format!("{path}/plan"))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let id = made.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let plan = super::reconcile::wait_plan(&app, id, &["ready", "failed"]).await;
    assert_eq!(plan["state"], "ready", "{plan}");
    let mut primary =
        super::reconcile::commands(super::reconcile::node(&plan, "finesse1.posture.test"));
    primary.sort();
    assert_eq!(
        primary,
        [
            "utils finesse set_property webservices enableInsecureOpenfirePort false",
            "utils finesse set_property webservices secureSystemInfo true",
            "utils finesse set_property webservices trustAllCertificates false",
        ]
    );
    let secondary =
        super::reconcile::commands(super::reconcile::node(&plan, "finesse2.posture.test"));
    assert!(
        secondary.contains(&"set tls min-version 1.2 → yes"),
        "{secondary:?}"
    );
    let applied = super::reconcile::apply(&app, &plan).await;
    assert_eq!(applied["state"], "applied", "{applied}");
    let secondary_index = running.fleet.index("finesse2.posture.test").unwrap();
    assert_eq!(running.fleet.state(secondary_index).tls_min, "1.2");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let after = scan(&app, cluster).await;
    for node in ["finesse1.posture.test", "finesse2.posture.test"] {
        let left = rules(&after, node);
        for fixed in [
            "trust_all_certificates",
            "system_info_unauthenticated",
            "insecure_notification_ports",
            "legacy_tls",
            "weak_cipher_suite",
        ] {
            assert!(!left.contains(&fixed), "{node} {fixed}: {left:?}");
        }
        // What the access policy owns, or a command fixes, is left.
        assert!(left.contains(&"cors_allows_all"), "{left:?}");
    }
    assert!(after["score"].as_u64().unwrap() > first_score, "{after}");
    let again = app
        .request(Method::POST, &format!("{path}/plan"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT, "nothing left to plan");
    assert_eq!(
        app.get_json(&format!("{path}/history"))
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn ports_are_checked_and_what_is_not_looked_at_is_a_gap_not_a_pass() {
    let app = spawn_admin().await;
    let cluster = app.create_cluster("Lonely").await;
    let body = json!({"cluster_id": cluster, "kind": "finesse", "role": "primary",
                      "fqdn": "finesse9.posture.test", "address": "127.0.0.1",
                      "endpoints": [{"port": testkit::free_port()}]});
    let id = app.create("/api/v1/nodes", &body).await;
    let bad = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/nodes/{id}/ports"),
            &json!({"telnet": 23, "http": 0}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = bad.json().await.unwrap();
    assert!(
        error["fields"]["telnet"].is_array() && error["fields"]["http"].is_array(),
        "{error}"
    );
    let ports = app.get_json(&format!("/api/v1/nodes/{id}/ports")).await;
    assert_eq!(ports["http"], 80, "unchanged: {ports}");
    let report = scan(&app, cluster).await;
    let gaps: Vec<&str> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["what"].as_str().unwrap())
        .collect();
    assert!(gaps.contains(&"settings over SSH"), "{report}");
    assert!(
        gaps.iter().any(|g| g.starts_with("TLS versions on port")),
        "{report}"
    );
    assert!(
        gaps.iter().any(|g| g.starts_with("certificates on port")),
        "never probed: {report}"
    );
    assert_eq!(
        report["score"], 100,
        "nothing seen, nothing found: {report}"
    );
    assert_eq!(
        report["complete"], false,
        "and the report says it is incomplete"
    );
    // An auditor may not move a node's ports.
    let auditor = app.signed_in_as("auditor1", "auditor").await;
    let refused = auditor
        .send_json(
            Method::PUT,
            &format!("/api/v1/nodes/{id}/ports"),
            &json!({"http": 8080}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let missing = app
        .request(Method::GET, "/api/v1/clusters/999999/posture")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
