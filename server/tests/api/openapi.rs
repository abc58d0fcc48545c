//! The OpenAPI document describes the API that is really served.

use domain::auth::principal::Need;
use serde_json::Value;
use testkit::app::{spawn_admin, spawn_app};

#[tokio::test]
async fn the_served_document_is_the_route_list_with_who_may_call_each_route() {
    let app = spawn_app().await;
    let doc: Value = app.get_json("/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let routes = server::api::operations();
    for (method, path, need) in &routes {
        let operation = &doc["paths"][path][method.as_str().to_lowercase()];
        assert!(operation.is_object(), "{method} {path} is not served");
        assert_eq!(
            operation["x-gatehouse-need"],
            need.as_str(),
            "{method} {path}"
        );
        // Open operations say so in the standard way too: an empty security requirement.
        let open = operation["security"] == serde_json::json!([{}]);
        assert_eq!(open, *need == Need::Anyone, "{method} {path}");
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, routes.len());
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
    // The request schemas carry what the server enforces, where the fields are.
    for (schema, property, rules) in server::api::openapi::Constraints::table() {
        let field = &doc["components"]["schemas"][schema]["properties"][property];
        let field = field["oneOf"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["type"] != "null"))
            .unwrap_or(field);
        for (keyword, value) in rules.as_object().unwrap() {
            assert_eq!(
                &field[keyword], value,
                "{schema}.{property}.{keyword}: {field}"
            );
        }
    }
    assert_eq!(
        doc["components"]["schemas"]["NewUser"]["properties"]["password"]["minLength"],
        domain::auth::MIN_PASSWORD_LEN
    );
    // No `allOf` has a closed member (`additionalProperties: false`): it would refuse the other
    // members' fields, so no value could match (a `#[serde(flatten)]` of a deny_unknown_fields type).
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut combined = Vec::new();
    collect_all_of(&doc, &mut combined);
    for member in combined {
        let member = match member["$ref"].as_str() {
            Some(reference) => &schemas[reference.trim_start_matches("#/components/schemas/")],
            None => member,
        };
        assert_ne!(
            member["additionalProperties"], false,
            "closed allOf member: {member}"
        );
    }
    // Every documented route is routed (not the API's 404 fallback).
    let admin = spawn_admin().await;
    for (method, path, _) in routes {
        if path == "/api/v1/session" && method == reqwest::Method::DELETE {
            continue; // signing out would refuse the requests after it before routing
        }
        let response = admin
            .request(method.clone(), &path.replace("{id}", "1"))
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_ne!(body["message"], "no such API endpoint", "{method} {path}");
    }
}

/// Every status a route answers to the usual mistakes (no credentials, a monitor token, an
/// unknown or unparsable id, an empty or malformed body) is one its document lists, so that a
/// client generated from the document knows every answer it can get.
#[tokio::test]
async fn every_status_a_route_answers_to_the_usual_mistakes_is_documented() {
    use reqwest::Method;
    let app = spawn_admin().await;
    let monitor = app.create_token("monitoring", "monitor").await;
    let doc: Value = app.get_json("/api/v1/openapi.json").await;
    let anonymous = testkit::app::client();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let documented: Vec<&String> =
                operation["responses"].as_object().unwrap().keys().collect();
            let method: Method = method.to_uppercase().parse().unwrap();
            let known = path
                .replace("{id}", "999999")
                .replace("{sha256}", &"0".repeat(64));
            let unparsable = path.replace("{id}", "abc").replace("{sha256}", "xyz");
            let url = |p: &str| app.url(p);
            let mut attempts = vec![
                ("anonymous", anonymous.request(method.clone(), url(&known))),
                (
                    "monitor token",
                    anonymous
                        .request(method.clone(), url(&known))
                        .bearer_auth(&monitor),
                ),
            ];
            // Signing out would end the admin's session for the attempts after it.
            if path != "/api/v1/session" || method != Method::DELETE {
                let admin = |p: &str| app.request(method.clone(), p);
                attempts.push((
                    "admin, empty body",
                    admin(&known).json(&serde_json::json!({})),
                ));
                attempts.push((
                    "admin, malformed body",
                    admin(&known)
                        .header("Content-Type", "application/json")
                        .body("{\"unterminated"),
                ));
                if unparsable != known {
                    attempts.push(("admin, unparsable id", admin(&unparsable)));
                }
            }
            for (who, request) in attempts {
                let status = request.send().await.unwrap().status();
                assert!(
                    documented.contains(&&status.as_u16().to_string()),
                    "{method} {path} answered {status} ({who}); its document lists {documented:?}"
                );
            }
        }
    }
}

/// The members of every `allOf` anywhere in `value`.
fn collect_all_of<'a>(value: &'a Value, found: &mut Vec<&'a Value>) {
    match value {
        Value::Object(fields) => {
            if let Some(Value::Array(members)) = fields.get("allOf") {
                found.extend(members);
            }
            fields.values().for_each(|v| collect_all_of(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_all_of(v, found)),
        _ => {}
    }
}
