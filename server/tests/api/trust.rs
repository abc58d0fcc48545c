//! What each node must trust and certificates right the first time, through the REST API: the
//! trust matrix against simulated nodes over real SSH, its plan, the servers it reads, the chain
//! tool.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::spawn_admin;
use testkit::pki::Ca;

#[tokio::test]
async fn the_chain_tool_splits_a_bundle_for_an_auditor_and_refuses_binary_with_the_way_out() {
    let app = spawn_admin().await;
    let auditor = app.signed_in_as("auditor1", "auditor").await;
    let root = Ca::new("Bundle Root");
    let issuing = root.intermediate("Bundle Issuing");
    let leaf = issuing.leaf(&["finesse1.example.com"]);
    let bundle = format!("{}{}{}", leaf.pem, issuing.pem(), root.pem());
    let response = auditor
        .request(Method::POST, "/api/v1/tools/split-chain")
        .header("content-type", "application/x-pem-file")
        .body(bundle.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let split: serde_json::Value = response.json().await.unwrap();
    let roles: Vec<&str> = split["pieces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["root", "intermediate", "leaf"]);
    assert_eq!(split["complete"], true);
    assert_eq!(split["pieces"][2]["store"], "tomcat");
    assert_eq!(split["pieces"][2]["issued_by"], 2);

    let der = auditor
        .request(Method::POST, "/api/v1/tools/split-chain")
        .body(leaf.der.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(der.status(), 400);
    let error: serde_json::Value = der.json().await.unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("openssl x509 -inform der"),
        "{error}"
    );
    // Nobody signed in: nothing is split.
    let anonymous = app
        .other_client()
        .request(Method::POST, "/api/v1/tools/split-chain")
        .body(bundle)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // Nothing was audited: the tool changes nothing.
    assert!(!app
        .audit_action_names()
        .await
        .iter()
        .any(|a| a.contains("chain")));
}

const PASSWORD: &str = "Plat-form!9";

/// A Finesse pair and an IdS pair, simulated over real SSH; the Finesse primary trusts neither
/// IdS (two red cells), the secondary both. Registered as two clusters with credentials;
/// every node's stores read. (Finesse, IdS cluster ids, the fleet.)
async fn two_clusters(app: &testkit::app::TestApp) -> (i64, i64, sim::Running) {
    let toml = format!(
        r#"
[[cluster]]
name = "Finesse"
[[cluster.node]]
fqdn = "finesse1.trust.test"
kind = "finesse"
role = "primary"
password = "{PASSWORD}"
restart_ms = 30
[[cluster.node]]
fqdn = "finesse2.trust.test"
kind = "finesse"
role = "secondary"
password = "{PASSWORD}"
restart_ms = 30
trusts = ["ids1.trust.test", "ids2.trust.test"]
[[cluster]]
name = "Identity"
[[cluster.node]]
fqdn = "ids1.trust.test"
kind = "ids"
role = "primary"
password = "{PASSWORD}"
https_ports = [0]
[[cluster.node]]
fqdn = "ids2.trust.test"
kind = "ids"
role = "secondary"
password = "{PASSWORD}"
"#
    );
    let running = sim::start_toml(&toml, None).await.unwrap();
    let mut clusters = Vec::new();
    for cluster in &running.fleet.spec.clusters {
        let id = app.create_cluster(&cluster.name).await;
        clusters.push(id);
        for spec in &cluster.nodes {
            let node = running.node(&spec.fqdn).unwrap();
            let body = json!({"cluster_id": id, "kind": spec.kind, "role": spec.role,
                              "fqdn": spec.fqdn, "address": "127.0.0.1", "endpoints": []});
            let node_id = app.create("/api/v1/nodes", &body).await;
            let credentials =
                json!({"username": "admin", "password": PASSWORD, "port": node.ssh.port()});
            let path = format!("/api/v1/nodes/{node_id}/credentials");
            let response = app.send_json(Method::PUT, &path, &credentials).await;
            assert_eq!(response.status(), StatusCode::NO_CONTENT);
            app.post_ok(&format!("/api/v1/nodes/{node_id}/stores/read"))
                .await;
        }
    }
    (clusters[0], clusters[1], running)
}

fn cell<'a>(matrix: &'a Value, holder: &str, column: &str) -> &'a Value {
    let holder = matrix["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["fqdn"] == holder)
        .unwrap()["node_id"]
        .clone();
    let column = matrix["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["label"] == column)
        .unwrap();
    matrix["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["holder"] == holder && c["column"] == column)
        .unwrap_or_else(|| panic!("no cell {holder} × {column}: {matrix}"))
}

#[tokio::test]
async fn a_cluster_missing_two_trust_entries_turns_green_after_its_plan() {
    let app = spawn_admin().await;
    let (finesse, _, running) = two_clusters(&app).await;
    let path = format!("/api/v1/clusters/{finesse}/trust-matrix");
    let matrix = app.get_json(&path).await;
    assert_eq!(matrix["red"], 2, "{matrix}");
    assert_eq!(matrix["fixable"], 2, "{matrix}");
    for ids in ["ids1.trust.test", "ids2.trust.test"] {
        let red = cell(&matrix, "finesse1.trust.test", ids);
        assert_eq!(red["verdict"], "missing", "{red}");
        assert_eq!(red["rule"], "finesse_ids");
        assert!(red["source"]
            .as_str()
            .unwrap()
            .contains("Import the IdS certificate"));
        assert_eq!(
            cell(&matrix, "finesse2.trust.test", ids)["verdict"],
            "present"
        );
    }
    let peer = cell(&matrix, "finesse1.trust.test", "finesse2.trust.test");
    assert_eq!(
        peer["verdict"], "present",
        "the sim's cluster trusts itself: {peer}"
    );

    // An auditor reads it and plans nothing.
    let auditor = app.signed_in_as("auditor1", "auditor").await;
    assert_eq!(auditor.get_json(&path).await["red"], 2);
    let refused = auditor
        .request(Method::POST, &format!("{path}/plan"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let made = app
        .request(Method::POST, &format!("{path}/plan"))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let id = made.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let plan = super::reconcile::wait_plan(&app, id, &["ready", "failed"]).await;
    assert_eq!(plan["state"], "ready", "{plan}");
    let steps = super::reconcile::commands(super::reconcile::node(&plan, "finesse1.trust.test"));
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(
        steps
            .iter()
            .all(|s| s.starts_with("set cert import trust tomcat → paste ids")),
        "{steps:?}"
    );
    assert!(
        !plan["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["fqdn"] == "finesse2.trust.test"),
        "the secondary already trusts both: {plan}"
    );
    let applied = super::reconcile::apply(&app, &plan).await;
    assert_eq!(applied["state"], "applied", "{applied}");
    let primary = running.fleet.index("finesse1.trust.test").unwrap();
    let trust = running.fleet.state(primary).trust;
    for ids in ["ids1.trust.test", "ids2.trust.test"] {
        assert!(
            trust.iter().any(|c| c.file == format!("{ids}.pem")),
            "{ids}"
        );
    }
    // The stores are read again after the plan: every cell turns green.
    let mut matrix = Value::Null;
    for _ in 0..100 {
        matrix = app.get_json(&path).await;
        if matrix["red"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(matrix["red"], 0, "{matrix}");
    assert_eq!(matrix["plan"]["id"], id);
    // The restart the imports need is tracked.
    let restarts_path = format!("/api/v1/clusters/{finesse}/restarts");
    let pending = |restarts: &Value, fqdn: &str| {
        restarts
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["fqdn"] == fqdn && r["service"] == "Cisco Finesse Tomcat")
    };
    let mut restarts = Value::Null;
    for _ in 0..50 {
        restarts = app.get_json(&restarts_path).await;
        if pending(&restarts, "finesse2.trust.test") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for fqdn in ["finesse1.trust.test", "finesse2.trust.test"] {
        assert!(
            pending(&restarts, fqdn),
            "{fqdn} (the secondary by replication): {restarts}"
        );
    }
    // Nothing left to import.
    let again = app
        .request(Method::POST, &format!("{path}/plan"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn third_party_servers_are_read_listed_and_removed_by_admins_only() {
    let app = spawn_admin().await;
    let (finesse, _, running) = two_clusters(&app).await;
    let path = format!("/api/v1/clusters/{finesse}/trust-matrix/servers");
    for bad in [
        "",
        "gadgets example.com",
        "x.example.com\nshow",
        "https://x.example.com",
        "x:0",
    ] {
        let response = app
            .send_json(Method::POST, &path, &json!({"host": bad}))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad:?}"
        );
    }
    let auditor = app.signed_in_as("auditor1", "auditor").await;
    let refused = auditor
        .send_json(Method::POST, &path, &json!({"host": "gadgets.example.com"}))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // A TLS server the console reads: one of the simulated nodes' HTTPS listeners.
    let port = running.node("ids1.trust.test").unwrap().https[0].port();
    let server = format!("127.0.0.1:{port}");
    let response = app
        .send_json(Method::POST, &path, &json!({"host": server}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let matrix: Value = response.json().await.unwrap();
    let listed = &matrix["servers"][0];
    assert_eq!(listed["source"], "admin", "{matrix}");
    assert_eq!(listed["subject_cn"], "ids1.trust.test", "{matrix}");
    let column = matrix["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == server)
        .unwrap();
    assert_eq!(column["certificate"]["subject_cn"], "ids1.trust.test");
    let third = cell(&matrix, "finesse2.trust.test", &server);
    assert_eq!(third["rule"], "third_party");
    assert_eq!(
        third["verdict"], "present",
        "finesse2 trusts ids1's certificate: {third}"
    );
    assert_eq!(
        cell(&matrix, "finesse1.trust.test", &server)["verdict"],
        "missing"
    );
    let gone = app
        .request(Method::DELETE, &format!("{path}/{server}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::OK);
    let matrix: Value = gone.json().await.unwrap();
    assert!(matrix["servers"].as_array().unwrap().is_empty(), "{matrix}");
    let again = app
        .request(Method::DELETE, &format!("{path}/{server}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let actions = app.audit_action_names().await;
    assert!(
        actions.contains(&"trust.server.add".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"trust.server.remove".to_owned()),
        "{actions:?}"
    );
}
