//! A BroadWorks XSP's CTI interface through the REST API, against a simulated XSP and AS over
//! real SSH and a real CTI listener: the checklist and the probe's findings of a default
//! install, the plan (the Webex CA chain split into trust anchors) applied by the engine, and
//! both again afterwards.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::{spawn_admin, TestApp};

const PASSWORD: &str = "Plat-form!9";

const FLEET: &str = r#"
[[cluster]]
name = "BroadWorks"
[[cluster.node]]
fqdn = "xsp1.cti.test"
kind = "broadworks"
role = "none"
password = "Plat-form!9"
cti_ports = [0]
[[cluster.node]]
fqdn = "as1.cti.test"
kind = "broadworks"
role = "none"
bw_server = "as"
password = "Plat-form!9"
"#;

/// The XSP and the AS, registered with credentials, host keys pinned, the CTI port set.
async fn broadworks(app: &TestApp) -> (i64, i64, i64, sim::Running) {
    let running = sim::start_toml(FLEET, None).await.unwrap();
    let cluster = app.create_cluster("BroadWorks").await;
    let mut ids = Vec::new();
    for spec in &running.fleet.spec.clusters[0].nodes {
        let node = running.node(&spec.fqdn).unwrap();
        let body = json!({"cluster_id": cluster, "kind": "broadworks", "role": "none",
                          "fqdn": spec.fqdn, "address": "127.0.0.1", "endpoints": []});
        let id = app.create("/api/v1/nodes", &body).await;
        let credentials =
            json!({"username": "admin", "password": PASSWORD, "port": node.ssh.port()});
        let path = format!("/api/v1/nodes/{id}/credentials");
        let response = app.send_json(Method::PUT, &path, &credentials).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let test: Value = app
            .request(Method::POST, &format!("/api/v1/nodes/{id}/test-connection"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(test["ok"], true, "the BroadWorks CLI answers: {test}");
        if let Some(cti) = node.cti.first() {
            let ports = json!({"cti": cti.port()});
            let path = format!("/api/v1/nodes/{id}/ports");
            let response = app.send_json(Method::PUT, &path, &ports).await;
            assert_eq!(response.status(), StatusCode::OK);
        }
        ids.push(id);
    }
    (cluster, ids[0], ids[1], running)
}

fn done(view: &Value) -> Vec<(&str, bool)> {
    view["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap(), s["done"].as_bool().unwrap()))
        .collect()
}

fn rules(view: &Value) -> Vec<&str> {
    view["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

async fn posture_rules(app: &TestApp, cluster: i64) -> Vec<String> {
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/clusters/{cluster}/posture/scan"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

async fn plan(app: &TestApp, node: i64, body: &Value) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/v1/nodes/{node}/cti/plan"),
        body,
    )
    .await
}

#[tokio::test]
async fn an_xsp_is_brought_from_its_install_to_the_checklist_by_a_plan_and_the_probe_sees_it() {
    let app = spawn_admin().await;
    let (cluster, xsp, as1, running) = broadworks(&app).await;
    let path = format!("/api/v1/nodes/{xsp}/cti");

    let before = app.get_json(&path).await;
    assert_eq!(before["server"], "XSP|ADP", "{before}");
    assert_eq!(
        done(&before),
        [
            ("cti_interface", false),
            ("tls12", false),
            ("recommended_cipher", true),
            ("trust_anchors", false),
            ("allow_client_app", false),
        ]
    );
    // TLS 1.1 only: the cloud's TLS 1.2 hello is refused.
    assert_eq!(rules(&before), ["tls12_refused"], "{before}");
    assert!(before["probe"]["tls12"]["Err"].is_string(), "{before}");
    // The cluster's posture carries them, fixed on the CTI page.
    let posture = posture_rules(&app, cluster).await;
    for rule in ["cti:tls12", "cti:cti_interface", "cti_probe:tls12_refused"] {
        assert!(posture.contains(&rule.to_owned()), "{rule}: {posture:?}");
    }

    // The chain as Partner Hub delivers it: the root, then the issuing CA, in one file.
    let root = testkit::pki::Ca::new("Webex Test Root");
    let issuing = root.intermediate("Webex Test Issuing CA");
    let chain = format!("{}{}", root.pem(), issuing.pem());
    let no_root = plan(&app, xsp, &json!({"chain": issuing.pem()})).await;
    assert_eq!(no_root.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let not_pem = plan(&app, xsp, &json!({"chain": "hello"})).await;
    assert_eq!(not_pem.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let auditor = app.signed_in_as("auditor1", "auditor").await;
    assert_eq!(auditor.get_json(&path).await["fqdn"], "xsp1.cti.test");
    let refused = auditor
        .send_json(Method::POST, &format!("{path}/plan"), &json!({}))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let made = plan(&app, xsp, &json!({ "chain": chain })).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let id = made.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let ready = super::reconcile::wait_plan(&app, id, &["ready", "failed"]).await;
    assert_eq!(ready["state"], "ready", "{ready}");
    let commands = super::reconcile::commands(super::reconcile::node(&ready, "xsp1.cti.test"));
    let trusts: Vec<&&str> = commands
        .iter()
        .filter(|c| c.contains("updateTrust"))
        .collect();
    assert_eq!(
        trusts.len(),
        2,
        "one anchor per CA certificate: {commands:?}"
    );
    assert!(
        trusts
            .iter()
            .any(|c| c.contains("updateTrust webex-test-root-")),
        "{trusts:?}"
    );
    for wanted in [
        "/Interface/CTI/CTIServer/SSLSettings/Protocols> add 127.0.0.1 TLSv1.2",
        "/Interface/CTI/CTIServer> set 127.0.0.1 clientAuthReq true",
        "/System/CommunicationUtility/DefaultSettings/ExternalAuthentication/CertificateAuthentication> set allowClientApp true",
    ] {
        assert!(commands.contains(&wanted), "{wanted}: {commands:?}");
    }
    assert_eq!(commands.len(), 5, "nothing else: {commands:?}");
    let applied = super::reconcile::apply(&app, &ready).await;
    assert_eq!(applied["state"], "applied", "{applied}");

    let after = app.get_json(&path).await;
    assert!(
        done(&after).iter().all(|(_, done)| *done),
        "{:?}",
        done(&after)
    );
    assert!(rules(&after).is_empty(), "{after}");
    let negotiated = &after["probe"]["tls12"]["Ok"];
    assert_eq!(negotiated["protocol"], "TLSv1.2");
    assert_eq!(negotiated["iana"], "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assert_eq!(negotiated["openssl"], "ECDHE-RSA-AES128-GCM-SHA256");
    assert_eq!(negotiated["client_certificate_requested"], true);
    let posture = posture_rules(&app, cluster).await;
    assert!(
        posture
            .iter()
            .all(|r| !r.starts_with("cti:") && !r.starts_with("cti_probe:")
                || r == "cti:client_identity"),
        "only the AS's step is left: {posture:?}"
    );
    let node = running.fleet.index("xsp1.cti.test").unwrap();
    let aliases: Vec<String> = running
        .fleet
        .state(node)
        .broadworks
        .trusts
        .iter()
        .map(|t| t.alias.clone())
        .collect();
    assert_eq!(aliases.len(), 2, "{aliases:?}");
    assert_ne!(aliases[0], aliases[1], "aliases are unique");
    let again = plan(
        &app,
        xsp,
        &json!({ "chain": format!("{}{}", root.pem(), issuing.pem()) }),
    )
    .await;
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "nothing left, the anchors known by alias"
    );

    // The Application Server: the Webex client identity only, and no CTI port to probe.
    let as_path = format!("/api/v1/nodes/{as1}/cti");
    let server = app.get_json(&as_path).await;
    assert_eq!(server["server"], "AS", "{server}");
    assert_eq!(done(&server), [("client_identity", false)]);
    assert!(server["probe"].is_null());
    let made = plan(&app, as1, &json!({})).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let id = made.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let ready = super::reconcile::wait_plan(&app, id, &["ready", "failed"]).await;
    assert_eq!(
        super::reconcile::commands(super::reconcile::node(&ready, "as1.cti.test")),
        ["/System/ClientIdentity> add bwcticlient.webex.com"]
    );
    super::reconcile::apply(&app, &ready).await;
    assert_eq!(
        done(&app.get_json(&as_path).await),
        [("client_identity", true)]
    );
}

#[tokio::test]
async fn the_cti_checklist_is_refused_for_a_node_that_is_not_broadworks() {
    let app = spawn_admin().await;
    let cluster = app.create_cluster("Finesse").await;
    let body = json!({"cluster_id": cluster, "kind": "finesse", "role": "primary",
                      "fqdn": "finesse1.cti.test"});
    let id = app.create("/api/v1/nodes", &body).await;
    let response = app
        .request(Method::GET, &format!("/api/v1/nodes/{id}/cti"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let missing = app
        .request(Method::GET, "/api/v1/nodes/999999/cti")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
