//! Proxy maps through the REST API: a text validated on its own and against a cluster.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::*;

async fn validate(
    app: &TestApp,
    query: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let response = app
        .request(Method::POST, &format!("/api/v1/proxymaps/validate{query}"))
        .header("Content-Type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn codes(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}:{}: {}",
                d["line"],
                d["column"],
                d["code"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn a_map_is_validated_alone_and_against_its_cluster() {
    let app = spawn_admin().await;
    let guide = "finesse1.internal.com:8445=finesse1.xyz.com:443\nidspub.internal.com:8553=idspub.xyz.com\n";
    let (status, report) = validate(&app, "", guide).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["valid"].clone(), report["mappings"].clone()),
        (json!(true), json!(2))
    );
    assert_eq!(report["rendered"], "finesse1.internal.com:8445=finesse1.xyz.com:443\nidspub.internal.com:8553=idspub.xyz.com:443\n");

    let (_, report) = validate(
        &app,
        "",
        "finesse1.lan:8445 finesse1.xyz.com\nf.lan:84x5=f.xyz.com",
    )
    .await;
    assert_eq!(report["valid"], false);
    assert_eq!(codes(&report), ["1:1: missing-equals", "2:7: invalid-port"]);
    let (status, report) = validate(&app, "", b"a.lan=b.xyz.com\n\xff\xfe".to_vec()).await;
    assert_eq!(
        (status, codes(&report)),
        (StatusCode::OK, vec!["2:1: invalid-utf8".to_owned()])
    );

    // Against a cluster: its Finesse nodes' 8445 lines expected, unknown endpoints named.
    let cluster = app.create_cluster("Maps").await;
    for (fqdn, role) in [
        ("finesse1.internal.com", "primary"),
        ("finesse2.internal.com", "secondary"),
    ] {
        let node = json!({"cluster_id": cluster, "kind": "finesse", "role": role, "fqdn": fqdn, "address": "127.0.0.1"});
        let response = app.send_json(Method::POST, "/api/v1/nodes", &node).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let (status, report) = validate(&app, &format!("?cluster_id={cluster}"), guide).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        codes(&report),
        ["0:0: missing-endpoint", "2:1: unknown-endpoint"]
    );
    assert!(
        report["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("finesse2.internal.com:8445"),
        "{report}"
    );
    assert_eq!(report["valid"], true, "warnings alone");

    let (status, _) = validate(&app, "?cluster_id=999999", guide).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = validate(&app, "", vec![b'a'; 1024 * 1024 + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let token = app.create_token("audit", "auditor").await;
    let response = client()
        .post(app.url("/api/v1/proxymaps/validate"))
        .bearer_auth(&token)
        .body(guide)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "an auditor may check a map: {body}");

    // Issue 24, item 6: a JSON body is no map: 415, not a map of one odd line.
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/proxymaps/validate",
            &json!({"text": "a.lan:8445=a.xyz.com"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "unsupported_media_type", "{error}");
}

#[tokio::test]
async fn a_map_keeps_every_version_refuses_stale_and_broken_saves_and_publishes_one() {
    let app = spawn_admin().await;
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/proxymaps",
            &json!({"name": "Site A: desk"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let map: Value = response.json().await.unwrap();
    assert_eq!(
        (map["slug"].clone(), map["path"].clone()),
        (
            json!("site-a-desk"),
            json!("/maps/site-a-desk/proxymap.txt")
        )
    );
    assert_eq!(
        (
            map["latest_version"].clone(),
            map["published_version"].clone()
        ),
        (json!(0), Value::Null)
    );
    let id = map["id"].as_i64().unwrap();
    let versions = format!("/api/v1/proxymaps/{id}/versions");
    let save = |body: Value| {
        let (app, versions) = (&app, &versions);
        async move {
            let response = app.send_json(Method::POST, versions, &body).await;
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, saved) = save(
        json!({"text": "# desk\na.lan:8445=a.xyz.com\n", "base_version": 0, "comment": "first"}),
    )
    .await;
    assert_eq!(
        (status, saved["latest_version"].clone()),
        (StatusCode::CREATED, json!(1)),
        "{saved}"
    );

    // A second admin still on version 0: refused with what version 1 has.
    let (status, error) = save(json!({"text": "b.lan:8445=b.xyz.com", "base_version": 0})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(error["error"], "stale");
    assert_eq!(
        error["changes"],
        json!(["- a.lan:8445=a.xyz.com:443", "+ b.lan:8445=b.xyz.com:443"])
    );
    // Errors are refused with each diagnostic; warnings are saved.
    let (status, error) =
        save(json!({"text": "a.lan:8445=a.xyz.com\na.lan:8445=b.xyz.com", "base_version": 1}))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(
        TestApp::field_message(&error, "text").starts_with("2:1: error: duplicate-internal"),
        "{error}"
    );
    let (status, _) = save(json!({"text": "10.0.0.9:8445=a.xyz.com", "base_version": 1})).await;
    assert_eq!(status, StatusCode::CREATED);

    let listed: Value = app.get_json(&versions).await;
    assert_eq!(listed[0]["version"], 2);
    assert_eq!(
        (listed[1]["comment"].clone(), listed[1]["mappings"].clone()),
        (json!("first"), json!(1))
    );
    assert_eq!(listed[1]["text"], "# desk\na.lan:8445=a.xyz.com\n");

    let publish = format!("/api/v1/proxymaps/{id}/publish");
    let response = app
        .send_json(Method::POST, &publish, &json!({"version": 7}))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app
        .send_json(Method::POST, &publish, &json!({"version": 1}))
        .await;
    let published: Value = response.json().await.unwrap();
    assert_eq!(
        (
            published["published_version"].clone(),
            published["published_by"].clone()
        ),
        (json!(1), json!("admin"))
    );

    let all: Value = app.get_json("/api/v1/proxymaps").await;
    assert_eq!(
        (all[0]["id"].as_i64(), all[0]["published_version"].clone()),
        (Some(id), json!(1))
    );
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/proxymaps",
            &json!({"name": "Other", "slug": "Site A"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/proxymaps",
            &json!({"name": "Site A: desk"}),
        )
        .await;
    let error: Value = response.json().await.unwrap();
    assert!(
        TestApp::field_message(&error, "name").contains("exists already"),
        "{error}"
    );
    let actions = app.audit_action_names().await;
    for action in ["proxy_map.create", "proxy_map.save", "proxy_map.publish"] {
        assert!(actions.iter().any(|a| a == action), "{action}");
    }
}
