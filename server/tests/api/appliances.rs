//! The appliance layer end to end: Gatehouse's REST API driving simulated VOS nodes
//! (`gatehouse-sim`, in process) over real SSH: credentials sealed and never shown, the host
//! key pinned on first use and a changed one blocking everything until accepted, the
//! certificate stores read and judged, a trust import replicated to the subscriber, and
//! connected users.

use crate::scans::scan_and_wait;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sim::fleet::Faults;
use testkit::app::*;

const PASSWORD_ON_NODE: &str = "Plat-form!9";

fn fleet_toml() -> String {
    format!(
        r#"
[[cluster]]
name = "A"

[[cluster.node]]
fqdn = "finesse1.appl.example.com"
kind = "finesse"
role = "primary"
password = "{PASSWORD_ON_NODE}"
https_ports = [0]
restart_ms = 30
connected_users = {{ desktop = 3, fippa = 1, third_party = 1, proxy = 2 }}

[[cluster.node]]
fqdn = "finesse2.appl.example.com"
kind = "finesse"
role = "secondary"
password = "{PASSWORD_ON_NODE}"
https_ports = [0]
connected_users = {{ desktop = 4 }}
"#
    )
}

async fn fleet() -> sim::Running {
    sim::start_toml(&fleet_toml(), None).await.unwrap()
}

/// The sim's nodes in Gatehouse's inventory, one cluster: (publisher id, subscriber id).
async fn inventory(app: &TestApp, running: &sim::Running) -> (i64, i64) {
    let cluster: Value = app
        .send_json(
            Method::POST,
            "/api/v1/clusters",
            &json!({"name": "Appliances"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (node, role) in running.nodes.iter().zip(["primary", "secondary"]) {
        let created = app
            .send_json(
                Method::POST,
                "/api/v1/nodes",
                &json!({"cluster_id": cluster["id"], "kind": "finesse", "role": role, "fqdn": node.fqdn,
                        "address": "127.0.0.1", "endpoints": [{"port": node.https[0].port()}]}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        ids.push(
            created.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    (ids[0], ids[1])
}

async fn credentials(app: &TestApp, id: i64, password: &str, port: u16) -> reqwest::Response {
    app.send_json(
        Method::PUT,
        &format!("/api/v1/nodes/{id}/credentials"),
        &json!({"username": "admin", "password": password, "port": port}),
    )
    .await
}

async fn test_connection(app: &TestApp, id: i64) -> Value {
    app.post_ok(&format!("/api/v1/nodes/{id}/test-connection"))
        .await
}

#[tokio::test]
async fn credentials_host_key_pinning_and_connection_test() {
    let running = fleet().await;
    let app = spawn_admin().await;
    let (publisher, _) = inventory(&app, &running).await;
    let ssh_port = running.nodes[0].ssh.port();

    let none = test_connection(&app, publisher).await;
    assert_eq!(
        (none["ok"].as_bool(), none["error"].as_str()),
        (Some(false), Some("no_credentials"))
    );

    assert_eq!(
        credentials(&app, publisher, "wrong", ssh_port)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let refused = test_connection(&app, publisher).await;
    assert_eq!(refused["error"], "authentication", "{refused}");

    let invalid = credentials(&app, publisher, "", 0).await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let invalid: Value = invalid.json().await.unwrap();
    assert!(!TestApp::field_message(&invalid, "password").is_empty());

    assert_eq!(
        credentials(&app, publisher, PASSWORD_ON_NODE, ssh_port)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let ok = test_connection(&app, publisher).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["prompt"], "admin:");
    assert_eq!(ok["version"], "12.6.2.10000-32");
    assert!(ok["latency_ms"].as_u64().is_some());
    let fingerprint = running.nodes[0].host_key.clone();
    assert_eq!(
        ok["host_key"]["state"], "unconfirmed",
        "pinned on first use"
    );
    assert_eq!(
        ok["host_key"]["pinned"]["fingerprint"],
        fingerprint.as_str()
    );

    // The password is in no answer and no audit entry.
    let node = app
        .get_json(&format!("/api/v1/nodes/{publisher}"))
        .await
        .to_string();
    let key = app
        .get_json(&format!("/api/v1/nodes/{publisher}/host-key"))
        .await;
    let audit = app.get_json("/api/v1/audit?limit=500").await.to_string();
    for text in [&node, &key.to_string(), &audit] {
        assert!(!text.contains(PASSWORD_ON_NODE), "password leaked: {text}");
    }
    for action in [
        "node.credentials.set",
        "node.host_key.pin",
        "node.test_connection",
    ] {
        assert!(
            app.audit_action_names().await.contains(&action.to_owned()),
            "{action}"
        );
    }

    // Confirming needs the right fingerprint.
    let accept = |fingerprint: String| {
        let app = &app;
        async move {
            app.send_json(
                Method::POST,
                &format!("/api/v1/nodes/{publisher}/host-key/accept"),
                &json!({ "fingerprint": fingerprint }),
            )
            .await
        }
    };
    assert_eq!(
        accept("SHA256:not-it".into()).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let confirmed: Value = accept(fingerprint.clone()).await.json().await.unwrap();
    assert_eq!(confirmed["state"], "confirmed");
    assert_eq!(confirmed["confirmed_by"], ADMIN);

    // The node's key changes: everything is blocked until the new key is accepted.
    let index = running.fleet.index(&running.nodes[0].fqdn).unwrap();
    running
        .fleet
        .set_faults(
            index,
            Faults {
                host_key_changed: true,
                ..Faults::default()
            },
        )
        .unwrap();
    let changed = test_connection(&app, publisher).await;
    assert_eq!(changed["error"], "host_key_changed", "{changed}");
    let presented = changed["host_key"]["presented"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(presented, fingerprint);
    assert_eq!(changed["host_key"]["state"], "changed");
    let blocked = app
        .request(
            Method::POST,
            &format!("/api/v1/nodes/{publisher}/stores/read"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), StatusCode::CONFLICT);
    assert!(blocked.text().await.unwrap().contains("new host key"));
    // The failed read is kept as such: no entries, no read time, the reason.
    let stores = app
        .get_json(&format!("/api/v1/nodes/{publisher}/stores"))
        .await;
    assert!(stores["read_at"].is_null(), "{stores}");
    assert!(stores["error"].as_str().unwrap().contains("new host key"));
    assert!(stores["own"].as_array().unwrap().is_empty());
    assert_eq!(
        accept(fingerprint.clone()).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the old key is not the presented one"
    );
    let accepted: Value = accept(presented.clone()).await.json().await.unwrap();
    assert_eq!(
        (
            accepted["state"].as_str(),
            accepted["pinned"]["fingerprint"].as_str()
        ),
        (Some("confirmed"), Some(presented.as_str()))
    );
    assert_eq!(test_connection(&app, publisher).await["ok"], true);
    let actions = app.audit_action_names().await;
    assert!(
        actions.contains(&"node.host_key.changed".to_owned())
            && actions.contains(&"node.host_key.accept".to_owned())
    );
}

#[tokio::test]
async fn stores_are_read_judged_compared_with_what_is_served_and_imports_replicate() {
    let running = fleet().await;
    let app = spawn_admin().await;
    let (publisher, subscriber) = inventory(&app, &running).await;
    for (id, node) in [
        (publisher, &running.nodes[0]),
        (subscriber, &running.nodes[1]),
    ] {
        credentials(&app, id, PASSWORD_ON_NODE, node.ssh.port()).await;
    }

    // Never read: a GET changes nothing (no SSH, no pin, no audit entry); an admin reads them.
    let unread = app
        .get_json(&format!("/api/v1/nodes/{publisher}/stores"))
        .await;
    assert!(unread["own"].as_array().unwrap().is_empty(), "{unread}");
    assert!(unread["read_at"].is_null(), "{unread}");
    assert_eq!(
        app.get_json(&format!("/api/v1/nodes/{publisher}/host-key"))
            .await["state"],
        "none"
    );
    let audit = app.get_json("/api/v1/audit?limit=500").await.to_string();
    assert!(!audit.contains("node.stores.read"), "{audit}");
    let stores = app
        .post_ok(&format!("/api/v1/nodes/{publisher}/stores/read"))
        .await;
    let own = &stores["own"][0];
    assert_eq!(
        (own["unit"].as_str(), own["file"].as_str()),
        (Some("tomcat"), Some("tomcat.pem"))
    );
    assert_eq!(own["subject_cn"], "finesse1.appl.example.com");
    assert_eq!(own["fingerprint_sha256"].as_str().unwrap().len(), 64);
    assert!(own["not_after"].is_string() && own["findings"].is_array());
    assert!(
        stores["trust"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["file"] == "finesse2.appl.example.com.pem"),
        "{stores}"
    );
    assert!(
        stores["tomcat_mismatch"].is_null(),
        "never scanned: nothing to compare"
    );

    // Scanned, then the certificate regenerated on the node but the web service not restarted:
    // the store and what is served differ.
    scan_and_wait(&app, json!({"node_ids": [publisher]})).await;
    let read = |id: i64| {
        let app = &app;
        async move {
            app.post_ok(&format!("/api/v1/nodes/{id}/stores/read"))
                .await
        }
    };

    assert!(
        read(publisher).await["tomcat_mismatch"].is_null(),
        "the store holds what is served"
    );
    let mut cli = sim::cli::Cli::new(running.fleet.clone(), 0);
    cli.input("set cert regen tomcat").await.unwrap();
    cli.input("yes").await.unwrap();
    let pending = read(publisher).await;
    let mismatch = pending["tomcat_mismatch"]
        .as_str()
        .expect("a restart is pending");
    assert!(mismatch.contains("Cisco Finesse Tomcat"), "{mismatch}");

    // A CA imported into the publisher shows in the subscriber's store after its next read.
    let pem = testkit::pki::Ca::new("Appl Test CA").pem();
    let bad = app
        .send_json(
            Method::POST,
            &format!("/api/v1/nodes/{publisher}/stores/trust"),
            &json!({"unit": "tomcat-trust", "pem": "not a pem"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let imported: Value = app
        .send_json(
            Method::POST,
            &format!("/api/v1/nodes/{publisher}/stores/trust"),
            &json!({"unit": "tomcat-trust", "pem": pem}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(imported["ok"], true, "{imported}");
    assert_eq!(imported["command"], "set cert import trust tomcat");
    assert!(imported["output"]
        .as_str()
        .unwrap()
        .contains("Successfully imported certificate for tomcat."));
    let sub = read(subscriber).await;
    let ca_entry = sub["trust"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["subject_cn"] == "Appl Test CA")
        .expect("replicated to the subscriber");
    assert_eq!(ca_entry["unit"], "tomcat-trust");
    let audit = app.get_json("/api/v1/audit?limit=500").await.to_string();
    assert!(audit.contains("node.trust.import") && audit.contains("set cert import trust tomcat"));
    // The import is a plan of the reconciliation engine, audited as every plan's node is; the
    // same certificate again is found in the store and not imported twice.
    assert!(audit.contains("plan.node"), "{audit}");
    let again: Value = app
        .send_json(
            Method::POST,
            &format!("/api/v1/nodes/{publisher}/stores/trust"),
            &json!({"unit": "tomcat-trust", "pem": pem}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["ok"], true, "{again}");
    assert!(
        again["message"].as_str().unwrap().contains("already"),
        "{again}"
    );
    assert_eq!(again["output"], "", "nothing ran: {again}");

    // Issue 24, item 1: text after the certificate (a blank line ends the paste, then a
    // command) is never typed: what is pasted is the certificate re-encoded from its DER.
    let before = running.fleet.state(0);
    assert!(before.client_auth);
    for command in [
        "utils system reverse-proxy client-auth disable",
        "utils system reverse-proxy allowed-hosts add 203.0.113.66",
    ] {
        let hostile = format!("{}\n\n{command}\n", pem.trim_end());
        let answer = app
            .send_json(
                Method::POST,
                &format!("/api/v1/nodes/{publisher}/stores/trust"),
                &json!({"unit": "tomcat-trust", "pem": hostile}),
            )
            .await;
        assert!(answer.status().is_success() || answer.status().is_client_error());
        let after = running.fleet.state(0);
        assert!(after.client_auth, "{command}: client-auth was turned off");
        assert_eq!(after.allowed_hosts, before.allowed_hosts, "{command}");
    }

    // The connection drops during the next import: reported failed (never as done), audited as
    // a failure, and the certificate is not in the store once the node answers again.
    let other = testkit::pki::Ca::new("Appl Dropped CA").pem();
    let drop_mid_command = Faults {
        drop_mid_command: true,
        ..Faults::default()
    };
    running.fleet.set_faults(0, drop_mid_command).unwrap();
    let failed = app
        .send_json(
            Method::POST,
            &format!("/api/v1/nodes/{publisher}/stores/trust"),
            &json!({"unit": "tomcat-trust", "pem": other}),
        )
        .await;
    assert_eq!(failed.status(), StatusCode::OK);
    let failed: Value = failed.json().await.unwrap();
    assert_eq!(failed["ok"], false, "{failed}");
    assert!(
        failed["message"].as_str().unwrap().contains("dropped"),
        "{failed}"
    );
    running.fleet.set_faults(0, Faults::default()).unwrap();
    let publisher_store = read(publisher).await;
    assert!(
        !publisher_store.to_string().contains("Appl Dropped CA"),
        "nothing half-written: {publisher_store}"
    );
    let audit = app
        .get_json("/api/v1/audit?action=node.trust.import&limit=10")
        .await;
    let outcomes: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert!(outcomes.contains(&"failure"), "{audit}");
}

#[tokio::test]
async fn connected_agents_per_node_cluster_and_fleet() {
    let running = fleet().await;
    let app = spawn_admin().await;
    let (publisher, subscriber) = inventory(&app, &running).await;
    let before = app.get_json("/api/v1/connected-agents").await;
    assert_eq!(before["totals"]["total"], 0);
    assert_eq!(before["nodes"][0]["error"], "no credentials stored");
    for (id, node) in [
        (publisher, &running.nodes[0]),
        (subscriber, &running.nodes[1]),
    ] {
        credentials(&app, id, PASSWORD_ON_NODE, node.ssh.port()).await;
    }
    // Issue 24, item 7: a read pins no host key and writes no audit entry, whoever reads.
    let auditor = app.signed_in_as("audrey", "auditor").await;
    let unpinned = auditor.get_json("/api/v1/connected-agents").await;
    let error = unpinned["nodes"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("host key not confirmed"), "{unpinned}");
    let audit = app.get_json("/api/v1/audit?limit=500").await.to_string();
    assert!(!audit.contains("node.host_key.pin"), "{audit}");
    assert_eq!(
        app.get_json(&format!("/api/v1/nodes/{publisher}/host-key"))
            .await["state"],
        "none"
    );
    // The publisher's stores are read by an admin (its key pinned, its own tomcat certificate
    // read over SSH): its REST API is asked, pinned to that certificate. The subscriber is only
    // tested: the CLI is asked.
    app.post_ok(&format!("/api/v1/nodes/{publisher}/stores/read"))
        .await;
    app.post_ok(&format!("/api/v1/nodes/{subscriber}/test-connection"))
        .await;
    let agents = app.get_json("/api/v1/connected-agents").await;
    let first = &agents["nodes"][0];
    assert_eq!(first["fqdn"], "finesse1.appl.example.com");
    assert_eq!(
        (
            first["counts"]["desktop"].as_u64(),
            first["counts"]["fippa"].as_u64(),
            first["counts"]["third_party"].as_u64(),
            first["counts"]["total"].as_u64(),
            first["counts"]["lan"].as_u64(),
            first["counts"]["proxy"].as_u64()
        ),
        (Some(3), Some(1), Some(1), Some(5), Some(3), Some(2))
    );
    assert!(first["read_at"].is_string());
    assert_eq!(first["source"], "rest", "{first}");
    assert_eq!(agents["nodes"][1]["source"], "cli", "{agents}");
    assert_eq!(agents["nodes"][1]["counts"]["lan"], 4);
    assert_eq!(agents["totals"]["total"], 9);
    assert_eq!(agents["clusters"][0]["counts"]["total"], 9);
    assert_eq!(
        agents["history"].as_array().unwrap().last().unwrap()["total"],
        9
    );
}

/// The sim fleet, two replicas (both signed in as the admin) and the publisher with its
/// credentials and pinned host key.
async fn two_replicas_and_a_node() -> (sim::Running, TestApp, TestApp, i64) {
    let running = fleet().await;
    let a = spawn_admin().await;
    let b = a.replica(|_| {}).await;
    b.login(ADMIN, PASSWORD).await;
    let (publisher, _) = inventory(&a, &running).await;
    credentials(&a, publisher, PASSWORD_ON_NODE, running.nodes[0].ssh.port()).await;
    assert_eq!(test_connection(&a, publisher).await["ok"], true);
    (running, a, b, publisher)
}

#[tokio::test]
async fn two_replicas_open_at_most_two_sessions_to_one_node() {
    let (running, a, b, publisher) = two_replicas_and_a_node().await;
    // Six connection tests on each replica at once (each its own command; store reads would be
    // joined into one): each replica alone would open two sessions; together they still open two.
    let path = format!("/api/v1/nodes/{publisher}/test-connection");
    let tests = (0..6).flat_map(|_| [&a, &b]).map(|app| {
        let path = path.clone();
        async move {
            let response = app.request(Method::POST, &path).send().await.unwrap();
            response.json::<Value>().await.unwrap()["ok"].clone()
        }
    });
    let outcomes = futures::future::join_all(tests).await;
    assert!(outcomes.iter().all(|ok| *ok == true), "{outcomes:?}");
    let (_, most) = running.fleet.ssh_sessions(0);
    assert_eq!(most, 2, "sessions open at once on the node");
}

#[tokio::test]
async fn a_store_read_asked_on_two_replicas_at_once_runs_once() {
    let (_running, a, b, publisher) = two_replicas_and_a_node().await;
    let path = format!("/api/v1/nodes/{publisher}/stores/read");
    let (on_a, on_b) = tokio::join!(
        a.request(Method::POST, &path).send(),
        b.request(Method::POST, &path).send()
    );
    assert_eq!(on_a.unwrap().status(), StatusCode::OK);
    assert_eq!(on_b.unwrap().status(), StatusCode::OK);
    // One read ran (one job, one audit entry), by the admin who asked, on either replica.
    let jobs: Vec<(String, String)> =
        sqlx::query_as("select state, created_by from job where kind = 'store_read'")
            .fetch_all(&a.pool)
            .await
            .unwrap();
    assert_eq!(jobs, [("done".to_owned(), ADMIN.to_owned())]);
    let reads: Vec<(String, String, String)> = a
        .audit_actions()
        .await
        .into_iter()
        .filter(|(_, action, _)| action == "node.stores.read")
        .collect();
    assert_eq!(
        reads,
        [(
            ADMIN.to_owned(),
            "node.stores.read".to_owned(),
            "success".to_owned()
        )]
    );
}

/// Issue 24, item 3: the platform account's credentials follow the node an admin confirmed.
/// The node's address is changed to 127.0.0.2, where a TLS listener of the test's own (its own
/// certificate) waits on the node's REST port; after a scan and a read of the connected agents,
/// it has received nothing, and the node says why until it is back where it was.
#[tokio::test]
async fn credentials_never_follow_an_address_nobody_confirmed() {
    let running = fleet().await;
    let app = spawn_admin().await;
    let (publisher, subscriber) = inventory(&app, &running).await;
    let node = &running.nodes[0];
    credentials(&app, publisher, PASSWORD_ON_NODE, node.ssh.port()).await;
    app.post_ok(&format!("/api/v1/nodes/{publisher}/stores/read"))
        .await;
    let leaf = testkit::pki::Leaf::self_signed(&node.fqdn, &[&node.fqdn], 30);
    let impostor = std::net::SocketAddr::new([127, 0, 0, 2].into(), node.https[0].port());
    let received = testkit::tls::record(
        testkit::tls::server_config(vec![leaf.der.clone()], leaf.key()),
        impostor,
    )
    .await;
    let current = app.get_json(&format!("/api/v1/nodes/{publisher}")).await;
    let move_to = |address: &str| {
        json!({"cluster_id": current["cluster_id"], "kind": "finesse", "role": "primary",
               "fqdn": node.fqdn, "address": address, "endpoints": [{"port": node.https[0].port()}]})
    };
    let moved = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/nodes/{publisher}"),
            &move_to("127.0.0.2"),
        )
        .await;
    assert_eq!(
        moved.status(),
        StatusCode::OK,
        "{}",
        moved.text().await.unwrap()
    );
    // The probe now sees the listener's certificate; the REST API is not asked all the same,
    // nor is the CLI.
    scan_and_wait(&app, json!({"node_ids": [publisher]})).await;
    let agents = app.get_json("/api/v1/connected-agents").await;
    let error = agents["nodes"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("credentials were entered for"), "{agents}");
    let sent = String::from_utf8_lossy(&received.lock().unwrap()).to_lowercase();
    assert!(
        !sent.contains("authorization"),
        "credentials reached the listener: {sent}"
    );
    assert!(!sent.contains("connectedusersinfo"), "{sent}");
    let test = test_connection(&app, publisher).await;
    assert_eq!(
        test["ok"], false,
        "nothing answers SSH at 127.0.0.2: {test}"
    );
    let trust = app
        .send_json(
            Method::POST,
            &format!("/api/v1/nodes/{publisher}/stores/read"),
            &json!({}),
        )
        .await;
    assert_eq!(trust.status(), StatusCode::CONFLICT);
    assert!(trust
        .text()
        .await
        .unwrap()
        .contains("credentials were entered for"));

    // A node no connection ever pinned a key for cannot be confirmed at a new address by a
    // test (the password would go to whatever answers there): its credentials are entered
    // again.
    credentials(
        &app,
        subscriber,
        PASSWORD_ON_NODE,
        running.nodes[1].ssh.port(),
    )
    .await;
    let moved = json!({"cluster_id": current["cluster_id"], "kind": "finesse", "role": "secondary",
                       "fqdn": running.nodes[1].fqdn, "address": "127.0.0.2",
                       "endpoints": [{"port": running.nodes[1].https[0].port()}]});
    let answer = app
        .send_json(Method::PUT, &format!("/api/v1/nodes/{subscriber}"), &moved)
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let refused = test_connection(&app, subscriber).await;
    assert_eq!(refused["error"], "identity_changed", "{refused}");
    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains("enters the credentials again"));

    // Back at its confirmed address, the node is reached again.
    app.send_json(
        Method::PUT,
        &format!("/api/v1/nodes/{publisher}"),
        &move_to("127.0.0.1"),
    )
    .await;
    let agents = app.get_json("/api/v1/connected-agents").await;
    assert_eq!(agents["nodes"][0]["source"], "rest", "{agents}");
}
