//! The OpenAPI document describes the API that is really served.

use crate::helpers::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn the_openapi_document_lists_every_rest_route_with_its_method() {
    let app = spawn_app().await;
    let doc: Value = app.get_json("/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let routes = [
        ("post", "/api/v1/session"),
        ("delete", "/api/v1/session"),
        ("get", "/api/v1/users"),
        ("post", "/api/v1/users"),
        ("put", "/api/v1/users/{id}"),
        ("delete", "/api/v1/users/{id}"),
        ("get", "/api/v1/tokens"),
        ("post", "/api/v1/tokens"),
        ("delete", "/api/v1/tokens/{id}"),
        ("get", "/api/v1/audit"),
        ("get", "/api/v1/audit/verify"),
        ("get", "/api/v1/clusters"),
        ("post", "/api/v1/clusters"),
        ("put", "/api/v1/clusters/{id}"),
        ("delete", "/api/v1/clusters/{id}"),
        ("get", "/api/v1/nodes"),
        ("post", "/api/v1/nodes"),
        ("get", "/api/v1/nodes/{id}"),
        ("put", "/api/v1/nodes/{id}"),
        ("delete", "/api/v1/nodes/{id}"),
        ("get", "/api/v1/nodes/{id}/certificates"),
        ("post", "/api/v1/scans"),
        ("get", "/api/v1/scans/{id}"),
        ("post", "/api/v1/scans/{id}/cancel"),
        ("get", "/api/v1/alerts"),
        ("get", "/api/v1/webhooks"),
        ("get", "/api/v1/inventory/export"),
        ("post", "/api/v1/inventory/import"),
        ("post", "/api/v1/webhooks"),
        ("delete", "/api/v1/webhooks/{id}"),
        ("post", "/api/v1/webhooks/{id}/test"),
        ("get", "/api/v1/webhooks/deliveries"),
        ("put", "/api/v1/alerts/mute"),
        ("delete", "/api/v1/alerts/mute"),
        ("put", "/api/v1/alerts/ack"),
        ("delete", "/api/v1/alerts/ack"),
        ("get", "/api/v1/certificates"),
        ("get", "/api/v1/certificates/{sha256}"),
        ("get", "/api/v1/certificates/{sha256}/pem"),
        ("put", "/api/v1/nodes/{id}/thresholds"),
        ("put", "/api/v1/clusters/{id}/thresholds"),
        ("get", "/api/v1/clusters/{id}/cas"),
        ("post", "/api/v1/clusters/{id}/cas"),
        ("delete", "/api/v1/clusters/{id}/cas/{sha256}"),
        ("put", "/api/v1/nodes/{id}/credentials"),
        ("get", "/api/v1/nodes/{id}/host-key"),
        ("post", "/api/v1/nodes/{id}/host-key/accept"),
        ("post", "/api/v1/nodes/{id}/test-connection"),
        ("get", "/api/v1/nodes/{id}/stores"),
        ("post", "/api/v1/nodes/{id}/stores/read"),
        ("post", "/api/v1/nodes/{id}/stores/trust"),
        ("get", "/api/v1/connected-agents"),
    ];
    for (method, path) in routes {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is missing from the document"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        routes.len(),
        "the document lists a route this test does not know"
    );
    for schema in [
        "NewUser",
        "UserSummary",
        "NewToken",
        "CreatedToken",
        "AuditEntry",
        "VerifyReport",
        "ErrorBody",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    // Every documented route answers (not the API's 404 fallback).
    for (method, path) in routes {
        let path = path.replace("{id}", "1");
        let response = app
            .request(method.parse().unwrap(), &path)
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_ne!(body["message"], "no such API endpoint", "{method} {path}");
    }
}
