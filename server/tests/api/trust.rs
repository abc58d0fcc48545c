//! Certificates right the first time through the REST API: the chain tool.

use reqwest::Method;
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
