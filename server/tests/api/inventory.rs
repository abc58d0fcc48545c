//! The inventory through the REST API: clusters, nodes, their validation and defaults.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::*;

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .request(Method::POST, path)
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn cluster(app: &TestApp, name: &str) -> i64 {
    let (status, body) = post(app, "/api/v1/clusters", json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_node_gets_its_kinds_default_endpoints_and_a_dns_warning() {
    let app = spawn_admin().await;
    let site = cluster(&app, "Site A").await;
    let (status, saved) = post(
        &app,
        "/api/v1/nodes",
        json!({"cluster_id": site, "kind": "finesse", "role": "primary", "fqdn": "Finesse1.Site-A.invalid"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert!(
        saved["dns"]["warning"]
            .as_str()
            .unwrap()
            .contains("does not resolve"),
        "{saved}"
    );
    let id = saved["id"].as_i64().unwrap();
    let node: Value = app.get_json(&format!("/api/v1/nodes/{id}")).await;
    assert_eq!(node["fqdn"], "finesse1.site-a.invalid");
    assert_eq!(node["kind"], "finesse");
    assert_eq!(node["role"], "primary");
    assert_eq!(node["cluster"], "Site A");
    let ports: Vec<i64> = node["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["port"].as_i64().unwrap())
        .collect();
    assert_eq!(ports, [7443, 8445]);
    let clusters: Value = app.get_json("/api/v1/clusters").await;
    assert_eq!(clusters[0]["nodes"], 1);
}

#[tokio::test]
async fn an_ip_address_is_not_an_fqdn() {
    let app = spawn_admin().await;
    let site = cluster(&app, "Site A").await;
    let (status, error) = post(
        &app,
        "/api/v1/nodes",
        json!({"cluster_id": site, "kind": "cuic", "fqdn": "10.78.95.178"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        TestApp::field_message(&error, "fqdn").contains("IP address"),
        "{error}"
    );
}

#[tokio::test]
async fn duplicates_in_a_cluster_are_field_errors_but_other_clusters_may_repeat_them() {
    let app = spawn_admin().await;
    let (a, b) = (cluster(&app, "A").await, cluster(&app, "B").await);
    let node = |cluster: i64, fqdn: &str, role: &str| json!({"cluster_id": cluster, "kind": "cuic", "role": role, "fqdn": fqdn});
    assert_eq!(
        post(
            &app,
            "/api/v1/nodes",
            node(a, "cuic1.example.com", "publisher")
        )
        .await
        .0,
        StatusCode::CREATED
    );

    let (status, error) = post(
        &app,
        "/api/v1/nodes",
        node(a, "CUIC1.example.com", "subscriber"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        TestApp::field_message(&error, "fqdn").contains("already in this cluster"),
        "{error}"
    );

    let (status, error) = post(
        &app,
        "/api/v1/nodes",
        node(a, "cuic2.example.com", "publisher"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        TestApp::field_message(&error, "role").contains("already has a publisher"),
        "{error}"
    );

    // Subscribers can be many; another cluster is another namespace.
    assert_eq!(
        post(
            &app,
            "/api/v1/nodes",
            node(a, "cuic2.example.com", "subscriber")
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(
            &app,
            "/api/v1/nodes",
            node(a, "cuic3.example.com", "subscriber")
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(
            &app,
            "/api/v1/nodes",
            node(b, "cuic1.example.com", "publisher")
        )
        .await
        .0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn unknown_kinds_roles_and_clusters_are_explained() {
    let app = spawn_admin().await;
    let site = cluster(&app, "A").await;
    let (status, error) = post(
        &app,
        "/api/v1/nodes",
        json!({"cluster_id": site, "kind": "pbx", "fqdn": "x.example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("unknown kind 'pbx'"),
        "{error}"
    );
    let (status, error) = post(
        &app,
        "/api/v1/nodes",
        json!({"cluster_id": site, "kind": "idp", "role": "primary", "fqdn": "idp.example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error["fields"]["role"].is_array(), "{error}");
    let (status, error) = post(
        &app,
        "/api/v1/nodes",
        json!({"cluster_id": 999, "kind": "ids", "fqdn": "ids.example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        TestApp::field_message(&error, "cluster_id").contains("no cluster"),
        "{error}"
    );
}

#[tokio::test]
async fn nodes_are_updated_and_deleted_and_a_cluster_with_nodes_is_kept() {
    let app = spawn_admin().await;
    let site = cluster(&app, "A").await;
    let (_, saved) = post(
        &app,
        "/api/v1/nodes",
        json!({"cluster_id": site, "kind": "ids", "role": "primary", "fqdn": "ids1.example.com"}),
    )
    .await;
    let id = saved["id"].as_i64().unwrap();
    let update = app
        .request(Method::PUT, &format!("/api/v1/nodes/{id}"))
        .json(&json!({"cluster_id": site, "kind": "ids", "role": "primary", "fqdn": "ids1.example.com",
                      "address": "192.0.2.10", "version": "12.6(2)", "tags": ["dmz"], "endpoints": [{"port": 8553}, {"port": 9443, "purpose": "extra"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(update.status(), StatusCode::OK);
    let node: Value = app.get_json(&format!("/api/v1/nodes/{id}")).await;
    assert_eq!(node["address"], "192.0.2.10");
    assert_eq!(node["tags"], json!(["dmz"]));
    assert_eq!(node["endpoints"].as_array().unwrap().len(), 2);

    let refused = app
        .request(Method::DELETE, &format!("/api/v1/clusters/{site}"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.request(Method::DELETE, &format!("/api/v1/nodes/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/v1/nodes/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.request(Method::DELETE, &format!("/api/v1/clusters/{site}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );

    let actions = app.audit_action_names().await;
    for expected in [
        "cluster.create",
        "node.create",
        "node.update",
        "node.delete",
        "cluster.delete",
    ] {
        assert!(actions.contains(&expected.to_owned()), "{expected}");
    }
}

#[tokio::test]
async fn auditors_read_the_inventory() {
    let app = spawn_admin().await;
    cluster(&app, "A").await;
    app.create_user("audrey", "auditor").await;
    let auditor = app.other_client();
    auditor.login("audrey", PASSWORD).await;
    let clusters: Value = auditor.get_json("/api/v1/clusters").await;
    assert_eq!(clusters[0]["name"], "A");
    assert_eq!(
        auditor.get("/api/v1/nodes").send().await.unwrap().status(),
        StatusCode::OK
    );
}

async fn import(app: &TestApp, csv: &str, dry_run: bool) -> (StatusCode, Value) {
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/inventory/import?dry_run={dry_run}"),
        )
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

const HEADER: &str = "cluster,kind,role,fqdn,address,version,tags,ports\n";

#[tokio::test]
async fn a_csv_import_lists_every_bad_row_and_writes_nothing_until_all_are_valid() {
    let app = spawn_admin().await;
    let site = cluster(&app, "Site A").await;
    let (status, _) = post(
        &app,
        "/api/v1/nodes",
        json!({"cluster_id": site, "kind": "finesse", "role": "primary", "fqdn": "finesse1.site-a.invalid"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let bad = format!(
        "{HEADER}\
         Site A,finesse,primary,finesse1.site-a.invalid,,,,\n\
         Site A,toaster,none,t.site-a.invalid,,,,\n\
         Site B,cuic,primary,10.0.0.5,,,,\n\
         Site B,cuic,primary,cuic1.site-b.invalid,,,,99999\n\
         Site B,livedata,,ld1.site-b.invalid,,12.6,a;b,\n\
         Site B,livedata,,ld1.site-b.invalid,,,,\n\
         too,few\n"
    );
    let (status, report) = import(&app, &bad, true).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["valid"], false);
    assert_eq!(report["rows"], 7);
    let errors: Vec<(i64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (2, "fqdn"),
            (2, "role"),
            (3, "kind"),
            (4, "fqdn"),
            (5, "ports"),
            (7, "fqdn"),
            (8, "row")
        ],
        "{report}"
    );
    let (status, refused) = import(&app, &bad, false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused["message"],
        "7 error(s) in the file; nothing was imported"
    );
    assert_eq!(
        app.get_json("/api/v1/nodes")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get_json("/api/v1/clusters")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let (status, wrong) = import(&app, "name,fqdn\nx,y\n", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(wrong["message"]
        .as_str()
        .unwrap()
        .starts_with("the first line must be the header"));
}

#[tokio::test]
async fn a_valid_csv_imports_in_one_go_and_exports_back() {
    let app = spawn_admin().await;
    // More rows than one insert batch, in a cluster the file creates.
    let mut csv = HEADER.to_owned();
    csv.push_str(
        "Site C,finesse,primary,finesse1.site-c.invalid,10.0.0.7,12.6(2),dmz;side-a,8445;7443\n",
    );
    for i in 0..6000 {
        csv.push_str(&format!("Big Site,other,,host{i}.big.invalid,,,,443\n"));
    }
    let (status, dry) = import(&app, &csv, true).await;
    assert_eq!(
        (status, &dry["valid"], &dry["imported"]),
        (StatusCode::OK, &json!(true), &json!(false))
    );
    assert_eq!(dry["clusters_created"], json!(["Site C", "Big Site"]));
    assert!(app
        .get_json("/api/v1/clusters")
        .await
        .as_array()
        .unwrap()
        .is_empty());

    let (status, done) = import(&app, &csv, false).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(
        (done["nodes"].as_i64(), done["endpoints"].as_i64()),
        (Some(6001), Some(6002))
    );
    let nodes = app.get_json("/api/v1/nodes").await;
    assert_eq!(nodes.as_array().unwrap().len(), 6001);
    let finesse = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["fqdn"] == "finesse1.site-c.invalid")
        .unwrap();
    assert_eq!(finesse["tags"], json!(["dmz", "side-a"]));
    assert_eq!(finesse["address"], "10.0.0.7");
    let ports: Vec<i64> = finesse["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["port"].as_i64().unwrap())
        .collect();
    assert_eq!(ports, [7443, 8445]);
    let actions = app.audit_action_names().await;
    assert_eq!(
        actions.iter().filter(|a| *a == "inventory.import").count(),
        1
    );

    let export = app.get("/api/v1/inventory/export").send().await.unwrap();
    assert_eq!(export.headers()["content-type"], "text/csv; charset=utf-8");
    let text = export.text().await.unwrap();
    assert_eq!(text.lines().count(), 6002);
    assert!(text.starts_with(HEADER), "{text}");
    assert!(text.contains(
        "Site C,finesse,primary,finesse1.site-c.invalid,10.0.0.7,12.6(2),dmz;side-a,7443;8445\n"
    ));
    // Importing the export again: every row is a duplicate (and the publisher's role is taken).
    let (_, again) = import(&app, &text, true).await;
    assert_eq!(again["error_count"], 6002);
}
