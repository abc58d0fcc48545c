//! The inventory through the REST API: clusters, nodes, their validation and defaults.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

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

    let actions: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .map(|(_, a, _)| a)
        .collect();
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
